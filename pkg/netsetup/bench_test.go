package netsetup

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"testing"
)

// BenchmarkSetup is one Setup (and one TeardownTarget) in-process, on a
// bridge that exists, for a network namespace made beforehand: mkbridge's
// own work without the process start. Root; go test -run '^$' -bench Setup.
func BenchmarkSetup(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	br := fmt.Sprintf("nsbt%d-b", os.Getpid()%100000)
	ns := fmt.Sprintf("nsbt%d-bns", os.Getpid()%100000)
	defer DeleteBridge(br)
	var setup, teardown float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			b.Fatalf("ip netns add: %v %s", err, out)
		}
		tg, err := OpenTarget(ns)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := Setup(&Config{Bridge: br, BridgeAddrs: []netip.Prefix{netip.MustParsePrefix("10.201.40.1/24")}, Target: tg, IfName: "eth0"})
		if err != nil {
			b.Fatal(err)
		}
		_ = res
		b.StopTimer()
		if _, err := TeardownTarget(tg); err != nil {
			b.Fatal(err)
		}
		tg.Close()
		exec.Command("ip", "netns", "del", ns).Run()
		b.StartTimer()
	}
	_, _ = setup, teardown
}
