package scols

import (
	"bufio"
	"strings"
)

// JSON writer (util-linux lib/jsonwrt.c).

const (
	jObject = iota
	jArray
	jValue
)

// brackets are the opening and closing brackets of an object and an array.
var brackets = [...]string{jObject: "{}", jArray: "[]"}

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

// open writes what starts a value of type typ: after a comma when it
// follows another, its name (a member of an object) or its indentation
// (an element of an array), then "{" or "[" on a line of its own, or the
// space before a plain value.
func (j *jsonWriter) open(name string, named bool, typ int) {
	if named {
		if j.afterClose {
			j.w.WriteString(",\n")
		}
		j.writeIndent()
		jsonQuote(j.w, strings.ToLower(name))
		j.w.WriteByte(':')
	} else {
		if j.afterClose {
			j.w.WriteString(",")
		} else {
			j.writeIndent()
		}
	}
	switch typ {
	case jObject, jArray:
		if named {
			j.w.WriteByte(' ')
		}
		j.w.WriteByte(brackets[typ][0])
		j.w.WriteByte('\n')
		j.indent++
	case jValue:
		j.w.WriteByte(' ')
	}
	j.afterClose = false
}

// close ends a value of type typ: "}" or "]" on a line of its own, and
// the document after its outermost object.
func (j *jsonWriter) close(typ int) {
	if j.indent == 1 {
		j.w.WriteString("\n}\n")
		j.indent--
		j.afterClose = true
		return
	}
	if typ == jObject || typ == jArray {
		j.indent--
		j.w.WriteByte('\n')
		j.writeIndent()
		j.w.WriteByte(brackets[typ][1])
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
