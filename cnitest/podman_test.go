package cnitest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPodman: two podman containers on a CNI network of type nsbox-bridge
// (podman's CNI backend, its plugins from CNI_PATH): each has an address,
// the second pings the gateway and the first; everything is removed after.
// podman runs with storage, run and temporary directories of the test's
// own, and with ulimits within this machine's hard limits (podman's
// default nofile is above them, and without CAP_SYS_RESOURCE the runtime
// cannot raise them).
func TestPodman(t *testing.T) {
	needCmds(t, "podman", "runc", "conmon")
	cniPath := setup(t)
	tree := rootfs(t)
	dir := t.TempDir()
	const net, br, subnet = "nsbpod", "nsbpod0", "10.227.0.0/24"
	for _, d := range []string{"net.d", "root", "run", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	nproc := "4096"
	conf := fmt.Sprintf(`[containers]
default_ulimits = ["nofile=1024:1024", "nproc=%[1]s:%[1]s"]
[network]
network_backend = "cni"
cni_plugin_dirs = [%[2]q]
network_config_dir = %[3]q
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
tmp_dir = %[4]q
`, nproc, cniPath, filepath.Join(dir, "net.d"), filepath.Join(dir, "tmp"))
	write(t, filepath.Join(dir, "containers.conf"), conf)
	write(t, filepath.Join(dir, "net.d", net+".conflist"), runtimeConflist(net, br, subnet, filepath.Join(dir, "ipam")))
	removeBridge(t, br)
	env := []string{"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf")}
	podman := func(args ...string) (string, error) {
		return run(t, env, "", append([]string{"podman", "--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
			"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"}, args...)...)
	}
	t.Cleanup(func() {
		if out, err := podman("system", "reset", "--force"); err != nil {
			t.Errorf("podman system reset: %v %s", err, out)
		}
	})
	archive := filepath.Join(dir, "busybox.tar")
	if err := dockerArchive(tree, "localhost/nsbt-busybox:1", []string{"/bin/sh"}, archive); err != nil {
		t.Fatal(err)
	}
	if out, err := podman("load", "-q", "-i", archive); err != nil {
		t.Fatalf("podman load: %v %s", err, out)
	}
	if out, err := podman("run", "-d", "--name", "nsbpa", "--network", net, "localhost/nsbt-busybox:1", "sleep", "600"); err != nil {
		t.Fatalf("podman run: %v %s", err, out)
	}
	out, err := podman("inspect", "-f", "{{(index .NetworkSettings.Networks \""+net+"\").IPAddress}}", "nsbpa")
	ipA := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(ipA, "10.227.0.") {
		t.Fatalf("address of the first container: %q %v", out, err)
	}
	out, err = podman("run", "--rm", "--network", net, "localhost/nsbt-busybox:1", "sh", "-c",
		"ip -4 -o addr show eth0 && ping -c 1 -W 2 10.227.0.1 && ping -c 1 -W 2 "+ipA)
	if err != nil || !strings.Contains(out, "inet 10.227.0.") {
		t.Errorf("second container: %v\n%s", err, out)
	}
	if out, err := podman("rm", "-f", "-t", "0", "nsbpa"); err != nil {
		t.Errorf("podman rm: %v %s", err, out)
	}
	if ends := portsOf(t, br); len(ends) > 0 {
		t.Errorf("ports left on %s after the containers went: %v", br, ends)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// portsOf lists the ports of bridge br, once none is left or after 2 s:
// DEL leaves the deletion of a host end to a process of its own.
func portsOf(t *testing.T, br string) []string {
	var out []string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		es, _ := os.ReadDir("/sys/class/net/" + br + "/brif")
		out = out[:0]
		for _, e := range es {
			out = append(out, e.Name())
		}
		if len(out) == 0 || time.Now().After(deadline) {
			return out
		}
	}
}

// gone reports whether path does not exist, or no longer within 2 s (a
// host end DEL released is deleted by a process of its own).
func gone(path string) bool {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err != nil {
			return true
		}
	}
	return false
}
