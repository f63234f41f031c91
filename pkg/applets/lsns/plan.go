package lsns

import (
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	nstype "github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/scols"
	"github.com/nsbox/nsbox/pkg/scolsfilter"
)

// Tree modes.
const (
	treeNone = iota
	treeProcess
	treeOwner
	treeParent
)

// action is what a run does.
type action int

const (
	actList    action = iota // the table of namespaces, or of a namespace's processes
	actColumns               // -H: the table of columns
	actDot                   // --dot: the Graphviz graph
)

// plan is what one run of lsns does, decided from the command line alone:
// nothing read, nothing asked of the kernel.
type plan struct {
	action                      action
	types                       [nstype.NTypes]bool // the namespace types looked at (-t; all by default)
	task                        int                 // -p: only the namespaces of this process (0: all)
	ns                          uint64              // <namespace>: its processes, a row each (0: the namespaces)
	persist                     bool                // -P: only the namespaces without processes
	filter                      *scolsfilter.Filter // -Q
	columns                     []int               // the columns shown, in order
	tree                        int                 // treeNone, treeProcess, treeOwner or treeParent
	format                      scols.Format
	noHeadings, noTrunc, noWrap bool
}

// options is the command line as its options set it, before the defaults
// that depend on several of them.
type options struct {
	plan
	json, raw, forceList, listCols, dot bool
	outarg                              string
	hasOutarg                           bool
	ntypes                              int
	isNet                               bool
	exclSeen                            [len(excl)]byte // the option seen first in each group of excl
}

// parse reads e's command line into a plan, with util-linux's messages
// and exit statuses for what it refuses; done is true when --help or
// --version was printed instead.
func parse(e *applet.Env) (p *plan, done bool, err error) {
	var o options
	fs := o.flags(e)
	e.Args = permute(fs, e.Args)
	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return nil, done, err
	}
	p, err = o.finish(rest)
	return p, false, err
}

// flags is lsns's options, each acting on o as it is read.
func (o *options) flags(e *applet.Env) *pflag.FlagSet {
	fs := applet.NewFlags(e)
	fs.BoolP("json", "J", false, "")
	fs.BoolP("list", "l", false, "")
	fs.BoolP("noheadings", "n", false, "")
	fs.StringP("output", "o", "", "")
	fs.Bool("output-all", false, "")
	fs.BoolP("persistent", "P", false, "")
	fs.StringP("task", "p", "", "")
	fs.StringP("filter", "Q", "", "")
	fs.BoolP("raw", "r", false, "")
	fs.BoolP("notruncate", "u", false, "")
	fs.BoolP("nowrap", "W", false, "")
	fs.StringP("type", "t", "", "")
	fs.StringP("tree", "T", "", "")
	fs.Lookup("tree").NoOptDefVal = "\x00"
	fs.SetAnnotation("tree", applet.OptionalShort, []string{"true"})
	fs.BoolP("list-columns", "H", false, "")
	fs.Bool("dot", false, "")

	set := func(name string, f func(v string) error) {
		applet.Check(fs, name, func(v string) error {
			if err := o.exclusive(name); err != nil {
				return err
			}
			return f(v)
		})
	}
	flag := func(name string, p *bool) { set(name, func(string) error { *p = true; return nil }) }
	flag("json", &o.json)
	flag("list", &o.forceList)
	flag("noheadings", &o.noHeadings)
	set("output", func(v string) error { o.outarg, o.hasOutarg = v, true; return nil })
	set("output-all", func(string) error { o.outputAll(); return nil })
	flag("persistent", &o.persist)
	set("task", o.setTask)
	set("filter", o.setFilter)
	set("raw", func(string) error { o.raw, o.noWrap = true, true; return nil })
	flag("notruncate", &o.noTrunc)
	flag("nowrap", &o.noWrap)
	set("type", o.setType)
	set("tree", o.setTree)
	flag("list-columns", &o.listCols)
	flag("dot", &o.dot)
	return fs
}

// excl is util-linux's ul_excl_t table for lsns, checked as
// err_exclusive_options checks it: the scan stops at the first group (and
// option) past the option's character in ASCII order. The third group is
// not in ASCII order ('l' > 'T'), so util-linux never refuses -l with -T,
// whatever BEHAVIOUR.md §4 says; nor does nsbox.
var excl = [...][2]byte{{'J', 'r'}, {'P', 'p'}, {'l', 'T'}}

// exclNames are the long names of the options of excl, by character.
var exclNames = [...]struct {
	c    byte
	name string
}{{'J', "json"}, {'r', "raw"}, {'P', "persistent"}, {'p', "task"}, {'l', "list"}, {'T', "tree"}}

// exclLong is the long name of option c of excl.
func exclLong(c byte) string {
	for _, e := range exclNames {
		if e.c == c {
			return e.name
		}
	}
	return ""
}

// exclShort is the option character of a long option in excl.
func exclShort(name string) byte {
	for _, e := range exclNames {
		if e.name == name {
			return e.c
		}
	}
	return 0
}

// exclusive is err_exclusive_options for the option called name: the
// scan of excl stops at the first group (and option) past the option's
// character.
func (o *options) exclusive(name string) error {
	c := exclShort(name)
	if c == 0 {
		return nil
	}
	for g := 0; g < len(excl) && excl[g][0] <= c; g++ {
		for _, op := range excl[g] {
			if op > c {
				break
			}
			if op != c {
				continue
			}
			if o.exclSeen[g] == 0 {
				o.exclSeen[g] = c
			} else if o.exclSeen[g] != c {
				var b strings.Builder
				for _, x := range excl[g] {
					b.WriteString(" --" + exclLong(x))
				}
				return applet.Errorf("mutually exclusive arguments:%s", b.String())
			}
		}
	}
	return nil
}

// outputAll is --output-all: every column, in util-linux's order.
func (o *options) outputAll() {
	o.columns = o.columns[:0]
	for c := 0; c < ncols; c++ {
		o.columns = append(o.columns, c)
	}
}

func (o *options) setTask(v string) error {
	pid, err := strtos32(v)
	if err != nil {
		return strtoxxError("invalid PID argument", v, err)
	}
	o.task = pid
	return nil
}

func (o *options) setFilter(v string) error {
	f, err := scolsfilter.Parse(v)
	if err != nil {
		return applet.Errorf("failed to parse \"%s\": %s", v, err.Error())
	}
	o.filter = f
	return nil
}

func (o *options) setType(v string) error {
	t, ok := nstype.ByName(v)
	if !ok {
		return applet.Errorf("unknown namespace type: %s", v)
	}
	o.types[t] = true
	o.ntypes++
	if t == nstype.Net {
		o.isNet = true
	}
	return nil
}

func (o *options) setTree(v string) error {
	o.tree = treeOwner
	if v == "\x00" {
		return nil
	}
	switch strings.TrimPrefix(v, "=") {
	case "parent":
		o.tree = treeParent
	case "process":
		o.tree = treeProcess
	case "owner":
	default:
		return applet.Errorf("unknown tree type: %s", strings.TrimPrefix(v, "="))
	}
	return nil
}

// finish applies the defaults to the options read, with rest the
// operands, and returns the plan.
func (o *options) finish(rest []string) (*plan, error) {
	p := &o.plan
	switch {
	case o.json:
		p.format = scols.JSON
	case o.raw:
		p.format = scols.Raw
	}
	if o.listCols {
		p.action = actColumns
		return p, nil
	}
	if o.dot {
		p.action = actDot
	}
	if o.ntypes == 0 {
		for t := range p.types {
			p.types[t] = true
		}
	}
	if len(rest) > 0 {
		if p.task != 0 {
			return nil, applet.Errorf("--task is mutually exclusive with <namespace>")
		}
		n, err := strtou64(rest[0])
		if err != nil {
			return nil, strtoxxError("invalid namespace argument", rest[0], err)
		}
		p.ns = n
		if p.tree == treeNone && !o.forceList {
			p.tree = treeProcess
		}
		if len(p.columns) == 0 {
			p.columns = []int{colPid, colPPid, colUser, colCommand}
		}
	}
	if len(p.columns) == 0 {
		p.columns = []int{colNS, colType, colNprocs, colPid, colUser}
		if o.isNet {
			p.columns = append(p.columns, colNetnsid, colNsfs)
		}
		p.columns = append(p.columns, colCommand)
		if p.tree == treeNone && !o.forceList {
			p.tree = treeProcess
		}
	}
	if o.hasOutarg {
		cols, err := addToIDArray(o.outarg, p.columns)
		if err != nil {
			return nil, err
		}
		p.columns = cols
	}
	return p, nil
}

// strtos32 is util-linux's strtos32_or_err parsing: strtoimax in base 10,
// the whole string, within int32.
func strtos32(s string) (int, error) {
	n, err := strtoimax(s)
	if err != nil {
		return 0, err
	}
	if n < -1<<31 || n > 1<<31-1 {
		return 0, unix.ERANGE
	}
	return int(n), nil
}

// numError is a number argument that does not parse.
type numError string

func (e numError) Error() string { return string(e) }

const errNotNumber numError = "not a number"

// strtoimax parses like C's strtoimax with the checks of util-linux's
// ul_strtos64: optional blanks and sign, digits, nothing after.
func strtoimax(s string) (int64, error) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" {
		return 0, errNotNumber
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, errNotNumber
		}
	}
	u, err := strconv.ParseUint(t, 10, 64)
	if err != nil || (!neg && u > 1<<63-1) || (neg && u > 1<<63) {
		return 0, unix.ERANGE
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// strtou64 is ul_strtou64: as strtoimax, but a negative number is out of
// range and the value may use all 64 bits.
func strtou64(s string) (uint64, error) {
	n, err := strtoimax(s)
	if err == errNotNumber {
		return 0, err
	}
	if err == nil && n < 0 {
		return 0, unix.ERANGE
	}
	t := strings.TrimPrefix(strings.TrimLeft(s, " \t\n\v\f\r"), "+")
	u, perr := strconv.ParseUint(t, 10, 64)
	if perr != nil {
		return 0, unix.ERANGE
	}
	return u, nil
}

// strtoxxError is str2num_or_err's message: "MSG: 'ARG'", with the
// strerror text when the number is out of range.
func strtoxxError(msg, arg string, err error) error {
	if err == unix.ERANGE {
		return applet.Errorf("%s: '%s': %s", msg, arg, applet.Strerror(unix.ERANGE))
	}
	return applet.Errorf("%s: '%s'", msg, arg)
}

// reads tells whether the run shows column id or its filter names it.
func (p *plan) reads(id int) bool {
	for _, c := range p.columns {
		if c == id {
			return true
		}
	}
	if p.filter != nil {
		for _, h := range p.filter.Holders() {
			if columnID(h.Name) == id {
				return true
			}
		}
	}
	return false
}

// columnID is column_name_to_id: a case-insensitive exact match.
func columnID(name string) int {
	for i, c := range infos {
		if strings.EqualFold(c.name, name) {
			return i
		}
	}
	return -1
}

// addToIDArray is string_add_to_idarray: "+LIST" appends to cols, "LIST"
// replaces them. Its quirks are kept: an empty item fails without a
// message, and an unknown column is named with the rest of the list.
func addToIDArray(list string, cols []int) ([]int, error) {
	fail := &applet.Exit{Code: 1}
	if list == "" {
		return nil, fail
	}
	if list[0] == '+' {
		list = list[1:]
	} else {
		cols = cols[:0]
	}
	if list == "" {
		return nil, fail
	}
	out := append([]int(nil), cols...)
	begin := -1
	for p := 0; p < len(list); p++ {
		if len(out) >= maxColumns {
			return nil, fail
		}
		if begin < 0 {
			begin = p
		}
		end := -1
		if list[p] == ',' {
			end = p
		}
		if p+1 == len(list) {
			end = p + 1
		}
		if end < 0 {
			continue
		}
		if end <= begin {
			return nil, fail
		}
		id := columnID(list[begin:end])
		if id < 0 {
			return nil, applet.Errorf("unknown column: %s", list[begin:])
		}
		out = append(out, id)
		begin = -1
	}
	return out, nil
}

// permute reorders args as GNU getopt_long does for an option string
// without a leading '+' (util-linux lsns's "JlPp:o:nruhVt:T::WQ:H"):
// options first, in order, with the arguments they take, then "--", then
// the operands in order. Everything after a "--" is an operand. An option
// applet.Parse will reject is kept in place, so the error comes where
// getopt gives it.
func permute(fs *pflag.FlagSet, args []string) []string {
	var opts, operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			opts = append(opts, a)
			name, _, hasVal := strings.Cut(a[2:], "=")
			if f := longFlag(fs, name); f != nil && !hasVal && f.Value.Type() != "bool" && f.NoOptDefVal == "" && i+1 < len(args) {
				i++
				opts = append(opts, args[i])
			}
		case strings.HasPrefix(a, "-") && a != "-":
			opts = append(opts, a)
			for j := 1; j < len(a); j++ {
				f := fs.ShorthandLookup(a[j : j+1])
				if f == nil || f.Value.Type() == "bool" {
					continue
				}
				if f.NoOptDefVal == "" && j == len(a)-1 && i+1 < len(args) {
					i++
					opts = append(opts, args[i])
				}
				break
			}
		default:
			operands = append(operands, a)
		}
	}
	if len(operands) == 0 {
		return opts
	}
	return append(append(opts, "--"), operands...)
}

// longFlag finds a long option by name or unambiguous prefix.
func longFlag(fs *pflag.FlagSet, name string) *pflag.Flag {
	if name == "" {
		return nil
	}
	if f := fs.Lookup(name); f != nil {
		return f
	}
	var match *pflag.Flag
	n := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if strings.HasPrefix(f.Name, name) {
			match = f
			n++
		}
	})
	if n == 1 {
		return match
	}
	return nil
}
