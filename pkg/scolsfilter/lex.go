package scolsfilter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

type tokKind int

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tQuote
	tAnd
	tOr
	tNeg
	tEq
	tNe
	tLe
	tLt
	tGe
	tGt
	tReg
	tNreg
	tTrue
	tFalse
	tFloat
	tNumber
	tHolder
	tString
)

// tokName is bison's name for a token, with the first "T_" removed as
// util-linux's yyerror does.
func tokName(k tokKind) string {
	switch k {
	case tEOF:
		return "end of file"
	case tLParen:
		return "'('"
	case tRParen:
		return "')'"
	case tQuote:
		return `'\''`
	}
	names := [...]string{tAnd: "AND", tOr: "OR", tNeg: "NEG", tEq: "EQ", tNe: "NE", tLe: "LE", tLt: "LT",
		tGe: "GE", tGt: "GT", tReg: "REG", tNreg: "NREG", tTrue: "TRUE", tFalse: "FALSE",
		tFloat: "FLOAT", tNumber: "NUMBER", tHolder: "HOLDER", tString: "STRING"}
	return names[k]
}

type token struct {
	kind tokKind
	text string
	num  uint64
	fnum float64
}

// keyword is the token of a word flex matches as a keyword (the word rules
// come before the column-name rule).
func keyword(w string) (tokKind, bool) {
	switch w {
	case "and", "AND":
		return tAnd, true
	case "or", "OR":
		return tOr, true
	case "not", "NOT":
		return tNeg, true
	case "eq", "EQ":
		return tEq, true
	case "ne", "NE":
		return tNe, true
	case "le", "LE":
		return tLe, true
	case "lt", "LT":
		return tLt, true
	case "ge", "GE":
		return tGe, true
	case "gt", "GT":
		return tGt, true
	case "false", "FALSE":
		return tFalse, true
	case "true", "TRUE":
		return tTrue, true
	}
	return 0, false
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isIDChar(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_' || c == '.' || c == '%' || c == ':' || c == '/' || c == '-'
}

// lex splits s into tokens with flex's longest-match rule. Characters no
// rule matches are skipped (flex would echo them to standard output).
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		var t token
		n := 0
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n':
			i++
			continue
		case isLetter(c):
			t, n = lexWord(s[i:])
		case isDigit(c):
			var err error
			if t, n, err = lexNumber(s[i:]); err != nil {
				return nil, err
			}
		case c == '"' || c == '\'':
			t, n = lexString(s[i:])
		default:
			t, n = lexOperator(s[i:])
		}
		if t.kind != tEOF {
			toks = append(toks, t)
		}
		i += n
	}
	return append(toks, token{kind: tEOF}), nil
}

// lexWord is a keyword or a column name at the start of s, and its length.
func lexWord(s string) (token, int) {
	j := 1
	for j < len(s) && isIDChar(s[j]) {
		j++
	}
	w := s[:j]
	if k, ok := keyword(w); ok {
		return token{kind: k, text: w}, j
	}
	return token{kind: tHolder, text: w}, j
}

// lexNumber is the NUMBER or FLOAT at the start of s, and its length.
func lexNumber(s string) (token, int, error) {
	j := 0
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
		k := j + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		f, _ := strconv.ParseFloat(s[:k], 64)
		return token{kind: tFloat, text: s[:k], fnum: f}, k, nil
	}
	end := j
	if j < len(s) && strings.IndexByte("KMGTPEZY", s[j]) >= 0 {
		end = j + 1
		if strings.HasPrefix(s[end:], "iB") {
			end += 2
		}
	}
	n, err := parseSize(s[:end], j)
	if err != nil {
		return token{}, 0, err
	}
	return token{kind: tNumber, text: s[:end], num: n}, end, nil
}

// lexString is the quoted string at the start of s, and its length. A
// quote without its closing one on the line is skipped, a single quote
// being a token of its own (the grammar has no use for it: a syntax
// error).
func lexString(s string) (token, int) {
	c := s[0]
	if j := strings.IndexAny(s[1:], string(c)+"\n"); j >= 0 && s[1+j] == c {
		return token{kind: tString, text: s[:j+2]}, j + 2
	}
	if c == '\'' {
		return token{kind: tQuote, text: "'"}, 1
	}
	return token{}, 1
}

// operators are the two-character then the one-character operators.
var operators = [...]struct {
	text string
	kind tokKind
}{
	{"&&", tAnd}, {"||", tOr}, {"==", tEq}, {"!=", tNe}, {"<=", tLe}, {">=", tGe}, {"=~", tReg}, {"!~", tNreg},
	{"(", tLParen}, {")", tRParen}, {"!", tNeg}, {"<", tLt}, {">", tGt},
}

// lexOperator is the operator at the start of s, and its length; a
// character no rule matches is a token of kind tEOF, length 1 (skipped).
func lexOperator(s string) (token, int) {
	for _, op := range operators {
		if strings.HasPrefix(s, op.text) {
			return token{kind: op.kind, text: op.text}, len(op.text)
		}
	}
	return token{}, 1
}

// parseSize is util-linux's strtosize on DIGITS[SUFFIX[iB]]: the suffixes
// are powers of 1024.
func parseSize(s string, ndigits int) (uint64, error) {
	n, err := strconv.ParseUint(s[:ndigits], 10, 64)
	if err != nil {
		if ndigits == len(s) {
			// flex's strtoumax saturates; util-linux keeps that
			return math.MaxUint64, nil
		}
		return 0, fmt.Errorf("\"%s\" token error: Numerical result out of range", s)
	}
	if ndigits == len(s) {
		return n, nil
	}
	exp := strings.IndexByte("KMGTPEZY", s[ndigits]) + 1
	for ; exp > 0; exp-- {
		if n > math.MaxUint64/1024 {
			return 0, fmt.Errorf("\"%s\" token error: Numerical result out of range", s)
		}
		n *= 1024
	}
	return n, nil
}
