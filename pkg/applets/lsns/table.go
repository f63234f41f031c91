package lsns

import (
	"bufio"
	"strings"
)

// This file is a small port of the parts of util-linux's libsmartcols that
// lsns uses, so that the output is byte-for-byte util-linux's: left- or
// right-aligned columns padded with spaces and separated by one space, the
// last column not padded, the width of a column the widest of its cells and
// its header (or its width hint, in the cases libsmartcols applies it),
// tree art in the tree column, multi-line NSFS cells, truncation of COMMAND
// to the terminal width only when standard output is a terminal, the raw
// format's \xHH escapes and the JSON writer's exact layout. No table
// library: MECHANICS.md §11 measured tablewriter at 60-157 ms for 1540
// rows, and its dependencies cost every applet an init at start.

// Output formats.
const (
	fmtHuman = iota
	fmtRaw
	fmtJSON
)

// Column flags (SCOLS_FL_*).
const (
	flRight = 1 << iota
	flTrunc
	flTree
	flWrap
	flHidden
)

// JSON types of a column (SCOLS_JSON_*).
const (
	jsonString = iota
	jsonNumber
)

type column struct {
	name     string
	whint    float64
	flags    int
	jsonType int
	wrapNL   bool   // the cell's lines are split at '\n' (scols_wrapnl_*)
	safe     string // bytes not escaped in human output
	seq      int

	width, widthMin, widthMax, widthTreeart int
	pending                                 string // the rest of a multi-line cell
	hasPending                              bool
}

func (c *column) is(f int) bool { return c.flags&f != 0 }

type cell struct {
	data string
	set  bool
}

type line struct {
	cells    []cell
	parent   *line
	children []*line
}

func (l *line) set(col int, s string) { l.cells[col] = cell{data: s, set: true} }

type table struct {
	cols       []*column
	lines      []*line
	format     int
	noHeadings bool
	name       string
	isTerm     bool
	termWidth  int
	sym        symbols
	enc        enc
	w          *bufio.Writer
	js         jsonWriter

	walkLastRoot *line
	walkLastDone bool
}

func (t *table) addColumn(name string, whint float64, flags int) *column {
	c := &column{name: name, whint: whint, flags: flags, seq: len(t.cols)}
	t.cols = append(t.cols, c)
	return c
}

func (t *table) isTree() bool {
	for _, c := range t.cols {
		if c.is(flTree) {
			return true
		}
	}
	return false
}

// newLine adds a line, as the last child of parent when parent is not nil.
func (t *table) newLine(parent *line) *line {
	l := &line{cells: make([]cell, len(t.cols)), parent: parent}
	t.lines = append(t.lines, l)
	if parent != nil {
		parent.children = append(parent.children, l)
	}
	return l
}

// removeLine takes a line (without children) out of the table.
func (t *table) removeLine(l *line) {
	if p := l.parent; p != nil {
		for i, c := range p.children {
			if c == l {
				p.children = append(p.children[:i:i], p.children[i+1:]...)
				break
			}
		}
		l.parent = nil
	}
	for i := len(t.lines) - 1; i >= 0; i-- {
		if t.lines[i] == l {
			t.lines = append(t.lines[:i:i], t.lines[i+1:]...)
			break
		}
	}
}

func isLastChild(l *line) bool {
	return l.parent != nil && l.parent.children[len(l.parent.children)-1] == l
}

func (t *table) isLastColumn(c *column) bool {
	if c.seq == len(t.cols)-1 {
		return true
	}
	next := t.cols[c.seq+1]
	return next.is(flHidden) && t.isLastColumn(next)
}

// print writes the table and flushes. A write error is left to the
// applet's standard output wrapper, which reports it as util-linux's
// close_stdout does ("write error: ...").
func (t *table) print() error {
	if len(t.lines) == 0 {
		if t.format == fmtJSON {
			t.js = jsonWriter{w: t.w}
			t.js.open("", false, jObject)
			t.js.open(t.name, true, jArray)
			t.js.close(jArray)
			t.js.close(jObject)
		}
		t.w.Flush()
		return nil
	}
	if t.format == fmtJSON {
		t.js = jsonWriter{w: t.w}
	}
	if t.format == fmtHuman {
		t.calculate()
	}
	if t.format == fmtJSON {
		t.js.open("", false, jObject)
		t.js.open(t.name, true, jArray)
	}
	t.printHeader()
	if t.isTree() {
		t.walk(func(l *line) { t.printTreeLine(l) })
	} else {
		for i, l := range t.lines {
			if t.format == fmtJSON {
				t.js.open("", false, jObject)
			}
			t.printLine(l)
			if t.format == fmtJSON {
				t.js.close(jObject)
			} else if i < len(t.lines)-1 {
				t.w.WriteByte('\n')
			}
		}
	}
	if t.format == fmtJSON {
		t.js.close(jArray)
		t.js.close(jObject)
	} else {
		t.w.WriteByte('\n')
	}
	t.w.Flush()
	return nil
}

// walk calls f for every line, depth first, roots in the order they were
// added (scols_walk_tree).
func (t *table) walk(f func(l *line)) {
	t.walkLastRoot, t.walkLastDone = nil, false
	for _, l := range t.lines {
		if t.walkLastRoot == nil || l.parent == nil {
			t.walkLastRoot = l
		}
	}
	var rec func(l *line)
	rec = func(l *line) {
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
func (t *table) walkIsLast(l *line) bool {
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

func (t *table) printTreeLine(l *line) {
	if t.format == fmtJSON {
		t.js.open("", false, jObject)
	}
	t.printLine(l)
	if len(l.children) > 0 {
		if t.format == fmtJSON {
			t.js.open("children", true, jArray)
		} else {
			t.w.WriteByte('\n')
		}
		return
	}
	if t.format == fmtJSON {
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
func (t *table) treeArt(b *strings.Builder, l *line) {
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
func (t *table) cellText(l *line, c *column) (text string, artLen int) {
	data := ""
	if l != nil && c.seq < len(l.cells) {
		data = l.cells[c.seq].data
	}
	if !c.is(flTree) || l == nil || l.parent == nil || t.format == fmtJSON {
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

func (t *table) printHeader() {
	if t.noHeadings || t.format == fmtJSON || len(t.lines) == 0 {
		return
	}
	for _, c := range t.cols {
		if c.is(flHidden) {
			continue
		}
		t.printData(c, nil, c.name)
	}
	t.w.WriteByte('\n')
}

func (t *table) printLine(l *line) {
	pending := false
	for _, c := range t.cols {
		if c.is(flHidden) {
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
			if c.is(flHidden) {
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

func (t *table) pad(n int) {
	for ; n > 0; n-- {
		t.w.WriteByte(' ')
	}
}

func (t *table) setPending(c *column, s string) {
	c.pending, c.hasPending = s, s != ""
}

// printData is print_data: one cell (or a header when l is nil).
func (t *table) printData(c *column, l *line, data string) {
	isLast := t.isLastColumn(c)
	switch t.format {
	case fmtRaw:
		var b strings.Builder
		rawText(&b, data)
		t.w.WriteString(b.String())
		if !isLast {
			t.w.WriteByte(' ')
		}
		return
	case fmtJSON:
		if c.jsonType == jsonNumber {
			t.js.value(c.name, data, false)
		} else {
			t.js.value(c.name, data, true)
		}
		return
	}
	enc, length := t.enc.safeEncode(data, c.safe)
	if length == 0 {
		enc = ""
	}
	width := c.width
	if enc != "" && c.wrapNL {
		if i := strings.IndexByte(enc, '\n'); i >= 0 {
			t.setPending(c, enc[i+1:])
			enc = enc[:i]
			length = t.enc.safeWidth(enc)
		}
	}
	if isLast && length < width && !c.is(flRight) {
		width = length
	}
	if length > width && c.is(flTrunc) {
		enc, length = t.enc.truncate(enc, width)
	}
	if enc != "" {
		if c.is(flRight) {
			t.pad(width - length)
			length = width
		}
		t.w.WriteString(enc)
	}
	if isLast {
		return
	}
	t.pad(width - length)
	if length > width && !c.is(flTrunc) {
		t.printNewlinePadding(c, l)
	} else {
		t.w.WriteByte(' ')
	}
}

// printNewlinePadding starts the next cell on a new line, below its column,
// after an overlong cell (print_newline_padding).
func (t *table) printNewlinePadding(c *column, l *line) {
	t.w.WriteByte('\n')
	for i := 0; i <= c.seq; i++ {
		t.printEmptyCell(t.cols[i], l)
	}
}

// printEmptyCell is print_empty_cell: padding, or the tree art that
// continues the chart below a multi-line cell.
func (t *table) printEmptyCell(c *column, l *line) {
	lenPad := 0
	if l != nil && c.is(flTree) {
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

func (t *table) hasPending() bool {
	for _, c := range t.cols {
		if !c.is(flHidden) && c.hasPending {
			return true
		}
	}
	return false
}

// printPending prints the next line of a multi-line cell.
func (t *table) printPending(c *column, l *line) {
	width := c.width
	data := c.pending
	var length int
	if i := strings.IndexByte(data, '\n'); c.wrapNL && i >= 0 {
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
func (t *table) calculate() {
	width := 0
	for _, c := range t.cols {
		if c.is(flHidden) {
			continue
		}
		t.countColumnWidth(c)
		if t.isLastColumn(c) {
			width += c.width
		} else {
			width += c.width + 1
		}
	}
	if !t.isTerm {
		return
	}
	term := t.termWidth
	if width < term {
		// enlarge the last column (only truncation sees it: the last
		// column is never padded)
		last := t.cols[len(t.cols)-1]
		if !last.is(flRight) {
			last.width += term - width
			width = term
		}
	}
	for stage := 1; width > term && stage <= 3; {
		org := width
		for _, c := range t.cols {
			if c.is(flHidden) {
				continue
			}
			if width <= term {
				break
			}
			if c.width == c.widthMin {
				continue
			}
			if c.is(flTree) && width <= c.widthTreeart {
				continue
			}
			if c.width == 0 {
				continue
			}
			truncFlag := c.is(flTrunc) || (c.is(flWrap) && !c.wrapNL)
			relative := c.whint > 0 && c.whint < 1
			switch stage {
			case 1:
				if !truncFlag || !relative || c.width < int(c.whint*float64(term)) {
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
				c.flags |= flHidden
			}
		}
		if org == width {
			stage++
		}
	}
}

func (t *table) countColumnWidth(c *column) {
	c.width = 0
	if c.widthMin == 0 {
		c.widthMin = max(t.enc.safeWidth(c.name), 1)
	}
	count := func(l *line) {
		text, artLen := t.cellText(l, c)
		var n int
		if c.wrapNL {
			for _, chunk := range strings.Split(text, "\n") {
				n = max(n, t.enc.safeWidth(chunk))
			}
		} else {
			n = t.enc.safeWidth(text)
		}
		c.widthMax = max(c.widthMax, n)
		c.width = max(c.width, n)
		if c.is(flTree) && artLen > 0 {
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
	} else if c.whint >= 1 && c.width < int(c.whint) && c.widthMin < int(c.whint) {
		c.width = int(c.whint)
	}
}

// JSON writer (util-linux lib/jsonwrt.c).

const (
	jObject = iota
	jArray
	jValue
)

type jsonWriter struct {
	w          *bufio.Writer
	indent     int
	afterClose bool
}

func (j *jsonWriter) writeIndent() {
	for i := 0; i < j.indent; i++ {
		j.w.WriteString("   ")
	}
}

func (j *jsonWriter) open(name string, named bool, typ int) {
	if named {
		if j.afterClose {
			j.w.WriteString(",\n")
		}
		j.writeIndent()
		jsonQuote(j.w, strings.ToLower(name))
	} else {
		if j.afterClose {
			j.w.WriteString(",")
		} else {
			j.writeIndent()
		}
	}
	switch typ {
	case jObject:
		if named {
			j.w.WriteString(": {\n")
		} else {
			j.w.WriteString("{\n")
		}
		j.indent++
	case jArray:
		if named {
			j.w.WriteString(": [\n")
		} else {
			j.w.WriteString("[\n")
		}
		j.indent++
	case jValue:
		if named {
			j.w.WriteString(": ")
		} else {
			j.w.WriteString(" ")
		}
	}
	j.afterClose = false
}

func (j *jsonWriter) close(typ int) {
	if j.indent == 1 {
		j.w.WriteString("\n}\n")
		j.indent--
		j.afterClose = true
		return
	}
	switch typ {
	case jObject:
		j.indent--
		j.w.WriteByte('\n')
		j.writeIndent()
		j.w.WriteByte('}')
	case jArray:
		j.indent--
		j.w.WriteByte('\n')
		j.writeIndent()
		j.w.WriteByte(']')
	}
	j.afterClose = true
}

// value writes "name": data, quoted or raw, null when data is empty.
func (j *jsonWriter) value(name, data string, quoted bool) {
	j.open(name, true, jValue)
	switch {
	case data == "":
		j.w.WriteString("null")
	case quoted:
		jsonQuote(j.w, data)
	default:
		j.w.WriteString(data)
	}
	j.close(jValue)
}

func jsonQuote(w *bufio.Writer, s string) {
	const hex = "0123456789abcdef"
	w.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			w.WriteByte('\\')
			w.WriteByte(c)
		case c >= 0x20:
			w.WriteByte(c)
		case c == '\b':
			w.WriteString(`\b`)
		case c == '\t':
			w.WriteString(`\t`)
		case c == '\n':
			w.WriteString(`\n`)
		case c == '\f':
			w.WriteString(`\f`)
		case c == '\r':
			w.WriteString(`\r`)
		default:
			w.WriteString(`\u00`)
			w.WriteByte(hex[c>>4])
			w.WriteByte(hex[c&15])
		}
	}
	w.WriteByte('"')
}
