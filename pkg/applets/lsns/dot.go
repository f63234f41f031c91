package lsns

import (
	"bufio"
	"fmt"
	"sort"
	"strings"

	"github.com/nsbox/nsbox/pkg/applet"
	nstype "github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsfs"
	"github.com/nsbox/nsbox/pkg/scols"
)

// writeDot is --dot: the namespaces as a Graphviz digraph. Each namespace
// is a box labelled with its type, inode and process count; a dashed edge
// goes from each user namespace to the namespaces it owns, a solid one
// from each pid or user namespace to its children. The lowest-PID process
// of each namespace, the processes that hold one through an open file
// descriptor or a socket, and the nsfs mounts (pins) that keep one alive
// are nodes too, with an edge to what they hold. -t, -p, -P, -Q and a
// <namespace> argument choose the namespaces; their owners and parents are
// drawn with them.
func writeDot(e *applet.Env, p *plan, m *model) error {
	sel, only, err := dotNamespaces(e, p, m)
	if err != nil {
		return err
	}
	nss := make([]*namespace, 0, len(sel))
	for ns := range sel {
		nss = append(nss, ns)
	}
	sort.Slice(nss, func(i, j int) bool { return nss[i].id < nss[j].id })

	d := &dotWriter{w: bufio.NewWriterSize(e.Stdout, 64*1024), m: m, procs: map[int]bool{}}
	fmt.Fprintf(d.w, "digraph lsns {\n")
	fmt.Fprintf(d.w, "\trankdir=LR;\n")
	fmt.Fprintf(d.w, "\tnode [shape=box, fontname=\"monospace\", fontsize=10];\n")
	fmt.Fprintf(d.w, "\tedge [fontname=\"monospace\", fontsize=9];\n")
	for _, ns := range nss {
		d.namespace(ns)
	}
	for _, ns := range nss {
		d.relations(ns, sel)
	}
	for _, ns := range nss {
		d.holders(ns, ns == only)
	}
	fmt.Fprintf(d.w, "}\n")
	d.w.Flush() // a write error is the applet wrapper's to report
	return nil
}

// dotNamespaces is the namespaces --dot draws: those p chooses and its
// filter keeps, or p.ns alone (only), with their owners and parents.
func dotNamespaces(e *applet.Env, p *plan, m *model) (sel map[*namespace]bool, only *namespace, err error) {
	sel = map[*namespace]bool{}
	if p.ns != 0 {
		only = m.byID[p.ns]
		if only == nil {
			return nil, nil, applet.Errorf("not found namespace: %d", p.ns)
		}
		sel[only] = true
	} else {
		l, err := newLister(e, p, m, &scols.Table{}, []int{colNS})
		if err != nil {
			return nil, nil, err
		}
		for _, ns := range m.chosen(p) {
			if p.filter != nil && !l.keep(l.row(l.t.NewLine(nil), ns, ns.proc)) {
				if l.err != nil {
					return nil, nil, l.err
				}
				continue
			}
			sel[ns] = true
		}
	}
	var up func(ns *namespace)
	up = func(ns *namespace) {
		for _, r := range ns.rel {
			if r != nil && !sel[r] {
				sel[r] = true
				up(r)
			}
		}
	}
	for ns := range sel {
		up(ns)
	}
	return sel, only, nil
}

// dotWriter writes the nodes and edges of the graph.
type dotWriter struct {
	w     *bufio.Writer
	m     *model
	procs map[int]bool // the process nodes written
}

// procNode is the node of process pid, written the first time.
func (d *dotWriter) procNode(pid int) string {
	id := fmt.Sprintf("pid%d", pid)
	if !d.procs[pid] {
		d.procs[pid] = true
		cmd, _ := nsfs.Command(pid)
		if len(cmd) > 40 {
			cmd = cmd[:40] + "..."
		}
		fmt.Fprintf(d.w, "\t%s [shape=ellipse, label=%s];\n", id, dotQuote(fmt.Sprintf("%d %s", pid, cmd)))
	}
	return id
}

// namespace is the node of ns.
func (d *dotWriter) namespace(ns *namespace) {
	label := fmt.Sprintf("%s %d\n", ns.typ, ns.id)
	switch {
	case ns.nprocs == 1:
		label += "1 process"
	case ns.nprocs > 1:
		label += fmt.Sprintf("%d processes", ns.nprocs)
	default:
		label += "no process"
		if ns.typ == nstype.User {
			label += fmt.Sprintf("\ncreated by %s", d.m.users.name(ns.uidFallback))
		}
	}
	style := ""
	if ns.nprocs == 0 {
		style = ", style=rounded"
	}
	fmt.Fprintf(d.w, "\tns%d [label=%s%s];\n", ns.id, dotQuote(label), style)
}

// relations is the edges from ns's owner and parent, when drawn.
func (d *dotWriter) relations(ns *namespace, sel map[*namespace]bool) {
	if r := ns.rel[relOwner]; r != nil && sel[r] {
		fmt.Fprintf(d.w, "\tns%d -> ns%d [style=dashed, label=\"owns\"];\n", r.id, ns.id)
	}
	if r := ns.rel[relParent]; r != nil && sel[r] {
		fmt.Fprintf(d.w, "\tns%d -> ns%d [label=\"parent\"];\n", r.id, ns.id)
	}
}

// holders is the edges from what holds ns: its lowest-PID process (all
// its processes when allProcs), descriptors and pins.
func (d *dotWriter) holders(ns *namespace, allProcs bool) {
	if allProcs {
		for _, p := range ns.procs {
			fmt.Fprintf(d.w, "\t%s -> ns%d [style=dotted];\n", d.procNode(p.pid), ns.id)
		}
	} else if ns.proc != nil {
		label := "lowest PID"
		if ns.nprocs == 1 {
			label = "only process"
		}
		fmt.Fprintf(d.w, "\t%s -> ns%d [style=dotted, label=%s];\n", d.procNode(ns.proc.pid), ns.id, dotQuote(label))
	}
	for _, fd := range ns.fds {
		what := "fd"
		if fd.Socket != 0 {
			what = "socket fd"
		}
		fmt.Fprintf(d.w, "\t%s -> ns%d [style=dotted, label=\"%s %d\"];\n", d.procNode(fd.Pid), ns.id, what, fd.Fd)
	}
	for i, p := range ns.pins {
		fmt.Fprintf(d.w, "\tpin%d_%d [shape=note, label=%s];\n", ns.id, i, dotQuote(p))
		fmt.Fprintf(d.w, "\tpin%d_%d -> ns%d [style=dotted, label=\"pin\"];\n", ns.id, i, ns.id)
	}
}

// dotQuote is a Graphviz double-quoted string; "\n" in s becomes a line
// break of the label.
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
