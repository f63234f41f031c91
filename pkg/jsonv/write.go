package jsonv

import (
	"strconv"
	"unicode/utf8"
)

// Writer builds one JSON text; it puts the commas and colons. Its text is
// what encoding/json's Marshal writes for the same data: no spaces,
// strings escaped as AppendString escapes them.
//
//	var w jsonv.Writer
//	w.BeginObject()
//	w.Key("code")
//	w.Int(7)
//	w.EndObject()
//	w.Bytes() // {"code":7}
type Writer struct {
	b    []byte
	more bool // a value was written at this level: the next one needs a comma
}

// Bytes is the text written so far.
func (w *Writer) Bytes() []byte { return w.b }

func (w *Writer) sep() {
	if w.more {
		w.b = append(w.b, ',')
	}
}

// BeginObject opens an object.
func (w *Writer) BeginObject() { w.sep(); w.b = append(w.b, '{'); w.more = false }

// EndObject closes it.
func (w *Writer) EndObject() { w.b = append(w.b, '}'); w.more = true }

// BeginArray opens an array.
func (w *Writer) BeginArray() { w.sep(); w.b = append(w.b, '['); w.more = false }

// EndArray closes it.
func (w *Writer) EndArray() { w.b = append(w.b, ']'); w.more = true }

// Key writes an object's key; its value comes next.
func (w *Writer) Key(k string) {
	w.sep()
	w.b = AppendString(w.b, k)
	w.b = append(w.b, ':')
	w.more = false
}

// String writes a string.
func (w *Writer) String(s string) { w.sep(); w.b = AppendString(w.b, s); w.more = true }

// Int writes an integer.
func (w *Writer) Int(n int64) { w.sep(); w.b = strconv.AppendInt(w.b, n, 10); w.more = true }

// Uint writes an unsigned integer.
func (w *Writer) Uint(n uint64) { w.sep(); w.b = strconv.AppendUint(w.b, n, 10); w.more = true }

// Bool writes true or false.
func (w *Writer) Bool(b bool) { w.sep(); w.b = strconv.AppendBool(w.b, b); w.more = true }

// Null writes null.
func (w *Writer) Null() { w.sep(); w.b = append(w.b, "null"...); w.more = true }

// Strings writes an array of strings.
func (w *Writer) Strings(ss []string) {
	w.BeginArray()
	for _, s := range ss {
		w.String(s)
	}
	w.EndArray()
}

// hex is for \u00XX escapes (lower case, as encoding/json).
const hex = "0123456789abcdef"

// AppendString appends s to dst as a JSON string, as encoding/json's
// Marshal writes it: ", \ and the control characters escaped (\b, \f, \n,
// \r, \t, else \u00XX), <, > and & as \u003c, \u003e and \u0026 (so that
// the text is safe inside HTML), U+2028 and U+2029 as \u2028 and \u2029,
// and each byte that is not part of valid UTF-8 as \ufffd.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // the text from start to i is copied as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += n
			continue
		}
		i += n
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
