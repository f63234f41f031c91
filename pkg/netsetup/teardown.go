package netsetup

import (
	"fmt"
	"sort"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Removed is one host end Teardown removed.
type Removed struct {
	HostIfName string
	Bridge     string // the bridge its record names
}

// hostHandle opens a netlink handle in the caller's network namespace.
func hostHandle() (*netlink.Handle, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, &Error{Op: "netlink", Err: err}
	}
	return h, nil
}

// Ends returns the host ends this package made whose peer is in t's
// network namespace, sorted by name. It looks from inside: the veths
// there whose peer is in the caller's namespace (IFLA_LINK_NETNSID) name
// their peer's index (IFLA_LINK); so the cost does not grow with the
// number of containers.
func Ends(h *netlink.Handle, t *Target) ([]Removed, []netlink.Link, error) {
	ch, done, err := t.handle()
	if err != nil {
		return nil, nil, err
	}
	defer done()
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, &Error{Op: "open /proc/thread-self/ns/net", Err: err}
	}
	id, err := ch.GetNetNsIdByFd(self)
	unix.Close(self)
	if err != nil {
		return nil, nil, &Error{Op: "network namespace id of the host in " + t.Name, Err: err}
	}
	if id < 0 { // no id: no veth there has its peer here
		return nil, nil, nil
	}
	inside, err := linkList(ch)
	if err != nil {
		return nil, nil, &Error{Op: "list links in " + t.Name, Err: err}
	}
	var out []Removed
	var ls []netlink.Link
	for _, l := range inside {
		a := l.Attrs()
		if l.Type() != "veth" || a.NetNsID != id || a.ParentIndex == 0 {
			continue
		}
		hl, err := h.LinkByIndex(a.ParentIndex)
		if err != nil {
			continue // gone meanwhile
		}
		br, _, ok := records(hl.Attrs().AltNames)
		if !ok || hl.Type() != "veth" {
			continue
		}
		out = append(out, Removed{HostIfName: hl.Attrs().Name, Bridge: br})
		ls = append(ls, hl)
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Attrs().Name < ls[j].Attrs().Name })
	sort.Slice(out, func(i, j int) bool { return out[i].HostIfName < out[j].HostIfName })
	return out, ls, nil
}

// TeardownTarget removes every host end of this package whose peer is in
// t (deleting a host end deletes its peer in the container, with its
// addresses and routes). No such interface is an error.
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
	ends, links, err := Ends(h, t)
	if err != nil {
		return nil, err
	}
	if len(ends) == 0 {
		return nil, &Error{Op: t.Name, Err: Text("no mkbridge interface has its peer in this network namespace")}
	}
	for i, l := range links {
		if err := h.LinkDel(l); err != nil && !isNotFound(err) {
			return ends[:i], &Error{Op: "delete " + l.Attrs().Name, Err: err}
		}
	}
	return ends, nil
}

// TeardownHost removes the host end called name, which must be one this
// package made.
func (host *Host) TeardownHost(name string) (*Removed, error) {
	if err := CheckIfName("host interface", name); err != nil {
		return nil, err
	}
	h := host.h
	l, err := h.LinkByName(name)
	if err != nil {
		if isNotFound(err) {
			return nil, &Error{Op: name, Err: Text("no such interface")}
		}
		return nil, &Error{Op: "look up " + name, Err: err}
	}
	br, _, ok := records(l.Attrs().AltNames)
	if !ok || l.Type() != "veth" || l.Attrs().Name != name {
		return nil, &Error{Op: name, Err: Text("not a host end made by mkbridge")}
	}
	if err := h.LinkDel(l); err != nil {
		return nil, &Error{Op: "delete " + name, Err: err}
	}
	return &Removed{HostIfName: name, Bridge: br}, nil
}

// IsHostEnd reports whether name is a host end made by this package.
func IsHostEnd(name string) bool {
	if CheckIfName("", name) != nil {
		return false
	}
	l, err := netlink.LinkByName(name)
	if err != nil {
		return false
	}
	_, _, ok := records(l.Attrs().AltNames)
	return ok && l.Type() == "veth" && l.Attrs().Name == name
}

// DeleteBridge removes bridge name, made by this package, when no port is
// left on it, and its NAT rules.
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
	links, err := linkList(h)
	if err != nil {
		return &Error{Op: "list links", Err: err}
	}
	var br netlink.Link
	for _, l := range links {
		if l.Attrs().Name == name {
			br = l
		}
	}
	if br == nil {
		return &Error{Op: name, Err: Text("no such bridge")}
	}
	if br.Type() != "bridge" {
		return &Error{Op: name, Err: Text("not a bridge")}
	}
	if !isOurBridge(br.Attrs().Alias) {
		return &Error{Op: name, Err: Text("not made by mkbridge: not removed")}
	}
	ports := 0
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			ports++
		}
	}
	if ports > 0 {
		return &Error{Op: name, Err: Text(fmt.Sprintf("not removed: %d port(s) left", ports))}
	}
	if err := h.LinkDel(br); err != nil {
		return &Error{Op: "delete bridge " + name, Err: err}
	}
	if _, err := DisableNAT(name); err != nil {
		return err
	}
	return nil
}
