// Package scols writes tables as util-linux's libsmartcols does, byte for
// byte: the output of lsns, lsblk, findmnt and the like. It has what those
// tools' default, -l, -r and -J outputs need:
//
//   - columns left- or right-aligned (FlRight), padded with spaces and
//     separated by one space, the last column not padded; a column is as
//     wide as its widest cell and its header, or its width hint in the cases
//     libsmartcols applies it;
//   - a tree (FlTree): the lines' parent links drawn in one column with
//     "├─", "│ ", "└─" (or "|-", "| ", "`-" outside a UTF-8 locale);
//   - on a terminal, columns fitted to its width: truncated (FlTrunc) or
//     wrapped; a cell with several lines (WrapNL) continues below;
//   - control and non-printable characters as \xHH, as the C library's
//     locale sees them (UTF8);
//   - the raw format (Raw): cells separated by one space, blanks and
//     non-ASCII bytes escaped;
//   - JSON (JSON): libsmartcols's exact layout, numbers unquoted
//     (JSONNumber), an empty cell null, trees as "children" arrays.
//
// It is not a general table library: those write other bytes, cost time
// per row (MECHANICS.md §9, §11) and bring dependencies whose package
// inits every applet of the multi-call binary would pay at start. A table
// is built (AddColumn, NewLine, Line.Set), then printed once (Print).
package scols

import (
	"bufio"
	"io"
)

// Format is the output format.
type Format int

// The output formats.
const (
	Human Format = iota // aligned columns
	Raw                 // --raw: cells separated by one space, escaped
	JSON                // --json
)

// Flags are a column's flags (SCOLS_FL_*).
type Flags int

// The column flags.
const (
	FlRight  Flags = 1 << iota // align right
	FlTrunc                    // truncate to fit a terminal
	FlTree                     // draw the tree in this column
	FlWrap                     // may be wrapped to fit a terminal
	FlHidden                   // not printed (a column a filter reads)
)

// JSONType is how a column's cells are written in JSON (SCOLS_JSON_*).
type JSONType int

// The JSON types.
const (
	JSONString JSONType = iota // quoted
	JSONNumber                 // as they are
)

// Column is one column of a table.
type Column struct {
	Name      string
	WidthHint float64 // >= 1: a width in cells; < 1: a fraction of the terminal
	Flags     Flags
	JSONType  JSONType
	WrapNL    bool   // a cell's lines, split at '\n', are printed one below the other
	SafeChars string // bytes printed as they are in human output, not escaped

	seq int

	width, widthMin, widthMax, widthTreeart int
	pending                                 string // the rest of a multi-line cell
	hasPending                              bool
}

func (c *Column) is(f Flags) bool { return c.Flags&f != 0 }

type cell struct {
	data string
	set  bool
}

// Line is one row of a table.
type Line struct {
	cells    []cell
	parent   *Line
	children []*Line
}

// Set sets the text of column col (its index in AddColumn order).
func (l *Line) Set(col int, s string) { l.cells[col] = cell{data: s, set: true} }

// Get is the text of column col, and whether it was set.
func (l *Line) Get(col int) (string, bool) {
	c := l.cells[col]
	return c.data, c.set
}

// Table is a table to print. Set its fields, add its columns, then its
// lines, then Print it.
type Table struct {
	Format     Format
	NoHeadings bool
	Name       string // the name of the JSON array of lines
	UTF8       bool   // the locale's character set is UTF-8 (see UTF8Locale)
	Terminal   bool   // the output is a terminal: fit the columns to TermWidth
	TermWidth  int

	cols  []*Column
	lines []*Line

	// while printing
	w            *bufio.Writer
	js           jsonWriter
	sym          symbols
	enc          enc
	walkLastRoot *Line
	walkLastDone bool
}

// AddColumn adds a column; the lines' cells are indexed in the order
// columns are added. Add every column before the first line.
func (t *Table) AddColumn(name string, whint float64, flags Flags) *Column {
	c := &Column{Name: name, WidthHint: whint, Flags: flags, seq: len(t.cols)}
	t.cols = append(t.cols, c)
	return c
}

func (t *Table) isTree() bool {
	for _, c := range t.cols {
		if c.is(FlTree) {
			return true
		}
	}
	return false
}

// NewLine adds a line, as the last child of parent when parent is not nil.
func (t *Table) NewLine(parent *Line) *Line {
	l := &Line{cells: make([]cell, len(t.cols)), parent: parent}
	t.lines = append(t.lines, l)
	if parent != nil {
		parent.children = append(parent.children, l)
	}
	return l
}

// RemoveLine takes a line without children out of the table (a line a
// filter refused).
func (t *Table) RemoveLine(l *Line) {
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

func isLastChild(l *Line) bool {
	return l.parent != nil && l.parent.children[len(l.parent.children)-1] == l
}

func (t *Table) isLastColumn(c *Column) bool {
	if c.seq == len(t.cols)-1 {
		return true
	}
	next := t.cols[c.seq+1]
	return next.is(FlHidden) && t.isLastColumn(next)
}

// Print writes the table to w, through a buffer, and returns the first
// write error. A table without lines prints nothing, or in JSON an empty
// array.
func (t *Table) Print(w io.Writer) error {
	t.w = bufio.NewWriterSize(w, 64*1024)
	t.enc = enc{utf8: t.UTF8}
	t.sym = asciiSymbols
	if t.UTF8 {
		t.sym = utf8Symbols
	}
	if t.Format == JSON {
		t.js = jsonWriter{w: t.w}
		t.js.open("", false, jObject)
		t.js.open(t.Name, true, jArray)
	}
	if len(t.lines) > 0 {
		t.printLines()
	}
	if t.Format == JSON {
		t.js.close(jArray)
		t.js.close(jObject)
	}
	err := t.w.Flush()
	t.w = nil
	return err
}

// printLines is the header and the lines.
func (t *Table) printLines() {
	if t.Format == Human {
		t.calculate()
	}
	t.printHeader()
	if t.isTree() {
		t.walk(func(l *Line) { t.printTreeLine(l) })
	} else {
		for i, l := range t.lines {
			if t.Format == JSON {
				t.js.open("", false, jObject)
			}
			t.printLine(l)
			if t.Format == JSON {
				t.js.close(jObject)
			} else if i < len(t.lines)-1 {
				t.w.WriteByte('\n')
			}
		}
	}
	if t.Format != JSON {
		t.w.WriteByte('\n')
	}
}
