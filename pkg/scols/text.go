package scols

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file is the character handling libsmartcols does through the C
// library's locale: which tree symbols to draw, which characters are
// printable and how wide they are, and the \xHH escapes of the rest.

// symbols are the tree chart pieces.
type symbols struct {
	branch, vert, right string
}

var (
	utf8Symbols  = symbols{branch: "\u251c\u2500", vert: "\u2502 ", right: "\u2514\u2500"}
	asciiSymbols = symbols{branch: "|-", vert: "| ", right: "`-"}
)

// enc does the locale-dependent parts of mbs_safe_encode and friends.
type enc struct {
	utf8 bool
}

// isCntrl is iscntrl() on one byte (the same in C and C.UTF-8 for ASCII;
// bytes >= 0x80 are not control characters in either).
func isCntrl(c byte) bool { return c < 0x20 || c == 0x7f }

// isPrintByte is isprint() on one byte: ASCII graphic characters and space.
func isPrintByte(c byte) bool { return c >= 0x20 && c < 0x7f }

// decode is mbrtowc: the next character of s and its length; n == 1 with
// ok false for a byte that is not a valid character in the locale.
func (e enc) decode(s string) (r rune, n int, ok bool) {
	if s[0] < 0x80 {
		return rune(s[0]), 1, true
	}
	if !e.utf8 {
		return 0, 1, false
	}
	r, n = utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n <= 1 {
		return 0, 1, false
	}
	return r, n, true
}

// safeEncode is mbs_safe_encode_to_buffer: control and non-printable
// characters (and a backslash before 'x') become \xHH, byte by byte; the
// bytes of safechars are kept as they are. It returns the text and its
// width in terminal cells.
func (e enc) safeEncode(s, safechars string) (string, int) {
	var b strings.Builder
	width := 0
	for i := 0; i < len(s) && s[i] != 0; {
		if safechars != "" && strings.IndexByte(safechars, s[i]) >= 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		n, escaped, w := e.next(s, i)
		if escaped {
			for k := 0; k < n; k++ {
				hexByte(&b, s[i+k])
			}
		} else {
			b.WriteString(s[i : i+n])
		}
		width += w
		i += n
	}
	return b.String(), width
}

// safeWidth is mbs_safe_nwidth: the width safeEncode's result would have
// (without safe characters).
func (e enc) safeWidth(s string) int {
	width := 0
	for i := 0; i < len(s) && s[i] != 0; {
		n, _, w := e.next(s, i)
		width += w
		i += n
	}
	return width
}

// next is how safeEncode writes the character at s[i]: its n bytes, each
// escaped as \xHH (4 cells), or as they are (the character's width).
func (e enc) next(s string, i int) (n int, escaped bool, width int) {
	c := s[i]
	if (c == '\\' && i+1 < len(s) && s[i+1] == 'x') || isCntrl(c) {
		return 1, true, 4
	}
	r, n, ok := e.decode(s[i:])
	switch {
	case !ok: // a byte >= 0x80 that is no character: never printable
		return 1, true, 4
	case !isWPrint(r):
		return n, true, 4 * n
	}
	return n, false, wcwidth(r)
}

// truncate is mbs_truncate on safe-encoded text (no control characters
// left): the longest prefix of s that fits in width cells, and its width.
func (e enc) truncate(s string, width int) (string, int) {
	cells := 0
	for i := 0; i < len(s); {
		r, n, ok := e.decode(s[i:])
		w := 1
		if ok {
			w = max(wcwidth(r), 0)
		}
		if cells+w > width {
			return s[:i], cells
		}
		cells += w
		i += n
	}
	return s, cells
}

func hexByte(b *strings.Builder, c byte) {
	const hex = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&15])
}

// isWPrint is iswprint in a UTF-8 locale.
func isWPrint(r rune) bool {
	if r < 0x80 {
		return isPrintByte(byte(r))
	}
	return unicode.IsPrint(r) || unicode.Is(unicode.Zs, r)
}

// wcwidth is the terminal width of a printable character: 0 for combining
// marks and format characters, 2 for East Asian wide and fullwidth ranges,
// 1 otherwise.
func wcwidth(r rune) int {
	switch {
	case r == 0:
		return 0
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return -1
	case r < 0x300:
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) || r == 0x200b:
		return 0
	case r >= 0x1100 && (r <= 0x115f || r == 0x2329 || r == 0x232a ||
		(r >= 0x2e80 && r <= 0xa4cf && r != 0x303f) ||
		(r >= 0xac00 && r <= 0xd7a3) ||
		(r >= 0xf900 && r <= 0xfaff) ||
		(r >= 0xfe10 && r <= 0xfe19) ||
		(r >= 0xfe30 && r <= 0xfe6f) ||
		(r >= 0xff00 && r <= 0xff60) ||
		(r >= 0xffe0 && r <= 0xffe6) ||
		(r >= 0x1f300 && r <= 0x1f64f) ||
		(r >= 0x1f900 && r <= 0x1f9ff) ||
		(r >= 0x20000 && r <= 0x2fffd) ||
		(r >= 0x30000 && r <= 0x3fffd)):
		return 2
	}
	return 1
}

// rawText is fputs_nonblank: blanks, backslashes, non-printable and control
// bytes (and every byte >= 0x80) become \xHH.
func rawText(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\\' || !isPrintByte(c) {
			hexByte(b, c)
		} else {
			b.WriteByte(c)
		}
	}
}
