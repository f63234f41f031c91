package lsns

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	nstype "github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsfs"
	"github.com/nsbox/nsbox/pkg/scols"
	"github.com/nsbox/nsbox/pkg/scolsfilter"
)

// lister turns the model into table lines the way util-linux's
// show_namespaces, show_namespace_processes and add_scols_line do.
type lister struct {
	e    *applet.Env
	o    *options
	m    *model
	t    *scols.Table
	cols []int // the table's columns: o.columns, then hidden filter columns
	err  error
}

func list(e *applet.Env, o *options) error {
	mounts, err := nsfs.ReadMountinfo("/proc/self/mountinfo")
	if err != nil {
		var pe *os.PathError
		if !errors.As(err, &pe) {
			err = unix.EINVAL // malformed
		}
		return &applet.Exit{Code: 32, Msg: "failed to parse /proc/self/mountinfo: " + applet.Strerror(err)}
	}
	m, err := build(o.types, mounts)
	if err != nil {
		return applet.Errorf("cannot read /proc: %s", applet.Strerror(err))
	}
	defer m.close()
	if o.tree == treeOwner || o.tree == treeParent || o.dot {
		m.connect()
	}
	if o.dot {
		return writeDot(e, o, m)
	}
	l := &lister{e: e, o: o, m: m}
	l.t = newTable(e, o)
	if o.json {
		l.t.Name = "namespaces"
	}
	for _, id := range o.columns {
		l.addColumn(id, 0)
	}
	if err := l.initFilter(); err != nil {
		return err
	}
	if o.fltrNs != 0 {
		ns := m.byID[o.fltrNs]
		if ns == nil {
			return applet.Errorf("not found namespace: %d", o.fltrNs)
		}
		for _, p := range ns.procs {
			if p.outline == nil {
				l.showProcess(p, ns)
			}
		}
	} else {
		var self *proc
		if o.fltrPid != 0 {
			self = m.byPid[o.fltrPid]
		}
		for _, ns := range m.sorted() {
			if o.fltrPid != 0 && (self == nil || self.ns[ns.typ] != ns.id) {
				continue
			}
			if o.persist && ns.nprocs != 0 {
				continue
			}
			if ns.outline == nil {
				l.showNamespace(ns, ns.proc)
			}
		}
	}
	if l.err != nil {
		return l.err
	}
	l.t.Print(e.Stdout) // a write error is the applet wrapper's to report
	return nil
}

func (l *lister) addColumn(id int, extraFlags scols.Flags) {
	info := infos[id]
	flags := info.flags | extraFlags
	o := l.o
	if o.noTrunc {
		flags &^= scols.FlTrunc
	}
	if o.tree == treeProcess && id == colCommand {
		flags |= scols.FlTree
	}
	if o.noWrap {
		flags &^= scols.FlWrap
	}
	if (o.tree == treeOwner || o.tree == treeParent) && id == colNS {
		flags = (flags | scols.FlTree) &^ scols.FlRight
	}
	if extraFlags&scols.FlHidden != 0 {
		flags = scols.FlHidden
	}
	c := l.t.AddColumn(info.name, info.whint, flags)
	if o.json || o.filter != nil || extraFlags&scols.FlHidden != 0 {
		c.JSONType = info.jsonType
	}
	if !o.noWrap && id == colNsfs && extraFlags&scols.FlHidden == 0 {
		c.WrapNL, c.SafeChars = true, "\n"
	}
	l.cols = append(l.cols, id)
}

// initFilter binds the filter's columns to table columns, adding hidden
// ones for columns not shown (init_scols_filter).
func (l *lister) initFilter() error {
	f := l.o.filter
	if f == nil {
		return nil
	}
	nerrs := 0
	for _, h := range f.Holders() {
		id := columnID(h.Name)
		if id < 0 {
			fmt.Fprintf(l.e.Stderr, "%s: unknown column: %s\n", l.e.Name, h.Name)
			nerrs++
			continue
		}
		idx := -1
		for i, c := range l.cols {
			if c == id {
				idx = i
				break
			}
		}
		if idx < 0 {
			if len(l.cols) >= maxColumns {
				return applet.Errorf("too many columns specified, the limit is %d columns", maxColumns-1)
			}
			l.addColumn(id, scols.FlHidden)
			idx = len(l.cols) - 1
		}
		h.Col = idx
		if infos[id].jsonType == scols.JSONNumber {
			h.Type = scolsfilter.DataU64
		} else {
			h.Type = scolsfilter.DataString
		}
	}
	if nerrs > 0 {
		return applet.Errorf("failed to initialize filter")
	}
	return nil
}

func (l *lister) showNamespace(ns *namespace, p *proc) {
	switch {
	case l.o.tree == treeOwner && ns.rel[relOwner] != nil && ns.rel[relOwner].outline == nil:
		l.showNamespace(ns.rel[relOwner], ns.rel[relOwner].proc)
	case l.o.tree == treeParent:
		if r := ns.rel[relParent]; r != nil {
			if r.outline == nil {
				l.showNamespace(r, r.proc)
			}
		} else if r := ns.rel[relOwner]; r != nil && r.outline == nil {
			l.showNamespace(r, r.proc)
		}
	}
	l.addLine(ns, p)
}

func (l *lister) showProcess(p *proc, ns *namespace) {
	if l.o.tree == treeProcess {
		if pp := l.m.parent(p); pp != nil && pp.outline == nil && pp.ns[ns.typ] == p.ns[ns.typ] {
			l.showProcess(pp, ns)
		}
	}
	l.addLine(ns, p)
}

// addLine is add_scols_line.
func (l *lister) addLine(ns *namespace, p *proc) {
	if l.err != nil {
		return
	}
	var parent *scols.Line
	switch {
	case l.o.tree == treeProcess && p != nil && l.m.parent(p) != nil:
		parent = l.m.parent(p).outline
	case l.o.tree == treeParent && ns.rel[relParent] != nil:
		parent = ns.rel[relParent].outline
	case l.o.tree == treeOwner && ns.rel[relOwner] != nil:
		parent = ns.rel[relOwner].outline
	}
	ln := l.t.NewLine(parent)
	done := make([]bool, len(l.cols))
	fill := func(i int) {
		if done[i] {
			return
		}
		done[i] = true
		if s, ok := l.cell(ns, p, l.cols[i]); ok {
			ln.Set(i, s)
		}
	}
	if f := l.o.filter; f != nil {
		ok, err := f.Match(rowFunc(func(i int) (string, bool) {
			fill(i)
			return ln.Get(i)
		}))
		if err != nil {
			l.err = applet.Errorf("failed to apply filter: %s", applet.Strerror(unix.EINVAL))
			return
		}
		if !ok {
			l.t.RemoveLine(ln)
			return
		}
	}
	for i := range l.cols {
		fill(i)
	}
	if l.o.tree == treeOwner || l.o.tree == treeParent {
		ns.outline = ln
	} else if p != nil {
		p.outline = ln
	}
}

// cell is fill_column: the text of column id for namespace ns and process
// p (p is nil for a namespace without processes).
func (l *lister) cell(ns *namespace, p *proc, id int) (string, bool) {
	m := l.m
	switch id {
	case colNS:
		return utoa(ns.id), true
	case colPid:
		if p != nil {
			return itoa(p.pid), true
		}
	case colPPid:
		if p != nil {
			m.readStat(p)
			return itoa(p.ppid), true
		}
	case colType:
		return ns.typ.String(), true
	case colNprocs:
		return itoa(ns.nprocs), true
	case colCommand:
		if p != nil {
			return nsfs.Command(p.pid)
		}
	case colPath:
		if p != nil {
			return nsfs.ProcNsPath(p.pid, ns.typ), true
		}
	case colUID:
		return strconv.Itoa(int(int32(l.uidOf(ns, p)))), true
	case colUser:
		return m.users.name(l.uidOf(ns, p)), true
	case colNetnsid:
		if p != nil && ns.typ == nstype.Net {
			switch id := m.netnsid(p); {
			case id >= 0:
				return itoa(int(id)), true
			case id == nsfs.NSIDUnassigned:
				return "unassigned", true
			}
		}
	case colNsfs:
		sep := byte('\n')
		if l.o.noWrap {
			sep = ','
		}
		return m.nsfsPaths(ns, sep)
	case colPNS:
		m.related(ns)
		return utoa(ns.relID[relParent]), true
	case colONS:
		m.related(ns)
		return utoa(ns.relID[relOwner]), true
	}
	return "", false
}

func (l *lister) uidOf(ns *namespace, p *proc) uint32 {
	if p != nil {
		return l.m.uid(p)
	}
	return ns.uidFallback
}

// rowFunc is a scolsfilter.Row.
type rowFunc func(col int) (string, bool)

func (f rowFunc) Cell(col int) (string, bool) { return f(col) }
