package netsetup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/pin"
)

// Removed is one host end Teardown removed.
type Removed struct {
	HostIfName string
	Bridge     string // the bridge its record names
}

// hostHandle opens a netlink handle in the caller's network namespace.
func hostHandle() (*handle, error) {
	h, err := newHandle()
	if err != nil {
		return nil, &Error{Op: "netlink", Err: err}
	}
	return h, nil
}

// ends returns the host ends this package made whose peer is in t's
// network namespace, sorted by name, with their links and the others
// (found), and notes whether t is a namespace NewNetns made whose set-up
// never finished (Target.Unfinished). It looks
// from inside: the veths there whose peer is in the caller's namespace
// (IFLA_LINK_NETNSID) name their peer's index (IFLA_LINK); so the cost
// does not grow with the number of containers. The links are listed
// before the caller's namespace is asked for its id in t: listing them
// makes the kernel give it one (a veth's peer namespace is named by its
// id), which it may not have yet (a veth made by "ip link add ... netns
// T" leaves none).
//
// A host end is this package's when it carries a record (an address's, a
// user's port's or a CNI attachment's), or when it carries no alternative
// name at all and has the name HostIfName gives t and its peer: a set-up
// killed before its first record.
func ends(h *handle, t *Target) (found, error) {
	var f found
	ch, done, err := t.handle()
	if err != nil {
		return f, err
	}
	defer done()
	inside, err := ch.linkList()
	if err != nil {
		return f, &Error{Op: "list links in " + t.Name, Err: err}
	}
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return f, &Error{Op: "open /proc/thread-self/ns/net", Err: err}
	}
	id, err := ch.netNsID(self)
	unix.Close(self)
	if err != nil {
		return f, &Error{Op: "network namespace id of the host in " + t.Name, Err: err}
	}
	for _, l := range inside {
		if l.Name == "lo" {
			t.unfinished = l.Alias == newMark
		}
		if id < 0 || l.Type() != "veth" || l.NetNsID != id || l.ParentIndex == 0 {
			continue // no id: no veth there has its peer here
		}
		hl, err := h.linkByIndex(l.ParentIndex)
		if err != nil {
			continue // gone meanwhile
		}
		br, ok := hostEnd(hl, t.Ino(), l.Name)
		if !ok {
			f.foreign = append(f.foreign, hl.Name+" (peer "+l.Name+")")
			continue
		}
		f.ends = append(f.ends, Removed{HostIfName: hl.Name, Bridge: br})
		f.links = append(f.links, hl)
	}
	sort.Slice(f.links, func(i, j int) bool { return f.links[i].Name < f.links[j].Name })
	sort.Slice(f.ends, func(i, j int) bool { return f.ends[i].HostIfName < f.ends[j].HostIfName })
	return f, nil
}

// noEnd is the failure of a tear-down of t that found none of this
// package's host ends: it names the veths whose peer is there, which are
// not mkbridge's (made by another tool, or by a set-up with --host-ifname
// killed before its first record): those it does not remove.
func noEnd(t *Target, f found) error {
	msg := "no mkbridge interface has its peer in this network namespace"
	if len(f.foreign) > 0 {
		msg += " (" + strings.Join(f.foreign, ", ") + ": no record of mkbridge's, not removed)"
	}
	return &Error{Op: t.Name, Err: Text(msg)}
}

// hostEnd reports whether hl, the host end of a veth whose peer is called
// peer in the namespace of inode ino, is this package's (see ends), and
// the bridge its records name ("" when they name none).
func hostEnd(hl *link, ino uint64, peer string) (bridge string, ok bool) {
	a := hl
	if hl.Type() != "veth" {
		return "", false
	}
	if br, ok := recorded(a.AltNames); ok {
		return br, true
	}
	return "", len(a.AltNames) == 0 && a.Name == HostIfName(ino, peer)
}

// recorded reports whether a link's altnames hold a record of this
// package's (an address's, a user's port's, a CNI attachment's), and the
// bridge they name ("" when none does).
func recorded(altnames []string) (bridge string, ok bool) {
	if br, _, ok := records(altnames); ok {
		return br, true
	}
	if rec, _, ok := ownerRecord(altnames); ok {
		_, rest, _ := strings.Cut(strings.TrimPrefix(rec, OwnerPrefix), ".") // BRIDGE.N
		if i := strings.LastIndexByte(rest, '.'); i > 0 {
			return rest[:i], true
		}
		return "", true
	}
	for _, n := range altnames {
		if strings.HasPrefix(n, AttachmentPrefixBase) {
			return "", true
		}
	}
	return "", false
}

// found is what ends finds in a target: this package's host ends, their
// links, and the others whose peer is there ("HOST (peer IF)"), which a
// tear-down names when it finds none of its own.
type found struct {
	ends    []Removed
	links   []*link
	foreign []string
}

// Unfinished reports whether t is a namespace NewNetns made whose set-up
// never finished, as ends found it (mkbridge --new killed before the end).
func (t *Target) Unfinished() bool { return t.unfinished }

// RemoveUnfinished removes the pin in NetnsDir of t, an unfinished
// namespace (Unfinished), however t was named: the namespace goes with its
// last user. It reports the pin removed ("": t is not unfinished, or no
// pin of it is left there).
func RemoveUnfinished(t *Target) (string, error) {
	if !t.unfinished {
		return "", nil
	}
	var want unix.Stat_t
	if err := unix.Fstat(t.Fd(), &want); err != nil {
		return "", &Error{Op: "stat " + t.Name, Err: err}
	}
	ents, err := os.ReadDir(NetnsDir)
	if err != nil {
		return "", nil
	}
	for _, e := range ents {
		path := filepath.Join(NetnsDir, e.Name())
		var st unix.Stat_t
		if unix.Stat(path, &st) != nil || st.Dev != want.Dev || st.Ino != want.Ino {
			continue
		}
		if err := pin.Unpin(path); err != nil {
			return "", err
		}
		return path, nil
	}
	return "", nil
}

// TeardownTarget removes every host end of this package whose peer is in
// t (deleting a host end deletes its peer in the container, with its
// addresses and routes). No such interface is an error, unless t is
// unfinished (Target.Unfinished, which its caller removes with
// RemoveUnfinished).
func TeardownTarget(t *Target) ([]Removed, error) {
	h, err := NewHost()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.TeardownTarget(t)
}

// TeardownTarget is the package's TeardownTarget on host's handle.
func (host *Host) TeardownTarget(t *Target) ([]Removed, error) {
	h := host.h
	f, err := ends(h, t)
	if err != nil {
		return nil, err
	}
	if len(f.ends) == 0 && !t.unfinished {
		return nil, noEnd(t, f)
	}
	for i, l := range f.links {
		if err := h.linkDel(l.Index); err != nil && !isNotFound(err) {
			return f.ends[:i], &Error{Op: "delete " + l.Name, Err: err}
		}
	}
	return f.ends, nil
}

// TeardownHost removes the host end called name, which must be one this
// package made.
func (host *Host) TeardownHost(name string) (*Removed, error) {
	if err := CheckIfName("host interface", name); err != nil {
		return nil, err
	}
	h := host.h
	l, err := h.linkByName(name)
	if err != nil {
		if isNotFound(err) {
			return nil, &Error{Op: name, Err: Text("no such interface")}
		}
		return nil, &Error{Op: "look up " + name, Err: err}
	}
	br, ok := recorded(l.AltNames)
	if !ok || l.Type() != "veth" || l.Name != name {
		return nil, &Error{Op: name, Err: Text("not a host end made by mkbridge")}
	}
	if err := h.linkDel(l.Index); err != nil {
		return nil, &Error{Op: "delete " + name, Err: err}
	}
	return &Removed{HostIfName: name, Bridge: br}, nil
}

// IsHostEnd reports whether name is a host end made by this package.
func IsHostEnd(name string) bool {
	if CheckIfName("", name) != nil {
		return false
	}
	h, err := newHandle()
	if err != nil {
		return false
	}
	defer h.Close()
	l, err := h.linkByName(name)
	if err != nil {
		return false
	}
	_, ok := recorded(l.AltNames)
	return ok && l.Type() == "veth" && l.Name == name
}

// The reasons DeleteBridge leaves a bridge as it is (see BridgeKept).
const (
	ErrNoBridge     Text = "no such bridge"
	ErrNotABridge   Text = "not a bridge"
	ErrNotOurBridge Text = "not made by mkbridge: not removed"
)

// PortsLeft is DeleteBridge's refusal of a bridge that has ports left.
type PortsLeft int

func (n PortsLeft) Error() string { return fmt.Sprintf("not removed: %d port(s) left", int(n)) }

// BridgeKept reports whether err is DeleteBridge leaving the bridge as it
// is: gone already, not a bridge, not this package's, or ports left on it.
// For the bridges of the host ends a tear-down removed, none of that is a
// failure: each run removes the bridge when it finds it empty, whichever
// run that is.
func BridgeKept(err error) bool {
	var n PortsLeft
	return errors.Is(err, ErrNoBridge) || errors.Is(err, ErrNotABridge) || errors.Is(err, ErrNotOurBridge) || errors.As(err, &n)
}

// DeleteBridge removes bridge name, made by this package, when no port is
// left on it, with its NAT table: the table first, so that a run killed in
// between leaves the bridge, which the next DeleteBridge removes, and
// never the table of a bridge that is gone. What a killed run left of it
// is removed too: the bridge under its pending name (PendingBridgeName),
// and the NAT table of a bridge that is gone; either is enough for
// success when the bridge itself is missing.
func DeleteBridge(name string) error {
	if err := CheckIfName("bridge", name); err != nil {
		return err
	}
	h, err := hostHandle()
	if err != nil {
		return err
	}
	defer h.Close()
	lk, err := lock()
	if err != nil {
		return err
	}
	defer lk.unlock()
	pending, err := removePending(h, PendingBridgeName(name))
	if err != nil {
		return err
	}
	links, err := h.linkList()
	if err != nil {
		return &Error{Op: "list links", Err: err}
	}
	var br *link
	for _, l := range links {
		if l.Name == name {
			br = l
		}
	}
	switch {
	case br == nil:
		nat, err := DisableNAT(name)
		if err != nil || nat || pending {
			return err
		}
		return &Error{Op: name, Err: ErrNoBridge}
	case br.Type() != "bridge":
		return &Error{Op: name, Err: ErrNotABridge}
	case !isOurBridge(br.Alias):
		return &Error{Op: name, Err: ErrNotOurBridge}
	}
	ports := 0
	for _, l := range links {
		if l.MasterIndex == br.Index {
			ports++
		}
	}
	if ports > 0 {
		return &Error{Op: name, Err: PortsLeft(ports)}
	}
	if _, err := DisableNAT(name); err != nil {
		return err
	}
	if err := h.linkDel(br.Index); err != nil && !isNotFound(err) {
		return &Error{Op: "delete bridge " + name, Err: err}
	}
	return nil
}
