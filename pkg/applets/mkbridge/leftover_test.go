package mkbridge_test

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/internal/testutil"
)

// What a mkbridge (or ip) killed half-way leaves, made here on purpose,
// is recognised and removed by mkbridge -d; faultinject kills the binary
// at random points for the rest.

// TestDeleteLeftovers: -d NAME removes an empty /run/netns/NAME of mode 0
// (killed between creating it and binding the namespace onto it) and --new NAME
// makes a namespace over one; -d finds a host end made without a namespace
// id in the target (ip link add ... netns X) and one never recorded (its
// set-up killed before its first record), by the name mkbridge gives; it
// names one it cannot tell as its own.
func TestDeleteLeftovers(t *testing.T) {
	bin, br := setup(t)
	name := fmt.Sprintf("nsbt-left-%d", os.Getpid())
	path := "/run/netns/" + name
	t.Cleanup(func() { testutil.Run(t, "ip", "netns", "del", name) })
	if err := os.WriteFile(path, nil, 0); err != nil {
		t.Fatal(err)
	}
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", name), 0)
	if _, err := os.Lstat(path); err == nil {
		t.Fatalf("-d left the empty %s", path)
	}
	if err := os.WriteFile(path, nil, 0); err != nil {
		t.Fatal(err)
	}
	host, _ := parseOut(t, testutil.Run(t, bin, "mkbridge", "--new", "-b", br, "--bridge-addr", "10.201.30.1/24", name))
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", "--delete-bridge", name), 0)
	if linkExists(host) || linkExists(br) {
		t.Fatalf("-d --delete-bridge left %s or %s", host, br)
	}

	// A recorded end, made the way ip makes it: no namespace id yet.
	v := fmt.Sprintf("nsbt%dv", os.Getpid()%100000)
	testutil.Must(t, testutil.Run(t, "ip", "link", "add", v, "type", "veth", "peer", "name", "eth0", "netns", name), 0)
	testutil.Must(t, testutil.Run(t, "ip", "link", "property", "add", "dev", v, "altname", "nsbox-mkbridge."+br+".10.201.30.9"), 0)
	testutil.Must(t, testutil.Run(t, bin, "mkbridge", "-d", name), 0)
	if linkExists(v) {
		t.Fatalf("-d did not find %s", v)
	}

	// An end never recorded, under the name mkbridge gives it.
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	unrecorded := fmt.Sprintf("nsb%x", st.Ino)
	testutil.Must(t, testutil.Run(t, "ip", "link", "add", unrecorded, "type", "veth", "peer", "name", "eth0", "netns", name), 0)
	r := testutil.Run(t, bin, "mkbridge", "-d", "-v", name)
	if want := "mkbridge: removed " + unrecorded + " (a set-up killed before it was on a bridge)\n"; r.Code != 0 || r.Stderr != want {
		t.Fatalf("-d of a never recorded end: want %q, got %s", want, r)
	}
	if linkExists(unrecorded) {
		t.Errorf("%s left", unrecorded)
	}
	// Nothing left of mkbridge's: -d says so, and names a veth that is
	// not its own (another tool's, or a --host-ifname set-up killed
	// before its first record), which it leaves.
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "-d", name), "mkbridge: "+path+": no mkbridge interface has its peer in this network namespace\n")
	foreign := fmt.Sprintf("nsbt%df", os.Getpid()%100000)
	testutil.Must(t, testutil.Run(t, "ip", "link", "add", foreign, "type", "veth", "peer", "name", "eth1", "netns", name), 0)
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "-d", name), "mkbridge: "+path+": no mkbridge interface has its peer in this network namespace ("+
		foreign+" (peer eth1): no record of mkbridge's, not removed)\n")
	if !linkExists(foreign) {
		t.Errorf("-d removed %s", foreign)
	}
	testutil.Must(t, testutil.Run(t, "ip", "netns", "del", name), 0)
}

// TestDeleteGoesOn: -d of several targets removes what each has, says
// which have nothing, and exits 1 then: the tear-down of a set-up of
// several targets killed half-way.
func TestDeleteGoesOn(t *testing.T) {
	bin, br := setup(t)
	a, b := container(t, bin), container(t, bin)
	host, _ := parseOut(t, testutil.Run(t, bin, "mkbridge", "-b", br, "--bridge-addr", "10.201.31.1/24", pidOf(b)))
	testutil.Fails(t, testutil.Run(t, bin, "mkbridge", "-d", "--delete-bridge", pidOf(a), pidOf(b)),
		fmt.Sprintf("mkbridge: /proc/%d/ns/net: no mkbridge interface has its peer in this network namespace\n", a.Pid()))
	if linkExists(host) || linkExists(br) {
		t.Errorf("-d left %s or %s", host, br)
	}
}
