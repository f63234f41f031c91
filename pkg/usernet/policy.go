// Package usernet is the policy of mkbridge's privileged path: which
// unprivileged users may have how many ports on which of the
// administrator's bridges (/etc/nsbox/usernet), and whether a network
// namespace is the caller's. It reads and decides; pkg/netsetup makes the
// ports.
package usernet

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nsbox/nsbox/pkg/idmap"
	"github.com/nsbox/nsbox/pkg/netsetup"
)

// Path is the policy file. A constant: no option, environment variable
// or build of the privileged binary reads another (the tests lay their
// copy over it in a private mount namespace).
const Path = "/etc/nsbox/usernet"

// MaxCount is the most ports one rule may give.
const MaxCount = 1000

// Limits of the file: longer lines, or a bigger file, are refused.
const (
	maxLine = 1024
	maxSize = 1 << 20
)

// Rule is one line of the policy: User (a name or a decimal uid) or Group
// (after '@': a name or a decimal gid) may have Count ports on Bridge.
type Rule struct {
	Line   int
	User   string
	Group  string
	Bridge string
	Count  int
}

func (r Rule) String() string {
	who := r.User
	if r.Group != "" {
		who = "@" + r.Group
	}
	return fmt.Sprintf("%s line %d: %s %s %d", Path, r.Line, who, r.Bridge, r.Count)
}

// Error is a refusal of the policy file, its line when it has one.
type Error struct {
	Line int // 0: the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return Path + ": " + e.Msg
	}
	return fmt.Sprintf("%s: line %d: %s", Path, e.Line, e.Msg)
}

// Parse reads the rules, strictly: blank lines, comments (from '#' to
// the end of the line), and rules of exactly three fields separated by
// blanks, USER|@GROUP BRIDGE COUNT. A name is what useradd accepts
// ([A-Za-z_][A-Za-z0-9_.-]*, a trailing '$', at most 32 bytes) or a
// decimal id; BRIDGE is an interface name; COUNT is decimal, 1 to
// MaxCount, without sign or leading zero. Anything else, a line longer
// than 1024 bytes or a file bigger than 1 MiB refuses the whole file.
func Parse(r io.Reader) ([]Rule, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxSize+1))
	sc.Buffer(make([]byte, maxLine+1), maxLine+1)
	sc.Split(lines)
	var rules []Rule
	n, size := 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if size += len(line) + 1; size > maxSize {
			return nil, &Error{Msg: "bigger than 1 MiB"}
		}
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if strings.IndexFunc(line, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f }) >= 0 {
			return nil, &Error{Line: n, Msg: "a control character"}
		}
		f := strings.FieldsFunc(line, func(c rune) bool { return c == ' ' || c == '\t' })
		if len(f) == 0 {
			continue
		}
		rule, err := parseRule(f)
		if err != nil {
			return nil, &Error{Line: n, Msg: err.Error()}
		}
		rule.Line = n
		rules = append(rules, rule)
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, &Error{Line: n + 1, Msg: "longer than 1024 bytes"}
		}
		return nil, &Error{Msg: err.Error()}
	}
	return rules, nil
}

// lines splits at '\n' only (bufio.ScanLines would take a "\r\n" as
// the end of a line: a carriage return is refused as any control
// character).
func lines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func parseRule(f []string) (Rule, error) {
	if len(f) != 3 {
		return Rule{}, fmt.Errorf("%d fields, want 3: USER|@GROUP BRIDGE COUNT", len(f))
	}
	var r Rule
	if g, ok := strings.CutPrefix(f[0], "@"); ok {
		if !validName(g) {
			return Rule{}, fmt.Errorf("invalid group '%s'", g)
		}
		r.Group = g
	} else {
		if !validName(f[0]) {
			return Rule{}, fmt.Errorf("invalid user '%s'", f[0])
		}
		r.User = f[0]
	}
	if err := netsetup.CheckIfName("bridge", f[1]); err != nil {
		return Rule{}, err
	}
	r.Bridge = f[1]
	c, err := strconv.Atoi(f[2])
	if err != nil || c < 1 || c > MaxCount || f[2] != strconv.Itoa(c) {
		return Rule{}, fmt.Errorf("invalid COUNT '%s' (1 to %d)", f[2], MaxCount)
	}
	r.Count = c
	return r, nil
}

// validName accepts a user or group name as useradd does, or a decimal
// id.
func validName(s string) bool {
	if _, ok := decimalID(s); ok {
		return true
	}
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-'):
		case i > 0 && c == '$' && i == len(s)-1:
		default:
			return false
		}
	}
	return true
}

// Caller is whom the rules are matched against: the real uid, its name
// in /etc/passwd ("" if none), the real gid and the supplementary groups:
// the kernel's credentials, never the environment.
type Caller struct {
	UID  uint32
	Name string
	GIDs []uint32
}

// Allowed returns how many ports c may have on bridge, and the rule that
// gives them (nil and 0: none). When several rules name c (as a user or
// through groups) for bridge, the largest count holds. groupID resolves a
// group name (idmap.GroupByName).
func Allowed(rules []Rule, c Caller, bridge string, groupID func(string) (uint32, bool)) (int, *Rule) {
	var best *Rule
	for i := range rules {
		r := &rules[i]
		if r.Bridge != bridge || !c.matches(r, groupID) {
			continue
		}
		if best == nil || r.Count > best.Count {
			best = r
		}
	}
	if best == nil {
		return 0, nil
	}
	return best.Count, best
}

func (c Caller) matches(r *Rule, groupID func(string) (uint32, bool)) bool {
	if r.User != "" {
		if id, ok := decimalID(r.User); ok {
			return id == c.UID
		}
		return c.Name != "" && r.User == c.Name
	}
	gid, ok := decimalID(r.Group)
	if !ok {
		if gid, ok = groupID(r.Group); !ok {
			return false
		}
	}
	for _, g := range c.GIDs {
		if g == gid {
			return true
		}
	}
	return false
}

// decimalID parses an id written as a decimal number without sign or
// leading zero.
func decimalID(s string) (uint32, bool) {
	id, ok := idmap.ParseID(s)
	return id, ok && strconv.FormatUint(uint64(id), 10) == s
}
