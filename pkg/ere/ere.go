// Package ere is POSIX extended regular expressions as glibc's
// regcomp(3) compiles them with REG_EXTENDED|REG_NOSUB, enough for the =~
// and !~ of libsmartcols filters (pkg/scolsfilter): literals, ., bracket
// expressions with ranges and [:classes:], ^ $, ( ), |, * + ? {m,n} and
// backslash escapes. A match is searched anywhere in the text; the
// compile errors are glibc's regerror texts.
//
// It exists rather than Go's regexp because regexp/syntax builds tables in
// its package init, which every applet of the multi-call binary would pay
// at start. The matcher backtracks: a pattern such as (a*)*b can take time
// exponential in the length of the text.
package ere

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Regexp is a compiled expression.
type Regexp struct {
	alt [][]*reNode
}

type reKind int

const (
	reLit reKind = iota
	reAny
	reClass
	reBOL
	reEOL
	reGroup
)

type reNode struct {
	kind     reKind
	r        rune
	class    *reSet
	group    *Regexp
	min, max int // repetition; max -1: no limit
}

type reSet struct {
	neg    bool
	ranges [][2]rune
	fns    []func(rune) bool
}

func (c *reSet) has(r rune) bool {
	in := false
	for _, rg := range c.ranges {
		if r >= rg[0] && r <= rg[1] {
			in = true
			break
		}
	}
	for _, f := range c.fns {
		if !in && f(r) {
			in = true
		}
	}
	return in != c.neg
}

// reError is a regerror text of glibc.
type reError string

func (e reError) Error() string { return string(e) }

const (
	errBrack   reError = "Unmatched [, [^, [:, [., or [="
	errParen   reError = "Unmatched ( or \\("
	errRParen  reError = "Unmatched ) or \\)"
	errBadRpt  reError = "Invalid preceding regular expression"
	errEscape  reError = "Trailing backslash"
	errRange   reError = "Invalid range end"
	errBrace   reError = "Unmatched \\{"
	errBadBr   reError = "Invalid content of \\{\\}"
	errCtype   reError = "Invalid character class name"
	errTooMuch reError = "Regular expression too big"
)

// Compile compiles pat, or returns glibc's regerror text for it.
func Compile(pat string) (*Regexp, error) {
	p := &reParser{s: pat}
	e, err := p.alt(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.s) {
		return nil, errRParen
	}
	return e, nil
}

type reParser struct {
	s string
	i int
}

func (p *reParser) alt(depth int) (*Regexp, error) {
	if depth > 100 {
		return nil, errTooMuch
	}
	e := &Regexp{}
	var seq []*reNode
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '|':
			p.i++
			e.alt = append(e.alt, seq)
			seq = nil
			continue
		case ')':
			if depth == 0 {
				return nil, errRParen
			}
			e.alt = append(e.alt, seq)
			return e, nil
		case '*', '+', '?':
			if len(seq) == 0 || seq[len(seq)-1].kind == reBOL {
				return nil, errBadRpt
			}
			p.i++
			last := seq[len(seq)-1]
			min, max := 0, -1
			if c == '+' {
				min = 1
			} else if c == '?' {
				max = 1
			}
			seq[len(seq)-1] = repeat(last, min, max)
			continue
		case '{':
			if len(seq) == 0 {
				return nil, errBadRpt
			}
			min, max, err := p.interval()
			if err != nil {
				return nil, err
			}
			seq[len(seq)-1] = repeat(seq[len(seq)-1], min, max)
			continue
		}
		n, err := p.atom(depth)
		if err != nil {
			return nil, err
		}
		seq = append(seq, n)
	}
	if depth > 0 {
		return nil, errParen
	}
	e.alt = append(e.alt, seq)
	return e, nil
}

// repeat wraps n (already repeated, maybe) in a repetition.
func repeat(n *reNode, min, max int) *reNode {
	if n.min == 1 && n.max == 1 {
		c := *n
		c.min, c.max = min, max
		return &c
	}
	return &reNode{kind: reGroup, group: &Regexp{alt: [][]*reNode{{n}}}, min: min, max: max}
}

// interval parses "{m}", "{m,}" or "{m,n}" at p.i.
func (p *reParser) interval() (int, int, error) {
	end := strings.IndexByte(p.s[p.i:], '}')
	if end < 0 {
		return 0, 0, errBrace
	}
	body := p.s[p.i+1 : p.i+end]
	p.i += end + 1
	lo, hi, comma := strings.Cut(body, ",")
	num := func(s string) (int, bool) {
		if s == "" || len(s) > 4 {
			return 0, false
		}
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	min, ok := num(lo)
	if !ok {
		return 0, 0, errBadBr
	}
	max := min
	if comma {
		max = -1
		if hi != "" {
			if max, ok = num(hi); !ok || max < min {
				return 0, 0, errBadBr
			}
		}
	}
	if min > 255 || max > 255 {
		return 0, 0, errBadBr
	}
	return min, max, nil
}

func (p *reParser) atom(depth int) (*reNode, error) {
	c := p.s[p.i]
	switch c {
	case '(':
		p.i++
		g, err := p.alt(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, errParen
		}
		p.i++
		return &reNode{kind: reGroup, group: g, min: 1, max: 1}, nil
	case '.':
		p.i++
		return &reNode{kind: reAny, min: 1, max: 1}, nil
	case '^':
		p.i++
		return &reNode{kind: reBOL, min: 1, max: 1}, nil
	case '$':
		p.i++
		return &reNode{kind: reEOL, min: 1, max: 1}, nil
	case '[':
		cl, err := p.bracket()
		if err != nil {
			return nil, err
		}
		return &reNode{kind: reClass, class: cl, min: 1, max: 1}, nil
	case '\\':
		p.i++
		if p.i >= len(p.s) {
			return nil, errEscape
		}
	}
	r, n := utf8.DecodeRuneInString(p.s[p.i:])
	p.i += n
	return &reNode{kind: reLit, r: r, min: 1, max: 1}, nil
}

func ctype(name string) func(rune) bool {
	switch name {
	case "alpha":
		return unicode.IsLetter
	case "digit":
		return func(r rune) bool { return r >= '0' && r <= '9' }
	case "alnum":
		return func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	case "upper":
		return unicode.IsUpper
	case "lower":
		return unicode.IsLower
	case "space":
		return unicode.IsSpace
	case "blank":
		return func(r rune) bool { return r == ' ' || r == '\t' }
	case "punct":
		return func(r rune) bool { return r < 0x80 && unicode.IsPunct(r) || r < 0x80 && unicode.IsSymbol(r) }
	case "print":
		return func(r rune) bool { return unicode.IsPrint(r) }
	case "graph":
		return func(r rune) bool { return unicode.IsGraphic(r) && r != ' ' }
	case "cntrl":
		return unicode.IsControl
	case "xdigit":
		return func(r rune) bool {
			return (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F')
		}
	}
	return nil
}

// bracket parses a bracket expression at p.i ('[').
func (p *reParser) bracket() (*reSet, error) {
	p.i++
	cl := &reSet{}
	if p.i < len(p.s) && p.s[p.i] == '^' {
		cl.neg = true
		p.i++
	}
	first := true
	for {
		if p.i >= len(p.s) {
			return nil, errBrack
		}
		c := p.s[p.i]
		if c == ']' && !first {
			p.i++
			return cl, nil
		}
		first = false
		if c == '[' && p.i+1 < len(p.s) && p.s[p.i+1] == ':' {
			end := strings.Index(p.s[p.i+2:], ":]")
			if end < 0 {
				return nil, errBrack
			}
			f := ctype(p.s[p.i+2 : p.i+2+end])
			if f == nil {
				return nil, errCtype
			}
			cl.fns = append(cl.fns, f)
			p.i += end + 4
			continue
		}
		lo, n := utf8.DecodeRuneInString(p.s[p.i:])
		p.i += n
		hi := lo
		if p.i+1 < len(p.s) && p.s[p.i] == '-' && p.s[p.i+1] != ']' {
			r, n := utf8.DecodeRuneInString(p.s[p.i+1:])
			if r < lo {
				return nil, errRange
			}
			hi = r
			p.i += 1 + n
		}
		cl.ranges = append(cl.ranges, [2]rune{lo, hi})
	}
}

// MatchString reports whether the expression matches somewhere in s.
func (e *Regexp) MatchString(s string) bool {
	for i := 0; ; {
		if e.matchAt(s, i, func(int) bool { return true }) {
			return true
		}
		if i >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
}

// matchAt tries the alternatives at position i, calling k with the end of
// each match until k accepts one.
func (e *Regexp) matchAt(s string, i int, k func(int) bool) bool {
	for _, seq := range e.alt {
		if matchSeq(s, i, seq, k) {
			return true
		}
	}
	return false
}

func matchSeq(s string, i int, seq []*reNode, k func(int) bool) bool {
	if len(seq) == 0 {
		return k(i)
	}
	n, rest := seq[0], seq[1:]
	return matchRepeat(s, i, n, 0, func(j int) bool { return matchSeq(s, j, rest, k) })
}

// matchRepeat matches n at i having matched it count times, greedily.
func matchRepeat(s string, i int, n *reNode, count int, k func(int) bool) bool {
	if n.max < 0 || count < n.max {
		matched := matchOne(s, i, n, func(j int) bool {
			if j == i && count >= n.min {
				return false // an empty match would loop
			}
			return matchRepeat(s, j, n, count+1, k)
		})
		if matched {
			return true
		}
	}
	return count >= n.min && k(i)
}

func matchOne(s string, i int, n *reNode, k func(int) bool) bool {
	switch n.kind {
	case reBOL:
		return i == 0 && k(i)
	case reEOL:
		return i == len(s) && k(i)
	case reGroup:
		return n.group.matchAt(s, i, k)
	}
	if i >= len(s) {
		return false
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	switch n.kind {
	case reLit:
		if r != n.r {
			return false
		}
	case reClass:
		if !n.class.has(r) {
			return false
		}
	}
	return k(i + w)
}
