package idmap

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// MaxRanges is the most lines the kernel takes in one uid_map or gid_map
// (user_namespaces(7), since Linux 4.15).
const MaxRanges = 340

// MaxMapBytes is the longest map the kernel takes in its one write: less
// than a page (proc_uid_map_write refuses count >= PAGE_SIZE with EINVAL),
// and 4096 is the smallest page Linux has. 340 ranges of large numbers
// are longer than that.
const MaxMapBytes = 4095

// Range maps Count ids from Outside (the parent namespace) onto Count ids
// from Inside: one line of uid_map or gid_map.
type Range struct{ Inside, Outside, Count uint32 }

// String is the line the kernel expects: "inside outside count\n".
func (r Range) String() string { return fmt.Sprintf("%d %d %d\n", r.Inside, r.Outside, r.Count) }

// Spec is r as setuidmap's options spell it: "inside:outside:count".
func (r Range) Spec() string { return fmt.Sprintf("%d:%d:%d", r.Inside, r.Outside, r.Count) }

// Render is the whole map file, one line per range, for a single write.
func Render(rs []Range) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.String())
	}
	return b.String()
}

// RangeError is a range refused by strict parsing or validation.
type RangeError struct{ Msg string }

func (e *RangeError) Error() string { return e.Msg }

func rangeErrorf(format string, args ...any) error {
	return &RangeError{Msg: fmt.Sprintf(format, args...)}
}

// parseU32 is strict: ASCII decimal digits only (no sign, no spaces, no
// 0x), at most 4294967295.
func parseU32(s string) (uint32, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// NewRange checks one range from its three fields: decimal u32 each, count
// at least 1, and neither inside+count nor outside+count past 4294967295
// (4294967295 itself is the kernel's "no id": CVE-2016-6252's check).
func NewRange(inside, outside, count string) (Range, error) {
	return newRange([3]string{inside, outside, count}, inside+":"+outside+":"+count, parseU32, "a decimal 32-bit number")
}

// newRange is NewRange with the fields read by parse (what: what parse
// takes, for the message) and spec, the range as given, for messages.
func newRange(f [3]string, spec string, parse func(string) (uint32, bool), what string) (Range, error) {
	var r Range
	for i, p := range []*uint32{&r.Inside, &r.Outside, &r.Count} {
		var ok bool
		if *p, ok = parse(f[i]); !ok {
			return Range{}, rangeErrorf("invalid range '%s': '%s' is not %s", spec, f[i], what)
		}
	}
	if r.Count == 0 {
		return Range{}, rangeErrorf("invalid range '%s': count must be at least 1", spec)
	}
	if uint64(r.Inside)+uint64(r.Count) > 1<<32-1 || uint64(r.Outside)+uint64(r.Count) > 1<<32-1 {
		return Range{}, rangeErrorf("invalid range '%s': overflow: ids end at 4294967294", spec)
	}
	return r, nil
}

// parseStrtoul reads s as shadow's newuidmap reads its arguments, strtoul
// with base 0 and the result checked to fit an unsigned int: blanks first,
// an optional '+', then "0x" or "0X" and hexadecimal digits, "0" and
// octal digits, or decimal digits, and nothing after them ("0300000" is
// 98304, "0x493e0" 300000, "08" and "1 " are refused). A '-' is refused
// too: strtoul would negate the number, and shadow's versions disagree on
// what they make of that.
func parseStrtoul(s string) (uint32, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	s = strings.TrimPrefix(s, "+")
	base := uint64(10)
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") && digit(s[2]) < 16:
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := digit(s[i])
		if d >= base {
			return 0, false
		}
		if n = n*base + d; n > 1<<32-1 {
			return 0, false
		}
	}
	return uint32(n), true
}

// digit is the value of the digit c in any base up to 16, else 16.
func digit(c byte) uint64 {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0')
	case 'a' <= c && c <= 'f':
		return uint64(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return uint64(c-'A') + 10
	}
	return 16
}

// ParseRange parses "inside:outside:count".
func ParseRange(s string) (Range, error) {
	f := strings.Split(s, ":")
	if len(f) != 3 {
		return Range{}, rangeErrorf("invalid range '%s': expected inside:outside:count", s)
	}
	return NewRange(f[0], f[1], f[2])
}

// ParseRanges parses each of specs with ParseRange, then checks the set
// with CheckRanges.
func ParseRanges(specs []string) ([]Range, error) {
	var rs []Range
	for _, s := range specs {
		r, err := ParseRange(s)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, CheckRanges(rs)
}

// ParseTriples parses newuidmap's form: "inside outside count" as three
// arguments each, each number read as shadow reads it (parseStrtoul), then
// checks the set with CheckRanges.
func ParseTriples(args []string) ([]Range, error) {
	if len(args) == 0 || len(args)%3 != 0 {
		return nil, rangeErrorf("Not enough arguments to form %d mappings", (len(args)+2)/3)
	}
	var rs []Range
	for i := 0; i < len(args); i += 3 {
		f := [3]string{args[i], args[i+1], args[i+2]}
		r, err := newRange(f, strings.Join(f[:], " "), parseStrtoul, "a number (decimal, 0 octal or 0x hexadecimal, at most 4294967295)")
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, CheckRanges(rs)
}

// CheckRanges checks a whole map: at least one range, at most MaxRanges,
// at most MaxMapBytes once rendered, and no two ranges overlapping inside
// or outside (the kernel refuses the last two too, but with a bare EINVAL
// and only at write time).
func CheckRanges(rs []Range) error {
	if len(rs) == 0 {
		return rangeErrorf("no ranges")
	}
	if len(rs) > MaxRanges {
		return rangeErrorf("too many ranges: %d (the kernel takes at most %d)", len(rs), MaxRanges)
	}
	if n := len(Render(rs)); n > MaxMapBytes {
		return rangeErrorf("too long: %d ranges make %d bytes (the kernel takes at most %d in one write)", len(rs), n, MaxMapBytes)
	}
	for i, a := range rs {
		if a.Count == 0 || uint64(a.Inside)+uint64(a.Count) > 1<<32-1 || uint64(a.Outside)+uint64(a.Count) > 1<<32-1 {
			return rangeErrorf("invalid range '%s': empty or past 4294967294", a.Spec())
		}
		for _, b := range rs[:i] {
			if overlap(a.Inside, b.Inside, a.Count, b.Count) {
				return rangeErrorf("ranges %s and %s overlap inside", b.Spec(), a.Spec())
			}
			if overlap(a.Outside, b.Outside, a.Count, b.Count) {
				return rangeErrorf("ranges %s and %s overlap outside", b.Spec(), a.Spec())
			}
		}
	}
	return nil
}

func overlap(a, b, ac, bc uint32) bool {
	return uint64(a) < uint64(b)+uint64(bc) && uint64(b) < uint64(a)+uint64(ac)
}

// SubRange is one block of /etc/subuid or /etc/subgid.
type SubRange struct {
	Owner        string // the first field, a name or a decimal id
	Start, Count uint32
}

func (s SubRange) String() string { return fmt.Sprintf("%s:%d:%d", s.Owner, s.Start, s.Count) }

func (s SubRange) end() uint64 { return uint64(s.Start) + uint64(s.Count) }

// SubUIDFile and SubGIDFile are read by SubIDs; tests point them elsewhere.
var (
	SubUIDFile = "/etc/subuid"
	SubGIDFile = "/etc/subgid"
)

// SubIDs returns the blocks of file that belong to the user called name
// (if not empty) or to the decimal id, in file order: the lines matching
// the name first, then those matching the id, as shadow's subordinate-id
// lookup does. Malformed lines (not three fields, count 0, past 2^32) are
// skipped.
func SubIDs(file, name string, id uint32) ([]SubRange, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSubIDs(bufio.NewScanner(f), name, id)
}

func parseSubIDs(sc *bufio.Scanner, name string, id uint32) ([]SubRange, error) {
	var byName, byID []SubRange
	ids := strconv.FormatUint(uint64(id), 10)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 {
			continue
		}
		start, ok1 := parseU32(f[1])
		count, ok2 := parseU32(f[2])
		if !ok1 || !ok2 || count == 0 || uint64(start)+uint64(count) > 1<<32-1 {
			continue
		}
		s := SubRange{Owner: f[0], Start: start, Count: count}
		switch {
		case name != "" && f[0] == name:
			byName = append(byName, s)
		case f[0] == ids:
			byID = append(byID, s)
		}
	}
	return append(byName, byID...), sc.Err()
}

// Covered reports whether [start, start+count) lies inside the union of
// subs (adjacent or overlapping blocks chain), and the blocks it used.
func Covered(subs []SubRange, start, count uint32) ([]SubRange, bool) {
	cur, end := uint64(start), uint64(start)+uint64(count)
	var used []SubRange
	for cur < end {
		found := false
		for _, s := range subs {
			if uint64(s.Start) <= cur && cur < s.end() {
				used = append(used, s)
				cur = s.end()
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return used, true
}

// Reason says why a range may be written; FromSub is true when it came from
// the subordinate-id file (what decides setgroups for gid maps).
type Reason struct {
	Why     string
	FromSub bool
}

// Authorize checks r against the caller: allowed when its outside range is
// covered by subs, or when it is count 1 with outside == own (the caller's
// real uid, or real gid for a gid map). kind is "uid" or "gid" and file the
// subordinate-id file, both for the messages. The refusal is newuidmap's:
// "uid range [0-10) -> [200000-200010) not allowed".
func Authorize(kind, file string, r Range, subs []SubRange, own uint32) (Reason, error) {
	if used, ok := Covered(subs, r.Outside, r.Count); ok {
		var blocks []string
		for _, s := range used {
			blocks = append(blocks, s.String())
		}
		return Reason{Why: fmt.Sprintf("outside %d-%d is in %s %s", r.Outside, uint64(r.Outside)+uint64(r.Count)-1,
			file, strings.Join(blocks, " + ")), FromSub: true}, nil
	}
	if r.Count == 1 && r.Outside == own {
		return Reason{Why: fmt.Sprintf("count 1 and outside %d is your own %s", own, kind)}, nil
	}
	return Reason{}, fmt.Errorf("%s range [%d-%d) -> [%d-%d) not allowed", kind,
		r.Inside, uint64(r.Inside)+uint64(r.Count), r.Outside, uint64(r.Outside)+uint64(r.Count))
}

// Auto is util-linux's --map-auto: the first block mapped from 0.
func Auto(subs []SubRange) []Range {
	return []Range{{0, subs[0].Start, subs[0].Count}}
}

// Subids is the identity map of the first block (--map-subids).
func Subids(subs []SubRange) []Range {
	return []Range{{subs[0].Start, subs[0].Start, subs[0].Count}}
}

// Rootless is the rootless-container layout: 0 is the caller's own id,
// 1..N the first block.
func Rootless(own uint32, subs []SubRange) []Range {
	return []Range{{0, own, 1}, {1, subs[0].Start, subs[0].Count}}
}

// Overlaps lists the blocks of file that belong to someone else (another
// owner field) and share ids with one of mine: two users able to map the
// same ids can reach each other's files (BEHAVIOUR.md §9, bar item 8).
func Overlaps(file string, mine []SubRange) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return overlaps(bufio.NewScanner(f), mine)
}

func overlaps(sc *bufio.Scanner, mine []SubRange) ([]string, error) {
	owners := map[string]bool{}
	for _, m := range mine {
		owners[m.Owner] = true
	}
	var out []string
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) != 3 || owners[f[0]] {
			continue
		}
		start, ok1 := parseU32(f[1])
		count, ok2 := parseU32(f[2])
		if !ok1 || !ok2 || count == 0 {
			continue
		}
		for _, m := range mine {
			if overlap(m.Start, start, m.Count, count) {
				out = append(out, fmt.Sprintf("your block %s overlaps %s", m, sc.Text()))
			}
		}
	}
	return out, sc.Err()
}

// WithSingle puts the one-id map inside→outside in front of rs the way
// util-linux unshare (2.39 and later) joins --map-user/-r/-c to
// --map-users/--map-auto: a range that contains either id (util-linux's
// test includes the id just past its end) gives up one id, its topmost,
// and is split around the single map's ids, so that nothing overlaps.
// `--map-auto -r` thus gives "0 UID 1" and "1 SUB 65535".
func WithSingle(rs []Range, inside, outside uint32) []Range {
	out := []Range{{Inside: inside, Outside: outside, Count: 1}}
	in, ou := uint64(inside), uint64(outside)
	for _, m := range rs {
		mi, mo, n := uint64(m.Inside), uint64(m.Outside), uint64(m.Count)
		if (ou >= mo && ou <= mo+n) || (in >= mi && in <= mi+n) {
			n--
		}
		offset := func(id, start uint64) uint64 {
			if id > start {
				return min(id-start, n)
			}
			return 0
		}
		oo, io := offset(ou, mo), offset(in, mi)
		lo := [3]uint64{mi, mo, min(io, oo)}
		mid := [3]uint64{lo[0] + lo[2], lo[1] + lo[2], max(io, oo) - min(io, oo)}
		if mid[0] == in {
			mid[0]++
		}
		if mid[1] == ou {
			mid[1]++
		}
		hi := [3]uint64{mid[0] + mid[2], mid[1] + mid[2], n - lo[2] - mid[2]}
		if hi[0] == in {
			hi[0]++
		}
		if hi[1] == ou {
			hi[1]++
		}
		for _, r := range [][3]uint64{lo, mid, hi} {
			if r[2] > 0 {
				out = append(out, Range{Inside: uint32(r[0]), Outside: uint32(r[1]), Count: uint32(r[2])})
			}
		}
	}
	return out
}
