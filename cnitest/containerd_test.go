package cnitest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestContainerdCRI: two CRI pods of containerd (its CRI plugin, its CNI
// configuration directory holding a network of type nsbox-bridge), started
// with crictl, each with a container that pings its gateway and the other
// pod; all removed after, containerd stopped. containerd runs with a root,
// a state directory and a socket of the test's own; the pod's sandbox
// ("pause") image and the container's are made from the busybox root
// filesystem and imported, as no registry is reachable.
func TestContainerdCRI(t *testing.T) {
	needCmds(t, "containerd", "ctr", "runc", "containerd-shim-runc-v2")
	cniPath := setup(t)
	cleanNewDirs(t, "/run/containerd") // the shims' sockets: not configurable in containerd 1.6
	tree := rootfs(t)
	dir := t.TempDir()
	const net, br, subnet = "nsbcri", "nsbcri0", "10.226.0.0/24"
	for _, d := range []string{"net.d", "logs"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
	}
	sock := filepath.Join(dir, "containerd.sock")
	write(t, filepath.Join(dir, "config.toml"), fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.overlayfs"]
[grpc]
  address = %[3]q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/nsbt-pause:1"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = %[6]q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[4]q
    conf_dir = %[5]q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, cniPath, filepath.Join(dir, "net.d"), filepath.Join(dir, "runc")))
	write(t, filepath.Join(dir, "net.d", "10-"+net+".conflist"), runtimeConflist(net, br, subnet, filepath.Join(dir, "ipam")))
	removeBridge(t, br)

	ctd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	logf, _ := os.Create(filepath.Join(dir, "containerd.log"))
	ctd.Stdout, ctd.Stderr = logf, logf
	ctd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := ctd.Start(); err != nil {
		t.Fatal(err)
	}
	crictl := func(args ...string) (string, error) {
		return run(t, nil, "", append([]string{filepath.Join(cniPath, "crictl"), "--runtime-endpoint", "unix://" + sock, "--timeout", "20s"}, args...)...)
	}
	t.Cleanup(func() {
		crictl("rmp", "--all", "--force") // what a failure left
		stopContainerd(t, ctd, dir)
	})
	if err := waitFor(func() bool { _, err := crictl("info"); return err == nil }); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
		t.Fatalf("containerd did not start: %s", b)
	}
	for _, img := range []struct {
		tag string
		cmd []string
	}{{"localhost/nsbt-pause:1", []string{"/bin/sleep", "2147483647"}}, {"localhost/nsbt-busybox:1", []string{"/bin/sh"}}} {
		archive := filepath.Join(dir, "image.tar")
		if err := dockerArchive(tree, img.tag, img.cmd, archive); err != nil {
			t.Fatal(err)
		}
		if out, err := run(t, nil, "", "ctr", "--address", sock, "-n", "k8s.io", "images", "import", "--snapshotter", "native", archive); err != nil {
			t.Fatalf("ctr images import: %v %s", err, out)
		}
		os.Remove(archive)
	}
	pods := map[string]string{} // name -> container ID
	ips := map[string]string{}
	for _, name := range []string{"a", "b"} {
		pod := filepath.Join(dir, "pod-"+name+".json")
		write(t, pod, fmt.Sprintf(`{"metadata":{"name":"nsbt-%s","namespace":"default","uid":"nsbt-%s","attempt":0},"log_directory":%q,"linux":{}}`, name, name, filepath.Join(dir, "logs")))
		ctr := filepath.Join(dir, "ctr-"+name+".json")
		write(t, ctr, `{"metadata":{"name":"c"},"image":{"image":"localhost/nsbt-busybox:1"},"command":["/bin/sleep","600"],"log_path":"c.log","linux":{}}`)
		out, err := crictl("run", "--no-pull", ctr, pod)
		if err != nil {
			t.Fatalf("crictl run: %v %s", err, out)
		}
		pods[name] = strings.TrimSpace(out)
		out, err = crictl("inspectp", "-o", "json", podOf(t, crictl, pods[name]))
		var st struct {
			Status struct {
				Network struct {
					IP string `json:"ip"`
				} `json:"network"`
			} `json:"status"`
		}
		if err != nil || json.Unmarshal([]byte(out), &st) != nil || !strings.HasPrefix(st.Status.Network.IP, "10.226.0.") {
			t.Fatalf("pod %s: address %q (%v)", name, st.Status.Network.IP, err)
		}
		ips[name] = st.Status.Network.IP
	}
	for name, other := range map[string]string{"a": "b", "b": "a"} {
		for _, addr := range []string{"10.226.0.1", ips[other]} {
			if out, err := crictl("exec", pods[name], "ping", "-c", "1", "-W", "2", addr); err != nil {
				t.Errorf("pod %s: ping %s: %v %s", name, addr, err, out)
			}
		}
	}
	for _, id := range pods {
		p := podOf(t, crictl, id)
		if out, err := crictl("stopp", p); err != nil {
			t.Errorf("crictl stopp: %v %s", err, out)
		}
		if out, err := crictl("rmp", p); err != nil {
			t.Errorf("crictl rmp: %v %s", err, out)
		}
	}
	if ends := portsOf(t, br); len(ends) > 0 {
		t.Errorf("ports left on %s after the pods went: %v", br, ends)
	}
}

// podOf is the sandbox of container id.
func podOf(t *testing.T, crictl func(...string) (string, error), id string) string {
	out, err := crictl("inspect", "-o", "go-template", "--template", "{{.info.sandboxID}}", id)
	if err != nil {
		t.Fatalf("crictl inspect %s: %v", id, err)
	}
	return strings.TrimSpace(out)
}

func waitFor(ok func() bool) error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return nil
		}
	}
	return fmt.Errorf("timed out")
}

// stopContainerd stops containerd and whatever it left: its shims (each a
// session of its own), then the mounts under dir.
func stopContainerd(t *testing.T, ctd *exec.Cmd, dir string) {
	ctd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- ctd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-ctd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	es, _ := os.ReadDir("/proc")
	for _, e := range es {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), dir) {
			var pid int
			fmt.Sscan(e.Name(), &pid)
			t.Errorf("left running: pid %d %q", pid, strings.ReplaceAll(string(b), "\x00", " "))
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	lines := strings.Split(string(mi), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.Fields(lines[i])
		if len(f) > 4 && strings.HasPrefix(f[4], dir) {
			unix.Unmount(f[4], unix.MNT_DETACH)
		}
	}
}
