package scolsfilter

import (
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/pkg/ere"
)

// fval is a value being compared.
type fval struct {
	typ   DataType
	empty bool
	isNil bool // a string from an empty cell (NULL in util-linux)
	str   string
	num   uint64
	fnum  float64
	b     bool
}

// Row is the row a filter is evaluated on.
type Row interface {
	// Cell is the text of column col (a Holder's Col), and whether the
	// cell has data: an empty cell is false, and compares false as a
	// number.
	Cell(col int) (text string, ok bool)
}

// Match evaluates the filter on row. Its only error is "failed to apply
// filter": a cell that does not read as its column's type, a regular
// expression applied to something that is not text.
func (f *Filter) Match(row Row) (bool, error) {
	return evalNode(f.root, row)
}

func evalNode(n *node, row Row) (bool, error) {
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
		case DataString:
			return v.str != "", nil
		case DataU64:
			return v.num != 0, nil
		case DataFloat:
			return v.fnum != 0, nil
		case DataBool:
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

func nodeType(n *node) DataType {
	switch {
	case n.isExpr():
		return DataBool
	case n.h != nil:
		return n.h.Type
	}
	return n.typ
}

// guessType is guess_expr_datatype.
func guessType(n *node) DataType {
	l, r := nodeType(n.left), nodeType(n.right)
	if l == r {
		return l
	}
	lh, rh := n.left.isHolder(), n.right.isHolder()
	typ := l
	if lh && !rh {
		typ = r
	}
	if typ == DataU64 && (r == DataFloat || l == DataFloat) {
		typ = DataFloat
	}
	return typ
}

// fetch is the value of a parameter; a column's cell read as a string and
// cast to the column's type.
func fetch(n *node, row Row) (fval, error) {
	if n.h == nil {
		return fval{typ: n.typ, str: n.str, num: n.num, fnum: n.fnum, b: n.b}, nil
	}
	s, ok := row.Cell(n.h.Col)
	v := fval{typ: DataString, str: s, empty: !ok, isNil: !ok}
	return cast(v, n.h.Type)
}

func castNode(n *node, typ DataType, row Row) (fval, error) {
	if n.isExpr() {
		ok, err := evalNode(n, row)
		if err != nil {
			return fval{}, err
		}
		return cast(fval{typ: DataBool, b: ok}, typ)
	}
	v, err := fetch(n, row)
	if err != nil {
		return v, err
	}
	return cast(v, typ)
}

func cast(v fval, typ DataType) (fval, error) {
	if typ == v.typ || typ == DataNone {
		return v, nil
	}
	out := fval{typ: typ, empty: v.empty}
	switch v.typ {
	case DataString:
		switch typ {
		case DataU64:
			if !v.isNil {
				n, ok := parseU64(v.str)
				if !ok {
					return v, errFilter
				}
				out.num = n
			}
		case DataFloat:
			if !v.isNil {
				f, err := strconv.ParseFloat(strings.TrimSpace(v.str), 64)
				if err != nil {
					return v, errFilter
				}
				out.fnum = f
			}
		case DataBool:
			s := v.str
			out.b = s != "" && (strings.EqualFold(s, "1") || strings.EqualFold(s, "true") || s[0] == 'y' || s[0] == 'Y')
		}
	case DataU64:
		switch typ {
		case DataString:
			out.str = strconv.FormatUint(v.num, 10)
		case DataFloat:
			out.fnum = float64(v.num)
		case DataBool:
			out.b = v.num > 0
		}
	case DataFloat:
		switch typ {
		case DataString:
			out.str = strconv.FormatFloat(v.fnum, 'g', 6, 64)
		case DataU64:
			out.num = uint64(v.fnum)
		case DataBool:
			out.b = v.fnum > 0
		}
	case DataBool:
		switch typ {
		case DataString:
			out.str = strconv.FormatBool(v.b)
		case DataU64:
			if v.b {
				out.num = 1
			}
		case DataFloat:
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
	case DataString:
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
	case DataU64:
		c = cmpOrdered(l.num, r.num)
	case DataFloat:
		if l.fnum != r.fnum && !(l.fnum < r.fnum) && !(l.fnum > r.fnum) {
			return op == tNe, nil // NaN
		}
		c = cmpOrdered(l.fnum, r.fnum)
	case DataBool:
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

// parseU64 reads a number cell as util-linux's ul_strtou64 does: blanks,
// an optional '+', decimal digits and nothing after, within 64 bits.
func parseU64(s string) (uint64, bool) {
	t := strings.TrimPrefix(strings.TrimLeft(s, " \t\n\v\f\r"), "+")
	if t == "" || strings.TrimLeft(t, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(t, 10, 64)
	return n, err == nil
}
