package lsns

import (
	"fmt"
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
	plan *plan
	m    *model
	t    *scols.Table
	cols []int // the table's columns: plan.columns, then hidden filter columns
	err  error
}

// newLister is a lister of m into t, whose columns are cols, then the
// hidden ones p's filter reads.
func newLister(e *applet.Env, p *plan, m *model, t *scols.Table, cols []int) (*lister, error) {
	l := &lister{e: e, plan: p, m: m, t: t}
	for _, id := range cols {
		l.addColumn(id, 0)
	}
	return l, l.initFilter()
}

// list prints the table of the namespaces p chose, or of the processes of
// p.ns.
func list(e *applet.Env, p *plan, m *model) error {
	t := newTable(e, p)
	t.Name = "namespaces"
	l, err := newLister(e, p, m, t, p.columns)
	if err != nil {
		return err
	}
	if p.ns != 0 {
		ns := m.byID[p.ns]
		if ns == nil {
			return applet.Errorf("not found namespace: %d", p.ns)
		}
		for _, pr := range ns.procs {
			if pr.outline == nil {
				l.showProcess(pr, ns)
			}
		}
	} else {
		for _, ns := range m.chosen(p) {
			if ns.outline == nil {
				l.showNamespace(ns, ns.proc)
			}
		}
	}
	if l.err != nil {
		return l.err
	}
	t.Print(e.Stdout) // a write error is the applet wrapper's to report
	return nil
}

// chosen is the namespaces -p and -P leave, by inode.
func (m *model) chosen(p *plan) []*namespace {
	var self *proc
	if p.task != 0 {
		self = m.byPid[p.task]
	}
	var nss []*namespace
	for _, ns := range m.sorted() {
		if p.task != 0 && (self == nil || self.ns[ns.typ] != ns.id) {
			continue
		}
		if p.persist && ns.nprocs != 0 {
			continue
		}
		nss = append(nss, ns)
	}
	return nss
}

func (l *lister) addColumn(id int, extraFlags scols.Flags) {
	info := infos[id]
	flags := info.flags | extraFlags
	pl := l.plan
	if pl.noTrunc {
		flags &^= scols.FlTrunc
	}
	if pl.tree == treeProcess && id == colCommand {
		flags |= scols.FlTree
	}
	if pl.noWrap {
		flags &^= scols.FlWrap
	}
	if (pl.tree == treeOwner || pl.tree == treeParent) && id == colNS {
		flags = (flags | scols.FlTree) &^ scols.FlRight
	}
	if extraFlags&scols.FlHidden != 0 {
		flags = scols.FlHidden
	}
	c := l.t.AddColumn(info.name, info.whint, flags)
	if pl.format == scols.JSON || pl.filter != nil || extraFlags&scols.FlHidden != 0 {
		c.JSONType = info.jsonType
	}
	if !pl.noWrap && id == colNsfs && extraFlags&scols.FlHidden == 0 {
		c.WrapNL, c.SafeChars = true, "\n"
	}
	l.cols = append(l.cols, id)
}

// initFilter binds the filter's columns to table columns, adding hidden
// ones for columns not shown (init_scols_filter).
func (l *lister) initFilter() error {
	f := l.plan.filter
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
	case l.plan.tree == treeOwner && ns.rel[relOwner] != nil && ns.rel[relOwner].outline == nil:
		l.showNamespace(ns.rel[relOwner], ns.rel[relOwner].proc)
	case l.plan.tree == treeParent:
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
	if l.plan.tree == treeProcess {
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
	case l.plan.tree == treeProcess && p != nil && l.m.parent(p) != nil:
		parent = l.m.parent(p).outline
	case l.plan.tree == treeParent && ns.rel[relParent] != nil:
		parent = ns.rel[relParent].outline
	case l.plan.tree == treeOwner && ns.rel[relOwner] != nil:
		parent = ns.rel[relOwner].outline
	}
	ln := l.t.NewLine(parent)
	r := l.row(ln, ns, p)
	if !l.keep(r) {
		l.t.RemoveLine(ln)
		return
	}
	for i := range l.cols {
		r.fill(i)
	}
	if l.plan.tree == treeOwner || l.plan.tree == treeParent {
		ns.outline = ln
	} else if p != nil {
		p.outline = ln
	}
}

// row is the scolsfilter.Row of a table line: its cells, filled from the
// namespace and process as the filter reads them.
type row struct {
	l    *lister
	ln   *scols.Line
	ns   *namespace
	p    *proc
	done []bool
}

func (l *lister) row(ln *scols.Line, ns *namespace, p *proc) *row {
	return &row{l: l, ln: ln, ns: ns, p: p, done: make([]bool, len(l.cols))}
}

// fill sets cell i, once.
func (r *row) fill(i int) {
	if r.done[i] {
		return
	}
	r.done[i] = true
	if s, ok := r.l.cell(r.ns, r.p, r.l.cols[i]); ok {
		r.ln.Set(i, s)
	}
}

func (r *row) Cell(i int) (string, bool) {
	r.fill(i)
	return r.ln.Get(i)
}

// keep applies the filter to r: false when the filter refuses it, or
// fails (l.err is then set).
func (l *lister) keep(r *row) bool {
	if l.plan.filter == nil {
		return true
	}
	ok, err := l.plan.filter.Match(r)
	if err != nil {
		l.err = applet.Errorf("failed to apply filter: %s", applet.Strerror(unix.EINVAL))
		return false
	}
	return ok
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
		if ns.typ == nstype.Net {
			switch id := m.netnsid(ns, p); {
			case id >= 0:
				return itoa(int(id)), true
			case id == nsfs.NSIDUnassigned:
				return "unassigned", true
			}
		}
	case colNsfs:
		sep := byte('\n')
		if l.plan.noWrap {
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
