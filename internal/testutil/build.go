package testutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The multi-call binary's main package, relative to the module root.
const nsboxPkg = "./cmds/nsbox"

// Build flags of the release binary (MECHANICS.md §7): cgo, linked statically.
var staticCgoFlags = []string{"-tags", "osusergo,netgo", "-ldflags", "-linkmode external -extldflags -static"}

var (
	buildMu    sync.Mutex
	buildDir   string                     // per-process, 0755, removed by Main
	buildCache = map[string]buildResult{} // key -> result, so a failed build is not retried
)

type buildResult struct {
	path string
	err  error
}

// Binary returns the absolute path of the nsbox binary under test: $NSBOX_BIN
// when set, otherwise ./cmds/nsbox of this module built once per test
// process with cgo, statically linked (-tags osusergo,netgo -ldflags
// '-linkmode external -extldflags -static'). The binary and its directory are
// world-readable and executable, so RunAs can run it as the test user.
// The test fails if the build fails.
func Binary(t testing.TB) string {
	t.Helper()
	return binary(t, "NSBOX_BIN", nsboxPkg, true)
}

// PureGoBinary is Binary for the CGO_ENABLED=0 build ($NSBOX_PUREGO_BIN when
// set), the build without the C constructor.
func PureGoBinary(t testing.TB) string {
	t.Helper()
	return binary(t, "NSBOX_PUREGO_BIN", nsboxPkg, false)
}

func binary(t testing.TB, envVar, pkg string, cgo bool) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		abs, err := filepath.Abs(p)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			t.Fatalf("$%s: %v", envVar, err)
		}
		return abs
	}
	p, err := buildPackage(pkg, cgo)
	if err != nil {
		t.Fatalf("building %s: %v", pkg, err)
	}
	return p
}

// buildPackage builds pkg (a path relative to the module root) once per
// process and returns the binary's path.
func buildPackage(pkg string, cgo bool) (string, error) {
	key := fmt.Sprintf("%s cgo=%v", pkg, cgo)
	buildMu.Lock()
	defer buildMu.Unlock()
	if r, ok := buildCache[key]; ok {
		return r.path, r.err
	}
	p, err := doBuild(pkg, cgo)
	buildCache[key] = buildResult{p, err}
	return p, err
}

func doBuild(pkg string, cgo bool) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "nsbox-testutil-bin-")
		if err != nil {
			return "", err
		}
		// Readable by the unprivileged test user.
		if err := os.Chmod(d, 0o755); err != nil {
			return "", err
		}
		buildDir = d
	}
	// Each build under its own name (nsbox, as installed: argv[0] and
	// /proc/PID/comm are what a user sees), in a directory per variant.
	variant := "purego"
	if cgo {
		variant = "static"
	}
	if err := os.MkdirAll(filepath.Join(buildDir, variant), 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(buildDir, variant, filepath.Base(pkg))
	args := []string{"build", "-o", out}
	env := append(os.Environ(), "CGO_ENABLED=0")
	if cgo {
		args = append(args, staticCgoFlags...)
		env[len(env)-1] = "CGO_ENABLED=1"
		if musl, err := exec.LookPath("musl-gcc"); err == nil && os.Getenv("CC") == "" {
			env = append(env, "CC="+musl) // as the Makefile builds it
		}
	}
	args = append(args, pkg)
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = root
	cmd.Env = env
	var outBuf bytes.Buffer
	cmd.Stdout = &outBuf
	cmd.Stderr = &outBuf
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), root, err, outBuf.String())
	}
	if err := os.Chmod(out, 0o755); err != nil {
		return "", err
	}
	return out, nil
}

// goTool finds the go command: `go test` puts $GOROOT/bin first in PATH.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if r := os.Getenv("GOROOT"); r != "" {
		return filepath.Join(r, "bin", "go")
	}
	return "/usr/local/go/bin/go"
}

// moduleRoot is the nearest directory at or above the working directory
// (the test's package directory under `go test`) that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

func removeBuildDir() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
		buildDir = ""
		buildCache = map[string]buildResult{}
	}
}

// Rootfs returns the root filesystem "make rootfs" builds: $NSBOX_ROOTFS
// (the test fails if it does not hold bin/busybox), else out/rootfs of this
// module (the test is skipped, saying so, when it is not built).
func Rootfs(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("NSBOX_ROOTFS")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "out", "rootfs")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "bin", "busybox")); err != nil {
		if os.Getenv("NSBOX_ROOTFS") != "" {
			t.Fatalf("$NSBOX_ROOTFS: %v", err)
		}
		t.Skipf("no root filesystem at %s: run make rootfs (make test builds it)", abs)
	}
	return abs
}
