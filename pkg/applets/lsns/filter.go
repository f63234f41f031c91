package lsns

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/pkg/ere"
)

// This file is lsns -Q/--filter: libsmartcols's filter expressions
// (util-linux 2.41), parsed and evaluated the same way.
//
//	expr  := expr (&& | and | AND | || | or | OR) expr    left-associative, one level
//	       | expr (== eq EQ != ne NE < lt LT <= le LE > gt GT >= ge GE =~ !~) expr
//	       | (! | not | NOT) expr
//	       | ( expr )
//	       | NUMBER | FLOAT | "string" | 'string' | true | false | COLUMN
//
// The comparisons bind tighter than && and ||, which bind equally (so
// "a || b && c" is "(a || b) && c", as in util-linux's grammar). A column
// holds the row's value: a number for the number columns (NS, NPROCS, PID,
// PPID, UID, PNS, ONS), else a string. The two sides of a comparison are
// converted to one type: the type of the side that is not a column, a
// float when one side is a float. An empty cell is false, and any
// comparison of an empty number is false. NUMBER may carry a size suffix
// (K M G T P E Z Y, optionally iB: powers of 1024).

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
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
			continue
		case isLetter(c):
			j := i + 1
			for j < len(s) && isIDChar(s[j]) {
				j++
			}
			w := s[i:j]
			if k, ok := keyword(w); ok {
				toks = append(toks, token{kind: k, text: w})
			} else {
				toks = append(toks, token{kind: tHolder, text: w})
			}
			i = j
			continue
		case isDigit(c):
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
				k := j + 1
				for k < len(s) && isDigit(s[k]) {
					k++
				}
				f, _ := strconv.ParseFloat(s[i:k], 64)
				toks = append(toks, token{kind: tFloat, text: s[i:k], fnum: f})
				i = k
				continue
			}
			end := j
			if j < len(s) && strings.IndexByte("KMGTPEZY", s[j]) >= 0 {
				end = j + 1
				if strings.HasPrefix(s[end:], "iB") {
					end += 2
				}
			}
			n, err := parseSize(s[i:end], j-i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tNumber, text: s[i:end], num: n})
			i = end
			continue
		case c == '"' || c == '\'':
			if j := strings.IndexAny(s[i+1:], string(c)+"\n"); j >= 0 && s[i+1+j] == c {
				toks = append(toks, token{kind: tString, text: s[i : i+j+2]})
				i += j + 2
				continue
			}
			if c == '\'' {
				toks = append(toks, token{kind: tQuote, text: "'"})
			}
			i++
			continue
		}
		two := ""
		if i+1 < len(s) {
			two = s[i : i+2]
		}
		switch two {
		case "&&":
			toks = append(toks, token{kind: tAnd, text: two})
		case "||":
			toks = append(toks, token{kind: tOr, text: two})
		case "==":
			toks = append(toks, token{kind: tEq, text: two})
		case "!=":
			toks = append(toks, token{kind: tNe, text: two})
		case "<=":
			toks = append(toks, token{kind: tLe, text: two})
		case ">=":
			toks = append(toks, token{kind: tGe, text: two})
		case "=~":
			toks = append(toks, token{kind: tReg, text: two})
		case "!~":
			toks = append(toks, token{kind: tNreg, text: two})
		default:
			two = ""
		}
		if two != "" {
			i += 2
			continue
		}
		switch c {
		case '(':
			toks = append(toks, token{kind: tLParen, text: "("})
		case ')':
			toks = append(toks, token{kind: tRParen, text: ")"})
		case '!':
			toks = append(toks, token{kind: tNeg, text: "!"})
		case '<':
			toks = append(toks, token{kind: tLt, text: "<"})
		case '>':
			toks = append(toks, token{kind: tGt, text: ">"})
		}
		i++
	}
	return append(toks, token{kind: tEOF}), nil
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

// Data types of filter values (SCOLS_DATA_*).
const (
	dNone = iota
	dString
	dU64
	dFloat
	dBool
)

type fnode struct {
	op          tokKind // tAnd ... tNreg for expressions; 0 for a parameter
	left, right *fnode

	// parameter
	typ    int
	holder string // column name, for a column
	str    string
	num    uint64
	fnum   float64
	b      bool
	re     *ere.Regexp
	col    int // the column id the holder reads
}

func (n *fnode) isExpr() bool { return n.op != 0 }

// filter is a parsed -Q expression.
type filter struct {
	root    *fnode
	holders []*fnode
}

type parser struct {
	toks []token
	pos  int
	f    *filter
}

func parseFilter(s string) (*filter, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, f: &filter{}}
	root, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpected(t)
	}
	p.f.root = root
	return p.f, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) unexpected(t token) error {
	return fmt.Errorf("syntax error, unexpected %s", tokName(t.kind))
}

// expr: cmp ((AND | OR) cmp)*
func (p *parser) expr() (*fnode, error) {
	l, err := p.cmp()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tAnd && t.kind != tOr {
			return l, nil
		}
		p.next()
		r, err := p.cmp()
		if err != nil {
			return nil, err
		}
		l = &fnode{op: t.kind, left: l, right: r}
	}
}

// cmp: unary (CMPOP unary)*
func (p *parser) cmp() (*fnode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch t.kind {
		case tEq, tNe, tLe, tLt, tGe, tGt, tReg, tNreg:
		default:
			return l, nil
		}
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		if t.kind == tReg || t.kind == tNreg {
			if r.isExpr() || r.typ != dString || r.holder != "" {
				return nil, errRegexParam
			}
			re, err := ere.Compile(r.str)
			if err != nil {
				return nil, err
			}
			r.re = re
		}
		l = &fnode{op: t.kind, left: l, right: r}
	}
}

// unary: NEG unary | '(' expr ')' | param
func (p *parser) unary() (*fnode, error) {
	t := p.next()
	switch t.kind {
	case tNeg:
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &fnode{op: tNeg, right: r}, nil
	case tLParen:
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.unexpected(c)
		}
		return e, nil
	case tNumber:
		return &fnode{typ: dU64, num: t.num}, nil
	case tFloat:
		return &fnode{typ: dFloat, fnum: t.fnum}, nil
	case tTrue, tFalse:
		return &fnode{typ: dBool, b: t.kind == tTrue}, nil
	case tString:
		s := t.text[1:]
		if strings.HasSuffix(s, t.text[:1]) {
			s = s[:len(s)-1]
		}
		return &fnode{typ: dString, str: strings.TrimSpace(s)}, nil
	case tHolder:
		n := &fnode{typ: dNone, holder: t.text}
		p.f.holders = append(p.f.holders, n)
		return n, nil
	}
	return nil, p.unexpected(t)
}

// fval is a value being compared.
type fval struct {
	typ   int
	empty bool
	isNil bool // a string from an empty cell (NULL in util-linux)
	str   string
	num   uint64
	fnum  float64
	b     bool
}

// filterError is an error of the filter with a constant text.
type filterError string

func (e filterError) Error() string { return string(e) }

const (
	errFilter     filterError = "failed to apply filter"
	errRegexParam filterError = "syntax error, the regular expression is not a string"
)

// rowFunc returns the text of column id for the row being filtered, and
// whether the cell has data.
type rowFunc func(col int) (string, bool)

// match evaluates the filter on one row.
func (f *filter) match(row rowFunc) (bool, error) {
	return evalNode(f.root, row)
}

func evalNode(n *fnode, row rowFunc) (bool, error) {
	switch n.op {
	case tAnd:
		ok, err := evalNode(n.left, row)
		if err != nil || !ok {
			return false, err
		}
		return evalNode(n.right, row)
	case tOr:
		ok, err := evalNode(n.left, row)
		if err != nil || ok {
			return ok, err
		}
		return evalNode(n.right, row)
	case tNeg:
		ok, err := evalNode(n.right, row)
		return !ok && err == nil, err
	case 0:
		v, err := fetch(n, row)
		if err != nil || v.empty {
			return false, err
		}
		switch v.typ {
		case dString:
			return v.str != "", nil
		case dU64:
			return v.num != 0, nil
		case dFloat:
			return v.fnum != 0, nil
		case dBool:
			return v.b, nil
		}
		return false, errFilter
	}
	typ := guessType(n)
	l, err := castNode(n.left, typ, row)
	if err != nil {
		return false, err
	}
	r, err := castNode(n.right, typ, row)
	if err != nil {
		return false, err
	}
	return compare(n.op, l, r, n.right.re)
}

func nodeType(n *fnode) int {
	if n.isExpr() {
		return dBool
	}
	return n.typ
}

// guessType is guess_expr_datatype.
func guessType(n *fnode) int {
	l, r := nodeType(n.left), nodeType(n.right)
	if l == r {
		return l
	}
	lh := !n.left.isExpr() && n.left.holder != ""
	rh := !n.right.isExpr() && n.right.holder != ""
	typ := l
	if lh && !rh {
		typ = r
	}
	if typ == dU64 && (r == dFloat || l == dFloat) {
		typ = dFloat
	}
	return typ
}

// fetch is the value of a parameter; a column's cell read as a string and
// cast to the column's type.
func fetch(n *fnode, row rowFunc) (fval, error) {
	if n.holder == "" {
		return fval{typ: n.typ, str: n.str, num: n.num, fnum: n.fnum, b: n.b}, nil
	}
	s, ok := row(n.col)
	v := fval{typ: dString, str: s, empty: !ok, isNil: !ok}
	return cast(v, n.typ)
}

func castNode(n *fnode, typ int, row rowFunc) (fval, error) {
	if n.isExpr() {
		ok, err := evalNode(n, row)
		if err != nil {
			return fval{}, err
		}
		return cast(fval{typ: dBool, b: ok}, typ)
	}
	v, err := fetch(n, row)
	if err != nil {
		return v, err
	}
	return cast(v, typ)
}

func cast(v fval, typ int) (fval, error) {
	if typ == v.typ || typ == dNone {
		return v, nil
	}
	out := fval{typ: typ, empty: v.empty}
	switch v.typ {
	case dString:
		switch typ {
		case dU64:
			if !v.isNil {
				n, err := strtou64(v.str)
				if err != nil {
					return v, errFilter
				}
				out.num = n
			}
		case dFloat:
			if !v.isNil {
				f, err := strconv.ParseFloat(strings.TrimSpace(v.str), 64)
				if err != nil {
					return v, errFilter
				}
				out.fnum = f
			}
		case dBool:
			s := v.str
			out.b = s != "" && (strings.EqualFold(s, "1") || strings.EqualFold(s, "true") || s[0] == 'y' || s[0] == 'Y')
		}
	case dU64:
		switch typ {
		case dString:
			out.str = strconv.FormatUint(v.num, 10)
		case dFloat:
			out.fnum = float64(v.num)
		case dBool:
			out.b = v.num > 0
		}
	case dFloat:
		switch typ {
		case dString:
			out.str = strconv.FormatFloat(v.fnum, 'g', 6, 64)
		case dU64:
			out.num = uint64(v.fnum)
		case dBool:
			out.b = v.fnum > 0
		}
	case dBool:
		switch typ {
		case dString:
			out.str = strconv.FormatBool(v.b)
		case dU64:
			if v.b {
				out.num = 1
			}
		case dFloat:
			if v.b {
				out.fnum = 1
			}
		}
	}
	return out, nil
}

func cmpResult(op tokKind, c int) bool {
	switch op {
	case tEq:
		return c == 0
	case tNe:
		return c != 0
	case tLe:
		return c <= 0
	case tLt:
		return c < 0
	case tGe:
		return c >= 0
	case tGt:
		return c > 0
	}
	return false
}

func compare(op tokKind, l, r fval, re *ere.Regexp) (bool, error) {
	switch l.typ {
	case dString:
		if op == tReg || op == tNreg {
			if re == nil {
				return false, errFilter
			}
			m := re.MatchString(l.str)
			return m == (op == tReg), nil
		}
		var c int
		switch {
		case l.isNil && r.isNil:
			c = 0
		case l.isNil:
			c = -1
		case r.isNil:
			c = 1
		default:
			c = strings.Compare(l.str, r.str)
		}
		return cmpResult(op, c), nil
	}
	if op == tReg || op == tNreg {
		return false, errFilter
	}
	if l.empty || r.empty {
		return false, nil
	}
	var c int
	switch l.typ {
	case dU64:
		c = cmpOrdered(l.num, r.num)
	case dFloat:
		if l.fnum != r.fnum && !(l.fnum < r.fnum) && !(l.fnum > r.fnum) {
			return op == tNe, nil // NaN
		}
		c = cmpOrdered(l.fnum, r.fnum)
	case dBool:
		c = cmpOrdered(b2i(l.b), b2i(r.b))
	default:
		return false, errFilter
	}
	return cmpResult(op, c), nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmpOrdered[T uint64 | float64 | int](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
