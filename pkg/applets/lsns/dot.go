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
func writeDot(e *applet.Env, o *options, m *model) error {
	w := bufio.NewWriterSize(e.Stdout, 64*1024)
	sel := map[*namespace]bool{}
	var onlyNs *namespace
	if o.fltrNs != 0 {
		onlyNs = m.byID[o.fltrNs]
		if onlyNs == nil {
			return applet.Errorf("not found namespace: %d", o.fltrNs)
		}
		sel[onlyNs] = true
	} else {
		var self *proc
		if o.fltrPid != 0 {
			self = m.byPid[o.fltrPid]
		}
		l := &lister{e: e, o: o, m: m, t: &scols.Table{}}
		for _, id := range []int{colNS} {
			l.addColumn(id, 0)
		}
		if err := l.initFilter(); err != nil {
			return err
		}
		for _, ns := range m.sorted() {
			if o.fltrPid != 0 && (self == nil || self.ns[ns.typ] != ns.id) {
				continue
			}
			if o.persist && ns.nprocs != 0 {
				continue
			}
			if o.filter != nil {
				ln := l.t.NewLine(nil)
				ok, err := o.filter.Match(rowFunc(func(i int) (string, bool) {
					if _, set := ln.Get(i); !set {
						if s, ok := l.cell(ns, ns.proc, l.cols[i]); ok {
							ln.Set(i, s)
						}
					}
					return ln.Get(i)
				}))
				if err != nil {
					return applet.Errorf("failed to apply filter: Invalid argument")
				}
				if !ok {
					continue
				}
			}
			sel[ns] = true
		}
	}
	// owners and parents come along
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
	nss := make([]*namespace, 0, len(sel))
	for ns := range sel {
		nss = append(nss, ns)
	}
	sort.Slice(nss, func(i, j int) bool { return nss[i].id < nss[j].id })

	fmt.Fprintf(w, "digraph lsns {\n")
	fmt.Fprintf(w, "\trankdir=LR;\n")
	fmt.Fprintf(w, "\tnode [shape=box, fontname=\"monospace\", fontsize=10];\n")
	fmt.Fprintf(w, "\tedge [fontname=\"monospace\", fontsize=9];\n")
	procs := map[int]bool{}
	procNode := func(pid int) string {
		id := fmt.Sprintf("pid%d", pid)
		if !procs[pid] {
			procs[pid] = true
			cmd, _ := nsfs.Command(pid)
			if len(cmd) > 40 {
				cmd = cmd[:40] + "..."
			}
			fmt.Fprintf(w, "\t%s [shape=ellipse, label=%s];\n", id, dotQuote(fmt.Sprintf("%d %s", pid, cmd)))
		}
		return id
	}
	for _, ns := range nss {
		label := fmt.Sprintf("%s %d\n", ns.typ, ns.id)
		switch {
		case ns.nprocs == 1:
			label += "1 process"
		case ns.nprocs > 1:
			label += fmt.Sprintf("%d processes", ns.nprocs)
		default:
			label += "no process"
			if ns.typ == nstype.User {
				label += fmt.Sprintf("\ncreated by %s", m.users.name(ns.uidFallback))
			}
		}
		style := ""
		if ns.nprocs == 0 {
			style = ", style=rounded"
		}
		fmt.Fprintf(w, "\tns%d [label=%s%s];\n", ns.id, dotQuote(label), style)
	}
	for _, ns := range nss {
		if r := ns.rel[relOwner]; r != nil && sel[r] {
			fmt.Fprintf(w, "\tns%d -> ns%d [style=dashed, label=\"owns\"];\n", r.id, ns.id)
		}
		if r := ns.rel[relParent]; r != nil && sel[r] {
			fmt.Fprintf(w, "\tns%d -> ns%d [label=\"parent\"];\n", r.id, ns.id)
		}
	}
	for _, ns := range nss {
		if ns == onlyNs {
			for _, p := range ns.procs {
				fmt.Fprintf(w, "\t%s -> ns%d [style=dotted];\n", procNode(p.pid), ns.id)
			}
		} else if ns.proc != nil {
			label := "lowest PID"
			if ns.nprocs == 1 {
				label = "only process"
			}
			fmt.Fprintf(w, "\t%s -> ns%d [style=dotted, label=%s];\n", procNode(ns.proc.pid), ns.id, dotQuote(label))
		}
		for _, fd := range ns.fds {
			what := "fd"
			if fd.Socket != 0 {
				what = "socket fd"
			}
			fmt.Fprintf(w, "\t%s -> ns%d [style=dotted, label=\"%s %d\"];\n", procNode(fd.Pid), ns.id, what, fd.Fd)
		}
		for i, p := range ns.pins {
			fmt.Fprintf(w, "\tpin%d_%d [shape=note, label=%s];\n", ns.id, i, dotQuote(p))
			fmt.Fprintf(w, "\tpin%d_%d -> ns%d [style=dotted, label=\"pin\"];\n", ns.id, i, ns.id)
		}
	}
	fmt.Fprintf(w, "}\n")
	w.Flush() // a write error is the applet wrapper's to report
	return nil
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
