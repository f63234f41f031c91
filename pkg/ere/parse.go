package ere

import "unicode/utf8"

// The parser follows glibc's (posix/regcomp.c: peek_token, parse_reg_exp,
// parse_branch, parse_expression, parse_sub_exp, parse_dup_op,
// fetch_number) with the syntax bits of RE_SYNTAX_POSIX_EXTENDED, so that
// the same patterns are accepted and the first error found is glibc's
// first. The quirks that follow from it are glibc's: a ")" with no "(" is
// a literal, as is a "}" or a "{" that is not an interval's; "a{1\,2}" is
// a{1,2}; anchors take no repetition ("^*" is refused).

// nodeOp is the kind of a node of the parsed expression. A nil *node is
// the empty expression.
type nodeOp uint8

const (
	opLit    nodeOp = iota // the character r (a UTF-8 character)
	opByte                 // the stray byte r (not UTF-8)
	opAny                  // .
	opSet                  // a bracket expression, \w \W \s \S
	opAssert               // a zero-width assertion
	opConcat               // sub[0] then sub[1]...
	opAlt                  // sub[0] or sub[1] (either may be nil: empty)
	opRepeat               // sub[0] min to max times (max -1: no limit)
)

type node struct {
	op       nodeOp
	r        rune
	set      *charSet
	assert   assertKind
	sub      []*node
	min, max int
}

// assertKind is an anchor, as glibc's contexts name them.
type assertKind uint8

const (
	assertLineFirst assertKind = iota // ^
	assertLineLast                    // $
	assertBufFirst                    // \`: the start of the text
	assertBufLast                     // \': the end of the text
	assertWordFirst                   // \<
	assertWordLast                    // \>
	assertWordDelim                   // \b
	assertNotDelim                    // \B
)

// dupMax is RE_DUP_MAX, the largest count of an interval.
const dupMax = 0x7fff

// tokKind is the kind of a token, as glibc's peek_token gives it for
// RE_SYNTAX_POSIX_EXTENDED.
type tokKind uint8

const (
	tChar       tokKind = iota // a literal
	tEnd                       // the end of the pattern
	tBackslash                 // a backslash that ends the pattern
	tAlt                       // |
	tStar                      // *
	tPlus                      // +
	tQuest                     // ?
	tOpenDup                   // {
	tCloseDup                  // }
	tOpenGroup                 // (
	tCloseGroup                // )
	tBracket                   // [
	tPeriod                    // .
	tAnchor                    // ^ $ \` \' \< \> \b \B
	tWord                      // \w
	tNotWord                   // \W
	tSpace                     // \s
	tNotSpace                  // \S
	tBackref                   // \1 to \9
)

type token struct {
	kind   tokKind
	c      byte // the byte glibc's token holds: the character's first, or the one after a backslash
	r      rune // tChar: the character, or the stray byte
	valid  bool // tChar: r is a UTF-8 character
	anchor assertKind
	ref    int // tBackref: 0 for \1
	size   int // the bytes it takes
}

type parser struct {
	s         string
	i         int   // the next byte to read
	tok       token // the current token (read)
	nsub      int   // groups opened so far
	completed int   // bit n: group n+1 is closed (glibc's completed_bkref_map)
	backrefs  bool  // a back reference was read
}

func parse(s string) (*node, error) {
	p := &parser{s: s}
	p.fetch()
	tree, err := p.regExp(0)
	if err == nil && p.backrefs {
		err = errBackrefs
	}
	return tree, err
}

// char is the literal at byte i: a UTF-8 character, or one stray byte.
func (p *parser) char(i int) token {
	r, n := decode(p.s[i:], false)
	return token{kind: tChar, c: p.s[i], r: r, valid: n > 1 || r < utf8.RuneSelf, size: n}
}

// tokInfo is what a character makes of itself, the zero value a literal.
type tokInfo struct {
	kind   tokKind
	anchor assertKind
}

// plain is what the ASCII characters make by themselves, escaped what
// they make after a backslash.
var (
	plain = [utf8.RuneSelf]tokInfo{
		'|': {kind: tAlt}, '*': {kind: tStar}, '+': {kind: tPlus}, '?': {kind: tQuest},
		'{': {kind: tOpenDup}, '}': {kind: tCloseDup}, '(': {kind: tOpenGroup}, ')': {kind: tCloseGroup},
		'[': {kind: tBracket}, '.': {kind: tPeriod},
		'^': {tAnchor, assertLineFirst}, '$': {tAnchor, assertLineLast},
	}
	escaped = [utf8.RuneSelf]tokInfo{
		'1': {kind: tBackref}, '2': {kind: tBackref}, '3': {kind: tBackref}, '4': {kind: tBackref}, '5': {kind: tBackref},
		'6': {kind: tBackref}, '7': {kind: tBackref}, '8': {kind: tBackref}, '9': {kind: tBackref},
		'<': {tAnchor, assertWordFirst}, '>': {tAnchor, assertWordLast},
		'b': {tAnchor, assertWordDelim}, 'B': {tAnchor, assertNotDelim},
		'`': {tAnchor, assertBufFirst}, '\'': {tAnchor, assertBufLast},
		'w': {kind: tWord}, 'W': {kind: tNotWord}, 's': {kind: tSpace}, 'S': {kind: tNotSpace},
	}
)

// peek is the token at p.i.
func (p *parser) peek() token {
	if p.i >= len(p.s) {
		return token{kind: tEnd}
	}
	table := &plain
	t := p.char(p.i)
	if t.c == '\\' {
		if p.i+1 >= len(p.s) {
			return token{kind: tBackslash, c: t.c, size: 1}
		}
		table = &escaped
		t = p.char(p.i + 1)
		t.size++
	}
	if t.c < utf8.RuneSelf {
		info := table[t.c]
		t.kind, t.anchor = info.kind, info.anchor
		if t.kind == tBackref {
			t.ref = int(t.c - '1')
		}
	}
	return t
}

// fetch reads the next token into p.tok.
func (p *parser) fetch() {
	p.tok = p.peek()
	p.i += p.tok.size
}

// regExp is parse_reg_exp: branches separated by |.
func (p *parser) regExp(nest int) (*node, error) {
	initial := p.completed
	tree, err := p.branch(nest)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tAlt {
		p.fetch()
		var br *node
		if p.tok.kind != tAlt && p.tok.kind != tEnd && (nest == 0 || p.tok.kind != tCloseGroup) {
			accumulated := p.completed
			p.completed = initial
			if br, err = p.branch(nest); err != nil {
				return nil, err
			}
			p.completed |= accumulated
		}
		tree = &node{op: opAlt, sub: []*node{tree, br}}
	}
	return tree, nil
}

// branch is parse_branch: expressions one after the other.
func (p *parser) branch(nest int) (*node, error) {
	tree, err := p.expression(nest)
	if err != nil {
		return nil, err
	}
	for p.tok.kind != tAlt && p.tok.kind != tEnd && (nest == 0 || p.tok.kind != tCloseGroup) {
		e, err := p.expression(nest)
		if err != nil {
			return nil, err
		}
		tree = concat(tree, e)
	}
	return tree, nil
}

func concat(a, b *node) *node {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.op == opConcat:
		a.sub = append(a.sub, b)
		return a
	}
	return &node{op: opConcat, sub: []*node{a, b}}
}

// expression is parse_expression: an atom and its repetitions.
func (p *parser) expression(nest int) (*node, error) {
	t := p.tok
	var tree *node
	switch t.kind {
	case tChar, tCloseGroup, tCloseDup:
		// a ")" that closes no group and a "}" that closes no interval
		// are literals (RE_UNMATCHED_RIGHT_PAREN_ORD)
		tree = &node{op: opLit, r: t.r}
		if !t.valid {
			tree.op = opByte
		}
	case tOpenGroup:
		var err error
		if tree, err = p.subExp(nest + 1); err != nil {
			return nil, err
		}
	case tBracket:
		set, err := p.bracket()
		if err != nil {
			return nil, err
		}
		tree = &node{op: opSet, set: set}
	case tBackref:
		if p.completed&(1<<t.ref) == 0 {
			return nil, errSubReg
		}
		// refused once the rest has parsed: an error after it is glibc's
		p.backrefs = true
	case tOpenDup, tStar, tPlus, tQuest:
		return nil, errBadRpt
	case tAnchor:
		// an anchor takes no repetition: what follows starts anew
		p.fetch()
		return &node{op: opAssert, assert: t.anchor}, nil
	case tPeriod:
		tree = &node{op: opAny}
	case tWord, tNotWord:
		tree = &node{op: opSet, set: wordSet(t.kind == tNotWord)}
	case tSpace, tNotSpace:
		tree = &node{op: opSet, set: spaceSet(t.kind == tNotSpace)}
	case tBackslash:
		return nil, errEscape
	default: // tAlt, tEnd
		return nil, nil
	}
	p.fetch()
	for p.tok.kind == tStar || p.tok.kind == tPlus || p.tok.kind == tQuest || p.tok.kind == tOpenDup {
		var err error
		if tree, err = p.dupOp(tree); err != nil {
			return nil, err
		}
	}
	return tree, nil
}

// subExp is parse_sub_exp: a group, p.tok its "(".
func (p *parser) subExp(nest int) (*node, error) {
	cur := p.nsub
	p.nsub++
	p.fetch()
	var tree *node
	if p.tok.kind != tCloseGroup {
		var err error
		if tree, err = p.regExp(nest); err != nil {
			return nil, err
		}
		if p.tok.kind != tCloseGroup {
			return nil, errParen
		}
	}
	if cur < 9 {
		p.completed |= 1 << cur
	}
	return tree, nil
}

// dupOp is parse_dup_op: the repetition p.tok applies to elem.
func (p *parser) dupOp(elem *node) (*node, error) {
	min, max := 0, -1
	switch p.tok.kind {
	case tPlus:
		min = 1
	case tQuest:
		max = 1
	case tOpenDup:
		var err error
		if min, max, err = p.interval(); err != nil {
			return nil, err
		}
	}
	p.fetch()
	if elem == nil || (min == 0 && max == 0) {
		return nil, nil
	}
	return &node{op: opRepeat, sub: []*node{elem}, min: min, max: max}, nil
}

// interval reads "{m}", "{m,}", "{m,n}" or "{,n}" after p.tok's "{",
// leaving p.tok on its "}".
func (p *parser) interval() (min, max int, err error) {
	start := p.number()
	if start == -1 {
		if p.tok.kind != tChar || p.tok.c != ',' {
			return 0, 0, errBadBr // {}
		}
		start = 0 // {,n}
	}
	end := 0
	if start != -2 {
		switch {
		case p.tok.kind == tCloseDup:
			end = start
		case p.tok.kind == tChar && p.tok.c == ',':
			end = p.number()
		default:
			end = -2
		}
	}
	if start == -2 || end == -2 {
		if p.tok.kind == tEnd {
			return 0, 0, errBrace
		}
		return 0, 0, errBadBr
	}
	if (end != -1 && start > end) || p.tok.kind != tCloseDup {
		return 0, 0, errBadBr
	}
	if n := end; n > dupMax || (n == -1 && start > dupMax) {
		return 0, 0, errTooBig
	}
	return start, end, nil
}

// number is fetch_number: the count up to the next "," or "}": -1 when
// there is none, -2 when it is not a number or the pattern ends.
func (p *parser) number() int {
	num := -1
	for {
		p.fetch()
		c := p.tok.c
		if p.tok.kind == tEnd {
			return -2
		}
		if p.tok.kind == tCloseDup || c == ',' {
			return num
		}
		switch {
		case p.tok.kind != tChar || c < '0' || c > '9' || num == -2:
			num = -2
		case num == -1:
			num = int(c - '0')
		default:
			num = min(dupMax+1, num*10+int(c-'0'))
		}
	}
}
