// Package cnitest runs nsbox-bridge, the CNI plugin, as the runtimes run
// it: through cnitool and libcni (github.com/containernetworking/cni),
// beside the reference plugins (containernetworking/plugins), under
// podman and under containerd's CRI with crictl. It is a module of its
// own, as initramfs/ is, so that none of these enter nsbox's go.mod; the
// tools are built once into out/cnitools ("make cnitools").
//
// Needs root, NSBOX_BIN (the multi-call binary) and CNI_TOOLS (the
// directory of the built tools); "make cnitest" sets both.
package cnitest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/internal/testutil"
)

// The reference plugins the tests chain or compare with.
var refPlugins = []string{"bridge", "host-local", "tuning", "bandwidth", "portmap", "loopback"}

// setup skips unless root with the binaries, checks for leaks, and returns
// a CNI_PATH directory: nsbox-bridge (a link to NSBOX_BIN) and the
// reference plugins.
func setup(t *testing.T) (cniPath string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	bin, tools := os.Getenv("NSBOX_BIN"), os.Getenv("CNI_TOOLS")
	if bin == "" || tools == "" {
		t.Skip("NSBOX_BIN and CNI_TOOLS are not set (make cnitest sets them)")
	}
	testutil.CheckNoLeaks(t, "/var/lib/cni")
	cleanNewDirs(t, "/var/lib/cni")
	dir := t.TempDir()
	if err := os.Symlink(bin, filepath.Join(dir, "nsbox-bridge")); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(refPlugins, "cnitool", "crictl") {
		if err := os.Symlink(filepath.Join(tools, p), filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// cleanNewDirs removes, after the test, the directories under root (root
// too) that were not there before it and are empty: libcni's result cache
// (/var/lib/cni), containerd's shim sockets (/run/containerd/s). A file
// left in them fails the test: each DEL and GC removes its result, each
// shim its socket.
func cleanNewDirs(t *testing.T, root string) {
	existed := map[string]bool{}
	filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			existed[p] = true
		}
		return nil
	})
	t.Cleanup(func() {
		var dirs []string
		filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !existed[p] {
				if fi.IsDir() {
					dirs = append(dirs, p)
				} else {
					t.Errorf("left behind: %s", p)
				}
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			os.Remove(dirs[i])
		}
	})
}

// run runs argv with extra environment, returns stdout and the error
// (stderr in its text).
func run(t *testing.T, env []string, stdin string, argv ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		err = &runError{argv: argv, err: err, stderr: errb.String(), stdout: out.String()}
	}
	return out.String(), err
}

type runError struct {
	argv           []string
	err            error
	stderr, stdout string
}

func (e *runError) Error() string {
	return strings.Join(e.argv, " ") + ": " + e.err.Error() + ": " + strings.TrimSpace(e.stderr+" "+e.stdout)
}

// must runs argv and fails the test on an error.
func must(t *testing.T, env []string, stdin string, argv ...string) string {
	t.Helper()
	out, err := run(t, env, stdin, argv...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// netns makes a network namespace /run/netns/NAME, removed after the test.
func netns(t *testing.T, name string) string {
	t.Helper()
	must(t, nil, "", "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	return "/run/netns/" + name
}

// removeBridge removes bridge name (and the NAT table of nsbox-bridge)
// after the test, once its ports are gone (mkbridge --delete-bridge
// removes a bridge with none, and its NAT table).
func removeBridge(t *testing.T, name string) {
	t.Cleanup(func() {
		portsOf(t, name)
		exec.Command(os.Getenv("NSBOX_BIN"), "mkbridge", "--delete-bridge", "-b", name).Run()
		exec.Command("ip", "link", "del", name).Run()
	})
}

// ping pings addr once from inside netns (busybox's ping).
func ping(t *testing.T, ns, addr string) {
	t.Helper()
	if _, err := run(t, nil, "", "ip", "netns", "exec", ns, busybox(t), "ping", "-c", "1", "-W", "2", addr); err != nil {
		t.Errorf("ping %s from %s: %v", addr, ns, err)
	}
}

func busybox(t *testing.T) string {
	for _, p := range []string{os.Getenv("BUSYBOX"), "/bin/busybox"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Skip("no busybox (make rootfs-deps)")
	return ""
}

// result is the part of a CNI result the tests read.
type result struct {
	CNIVersion string `json:"cniVersion"`
	Interfaces []struct {
		Name    string `json:"name"`
		Mac     string `json:"mac"`
		Sandbox string `json:"sandbox"`
	} `json:"interfaces"`
	IPs []struct {
		Version   string `json:"version"`
		Address   string `json:"address"`
		Gateway   string `json:"gateway"`
		Interface *int   `json:"interface"`
	} `json:"ips"`
	Routes []map[string]any `json:"routes"`
	DNS    map[string]any   `json:"dns"`
}

func parseResult(t *testing.T, s string) result {
	t.Helper()
	var r result
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("result %q: %v", s, err)
	}
	return r
}

// hostAddr is the address part of "ADDR/PREFIX".
func hostAddr(cidr string) string { a, _, _ := strings.Cut(cidr, "/"); return a }
