package scols

import "strings"

// walk calls f for every line, depth first, roots in the order they were
// added (scols_walk_tree).
func (t *Table) walk(f func(l *Line)) {
	t.walkLastRoot, t.walkLastDone = nil, false
	for _, l := range t.lines {
		if t.walkLastRoot == nil || l.parent == nil {
			t.walkLastRoot = l
		}
	}
	var rec func(l *Line)
	rec = func(l *Line) {
		f(l)
		for _, c := range l.children {
			rec(c)
		}
	}
	for _, l := range t.lines {
		if l.parent != nil {
			continue
		}
		if l == t.walkLastRoot {
			t.walkLastDone = true
		}
		rec(l)
	}
	t.walkLastDone = false
}

// walkIsLast is scols_walk_is_last: l is the last line printed.
func (t *Table) walkIsLast(l *Line) bool {
	if !t.walkLastDone || len(l.children) > 0 {
		return false
	}
	if l.parent == nil && l != t.walkLastRoot {
		return false
	}
	if l.parent != nil {
		if !isLastChild(l) {
			return false
		}
		p := l.parent
		for {
			if p.parent != nil && !isLastChild(p) {
				return false
			}
			if p.parent == nil {
				break
			}
			p = p.parent
		}
		if p != t.walkLastRoot {
			return false
		}
	}
	return true
}

func (t *Table) printTreeLine(l *Line) {
	if t.Format == JSON {
		t.js.open("", false, jObject)
	}
	t.printLine(l)
	if len(l.children) > 0 {
		if t.Format == JSON {
			t.js.open("children", true, jArray)
		} else {
			t.w.WriteByte('\n')
		}
		return
	}
	if t.Format == JSON {
		for {
			last := (l.parent != nil && isLastChild(l)) || (l.parent == nil && l == t.walkLastRoot)
			t.js.close(jObject)
			if last && l.parent != nil {
				t.js.close(jArray)
			}
			l = l.parent
			if l == nil || !last {
				break
			}
		}
		return
	}
	if !t.walkIsLast(l) {
		t.w.WriteByte('\n')
	}
}

// treeArt is the chart of l's ancestry: "│ " or "  " for l and each of its
// ancestors that has a parent, outermost first (tree_ascii_art_to_buffer).
func (t *Table) treeArt(b *strings.Builder, l *Line) {
	if l.parent == nil {
		return
	}
	t.treeArt(b, l.parent)
	if isLastChild(l) {
		b.WriteString("  ")
	} else {
		b.WriteString(t.sym.vert)
	}
}

// cellText is __cell_to_buffer: the cell's data, after the tree art in the
// tree column (except in JSON). artLen is the length of the art.
func (t *Table) cellText(l *Line, c *Column) (text string, artLen int) {
	data := ""
	if l != nil && c.seq < len(l.cells) {
		data = l.cells[c.seq].data
	}
	if !c.is(FlTree) || l == nil || l.parent == nil || t.Format == JSON {
		return data, 0
	}
	var b strings.Builder
	t.treeArt(&b, l.parent)
	if isLastChild(l) {
		b.WriteString(t.sym.right)
	} else {
		b.WriteString(t.sym.branch)
	}
	artLen = b.Len()
	b.WriteString(data)
	return b.String(), artLen
}

func (t *Table) printHeader() {
	if t.NoHeadings || t.Format == JSON || len(t.lines) == 0 {
		return
	}
	for _, c := range t.cols {
		if c.is(FlHidden) {
			continue
		}
		t.printData(c, nil, c.Name)
	}
	t.w.WriteByte('\n')
}

func (t *Table) printLine(l *Line) {
	pending := false
	for _, c := range t.cols {
		if c.is(FlHidden) {
			continue
		}
		text, _ := t.cellText(l, c)
		t.printData(c, l, text)
		if c.hasPending {
			pending = true
		}
	}
	for pending {
		pending = false
		t.w.WriteByte('\n')
		for _, c := range t.cols {
			if c.is(FlHidden) {
				continue
			}
			if c.hasPending {
				t.printPending(c, l)
				if c.hasPending {
					pending = true
				}
			} else {
				t.printEmptyCell(c, l)
			}
		}
	}
}

func (t *Table) pad(n int) {
	for ; n > 0; n-- {
		t.w.WriteByte(' ')
	}
}

func (t *Table) setPending(c *Column, s string) {
	c.pending, c.hasPending = s, s != ""
}

// printData is print_data: one cell (or a header when l is nil).
func (t *Table) printData(c *Column, l *Line, data string) {
	isLast := t.isLastColumn(c)
	switch t.Format {
	case Raw:
		var b strings.Builder
		rawText(&b, data)
		t.w.WriteString(b.String())
		if !isLast {
			t.w.WriteByte(' ')
		}
		return
	case JSON:
		if c.JSONType == JSONNumber {
			t.js.value(c.Name, data, false)
		} else {
			t.js.value(c.Name, data, true)
		}
		return
	}
	enc, length := t.enc.safeEncode(data, c.SafeChars)
	if length == 0 {
		enc = ""
	}
	width := c.width
	if enc != "" && c.WrapNL {
		if i := strings.IndexByte(enc, '\n'); i >= 0 {
			t.setPending(c, enc[i+1:])
			enc = enc[:i]
			length = t.enc.safeWidth(enc)
		}
	}
	if isLast && length < width && !c.is(FlRight) {
		width = length
	}
	if length > width && c.is(FlTrunc) {
		enc, length = t.enc.truncate(enc, width)
	}
	if enc != "" {
		if c.is(FlRight) {
			t.pad(width - length)
			length = width
		}
		t.w.WriteString(enc)
	}
	if isLast {
		return
	}
	t.pad(width - length)
	if length > width && !c.is(FlTrunc) {
		t.printNewlinePadding(c, l)
	} else {
		t.w.WriteByte(' ')
	}
}

// printNewlinePadding starts the next cell on a new line, below its column,
// after an overlong cell (print_newline_padding).
func (t *Table) printNewlinePadding(c *Column, l *Line) {
	t.w.WriteByte('\n')
	for i := 0; i <= c.seq; i++ {
		t.printEmptyCell(t.cols[i], l)
	}
}

// printEmptyCell is print_empty_cell: padding, or the tree art that
// continues the chart below a multi-line cell.
func (t *Table) printEmptyCell(c *Column, l *Line) {
	lenPad := 0
	if l != nil && c.is(FlTree) {
		var b strings.Builder
		t.treeArt(&b, l)
		if len(l.children) > 0 && t.hasPending() {
			b.WriteString(t.sym.vert)
		}
		art, w := t.enc.safeEncode(b.String(), "")
		if w > 0 {
			t.w.WriteString(art)
			lenPad = w
		}
	}
	if t.isLastColumn(c) {
		return
	}
	t.pad(c.width - lenPad)
	t.w.WriteByte(' ')
}

func (t *Table) hasPending() bool {
	for _, c := range t.cols {
		if !c.is(FlHidden) && c.hasPending {
			return true
		}
	}
	return false
}

// printPending prints the next line of a multi-line cell.
func (t *Table) printPending(c *Column, l *Line) {
	width := c.width
	data := c.pending
	var length int
	if i := strings.IndexByte(data, '\n'); c.WrapNL && i >= 0 {
		t.setPending(c, data[i+1:])
		data = data[:i]
		length = t.enc.safeWidth(data)
	} else {
		full := data
		data, length = t.enc.truncate(full, width)
		if data == "" {
			t.setPending(c, "") // nothing fits: drop it rather than loop
		} else {
			t.setPending(c, full[len(data):])
		}
	}
	t.w.WriteString(data)
	if t.isLastColumn(c) {
		return
	}
	t.pad(width - length)
	t.w.WriteByte(' ')
}

// calculate sets the column widths (__scols_calculate), for human output.
func (t *Table) calculate() {
	width := 0
	for _, c := range t.cols {
		if c.is(FlHidden) {
			continue
		}
		t.countColumnWidth(c)
		if t.isLastColumn(c) {
			width += c.width
		} else {
			width += c.width + 1
		}
	}
	if !t.Terminal {
		return
	}
	term := t.TermWidth
	if width < term {
		// enlarge the last column (only truncation sees it: the last
		// column is never padded)
		last := t.cols[len(t.cols)-1]
		if !last.is(FlRight) {
			last.width += term - width
			width = term
		}
	}
	for stage := 1; width > term && stage <= 3; {
		org := width
		for _, c := range t.cols {
			if c.is(FlHidden) {
				continue
			}
			if width <= term {
				break
			}
			if c.width == c.widthMin {
				continue
			}
			if c.is(FlTree) && width <= c.widthTreeart {
				continue
			}
			if c.width == 0 {
				continue
			}
			truncFlag := c.is(FlTrunc) || (c.is(FlWrap) && !c.WrapNL)
			relative := c.WidthHint > 0 && c.WidthHint < 1
			switch stage {
			case 1:
				if !truncFlag || !relative || c.width < int(c.WidthHint*float64(term)) {
					continue
				}
			case 2:
				if !truncFlag {
					continue
				}
			case 3:
				if !relative {
					continue
				}
			}
			c.width--
			width--
			if c.width == 0 {
				c.Flags |= FlHidden
			}
		}
		if org == width {
			stage++
		}
	}
}

func (t *Table) countColumnWidth(c *Column) {
	c.width = 0
	if c.widthMin == 0 {
		c.widthMin = max(t.enc.safeWidth(c.Name), 1)
	}
	count := func(l *Line) {
		text, artLen := t.cellText(l, c)
		var n int
		if c.WrapNL {
			for _, chunk := range strings.Split(text, "\n") {
				n = max(n, t.enc.safeWidth(chunk))
			}
		} else {
			n = t.enc.safeWidth(text)
		}
		c.widthMax = max(c.widthMax, n)
		c.width = max(c.width, n)
		if c.is(FlTree) && artLen > 0 {
			c.widthTreeart = max(c.widthTreeart, t.enc.safeWidth(text[:artLen]))
		}
	}
	if t.isTree() {
		t.walk(count)
	} else {
		for _, l := range t.lines {
			count(l)
		}
	}
	if c.width < c.widthMin {
		c.width = c.widthMin
	} else if c.WidthHint >= 1 && c.width < int(c.WidthHint) && c.widthMin < int(c.WidthHint) {
		c.width = int(c.WidthHint)
	}
}
