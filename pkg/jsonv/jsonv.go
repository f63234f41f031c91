// Package jsonv reads JSON (RFC 8259) into a tree of values and writes it,
// without reflection: what the CNI protocol (pkg/cni) needs. encoding/json
// is not used because, linked into the multi-call binary, it costs every
// applet size; this package has no package-level state to initialise.
//
// Parse is strict: one value, whitespace around it and nothing else, UTF-8
// text, no trailing commas, no leading zeros, at most MaxDepth nested
// arrays and objects. Its error names the line and column. An object
// keeps its members in document order, duplicates included; Map and the
// Decode methods take the last of duplicate keys, as encoding/json does.
// Numbers are kept as their text.
//
// The Decode methods store a value in a Go variable by encoding/json's
// rules (null leaves a string, a number or a bool as it was; an integer
// must be written as one), so that code moved from encoding/json keeps
// its behaviour. Writer writes what encoding/json's Marshal would for the
// same data: no spaces, and <, >, & escaped.
package jsonv

import (
	"strconv"
	"unicode/utf8"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds of JSON values.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// Value is one value of a parsed document.
type Value struct {
	Kind    Kind
	Bool    bool     // Bool
	Str     string   // String: the text, unescaped; Number: the number as written
	Elems   []Value  // Array
	Members []Member // Object: in document order, duplicates kept
	Raw     []byte   // the value as written in the document (part of it, not a copy)
}

// Member is one key and value of an object.
type Member struct {
	Key   string
	Value Value
}

// MaxDepth is the deepest nesting of arrays and objects Parse accepts (as
// encoding/json's).
const MaxDepth = 10000

// SyntaxError is a document Parse refuses, and where.
type SyntaxError struct {
	Offset       int // bytes before the error
	Line, Column int // from 1; the column counts bytes
	Msg          string
}

func (e *SyntaxError) Error() string {
	return "line " + strconv.Itoa(e.Line) + ", column " + strconv.Itoa(e.Column) + ": " + e.Msg
}

// Parse reads the JSON text b: exactly one value.
func Parse(b []byte) (*Value, error) {
	p := parser{b: b}
	p.space()
	v := &Value{}
	if err := p.value(v); err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(b) {
		return nil, p.unexpected("the end after the value")
	}
	return v, nil
}

type parser struct {
	b     []byte
	i     int
	depth int
}

func (p *parser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek is the next byte, 0 at the end.
func (p *parser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *parser) errorAt(off int, msg string) error {
	line, col := 1, off+1
	for i := 0; i < off; i++ {
		if p.b[i] == '\n' {
			line, col = line+1, off-i
		}
	}
	return &SyntaxError{Offset: off, Line: line, Column: col, Msg: msg}
}

// unexpected is the error at the current byte when want was expected.
func (p *parser) unexpected(want string) error {
	if p.i >= len(p.b) {
		return p.errorAt(p.i, "unexpected end of input, expecting "+want)
	}
	return p.errorAt(p.i, "unexpected "+quoteByte(p.b[p.i:])+", expecting "+want)
}

// quoteByte names the character that starts b.
func quoteByte(b []byte) string {
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError && n <= 1 {
		return "byte 0x" + strconv.FormatUint(uint64(b[0]), 16)
	}
	return strconv.QuoteRune(r)
}

// value reads a value into v.
func (p *parser) value(v *Value) error {
	start := p.i
	var err error
	switch c := p.peek(); {
	case c == '{':
		err = p.object(v)
	case c == '[':
		err = p.array(v)
	case c == '"':
		v.Kind = String
		v.Str, err = p.str()
	case c == '-' || '0' <= c && c <= '9':
		v.Kind = Number
		err = p.number()
		v.Str = string(p.b[start:p.i])
	case c == 't':
		v.Kind, v.Bool = Bool, true
		err = p.literal("true")
	case c == 'f':
		v.Kind = Bool
		err = p.literal("false")
	case c == 'n':
		err = p.literal("null")
	default:
		return p.unexpected("a value")
	}
	v.Raw = p.b[start:p.i:p.i]
	return err
}

func (p *parser) literal(word string) error {
	for j := 0; j < len(word); j++ {
		if p.peek() != word[j] {
			return p.unexpected("'" + word[j:j+1] + "' of " + word)
		}
		p.i++
	}
	return nil
}

// open enters the array or object at p.i; more is false when it is
// empty (and so left already).
func (p *parser) open(end byte) (more bool, err error) {
	if p.depth == MaxDepth {
		return false, p.errorAt(p.i, "arrays and objects nested deeper than "+strconv.Itoa(MaxDepth))
	}
	p.depth++
	p.i++
	p.space()
	if p.peek() == end {
		p.i++
		p.depth--
		return false, nil
	}
	return true, nil
}

// next reads what follows a member or element (what): ',' before another
// one (more), or end, which leaves the array or object.
func (p *parser) next(end byte, what string) (more bool, err error) {
	p.space()
	switch p.peek() {
	case ',':
		p.i++
		p.space()
		return true, nil
	case end:
		p.i++
		p.depth--
		return false, nil
	}
	return false, p.unexpected("',' or '" + string(end) + "' after " + what)
}

func (p *parser) object(v *Value) error {
	v.Kind = Object
	more, err := p.open('}')
	for more && err == nil {
		var k string
		if k, err = p.key(); err == nil {
			v.Members = append(v.Members, Member{Key: k})
			if err = p.value(&v.Members[len(v.Members)-1].Value); err == nil {
				more, err = p.next('}', "an object's member")
			}
		}
	}
	return err
}

// key reads an object's key and the colon after it.
func (p *parser) key() (string, error) {
	if p.peek() != '"' {
		return "", p.unexpected("a string (an object's key)")
	}
	k, err := p.str()
	if err != nil {
		return "", err
	}
	p.space()
	if p.peek() != ':' {
		return "", p.unexpected("':' after an object's key")
	}
	p.i++
	p.space()
	return k, nil
}

func (p *parser) array(v *Value) error {
	v.Kind = Array
	more, err := p.open(']')
	for more && err == nil {
		v.Elems = append(v.Elems, Value{})
		if err = p.value(&v.Elems[len(v.Elems)-1]); err == nil {
			more, err = p.next(']', "an array's element")
		}
	}
	return err
}

func (p *parser) digits() error {
	if c := p.peek(); c < '0' || c > '9' {
		return p.unexpected("a digit")
	}
	for c := p.peek(); '0' <= c && c <= '9'; c = p.peek() {
		p.i++
	}
	return nil
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() error {
	if p.peek() == '-' {
		p.i++
	}
	if p.peek() == '0' {
		p.i++
	} else if err := p.digits(); err != nil {
		return err
	}
	if p.peek() == '.' {
		p.i++
		if err := p.digits(); err != nil {
			return err
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		return p.digits()
	}
	return nil
}

// str reads a string: its text with the escapes replaced.
func (p *parser) str() (string, error) {
	p.i++          // the opening quote
	var buf []byte // the text before run, once there was an escape
	run := p.i     // where the text not yet in buf starts
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[run:p.i]
			p.i++
			if buf == nil {
				return string(s), nil
			}
			return string(append(buf, s...)), nil
		case c == '\\':
			var err error
			if buf, err = p.escape(append(buf, p.b[run:p.i]...)); err != nil {
				return "", err
			}
			run = p.i
		case c < 0x20:
			return "", p.errorAt(p.i, "control character "+quoteByte(p.b[p.i:])+" in a string (it must be escaped)")
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, n := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && n == 1 {
				return "", p.errorAt(p.i, "invalid UTF-8 ("+quoteByte(p.b[p.i:])+") in a string")
			}
			p.i += n
		}
	}
	return "", p.errorAt(len(p.b), "unexpected end of input in a string")
}

// escape appends to buf the character of the escape at p.i. A \u escape
// of half a surrogate pair without its other half is U+FFFD, as in
// encoding/json.
func (p *parser) escape(buf []byte) ([]byte, error) {
	p.i++ // the backslash
	c := p.peek()
	if c != 'u' {
		var r byte
		switch c {
		case '"', '\\', '/':
			r = c
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		default:
			return nil, p.unexpected(`an escape (one of "\/bfnrtu) after a backslash`)
		}
		p.i++
		return append(buf, r), nil
	}
	p.i++
	r, err := p.hex4()
	if err != nil {
		return nil, err
	}
	if 0xd800 <= r && r < 0xdc00 && p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
		save := p.i
		p.i += 2
		lo, err := p.hex4()
		if err != nil {
			return nil, err
		}
		if 0xdc00 <= lo && lo < 0xe000 {
			return utf8.AppendRune(buf, 0x10000+(r-0xd800)<<10+(lo-0xdc00)), nil
		}
		p.i = save // the next escape is a character of its own
	}
	if 0xd800 <= r && r < 0xe000 {
		r = utf8.RuneError
	}
	return utf8.AppendRune(buf, r), nil
}

// hex4 reads the four hexadecimal digits of a \u escape.
func (p *parser) hex4() (rune, error) {
	var r rune
	for j := 0; j < 4; j++ {
		c := p.peek()
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, p.unexpected("a hexadecimal digit of a \\u escape")
		}
		p.i++
	}
	return r, nil
}
