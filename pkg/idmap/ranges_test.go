package idmap

import (
	"bufio"
	"fmt"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Range
		err  string
	}{
		{"0:1000:1", Range{0, 1000, 1}, ""},
		{"1:200000:65536", Range{1, 200000, 65536}, ""},
		{"0:4294967294:1", Range{0, 4294967294, 1}, ""},
		{"0:4294967295:1", Range{}, "overflow"},
		{"4294967295:0:1", Range{}, "overflow"},
		{"0:1:4294967295", Range{}, "overflow"},
		{"0:1000:0", Range{}, "count must be at least 1"},
		{"0:1000", Range{}, "expected inside:outside:count"},
		{"0:1000:1:1", Range{}, "expected inside:outside:count"},
		{"+0:1000:1", Range{}, "'+0' is not a decimal"},
		{"-1:1000:1", Range{}, "'-1' is not a decimal"},
		{"0x1:1000:1", Range{}, "not a decimal"},
		{" 0:1000:1", Range{}, "not a decimal"},
		{"0:4294967296:1", Range{}, "not a decimal"},
		{"0::1", Range{}, "'' is not a decimal"},
	} {
		got, err := ParseRange(c.in)
		if c.err == "" && (err != nil || got != c.want) {
			t.Errorf("ParseRange(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ParseRange(%q) error %v; want %q", c.in, err, c.err)
		}
	}
}

func TestCheckRanges(t *testing.T) {
	many := make([]Range, MaxRanges+1)
	for i := range many {
		many[i] = Range{uint32(i), uint32(1000 + i), 1} // 340 of them fit in 4095 bytes
	}
	for _, c := range []struct {
		rs  []Range
		err string
	}{
		{[]Range{{0, 1000, 1}, {1, 200000, 65536}}, ""},
		{many[:MaxRanges], ""},
		{many, "too many ranges: 341"},
		{nil, "no ranges"},
		{[]Range{{0, 1000, 1}, {0, 200000, 10}}, "overlap inside"},
		{[]Range{{0, 200000, 10}, {100, 200009, 10}}, "overlap outside"},
		{[]Range{{0, 200000, 10}, {10, 200010, 10}}, ""}, // adjacent
	} {
		err := CheckRanges(c.rs)
		if (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("CheckRanges(%d ranges) = %v; want %q", len(c.rs), err, c.err)
		}
	}
}

func TestParseTriples(t *testing.T) {
	rs, err := ParseTriples([]string{"0", "1000", "1", "1", "200000", "65536"})
	if err != nil || Render(rs) != "0 1000 1\n1 200000 65536\n" {
		t.Fatalf("got %q, %v", Render(rs), err)
	}
	if _, err := ParseTriples([]string{"0", "1000"}); err == nil || err.Error() != "Not enough arguments to form 1 mappings" {
		t.Errorf("two args: %v", err)
	}
}

// TestParseTriplesAsShadow: newuidmap's arguments are numbers as shadow's
// newuidmap reads them, strtoul with base 0 (octal after a 0, hexadecimal
// after 0x, blanks and a + first), or refused: never another number than
// shadow would write.
func TestParseTriplesAsShadow(t *testing.T) {
	for _, c := range []struct {
		outside string
		want    uint32 // 0: refused
	}{
		{"300000", 300000},
		{"0300000", 98304},
		{"0x493e0", 300000},
		{"0X493E0", 300000},
		{"+300000", 300000},
		{" 300000", 300000},
		{"\t\n 0x493e0", 300000},
		{" +0300000", 98304},
		{"000000000000300000", 98304},
		{"4294967294", 4294967294},
		{"0xfffffffe", 4294967294},
		{"037777777776", 4294967294},
		// what strtoul stops in, or reads past 32 bits, or negates
		{"08", 0}, {"0x", 0}, {"0xg", 0}, {"0x+1", 0}, {"300000 ", 0}, {"3e5", 0}, {"", 0}, {" ", 0},
		{"+", 0}, {"++1", 0}, {"+ 1", 0}, {"-0", 0}, {"-1", 0}, {"4294967296", 0}, {"0x100000000", 0},
		{"040000000000", 0}, {"99999999999999999999999", 0}, {"\u00a01", 0},
	} {
		rs, err := ParseTriples([]string{"1", c.outside, "1"})
		switch {
		case c.want == 0 && err == nil:
			t.Errorf("%q read as %d, want refused", c.outside, rs[0].Outside)
		case c.want == 0 && !strings.Contains(err.Error(), "'"+c.outside+"' is not a number"):
			t.Errorf("%q: %v", c.outside, err)
		case c.want != 0 && (err != nil || rs[0].Outside != c.want):
			t.Errorf("%q: %v, %v; want %d", c.outside, rs, err, c.want)
		}
	}
	// The count and inside are read the same way; the range checks follow.
	if rs, err := ParseTriples([]string{"0x0", "0100", "0x10"}); err != nil || Render(rs) != "0 64 16\n" {
		t.Errorf("0x0 0100 0x10: %q, %v", Render(rs), err)
	}
	if _, err := ParseTriples([]string{"0", "0xffffffff", "1"}); err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Errorf("0 0xffffffff 1: %v, want overflow", err)
	}
	if _, err := ParseTriples([]string{"0", "1", "00"}); err == nil || !strings.Contains(err.Error(), "count must be at least 1") {
		t.Errorf("count 00: %v", err)
	}
}

// TestCheckRangesLength: at most 340 ranges is not enough: the kernel
// takes less than a page in its one write, and 340 ranges of big numbers
// are longer. 170 lines of 24 bytes fit (4080), 171 (4104) do not.
func TestCheckRangesLength(t *testing.T) {
	big := func(n int) []Range {
		rs := make([]Range, n)
		for i := range rs {
			rs[i] = Range{uint32(1000000000 + i), uint32(2000000000 + i), 1}
		}
		return rs
	}
	if err := CheckRanges(big(170)); err != nil {
		t.Errorf("170 ranges, %d bytes: %v", len(Render(big(170))), err)
	}
	want := "too long: 171 ranges make 4104 bytes (the kernel takes at most 4095 in one write)"
	if err := CheckRanges(big(171)); err == nil || err.Error() != want {
		t.Errorf("171 ranges: %v, want %q", err, want)
	}
	if err := CheckRanges(big(340)); err == nil || !strings.HasPrefix(err.Error(), "too long: 340 ranges make 8160 bytes") {
		t.Errorf("340 ranges: %v", err)
	}
}

const subFixture = `# comment
alice:100000:65536
bob:165536:65536
1001:300000:10
alice:165536:10
bad line
carol:x:1
carol:1:0
alice:400000:65536
`

func subs(t *testing.T, name string, id uint32) []SubRange {
	s, err := parseSubIDs(bufio.NewScanner(strings.NewReader(subFixture)), name, id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSubIDs(t *testing.T) {
	got := fmt.Sprint(subs(t, "alice", 1001))
	want := "[alice:100000:65536 alice:165536:10 alice:400000:65536 1001:300000:10]"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if s := subs(t, "carol", 7); len(s) != 0 {
		t.Errorf("carol: %v", s)
	}
}

func TestAuthorize(t *testing.T) {
	a := subs(t, "alice", 1001)
	for _, c := range []struct {
		r   Range
		ok  bool
		sub bool
	}{
		{Range{0, 100000, 65536}, true, true},
		{Range{0, 100000, 65546}, true, true},   // chains into the adjacent alice:165536:10
		{Range{0, 100000, 65547}, false, false}, // one past the end
		{Range{0, 165536, 11}, false, false},    // bob's
		{Range{0, 300000, 10}, true, true},      // matched by uid
		{Range{0, 1001, 1}, true, false},        // own id
		{Range{0, 1001, 2}, false, false},
		{Range{0, 1002, 1}, false, false},
	} {
		why, err := Authorize("uid", "/etc/subuid", c.r, a, 1001)
		if (err == nil) != c.ok || why.FromSub != c.sub {
			t.Errorf("Authorize(%v) = %v, %v", c.r, why, err)
		}
	}
	_, err := Authorize("uid", "/etc/subuid", Range{0, 200000, 10}, a, 1001)
	if err == nil || err.Error() != "uid range [0-10) -> [200000-200010) not allowed" {
		t.Errorf("message: %v", err)
	}
}

func TestLayouts(t *testing.T) {
	a := subs(t, "alice", 1001)
	if got := Render(Auto(a)); got != "0 100000 65536\n" {
		t.Errorf("auto %q", got)
	}
	if got := Render(Subids(a)); got != "100000 100000 65536\n" {
		t.Errorf("subids %q", got)
	}
	if got := Render(Rootless(1001, a)); got != "0 1001 1\n1 100000 65536\n" {
		t.Errorf("rootless %q", got)
	}
}

// FuzzParseRanges: whatever the input, an accepted map has 1..340 ranges
// in at most 4095 bytes, none empty, none past 4294967294, none overlapping, and renders to lines
// that parse back to the same ranges.
func FuzzParseRanges(f *testing.F) {
	for _, s := range []string{"0:1000:1 1:200000:65536", "0:4294967295:1", "0:1:0", "0:1:10 5:100:1",
		"0:0:4294967294", "1:1:1 2:2:1", "x", "", "0:1:1:1", "00:01:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseRanges(strings.Fields(s))
		if err != nil {
			return
		}
		if len(rs) == 0 || len(rs) > MaxRanges || len(Render(rs)) > MaxMapBytes {
			t.Fatalf("%q: %d ranges, %d bytes", s, len(rs), len(Render(rs)))
		}
		for i, a := range rs {
			if a.Count == 0 || uint64(a.Inside)+uint64(a.Count) > 1<<32-1 || uint64(a.Outside)+uint64(a.Count) > 1<<32-1 {
				t.Fatalf("%q: bad range %v", s, a)
			}
			for _, b := range rs[:i] {
				if overlap(a.Inside, b.Inside, a.Count, b.Count) || overlap(a.Outside, b.Outside, a.Count, b.Count) {
					t.Fatalf("%q: overlap %v %v", s, a, b)
				}
			}
		}
		var args []string
		for _, l := range strings.Split(strings.TrimSuffix(Render(rs), "\n"), "\n") {
			args = append(args, strings.Fields(l)...)
		}
		back, err := ParseTriples(args)
		if err != nil || fmt.Sprint(back) != fmt.Sprint(rs) {
			t.Fatalf("%q: round trip %v, %v", s, back, err)
		}
	})
}

func TestOverlaps(t *testing.T) {
	a := subs(t, "alice", 1001)
	got, err := overlaps(bufio.NewScanner(strings.NewReader(subFixture)), a)
	want := "[your block alice:165536:10 overlaps bob:165536:65536]"
	if err != nil || fmt.Sprint(got) != want {
		t.Errorf("got %v, %v; want %s", got, err, want)
	}
	if got, _ := overlaps(bufio.NewScanner(strings.NewReader(subFixture)), subs(t, "bob", 7)); fmt.Sprint(got) != "[your block bob:165536:65536 overlaps alice:165536:10]" {
		t.Errorf("bob: %v", got)
	}
}

func TestWithSingle(t *testing.T) {
	for _, c := range []struct {
		rs              []Range
		inside, outside uint32
		want            string
	}{
		// --map-auto -r: root inside is the caller; the block loses its top id.
		{[]Range{{0, 100000, 65536}}, 0, 1000, "0 1000 1\n1 100000 65535\n"},
		// The rootless layout spelt out: nothing overlaps, nothing changes.
		{[]Range{{1, 100000, 65536}}, 0, 1000, "0 1000 1\n1 100000 65536\n"},
		// --map-subids -c: the caller's own id is inside the identity block.
		{[]Range{{100000, 100000, 65536}}, 1000, 1000, "1000 1000 1\n100000 100000 65536\n"},
		// A single map inside the block is cut out of it.
		{[]Range{{0, 100000, 65536}}, 10, 1000, "10 1000 1\n0 100000 10\n11 100010 65525\n"},
		// util-linux's test includes the id just past the end.
		{[]Range{{0, 100000, 10}}, 10, 1000, "10 1000 1\n0 100000 9\n"},
		// The outside id inside the block (root mapping its own range).
		{[]Range{{0, 100000, 65536}}, 0, 100005, "0 100005 1\n1 100000 5\n6 100006 65530\n"},
	} {
		got := Render(WithSingle(c.rs, c.inside, c.outside))
		if got != c.want {
			t.Errorf("WithSingle(%v, %d, %d) =\n%s want\n%s", c.rs, c.inside, c.outside, got, c.want)
		}
		if err := CheckRanges(WithSingle(c.rs, c.inside, c.outside)); err != nil {
			t.Errorf("WithSingle(%v, %d, %d) overlaps: %v", c.rs, c.inside, c.outside, err)
		}
	}
}
