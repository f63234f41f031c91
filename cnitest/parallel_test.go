package cnitest

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
)

// TestParallel: 20 ADDs for different containers at once on one bridge
// give 20 distinct addresses, each reachable from the host; a GC that runs
// while 10 more ADDs do, naming all 30 attachments valid, removes none of
// them (no half-made attachment is taken for a stale one); a GC with none
// valid then removes every one.
func TestParallel(t *testing.T) {
	cniPath := setup(t)
	const br, subnet = "nsbtpar0", "10.228.0.0/24"
	removeBridge(t, br)
	conf := func(valid []map[string]string) string {
		c := map[string]any{"cniVersion": "1.1.0", "name": "partest", "type": "nsbox-bridge", "bridge": br, "isGateway": true,
			"ipam": map[string]string{"type": "nsbox", "subnet": subnet}}
		if valid != nil {
			c["cni.dev/valid-attachments"] = valid
		}
		b, _ := json.Marshal(c)
		return string(b)
	}
	var valid []map[string]string
	var nss []string
	for i := 0; i < 30; i++ {
		nss = append(nss, netns(t, fmt.Sprintf("nsbtp%d", i)))
		valid = append(valid, map[string]string{"containerID": fmt.Sprintf("par%d", i), "ifname": "eth0"})
	}
	addrs := make([]string, 30)
	adds := func(from, to int, wg *sync.WaitGroup) {
		for i := from; i < to; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				out, status := plugin(t, cniPath, map[string]string{"CNI_COMMAND": "ADD", "CNI_CONTAINERID": valid[i]["containerID"],
					"CNI_NETNS": nss[i], "CNI_IFNAME": "eth0"}, conf(nil))
				if status != 0 {
					t.Errorf("ADD %d: %s", i, out)
					return
				}
				var r result
				if json.Unmarshal([]byte(out), &r) == nil && len(r.IPs) == 1 {
					addrs[i] = hostAddr(r.IPs[0].Address)
				}
			}(i)
		}
	}
	var wg sync.WaitGroup
	adds(0, 20, &wg)
	wg.Wait()
	adds(20, 30, &wg)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if out, status := plugin(t, cniPath, map[string]string{"CNI_COMMAND": "GC"}, conf(valid)); status != 0 {
			t.Errorf("GC: %s", out)
		}
	}()
	wg.Wait()
	seen := map[string]int{}
	for i, a := range addrs {
		if a == "" {
			t.Fatalf("container %d has no address", i)
		}
		if j, dup := seen[a]; dup {
			t.Errorf("containers %d and %d both have %s", j, i, a)
		}
		seen[a] = i
		if _, err := run(t, nil, "", busybox(t), "ping", "-c", "1", "-W", "2", a); err != nil {
			t.Errorf("container %d (%s) unreachable after the GC: %v", i, a, err)
		}
	}
	if out, status := plugin(t, cniPath, map[string]string{"CNI_COMMAND": "GC"}, conf([]map[string]string{})); status != 0 {
		t.Errorf("GC of all: %s", out)
	}
	for i, ns := range nss {
		if out, _ := run(t, nil, "", "ip", "-n", ns[len("/run/netns/"):], "-o", "link", "show", "eth0"); out != "" {
			t.Errorf("container %d still has eth0 after the GC", i)
		}
	}
	if _, err := os.Stat("/sys/class/net/" + br); err != nil {
		t.Errorf("the bridge went with its ports: %v", err)
	}
}
