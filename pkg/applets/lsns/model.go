package lsns

import (
	"sort"
	"strconv"

	nstype "github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsfs"
	"github.com/nsbox/nsbox/pkg/scols"
)

// This file builds what lsns lists from the scan, as util-linux 2.43 does:
// the namespaces of processes (/proc/PID/ns), those held only by an open
// file descriptor or a socket, those held only by an nsfs bind mount, and,
// for the -T trees, the parent and owner namespaces nothing else shows
// ("ghosts"). A namespace found through a file (fd, socket, pin) brings
// its owner and parent chain with it, as far as the types asked for go.

const (
	relParent = 0
	relOwner  = 1
)

type proc struct {
	pid int
	ns  [nstype.NTypes]uint64

	statRead bool
	ppid     int
	uidRead  bool
	uid      uint32
	outline  *scols.Line
}

type namespace struct {
	id     uint64
	typ    nstype.Type
	nprocs int
	proc   *proc   // the lowest PID
	procs  []*proc // ascending PID

	relID    [2]uint64 // parent (pid, user), owner; 0: none
	relKnown bool
	rel      [2]*namespace
	outline  *scols.Line

	uidFallback uint32 // NS_GET_OWNER_UID, for a user namespace without processes
	viaFile     bool   // added through an opened file (fd, socket, pin)

	fds  []nsfs.FD // processes' descriptors that hold it
	pins []string  // its nsfs mount points, mountinfo order
}

type model struct {
	types [nstype.NTypes]bool

	procs []*proc
	byPid map[int]*proc

	list []*namespace // in the order found
	byID map[uint64]*namespace

	pins     []nsfs.Pin
	wantNSID bool // NETNSID is shown or filtered on
	route    *nsfs.Route
	noRoute  bool             // the netlink socket could not be opened
	nsids    map[uint64]int32 // netns inode -> RTM_GETNSID answer (or nsidUnusable)
	users    users
}

const nsidUnusable = -2

// build scans /proc and the mounts for the namespaces of types; with
// wantNSID it asks the NETNSID of the network namespaces it finds through
// files while it has them open.
func build(types [nstype.NTypes]bool, mounts []nsfs.Mount, wantNSID bool) (*model, error) {
	m := &model{types: types, byPid: map[int]*proc{}, byID: map[uint64]*namespace{}, nsids: map[uint64]int32{}, wantNSID: wantNSID}
	snap, err := nsfs.Scan(nsfs.ScanOptions{Types: types, FDs: true})
	if err != nil {
		return nil, err
	}
	m.procs = make([]*proc, len(snap.Procs))
	backing := make([]proc, len(snap.Procs))
	for i := range snap.Procs {
		p := &backing[i]
		p.pid, p.ns = snap.Procs[i].Pid, snap.Procs[i].Ns
		m.procs[i] = p
		m.byPid[p.pid] = p
	}
	// namespaces of processes (read_assigned_namespaces)
	for _, p := range m.procs {
		for t := nstype.Type(0); t < nstype.NTypes; t++ {
			id := p.ns[t]
			if id == 0 {
				continue
			}
			ns := m.byID[id]
			if ns == nil {
				ns = m.add(t, id)
			}
			ns.nprocs++
			ns.procs = append(ns.procs, p)
			if ns.proc == nil || ns.proc.pid > p.pid {
				ns.proc = p
			}
		}
	}
	// descriptors: nsfs files, then the network namespaces of sockets
	var socks nsfs.Sockets
	seenSock := map[uint64]bool{}
	notAsked := map[uint64]bool{}
	for _, fd := range snap.FDs {
		if fd.Socket == 0 && !notAsked[fd.Ino] {
			m.addFD(fd, notAsked)
		}
	}
	if types[nstype.Net] {
		for _, fd := range snap.FDs {
			if fd.Socket == 0 || seenSock[fd.Socket] {
				continue
			}
			seenSock[fd.Socket] = true
			f, err := socks.Netns(fd.Pid, fd.Fd, fd.Socket)
			if err != nil {
				continue
			}
			ns := m.byID[f.Ino()]
			if ns == nil || !ns.viaFile {
				ns = m.addFromFile(f, nstype.Net, true)
			}
			if ns != nil && ns.nprocs == 0 {
				ns.fds = append(ns.fds, fd)
			}
			f.Close()
		}
		socks.Close()
	}
	// nsfs bind mounts (read_persistent_namespaces)
	m.pins = nsfs.Pins(mounts)
	for _, pin := range m.pins {
		if ns := m.byID[pin.Ino]; ns != nil {
			continue
		}
		if !types[pin.Type] {
			continue
		}
		f, err := nsfs.Open(pin.Target, pin.Ino)
		if err != nil {
			continue
		}
		m.addFromFile(f, pin.Type, false)
		f.Close()
	}
	for _, pin := range m.pins {
		if ns := m.byID[pin.Ino]; ns != nil && ns.typ == pin.Type {
			ns.pins = append(ns.pins, pin.Target)
		}
	}
	return m, nil
}

// addFD adds the namespace that the nsfs descriptor fd holds
// (read_opened_namespaces), asking the kernel its type when the
// descriptor's link does not name it; notAsked collects the namespaces
// found to be of a type not asked for.
func (m *model) addFD(fd nsfs.FD, notAsked map[uint64]bool) {
	t, typed := fd.Type, fd.Typed
	if ns := m.byID[fd.Ino]; ns != nil {
		if ns.viaFile {
			ns.fds = append(ns.fds, fd)
			return
		}
		t, typed = ns.typ, true
	}
	if typed && !m.types[t] {
		return
	}
	f, err := nsfs.OpenFD(fd.Pid, fd.Fd, fd.Ino)
	if err != nil {
		return
	}
	defer f.Close()
	if !typed {
		if t, err = f.Type(); err != nil {
			return
		}
		if !m.types[t] {
			notAsked[fd.Ino] = true
			return
		}
	}
	if ns := m.addFromFile(f, t, true); ns != nil {
		ns.fds = append(ns.fds, fd)
	}
}

func (m *model) add(t nstype.Type, id uint64) *namespace {
	ns := &namespace{id: id, typ: t}
	m.list = append(m.list, ns)
	m.byID[id] = ns
	return ns
}

// lookup is get_namespace; viaFileOnly sees only the namespaces added
// through files, as util-linux does while it still reads processes.
func (m *model) lookup(id uint64, viaFileOnly bool) *namespace {
	ns := m.byID[id]
	if ns == nil || (viaFileOnly && !ns.viaFile) {
		return nil
	}
	return ns
}

// addFromFile is add_namespace_for_nsfd: the namespace open as f, of type
// t, with its parent (pid, user) and owner, recursively; nil when t was
// not asked for.
func (m *model) addFromFile(f *nsfs.File, t nstype.Type, viaFileOnly bool) *namespace {
	if !m.types[t] {
		return nil
	}
	id := f.Ino()
	ns := m.byID[id]
	if ns == nil {
		ns = m.add(t, id)
	}
	ns.viaFile = true
	if _, ok := m.nsids[id]; !ok && t == nstype.Net && m.wantNSID {
		m.nsids[id] = m.askNSID(f)
	}
	var pf, of *nsfs.File
	var pino, oino uint64
	if t == nstype.Pid || t == nstype.User {
		if p, err := f.Parent(); err == nil {
			pf, pino = p, p.Ino()
			defer p.Close()
		}
	}
	if o, err := f.Owner(); err == nil {
		of, oino = o, o.Ino()
		defer o.Close()
	}
	ns.relID, ns.relKnown = [2]uint64{pino, oino}, true
	if t == nstype.User {
		if uid, err := f.OwnerUID(); err == nil {
			ns.uidFallback = uid
		}
	}
	if (t == nstype.User || t == nstype.Pid) && pino != id && pino != 0 {
		ns.rel[relParent] = m.lookup(pino, viaFileOnly)
		if ns.rel[relParent] == nil {
			ns.rel[relParent] = m.addFromFile(pf, t, viaFileOnly)
			if pino == oino {
				ns.rel[relOwner] = ns.rel[relParent]
			}
		}
	}
	if ns.rel[relOwner] == nil && oino != 0 {
		ns.rel[relOwner] = m.lookup(oino, viaFileOnly)
		if ns.rel[relOwner] == nil {
			ns.rel[relOwner] = m.addFromFile(of, nstype.User, viaFileOnly)
		}
	}
	return ns
}

// related fills ns.relID from a process's namespace file: PNS and ONS.
func (m *model) related(ns *namespace) {
	if ns.relKnown {
		return
	}
	ns.relKnown = true
	try := func(p *proc) bool {
		f, err := nsfs.OpenProcNs(p.pid, ns.typ, ns.id)
		if err != nil {
			return false
		}
		defer f.Close()
		pino, oino, _ := f.Related(ns.typ)
		ns.relID = [2]uint64{pino, oino}
		return true
	}
	if ns.proc != nil && try(ns.proc) {
		return
	}
	for _, p := range ns.procs {
		if p != ns.proc && try(p) {
			return
		}
	}
}

// connect links every namespace to its parent and owner for the -T trees,
// reading the missing ones through the kernel (connect_namespaces and
// read_ghost_namespaces).
func (m *model) connect() {
	for _, ns := range m.list {
		m.related(ns)
	}
	var orphans [2][]*namespace
	for _, ns := range m.list {
		if ns.typ == nstype.User || ns.typ == nstype.Pid {
			if r := m.byID[ns.relID[relParent]]; r != nil && ns.relID[relParent] != 0 {
				ns.rel[relParent] = r
			}
		}
		if r := m.byID[ns.relID[relOwner]]; r != nil && ns.relID[relOwner] != 0 {
			ns.rel[relOwner] = r
		}
		for r := 0; r < 2; r++ {
			if ns.relID[r] != 0 && ns.rel[r] == nil {
				orphans[r] = append(orphans[r], ns)
			}
		}
	}
	for r := 0; r < 2; r++ {
		for i := len(orphans[r]) - 1; i >= 0; i-- {
			m.ghost(orphans[r][i], r)
		}
	}
}

func (m *model) ghost(orphan *namespace, r int) {
	if orphan.proc == nil {
		return
	}
	if orphan.rel[r] = m.byID[orphan.relID[r]]; orphan.rel[r] != nil {
		return
	}
	f, err := nsfs.OpenProcNs(orphan.proc.pid, orphan.typ, orphan.id)
	if err != nil {
		return
	}
	defer f.Close()
	var g *nsfs.File
	t := nstype.User
	if r == relParent {
		if orphan.typ != nstype.Pid && orphan.typ != nstype.User {
			return
		}
		t = orphan.typ
		g, err = f.Parent()
	} else {
		g, err = f.Owner()
	}
	if err != nil {
		return
	}
	defer g.Close()
	if g.Ino() != orphan.relID[r] {
		return
	}
	orphan.rel[r] = m.addFromFile(g, t, false)
}

// sorted is the namespaces by inode.
func (m *model) sorted() []*namespace {
	s := append([]*namespace(nil), m.list...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].id < s[j].id })
	return s
}

// readStat reads p's parent PID once.
func (m *model) readStat(p *proc) {
	if p.statRead {
		return
	}
	p.statRead = true
	if st, err := nsfs.ReadStat(p.pid); err == nil {
		p.ppid = st.PPid
	}
}

// parent is the process's parent, when lsns saw it.
func (m *model) parent(p *proc) *proc {
	m.readStat(p)
	if p.ppid <= 0 {
		return nil
	}
	return m.byPid[p.ppid]
}

func (m *model) uid(p *proc) uint32 {
	if !p.uidRead {
		p.uidRead = true
		p.uid, _ = nsfs.ProcUID(p.pid)
	}
	return p.uid
}

// netnsid is the RTM_GETNSID id of the network namespace ns, asked once:
// through the namespace file of p, its lowest-PID process, or, for a
// namespace without processes, taken when it was found through a file
// (descriptor, socket, pin); nsidUnusable when it cannot be asked.
func (m *model) netnsid(ns *namespace, p *proc) int32 {
	if id, ok := m.nsids[ns.id]; ok {
		return id
	}
	id := int32(nsidUnusable)
	if p != nil {
		if f, err := nsfs.OpenProcNs(p.pid, nstype.Net, ns.id); err == nil {
			id = m.askNSID(f)
			f.Close()
		}
	}
	m.nsids[ns.id] = id
	return id
}

// askNSID asks the id of the network namespace open as f, opening the
// netlink socket at the first question.
func (m *model) askNSID(f *nsfs.File) int32 {
	if m.route == nil && !m.noRoute {
		r, err := nsfs.OpenRoute()
		m.route, m.noRoute = r, err != nil
	}
	if m.route == nil {
		return nsidUnusable
	}
	id, err := m.route.NSID(f.Fd())
	if err != nil {
		return nsidUnusable
	}
	return id
}

// nsfsPaths is the NSFS column: the mount points of the namespace, each
// once, joined by sep.
func (m *model) nsfsPaths(ns *namespace, sep byte) (string, bool) {
	s := ""
	for i, p := range ns.pins {
		if i == 0 {
			s = p
			continue
		}
		if !pathIncluded(s, p, sep) {
			s += string(sep) + p
		}
	}
	return s, len(ns.pins) > 0
}

// pathIncluded is util-linux's is_path_included: elt is one of the
// sep-separated elements of set (by its first occurrence as a substring).
func pathIncluded(set, elt string, sep byte) bool {
	i := indexOf(set, elt)
	if i < 0 {
		return false
	}
	end := i + len(elt)
	if i == 0 {
		return len(set) == len(elt) || set[len(elt)] == sep
	}
	return set[i-1] == sep && (end == len(set) || set[end] == sep)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func (m *model) close() {
	if m.route != nil {
		m.route.Close()
	}
}

func itoa(n int) string    { return strconv.Itoa(n) }
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
