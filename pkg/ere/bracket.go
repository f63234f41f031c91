package ere

// A bracket expression, as glibc's parse_bracket_exp reads it in the
// C.UTF-8 locale, where collation is by code point and no collating
// element is longer than one character: [.c.] and [=c=] take one byte
// (ASCII), a range's ends are ASCII characters (a range that starts or
// ends with another character is "Invalid collation character").

// bKind is the kind of a token inside brackets (peek_token_bracket).
type bKind uint8

const (
	bEnd      bKind = iota
	bChar           // a character
	bColl           // [.
	bEquiv          // [=
	bClass          // [:
	bRange          // -
	bClose          // ]
	bNonMatch       // ^
)

type btoken struct {
	kind bKind
	c    byte
	size int
}

func (p *parser) peekBracket() btoken {
	if p.i >= len(p.s) {
		return btoken{kind: bEnd}
	}
	c := p.s[p.i]
	switch c {
	case '[':
		if p.i+1 < len(p.s) {
			switch p.s[p.i+1] {
			case '.':
				return btoken{kind: bColl, c: '.', size: 2}
			case '=':
				return btoken{kind: bEquiv, c: '=', size: 2}
			case ':':
				return btoken{kind: bClass, c: ':', size: 2}
			}
		}
	case '-':
		return btoken{kind: bRange, c: c, size: 1}
	case ']':
		return btoken{kind: bClose, c: c, size: 1}
	case '^':
		return btoken{kind: bNonMatch, c: c, size: 1}
	}
	return btoken{kind: bChar, c: c, size: 1}
}

// elemKind is the kind of an element of a bracket expression.
type elemKind uint8

const (
	elByte  elemKind = iota // one byte: ASCII, or a stray byte of a pattern that is not UTF-8
	elRune                  // a character of more than one byte
	elColl                  // [.name.]
	elEquiv                 // [=name=]
	elClass                 // [:name:]
)

type elem struct {
	kind elemKind
	r    rune // elByte, elRune
	name string
}

// bracket is parse_bracket_exp, p.tok being the "[".
func (p *parser) bracket() (*charSet, error) {
	set := &charSet{}
	tok := p.peekBracket()
	if tok.kind == bEnd {
		return nil, errBadPat
	}
	if tok.kind == bNonMatch {
		set.neg, set.complex = true, true
		p.i += tok.size
		if tok = p.peekBracket(); tok.kind == bEnd {
			return nil, errBadPat
		}
	}
	if tok.kind == bClose {
		tok.kind = bChar // a "]" first is itself
	}
	for first := true; ; first = false {
		start, err := p.bracketElem(tok, first)
		if err != nil {
			return nil, err
		}
		tok = p.peekBracket()
		var end btoken
		isRange := false
		if start.kind != elClass && start.kind != elEquiv {
			if tok.kind == bEnd {
				return nil, errBrack
			}
			if tok.kind == bRange {
				p.i += tok.size
				end = p.peekBracket()
				switch end.kind {
				case bEnd:
					return nil, errBrack
				case bClose: // a "-" last is itself
					p.i -= tok.size
					tok.kind = bChar
				default:
					isRange = true
				}
			}
		}
		if isRange {
			last, err := p.bracketElem(end, true)
			if err != nil {
				return nil, err
			}
			tok = p.peekBracket()
			err = set.addRange(start, last)
			if err != nil {
				return nil, err
			}
		} else if err := set.add(start); err != nil {
			return nil, err
		}
		if tok.kind == bEnd {
			return nil, errBrack
		}
		if tok.kind == bClose {
			p.i += tok.size
			set.seal()
			return set, nil
		}
	}
}

// bracketElem is parse_bracket_element: the element tok starts;
// acceptHyphen says a "-" may be one (first in the list, or a range's
// end).
func (p *parser) bracketElem(tok btoken, acceptHyphen bool) (elem, error) {
	if r, n := decode(p.s[p.i:], false); n > 1 {
		p.i += n
		return elem{kind: elRune, r: r}, nil
	}
	p.i += tok.size
	switch tok.kind {
	case bColl, bEquiv, bClass:
		return p.bracketSymbol(tok)
	case bRange:
		if !acceptHyphen && p.peekBracket().kind != bClose {
			return elem{}, errRange
		}
	}
	return elem{kind: elByte, r: rune(tok.c)}, nil
}

// bracketSymbol is parse_bracket_symbol: the name of [.name.], [=name=]
// or [:name:], at most 31 bytes.
func (p *parser) bracketSymbol(tok btoken) (elem, error) {
	const nameMax = 32 // BRACKET_NAME_BUF_SIZE
	if p.i >= len(p.s) {
		return elem{}, errBrack
	}
	start := p.i
	for i := 0; ; i++ {
		if i >= nameMax {
			return elem{}, errBrack
		}
		ch := p.s[p.i]
		p.i++
		if p.i >= len(p.s) {
			return elem{}, errBrack
		}
		if ch == tok.c && p.s[p.i] == ']' {
			break
		}
	}
	name := p.s[start : p.i-1]
	p.i++
	switch tok.kind {
	case bColl:
		return elem{kind: elColl, name: name}, nil
	case bEquiv:
		return elem{kind: elEquiv, name: name}, nil
	}
	return elem{kind: elClass, name: name}, nil
}

// add adds one element (not a range's end).
func (s *charSet) add(e elem) error {
	switch e.kind {
	case elByte:
		s.addRange1(e.r, e.r)
	case elRune:
		s.runes = append(s.runes, e.r)
		s.complex = true
	case elColl, elEquiv:
		// without collation rules, only single bytes are collating
		// elements, and each is its own equivalence class
		if len(e.name) != 1 {
			return errCollate
		}
		s.addRange1(rune(e.name[0]), rune(e.name[0]))
	case elClass:
		c, ok := classByName(e.name)
		if !ok {
			return errCtype
		}
		s.classes |= 1 << c
		s.complex = true
	}
	return nil
}

// addRange adds the range from a to b (build_range_exp).
func (s *charSet) addRange(a, b elem) error {
	if a.kind == elClass || a.kind == elEquiv || b.kind == elClass || b.kind == elEquiv {
		return errRange
	}
	lo, okA := rangeEnd(a)
	hi, okB := rangeEnd(b)
	if !okA || !okB {
		return errCollate
	}
	if lo > hi {
		return errRange
	}
	s.addRange1(lo, hi)
	s.complex = true
	return nil
}

// rangeEnd is the collation sequence of a range's end: a single byte's
// value; none for a character of more than one byte.
func rangeEnd(e elem) (rune, bool) {
	switch {
	case e.kind == elByte:
		return e.r, true
	case e.kind == elColl && len(e.name) == 1:
		return rune(e.name[0]), true
	}
	return 0, false
}
