// Package scolsfilter is libsmartcols's filter expressions (util-linux
// 2.41, the -Q/--filter of lsns, lsblk, lsfd...), parsed and evaluated the
// same way, with the same error messages:
//
//	expr  := expr (&& | and | AND | || | or | OR) expr    left-associative, one level
//	       | expr (== eq EQ != ne NE < lt LT <= le LE > gt GT >= ge GE =~ !~) expr
//	       | (! | not | NOT) expr
//	       | ( expr )
//	       | NUMBER | FLOAT | "string" | 'string' | true | false | COLUMN
//
// The comparisons bind tighter than && and ||, which bind equally (so
// "a || b && c" is "(a || b) && c", as in util-linux's grammar). A column
// holds the row's value, read as text and converted to the column's type
// (see Holder). The two sides of a comparison are converted to one type:
// the type of the side that is not a column, a float when one side is a
// float. An empty cell is false, and any comparison of an empty number is
// false. NUMBER may carry a size suffix (K M G T P E Z Y, optionally iB:
// powers of 1024). =~ and !~ take a POSIX extended regular expression
// (pkg/ere) as a string.
//
// A filter is evaluated on one row at a time through the Row interface:
// the table is the caller's, a column is an index, and a cell is read only
// when the expression needs it.
package scolsfilter

import (
	"fmt"
	"strings"

	"github.com/nsbox/nsbox/pkg/ere"
)

// DataType is the type of a value (SCOLS_DATA_*).
type DataType int

// The data types. A column of DataNone is read as text, as a DataString
// one is, but takes the type of the other side of a comparison.
const (
	DataNone DataType = iota
	DataString
	DataU64
	DataFloat
	DataBool
)

// Holder is one column name of the expression (each occurrence is one
// Holder). Before Match, the caller binds it: Col is the index Row.Cell is
// asked for, Type how the cell's text is read (DataU64 for a number
// column, DataString or DataNone for text).
type Holder struct {
	Name string // as written in the expression
	Col  int
	Type DataType
}

// Filter is a parsed expression.
type Filter struct {
	root    *node
	holders []*Holder
}

// Holders is the column names of the expression, in the order they appear.
func (f *Filter) Holders() []*Holder { return f.holders }

type node struct {
	op          tokKind // tAnd ... tNreg for expressions; 0 for a parameter
	left, right *node

	// parameter: a column (h), or a constant of type typ
	h    *Holder
	typ  DataType
	str  string
	num  uint64
	fnum float64
	b    bool
	re   *ere.Regexp // the compiled right side of =~ and !~
}

func (n *node) isExpr() bool   { return n.op != 0 }
func (n *node) isHolder() bool { return !n.isExpr() && n.h != nil }

// filterError is an error of the filter with a constant text.
type filterError string

func (e filterError) Error() string { return string(e) }

const (
	errFilter     filterError = "failed to apply filter"
	errRegexParam filterError = "syntax error, the regular expression is not a string"
)

type parser struct {
	toks []token
	pos  int
	f    *Filter
}

// Parse parses expr. Its errors are util-linux's texts: "syntax error,
// unexpected ...", a regerror text, a number out of range.
func Parse(expr string) (*Filter, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, f: &Filter{}}
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
func (p *parser) expr() (*node, error) {
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
		l = &node{op: t.kind, left: l, right: r}
	}
}

// cmp: unary (CMPOP unary)*
func (p *parser) cmp() (*node, error) {
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
			if r.isExpr() || r.typ != DataString || r.h != nil {
				return nil, errRegexParam
			}
			re, err := ere.Compile(r.str)
			if err != nil {
				return nil, err
			}
			r.re = re
		}
		l = &node{op: t.kind, left: l, right: r}
	}
}

// unary: NEG unary | '(' expr ')' | param
func (p *parser) unary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tNeg:
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &node{op: tNeg, right: r}, nil
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
		return &node{typ: DataU64, num: t.num}, nil
	case tFloat:
		return &node{typ: DataFloat, fnum: t.fnum}, nil
	case tTrue, tFalse:
		return &node{typ: DataBool, b: t.kind == tTrue}, nil
	case tString:
		s := t.text[1:]
		if strings.HasSuffix(s, t.text[:1]) {
			s = s[:len(s)-1]
		}
		return &node{typ: DataString, str: strings.TrimSpace(s)}, nil
	case tHolder:
		h := &Holder{Name: t.text}
		p.f.holders = append(p.f.holders, h)
		return &node{h: h}, nil
	}
	return nil, p.unexpected(t)
}
