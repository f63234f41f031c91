package ere

import "unicode"

// charSet is the characters a bracket expression (or \w \W \s \S)
// matches. Stray bytes of the text are never in it, negated or not: glibc
// matches a bracket against a character, and a stray byte is none.
type charSet struct {
	neg     bool
	complex bool      // glibc needs its COMPLEX_BRACKET: negated, a range, a class, a character of more than one byte
	ascii   [2]uint64 // the ASCII characters in it, once sealed (negation applied)
	ranges  [][2]rune // ranges and single bytes, by value
	runes   []rune    // characters of more than one byte
	classes uint16    // bit c: the class c
}

func (s *charSet) addRange1(lo, hi rune) { s.ranges = append(s.ranges, [2]rune{lo, hi}) }

// seal computes the ASCII table, negation included.
func (s *charSet) seal() {
	for c := rune(0); c < 0x80; c++ {
		if s.holds(c) != s.neg {
			s.ascii[c>>6] |= 1 << (c & 63)
		}
	}
}

// holds tells whether r is among the set's elements (negation aside).
func (s *charSet) holds(r rune) bool {
	for _, rg := range s.ranges {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	for _, x := range s.runes {
		if x == r {
			return true
		}
	}
	for c := class(0); c < nclasses; c++ {
		if s.classes&(1<<c) != 0 && c.has(r) {
			return true
		}
	}
	return false
}

// has tells whether the character r is in the set.
func (s *charSet) has(r rune) bool {
	if r < 0x80 {
		return s.ascii[r>>6]&(1<<(r&63)) != 0
	}
	return s.holds(r) != s.neg
}

// wordSet is \w ([[:alnum:]_]), or \W when neg.
func wordSet(neg bool) *charSet {
	s := &charSet{neg: neg, complex: true, classes: 1 << clAlnum}
	s.addRange1('_', '_')
	s.seal()
	return s
}

// spaceSet is \s ([[:space:]]), or \S when neg.
func spaceSet(neg bool) *charSet {
	s := &charSet{neg: neg, complex: true, classes: 1 << clSpace}
	s.seal()
	return s
}

// class is one of the twelve character classes of POSIX.
type class uint8

const (
	clAlpha class = iota
	clDigit
	clAlnum
	clUpper
	clLower
	clSpace
	clBlank
	clPunct
	clPrint
	clGraph
	clCntrl
	clXdigit
	nclasses
)

var classNames = [nclasses]string{"alpha", "digit", "alnum", "upper", "lower", "space", "blank", "punct", "print", "graph", "cntrl", "xdigit"}

func classByName(name string) (class, bool) {
	for c, n := range classNames {
		if n == name {
			return class(c), true
		}
	}
	return 0, false
}

// has tells whether r is in the class as glibc's C.UTF-8 locale has it.
// glibc derives its classes from the Unicode data (localedata/unicode-gen,
// unicode_utils.py); these are the same derivations over Go's tables, and
// agree with glibc 2.36's for every character both Unicode versions have.
func (c class) has(r rune) bool {
	switch c {
	case clAlpha:
		return isAlpha(r)
	case clDigit:
		return r >= '0' && r <= '9'
	case clAlnum:
		return isAlpha(r) || (r >= '0' && r <= '9')
	case clUpper:
		return unicode.ToLower(r) != r || unicode.In(r, unicode.Lu, unicode.Other_Uppercase)
	case clLower:
		return unicode.ToUpper(r) != r || r == 0xdf || unicode.In(r, unicode.Ll, unicode.Other_Lowercase)
	case clSpace:
		return isSpace(r)
	case clBlank:
		return r == '\t' || (unicode.Is(unicode.Zs, r) && !noBreak(r))
	case clPunct:
		return isGraph(r) && !isAlpha(r) && !(r >= '0' && r <= '9')
	case clPrint:
		return assigned(r) && !unicode.In(r, unicode.Cc, unicode.Zl, unicode.Zp)
	case clGraph:
		return isGraph(r)
	case clCntrl:
		return unicode.In(r, unicode.Cc, unicode.Zl, unicode.Zp)
	case clXdigit:
		return (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F')
	}
	return false
}

// isAlpha: Unicode's Alphabetic, and the decimal digits but ASCII's
// (glibc wants iswalnum true on them, and C forbids them in digit).
func isAlpha(r rune) bool {
	if r < 0x80 {
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
	}
	return unicode.IsLetter(r) || unicode.In(r, unicode.Nl, unicode.Other_Alphabetic, unicode.Nd)
}

// isSpace: the C spaces, and the Unicode separators but the no-break ones.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\f', '\n', '\r', '\t', '\v':
		return true
	}
	return unicode.In(r, unicode.Zl, unicode.Zp) || (unicode.Is(unicode.Zs, r) && !noBreak(r))
}

// noBreak: the space separators whose decomposition is <noBreak>.
func noBreak(r rune) bool { return r == 0xa0 || r == 0x2007 || r == 0x202f }

func isGraph(r rune) bool { return assigned(r) && !unicode.Is(unicode.Cc, r) && !isSpace(r) }

// assigned: a character Unicode has (private use included), not a
// surrogate.
func assigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf, unicode.Co)
}

// isWord is glibc's IS_WIDE_WORD_CHAR: alphanumeric or "_". For a stray
// byte glibc asks it of the byte's value as a character.
func isWord(r rune) bool {
	if r < 0x80 {
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_'
	}
	return isAlpha(r)
}
