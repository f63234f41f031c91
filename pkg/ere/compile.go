package ere

// The parsed expression becomes a program for a set-of-states (Thompson)
// simulation: each instruction is a state, a repetition {m,n} its copies
// (as glibc expands it too). maxInsts bounds the program, and with it the
// work per character of text and the memory of a match.
const maxInsts = 1 << 18

type instOp uint8

const (
	iRune   instOp = iota // the character arg, then pc+1
	iByte                 // the stray byte arg, then pc+1
	iAny                  // any character, then pc+1
	iSet                  // a character of sets[arg], then pc+1
	iAssert               // assertion arg holds here, then pc+1
	iJmp                  // go to x
	iSplit                // go to x and to y
	iMatch                // a match
)

type inst struct {
	op   instOp
	arg  int32
	x, y int32
}

// size is the number of instructions n compiles to, at most maxInsts+1.
func size(n *node) int {
	if n == nil {
		return 0
	}
	switch n.op {
	case opConcat, opAlt:
		t := 0
		for _, s := range n.sub {
			t += size(s)
		}
		if n.op == opAlt {
			t += 2 * (len(n.sub) - 1) // a split and a jump between two
		}
		return min(t, maxInsts+1)
	case opRepeat:
		s := size(n.sub[0])
		t := n.min * s
		if n.max < 0 {
			t += s + 2 // the loop: a split, the body, a jump
		} else {
			t += (n.max - n.min) * (s + 1) // a split before each optional copy
		}
		return min(t, maxInsts+1)
	}
	return 1
}

// minLen is the fewest characters a match of n takes.
func minLen(n *node) int {
	if n == nil {
		return 0
	}
	switch n.op {
	case opAssert:
		return 0
	case opConcat:
		t := 0
		for _, s := range n.sub {
			t += minLen(s)
		}
		return t
	case opAlt:
		t := -1
		for _, s := range n.sub {
			if m := minLen(s); t < 0 || m < t {
				t = m
			}
		}
		return t
	case opRepeat:
		return n.min * minLen(n.sub[0])
	}
	return 1
}

// anchoredStart tells whether every match of n starts at the start of the
// text: it begins with ^ (or \`) on every path.
func anchoredStart(n *node) bool {
	if n == nil {
		return false
	}
	switch n.op {
	case opAssert:
		return n.assert == assertLineFirst || n.assert == assertBufFirst
	case opConcat:
		for _, s := range n.sub {
			if anchoredStart(s) {
				return true
			}
			if !zeroWidth(s) {
				return false
			}
		}
	case opAlt:
		for _, s := range n.sub {
			if !anchoredStart(s) {
				return false
			}
		}
		return true
	case opRepeat:
		return n.min > 0 && anchoredStart(n.sub[0])
	}
	return false
}

// zeroWidth tells whether n consumes nothing on every path (assertions
// only).
func zeroWidth(n *node) bool {
	if n == nil {
		return true
	}
	switch n.op {
	case opAssert:
		return true
	case opConcat, opAlt, opRepeat:
		for _, s := range n.sub {
			if !zeroWidth(s) {
				return false
			}
		}
		return true
	}
	return false
}

type compiler struct {
	prog    []inst
	sets    []*charSet
	words   bool
	complex bool
}

func compile(tree *node) (*Regexp, error) {
	n := size(tree) + 1
	if n > maxInsts {
		return nil, errTooBig
	}
	c := &compiler{prog: make([]inst, 0, n)}
	c.emit(tree)
	c.prog = append(c.prog, inst{op: iMatch})
	// glibc matches in single-byte mode (optimize_utf8) a pattern without
	// word anchors or complex brackets: its "." is then a byte-level
	// UTF-8 reader that also takes surrogates, which mbrtowc refuses.
	byteMode := !c.words && !c.complex
	return &Regexp{prog: c.prog, sets: c.sets, minLen: minLen(tree), anchored: anchoredStart(tree), words: c.words, byteMode: byteMode}, nil
}

func (c *compiler) pc() int32 { return int32(len(c.prog)) }

func (c *compiler) add(i inst) int32 {
	c.prog = append(c.prog, i)
	return int32(len(c.prog) - 1)
}

func (c *compiler) emit(n *node) {
	if n == nil {
		return
	}
	switch n.op {
	case opLit:
		c.add(inst{op: iRune, arg: n.r})
	case opByte:
		c.add(inst{op: iByte, arg: n.r})
	case opAny:
		c.add(inst{op: iAny})
	case opSet:
		c.complex = c.complex || n.set.complex
		c.sets = append(c.sets, n.set)
		c.add(inst{op: iSet, arg: int32(len(c.sets) - 1)})
	case opAssert:
		if n.assert >= assertWordFirst {
			c.words = true
		}
		c.add(inst{op: iAssert, arg: int32(n.assert)})
	case opConcat:
		for _, s := range n.sub {
			c.emit(s)
		}
	case opAlt:
		c.alt(n.sub)
	case opRepeat:
		c.repeat(n.sub[0], n.min, n.max)
	}
}

// alt is "split L1 L2; L1: a; jmp end; L2: b; end:" for two or more.
func (c *compiler) alt(subs []*node) {
	var jumps []int32
	for i, s := range subs {
		if i == len(subs)-1 {
			c.emit(s)
			break
		}
		split := c.add(inst{op: iSplit})
		c.prog[split].x = c.pc()
		c.emit(s)
		jumps = append(jumps, c.add(inst{op: iJmp}))
		c.prog[split].y = c.pc()
	}
	for _, j := range jumps {
		c.prog[j].x = c.pc()
	}
}

// repeat is min copies of n, then a loop (max -1) or max-min nested
// optional copies: (n(n(n)?)?)?, each skip going to the end.
func (c *compiler) repeat(n *node, min, max int) {
	for i := 0; i < min; i++ {
		c.emit(n)
	}
	if max < 0 {
		split := c.add(inst{op: iSplit})
		c.prog[split].x = c.pc()
		c.emit(n)
		c.add(inst{op: iJmp, x: split})
		c.prog[split].y = c.pc()
		return
	}
	var splits []int32
	for i := min; i < max; i++ {
		split := c.add(inst{op: iSplit})
		c.prog[split].x = c.pc()
		splits = append(splits, split)
		c.emit(n)
	}
	for _, s := range splits {
		c.prog[s].y = c.pc()
	}
}
