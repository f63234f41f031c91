package initramfs

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The steps of guest.sh and inside.sh, in the order they must start.
var steps = []string{
	"system", "modules", "namespaces", "userns", "lsns", "mkbridge", "netns",
	"ping-in", "container", "inside", "ping-out", "nsenter", "teardown",
}

// TestWalkthrough boots the image (make vmtest sets NSBOX_VM_KERNEL and
// NSBOX_VM_IMAGE) through boot.sh, which runs QEMU under timeout(1), and
// checks the transcript: every step started in order and none failed, what
// the container saw from inside, both pings, nothing pinned after the
// tear-down, and the power-off.
func TestWalkthrough(t *testing.T) {
	kernel, image := os.Getenv("NSBOX_VM_KERNEL"), os.Getenv("NSBOX_VM_IMAGE")
	if kernel == "" || image == "" {
		t.Skip("NSBOX_VM_KERNEL and NSBOX_VM_IMAGE are not set (make vmtest sets them)")
	}
	limit := 120 * time.Second
	if s := os.Getenv("VM_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s + "s")
		if err != nil {
			t.Fatalf("VM_TIMEOUT=%q: %v", s, err)
		}
		limit = d
	}
	transcript := filepath.Join(t.TempDir(), "transcript.txt")

	// boot.sh's own timeout kills QEMU; this context is the second line,
	// and kills the whole process group (timeout, QEMU) should it fire.
	ctx, cancel := context.WithTimeout(context.Background(), limit+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "./boot.sh", kernel, image)
	cmd.Env = append(os.Environ(), "TRANSCRIPT="+transcript, "VM_TIMEOUT="+strconv.Itoa(int(limit.Seconds())))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	tr, rerr := os.ReadFile(transcript)
	if rerr != nil {
		t.Fatalf("no transcript: %v\n%s", rerr, out.Bytes())
	}
	if testing.Verbose() || err != nil {
		t.Logf("transcript:\n%s", tr)
	}
	// The last lines of boot.sh's own verdict.
	verdict := out.String()
	if i := bytes.LastIndex(out.Bytes(), []byte("\nvm: ")); i >= 0 {
		verdict = verdict[i+1:]
	}
	if err != nil {
		t.Errorf("boot.sh: %v after %v: %s", err, elapsed.Round(100*time.Millisecond), verdict)
	}
	text := strings.ReplaceAll(string(tr), "\r", "")

	for _, m := range regexp.MustCompile(`(?m)^STEP FAILED: .*$`).FindAllString(text, -1) {
		t.Errorf("guest: %s", m)
	}
	// Every step started, in order; a missing one says where the guest
	// stopped (the last step it started), and the rest is not checked.
	pos, last := 0, "(none: before the walk-through)"
	for _, s := range steps {
		i := strings.Index(text[pos:], "\nSTEP: "+s+"\n")
		if i < 0 {
			t.Fatalf("step %q never started: the guest stopped, hung or crashed in step %q", s, last)
		}
		pos += i + 1
		last = s
	}

	want := []struct{ what, re string }{
		{"the user namespace maps root to root only", `(?m)^\s+0\s+0\s+1$`},
		{"pivot switching the initramfs root with MS_MOVE + chroot", `the initramfs\): pivot_root cannot move it, switching with MS_MOVE \+ chroot`},
		{"the container under nsbox's init as PID 1, host name box", `(?m)^inside: PID 1 is nsbox, hostname box$`},
		{"a ping from the VM to the container over the bridge", `bytes from 10\.0\.0\.2`},
		{"a ping from the container to the bridge", `bytes from 10\.0\.0\.1`},
		{"the container's namespaces entered again after it ended", `(?s)STEP: nsenter\n(.*?\n)?box\n`},
		{"the PASS marker", `(?m)^WALKTHROUGH PASS$`},
		{"the power-off", `reboot: Power down`},
	}
	for _, w := range want {
		if !regexp.MustCompile(w.re).MatchString(text) {
			t.Errorf("transcript lacks %s (/%s/)", w.what, w.re)
		}
	}
	// Nothing pinned and no bridge left after the tear-down.
	if i := strings.LastIndex(text, "\nSTEP: teardown\n"); i >= 0 {
		rest := text[i:]
		if strings.Contains(rest, "nsfs /run/box") {
			t.Errorf("a pin in /run/box is still mounted after the tear-down")
		}
		if strings.Contains(rest, ": br0:") {
			t.Errorf("br0 still exists after the tear-down")
		}
	}
	t.Logf("boot to power-off: %v", elapsed.Round(100*time.Millisecond))
}
