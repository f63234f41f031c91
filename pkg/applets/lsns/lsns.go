// Package lsns is the lsns applet: list namespaces, with util-linux lsns's
// options, columns, output formats, messages and exit codes (2.38 where it
// has the feature, 2.43 where 2.38 lacks it or is wrong), and --dot, which
// draws the namespace tree for Graphviz.
//
// Discovery is pkg/nsfs; the output formatting is a small port of
// libsmartcols (table.go) so that the bytes are util-linux's.
package lsns

import (
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	nstype "github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/scols"
	"github.com/nsbox/nsbox/pkg/scolsfilter"
)

func init() {
	applet.Register(applet.Applet{
		Name:    "lsns",
		Summary: "list namespaces",
		Usage:   usage,
		Run:     run,
	})
}

const usage = `
Usage:
 lsns [options] [<namespace>]

List system namespaces.

Options:
 -J, --json             use JSON output format
 -l, --list             use list format output
 -n, --noheadings       don't print headings
 -o, --output <list>    define which output columns to use
     --output-all       output all columns
 -P, --persistent       namespaces without processes
 -p, --task <pid>       print process namespaces
 -Q, --filter <expr>    apply display filter
 -r, --raw              use the raw output format
 -u, --notruncate       don't truncate text in columns
 -W, --nowrap           don't use multi-line representation
 -t, --type <name>      namespace type (mnt, net, ipc, user, pid, uts, cgroup, time)
 -T, --tree[=<rel>]     use tree format (parent, owner, or process)

nsbox extras:
     --dot              write the namespace tree (owners, parents, and the
                          processes and pins that hold each namespace) as
                          Graphviz dot

 -H, --list-columns     list the available columns
 -h, --help             display this help
 -V, --version          display version

For more details see lsns(8) and docs/lsns.md.
`

// Column ids, in util-linux's order.
const (
	colNS = iota
	colType
	colPath
	colNprocs
	colPid
	colPPid
	colCommand
	colUID
	colUser
	colNetnsid
	colNsfs
	colPNS
	colONS
	ncols
)

type colInfo struct {
	name     string
	whint    float64
	flags    scols.Flags
	help     string
	jsonType scols.JSONType
}

var infos = [ncols]colInfo{
	colNS:      {"NS", 10, scols.FlRight, "namespace identifier (inode number)", scols.JSONNumber},
	colType:    {"TYPE", 5, 0, "kind of namespace", scols.JSONString},
	colPath:    {"PATH", 0, 0, "path to the namespace", scols.JSONString},
	colNprocs:  {"NPROCS", 5, scols.FlRight, "number of processes in the namespace", scols.JSONNumber},
	colPid:     {"PID", 5, scols.FlRight, "lowest PID in the namespace", scols.JSONNumber},
	colPPid:    {"PPID", 5, scols.FlRight, "PPID of the PID", scols.JSONNumber},
	colCommand: {"COMMAND", 0, scols.FlTrunc, "command line of the PID", scols.JSONString},
	colUID:     {"UID", 0, scols.FlRight, "UID of the PID", scols.JSONNumber},
	colUser:    {"USER", 0, 0, "username of the PID", scols.JSONString},
	colNetnsid: {"NETNSID", 0, scols.FlRight, "namespace ID as used by network subsystem", scols.JSONString},
	colNsfs:    {"NSFS", 0, scols.FlWrap, "nsfs mountpoint (usually used network subsystem)", scols.JSONString},
	colPNS:     {"PNS", 10, scols.FlRight, "parent namespace identifier (inode number)", scols.JSONNumber},
	colONS:     {"ONS", 10, scols.FlRight, "owner namespace identifier (inode number)", scols.JSONNumber},
}

// maxColumns is util-linux's columns[] array: twice the number of columns.
const maxColumns = 2 * ncols

// Tree modes.
const (
	treeNone = iota
	treeProcess
	treeOwner
	treeParent
)

type options struct {
	json, raw, noHeadings, noTrunc, noWrap, persist, listCols, dot bool
	forceList                                                      bool
	tree                                                           int
	columns                                                        []int
	outarg                                                         string
	hasOutarg                                                      bool
	fltrPid                                                        int
	fltrNs                                                         uint64
	types                                                          [nstype.NTypes]bool
	ntypes                                                         int
	isNet                                                          bool
	filter                                                         *scolsfilter.Filter
}

// excl is util-linux's ul_excl_t table for lsns, checked as
// err_exclusive_options checks it: the scan stops at the first group (and
// option) past the option's character in ASCII order. The third group is
// not in ASCII order ('l' > 'T'), so util-linux never refuses -l with -T,
// whatever BEHAVIOUR.md §4 says; nor does nsbox.
var excl = [][]byte{{'J', 'r'}, {'P', 'p'}, {'l', 'T'}}

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

func run(e *applet.Env) error {
	var o options
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

	// Each option acts as it is read, after util-linux's exclusivity check.
	var exclSeen [3]byte
	act := func(name string, f func(v string) error) {
		applet.Check(fs, name, func(v string) error {
			if c := exclShort(name); c != 0 {
				for g := 0; g < len(excl) && excl[g][0] <= c; g++ {
					for _, op := range excl[g] {
						if op > c {
							break
						}
						if op != c {
							continue
						}
						if exclSeen[g] == 0 {
							exclSeen[g] = c
						} else if exclSeen[g] != c {
							var b strings.Builder
							for _, o := range excl[g] {
								b.WriteString(" --" + exclLong(o))
							}
							return applet.Errorf("mutually exclusive arguments:%s", b.String())
						}
					}
				}
			}
			return f(v)
		})
	}
	act("json", func(string) error { o.json = true; return nil })
	act("list", func(string) error { o.forceList = true; return nil })
	act("noheadings", func(string) error { o.noHeadings = true; return nil })
	act("output", func(v string) error { o.outarg, o.hasOutarg = v, true; return nil })
	act("output-all", func(string) error {
		o.columns = o.columns[:0]
		for c := 0; c < ncols; c++ {
			o.columns = append(o.columns, c)
		}
		return nil
	})
	act("persistent", func(string) error { o.persist = true; return nil })
	act("task", func(v string) error {
		pid, err := strtos32(v)
		if err != nil {
			return strtoxxError("invalid PID argument", v, err)
		}
		o.fltrPid = pid
		return nil
	})
	act("filter", func(v string) error {
		f, err := scolsfilter.Parse(v)
		if err != nil {
			return applet.Errorf("failed to parse \"%s\": %s", v, err.Error())
		}
		o.filter = f
		return nil
	})
	act("raw", func(string) error { o.raw, o.noWrap = true, true; return nil })
	act("notruncate", func(string) error { o.noTrunc = true; return nil })
	act("nowrap", func(string) error { o.noWrap = true; return nil })
	act("type", func(v string) error {
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
	})
	act("tree", func(v string) error {
		o.tree = treeOwner
		if v == "\x00" {
			return nil
		}
		v = strings.TrimPrefix(v, "=")
		switch v {
		case "parent":
			o.tree = treeParent
		case "process":
			o.tree = treeProcess
		case "owner":
		default:
			return applet.Errorf("unknown tree type: %s", v)
		}
		return nil
	})
	act("list-columns", func(string) error { o.listCols = true; return nil })
	act("dot", func(string) error { o.dot = true; return nil })

	e.Args = permute(fs, e.Args)
	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return err
	}
	if o.listCols {
		return listColumns(e, &o)
	}
	if o.ntypes == 0 {
		for t := range o.types {
			o.types[t] = true
		}
	}
	if len(rest) > 0 {
		if o.fltrPid != 0 {
			return applet.Errorf("--task is mutually exclusive with <namespace>")
		}
		n, err := strtou64(rest[0])
		if err != nil {
			return strtoxxError("invalid namespace argument", rest[0], err)
		}
		o.fltrNs = n
		if o.tree == treeNone && !o.forceList {
			o.tree = treeProcess
		}
		if len(o.columns) == 0 {
			o.columns = []int{colPid, colPPid, colUser, colCommand}
		}
	}
	if len(o.columns) == 0 {
		o.columns = []int{colNS, colType, colNprocs, colPid, colUser}
		if o.isNet {
			o.columns = append(o.columns, colNetnsid, colNsfs)
		}
		o.columns = append(o.columns, colCommand)
		if o.tree == treeNone && !o.forceList {
			o.tree = treeProcess
		}
	}
	if o.hasOutarg {
		cols, err := addToIDArray(o.outarg, o.columns, e)
		if err != nil {
			return err
		}
		o.columns = cols
	}
	return list(e, &o)
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
func addToIDArray(list string, cols []int, e *applet.Env) ([]int, error) {
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

// listColumns is -H: the column list, as util-linux 2.41's
// xcolumn_list_table_new prints it (name, JSON type, description).
func listColumns(e *applet.Env, o *options) error {
	t := newTable(e, o)
	t.NoHeadings = true
	t.Name = "lsns-columns"
	t.AddColumn("HOLDER", 0, scols.FlRight)
	t.AddColumn("TYPE", 0, 0)
	t.AddColumn("DESCRIPTION", 0, 0)
	for _, c := range infos {
		l := t.NewLine(nil)
		l.Set(0, c.name)
		if c.jsonType == scols.JSONNumber {
			l.Set(1, "<integer>")
		} else {
			l.Set(1, "<string>")
		}
		l.Set(2, c.help)
	}
	t.Print(e.Stdout) // a write error is the applet wrapper's to report
	return nil
}

// newTable is a table for e's standard output in the format of o.
func newTable(e *applet.Env, o *options) *scols.Table {
	t := &scols.Table{UTF8: scols.UTF8Locale(os.Getenv), NoHeadings: o.noHeadings}
	switch {
	case o.json:
		t.Format = scols.JSON
	case o.raw:
		t.Format = scols.Raw
	}
	fd := stdoutFd(e)
	t.TermWidth = scols.TermWidth(fd, os.Getenv)
	t.Terminal = t.Format == scols.Human && fd >= 0 && scols.IsTerminal(fd)
	return t
}

// stdoutFd is the descriptor of e's standard output: the file itself when
// the applet was given one, else the process's standard output (the
// dispatcher wraps os.Stdout to catch write errors).
func stdoutFd(e *applet.Env) int {
	if f, ok := e.Stdout.(*os.File); ok {
		return int(f.Fd())
	}
	return 1
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
