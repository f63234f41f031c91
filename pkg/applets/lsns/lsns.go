// Package lsns is the lsns applet: list namespaces, with util-linux lsns's
// options, columns, output formats, messages and exit codes (2.38 where it
// has the feature, 2.43 where 2.38 lacks it or is wrong), and --dot, which
// draws the namespace tree for Graphviz.
//
// It reads as options -> plan -> act: parse (plan.go) turns the command
// line into a plan, a value decided without reading anything; execute
// scans (pkg/nsfs, model.go) and prints the plan's table (show.go, through
// pkg/scols, libsmartcols's table writer, so that the bytes are
// util-linux's, and pkg/scolsfilter for -Q) or graph (dot.go).
package lsns

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/nsfs"
	"github.com/nsbox/nsbox/pkg/scols"
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

// run is the applet: the command line read into a plan, then the plan
// carried out.
func run(e *applet.Env) error {
	p, done, err := parse(e)
	if err != nil || done {
		return err
	}
	return p.execute(e)
}

// execute carries out the plan.
func (p *plan) execute(e *applet.Env) error {
	if p.action == actColumns {
		return listColumns(e, p)
	}
	m, err := load(p)
	if err != nil {
		return err
	}
	defer m.close()
	if p.action == actDot {
		return writeDot(e, p, m)
	}
	return list(e, p, m)
}

// load scans the namespaces of the types p looks at, connected to their
// parents and owners when p needs them.
func load(p *plan) (*model, error) {
	mounts, err := nsfs.ReadMountinfo("/proc/self/mountinfo")
	if err != nil {
		var pe *os.PathError
		if !errors.As(err, &pe) {
			err = unix.EINVAL // malformed
		}
		return nil, &applet.Exit{Code: 32, Msg: "failed to parse /proc/self/mountinfo: " + applet.Strerror(err)}
	}
	m, err := build(p.types, mounts, p.action == actList && p.reads(colNetnsid))
	if err != nil {
		return nil, applet.Errorf("cannot read /proc: %s", applet.Strerror(err))
	}
	if p.tree == treeOwner || p.tree == treeParent || p.action == actDot {
		m.connect()
	}
	return m, nil
}

// listColumns is -H: the column list, as util-linux 2.41's
// xcolumn_list_table_new prints it (name, JSON type, description).
func listColumns(e *applet.Env, p *plan) error {
	t := newTable(e, p)
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

// newTable is a table for e's standard output in the format of p.
func newTable(e *applet.Env, p *plan) *scols.Table {
	t := &scols.Table{Format: p.format, NoHeadings: p.noHeadings, UTF8: scols.UTF8Locale(os.Getenv)}
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
