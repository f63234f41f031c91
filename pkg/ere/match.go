package ere

import "unicode/utf8"

// The matcher runs the program over the text one character at a time,
// keeping the set of states the characters so far can reach (no
// backtracking): the work per character is at most the program's size.
// A state is added for a match starting at each character, so a match
// anywhere in the text is found in one pass.
//
// Anchors hold where glibc's matcher has them hold. Without REG_NEWLINE a
// newline is an ordinary character, except that glibc moves to its
// "after a newline" state on reading one: ^ holds after a newline the
// match itself read ("a\n^b" matches "a\nb", "^b" does not), and $ before
// a newline the match reads next ("a$\n" matches "a\n", "a$" does not).
// A state reached through such a $ (flagged) can read that newline but
// is no match there.

// machine is the matcher's memory, reused across matches of one Regexp.
type machine struct {
	cur, curF   sparseSet // the states reached, and those reached flagged only
	next, nextF sparseSet
	stack       []int32 // pc<<1 | flagged
	matched     bool
}

func newMachine(n int) *machine {
	return &machine{cur: newSparseSet(n), curF: newSparseSet(n), next: newSparseSet(n), nextF: newSparseSet(n)}
}

// sparseSet is a set of states with constant-time clear, add and test
// (Briggs and Torczon), kept in the order added.
type sparseSet struct {
	dense  []int32
	sparse []int32
}

func newSparseSet(n int) sparseSet {
	return sparseSet{dense: make([]int32, 0, n), sparse: make([]int32, n)}
}

func (s *sparseSet) has(pc int32) bool {
	i := s.sparse[pc]
	return int(i) < len(s.dense) && s.dense[i] == pc
}

func (s *sparseSet) insert(pc int32) {
	s.sparse[pc] = int32(len(s.dense))
	s.dense = append(s.dense, pc)
}

// context is what the assertions see at a place in the text.
type context struct {
	begin, end         bool // at the start, at the end of the text
	prevNL             bool // the state read a newline to get here
	nextNL             bool // the next character is a newline
	prevWord, nextWord bool // the characters before and after are word characters
}

// holds tells whether assertion a holds in ctx, and whether only flagged
// ($ before a newline).
func (ctx context) holds(a assertKind) (ok, flagged bool) {
	switch a {
	case assertLineFirst:
		return ctx.begin || ctx.prevNL, false
	case assertLineLast:
		return ctx.end || ctx.nextNL, !ctx.end
	case assertBufFirst:
		return ctx.begin, false
	case assertBufLast:
		return ctx.end, false
	case assertWordFirst:
		return !ctx.prevWord && ctx.nextWord, false
	case assertWordLast:
		return ctx.prevWord && !ctx.nextWord, false
	case assertWordDelim:
		return ctx.prevWord != ctx.nextWord, false
	}
	return ctx.prevWord == ctx.nextWord, false // assertNotDelim
}

// char is a character of the text: a UTF-8 character, or a stray byte
// (valid false, r its value).
type char struct {
	r     rune
	size  int
	valid bool
	word  bool
}

// charAt decodes the character at s[i:] (size 0 at the end).
func (re *Regexp) charAt(s string, i int) char {
	if i >= len(s) {
		return char{}
	}
	r, n := decode(s[i:], re.byteMode)
	c := char{r: r, size: n, valid: n > 1 || r < utf8.RuneSelf}
	if re.words {
		c.word = isWord(c.r)
	}
	return c
}

// decode is the character at the start of s as glibc reads UTF-8: n is 1
// and r the byte's value for a stray byte (not the start of a
// character). glibc's mbrtowc takes the forms of up to six bytes (up to
// U+7FFFFFFF) but no surrogate; its matcher in single-byte mode (see
// compile) lets "." take surrogates too.
func decode(s string, surrogates bool) (r rune, n int) {
	b := s[0]
	switch {
	case b < utf8.RuneSelf:
		return rune(b), 1
	case b >= 0xc2 && b <= 0xdf:
		n, r = 2, rune(b&0x1f)
	case b&0xf0 == 0xe0:
		n, r = 3, rune(b&0x0f)
	case b&0xf8 == 0xf0:
		n, r = 4, rune(b&0x07)
	case b&0xfc == 0xf8:
		n, r = 5, rune(b&0x03)
	case b&0xfe == 0xfc:
		n, r = 6, rune(b&0x01)
	default:
		return rune(b), 1
	}
	if len(s) < n {
		return rune(b), 1
	}
	for i := 1; i < n; i++ {
		if s[i]&0xc0 != 0x80 {
			return rune(b), 1
		}
		r = r<<6 | rune(s[i]&0x3f)
	}
	if (n > 2 && r>>(5*n-4) == 0) || (!surrogates && r >= 0xd800 && r <= 0xdfff) {
		return rune(b), 1 // longer than it needs be, or a surrogate
	}
	return r, n
}

// add adds pc and the states it reaches without reading a character to
// set (or, flagged, to fset).
func (m *machine) add(re *Regexp, set, fset *sparseSet, pc int32, ctx context) {
	m.stack = append(m.stack[:0], pc<<1)
	for len(m.stack) > 0 {
		top := m.stack[len(m.stack)-1]
		m.stack = m.stack[:len(m.stack)-1]
		pc, flagged := top>>1, top&1
		if set.has(pc) || (flagged != 0 && fset.has(pc)) {
			continue
		}
		if flagged != 0 {
			fset.insert(pc)
		} else {
			set.insert(pc)
		}
		switch in := &re.prog[pc]; in.op {
		case iJmp:
			m.stack = append(m.stack, in.x<<1|flagged)
		case iSplit:
			m.stack = append(m.stack, in.y<<1|flagged, in.x<<1|flagged)
		case iAssert:
			if ok, f := ctx.holds(assertKind(in.arg)); ok {
				if f {
					flagged = 1
				}
				m.stack = append(m.stack, (pc+1)<<1|flagged)
			}
		case iMatch:
			if flagged == 0 {
				m.matched = true
			}
		}
	}
}

// step moves the states of cur that read c to next, and makes next cur.
func (m *machine) step(re *Regexp, c char, ctx context) {
	m.next.dense, m.nextF.dense = m.next.dense[:0], m.nextF.dense[:0]
	for _, set := range [2]*sparseSet{&m.cur, &m.curF} {
		for _, pc := range set.dense {
			in := &re.prog[pc]
			var ok bool
			switch in.op {
			case iRune:
				ok = c.valid && c.r == in.arg
			case iByte:
				ok = !c.valid && c.r == in.arg
			case iAny:
				ok = c.valid
			case iSet:
				ok = c.valid && re.sets[in.arg].has(c.r)
			}
			if ok {
				m.add(re, &m.next, &m.nextF, pc+1, ctx)
			}
		}
	}
	m.cur, m.next = m.next, m.cur
	m.curF, m.nextF = m.nextF, m.curF
}

func (m *machine) match(re *Regexp, s string) bool {
	m.cur.dense, m.curF.dense, m.matched = m.cur.dense[:0], m.curF.dense[:0], false
	c := re.charAt(s, 0)
	ctx := context{begin: true, end: len(s) == 0, nextNL: c.r == '\n' && c.size > 0, nextWord: c.word}
	for i := 0; ; {
		if i == 0 || !re.anchored {
			// a match starting here: glibc's initial state has not read
			// the newline before it
			start := ctx
			start.prevNL = false
			m.add(re, &m.cur, &m.curF, 0, start)
		}
		if m.matched {
			return true
		}
		if i >= len(s) || (re.anchored && len(m.cur.dense)+len(m.curF.dense) == 0) {
			return false
		}
		i += c.size
		next := re.charAt(s, i)
		ctx = context{end: i >= len(s), prevNL: c.r == '\n', nextNL: next.r == '\n' && next.size > 0,
			prevWord: c.word, nextWord: next.word}
		m.step(re, c, ctx)
		c = next
	}
}
