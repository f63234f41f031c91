package pin_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/internal/testutil"
	"github.com/nsbox/nsbox/pkg/jsonv"
)

// pinReport is --json's object, read back.
type pinReport struct {
	pid, holder      int
	dir              string
	created, private bool
	pins             []pinned
	skipped          []string // "type: reason"
}

type pinned struct {
	typ, file string
	ns        uint
}

func readReport(t *testing.T, out string) pinReport {
	t.Helper()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("--json: not one line: %q", out)
	}
	v, err := jsonv.Parse([]byte(out))
	if err != nil {
		t.Fatalf("--json: %v: %q", err, out)
	}
	var r pinReport
	m := v.Map()
	for _, k := range []string{"pid", "dir", "created", "private", "holder", "pins", "skipped"} {
		if m[k] == nil {
			t.Fatalf("--json: no %q: %s", k, out)
		}
	}
	m["dir"].DecodeString(&r.dir)
	var pid, holder uint
	m["pid"].DecodeUint(&pid)
	m["holder"].DecodeUint(&holder)
	r.pid, r.holder = int(pid), int(holder)
	m["created"].DecodeBool(&r.created)
	m["private"].DecodeBool(&r.private)
	err = m["pins"].DecodeArray(func(e *jsonv.Value) error {
		var p pinned
		pm := e.Map()
		if err := pm["type"].DecodeString(&p.typ); err != nil {
			return err
		}
		if err := pm["file"].DecodeString(&p.file); err != nil {
			return err
		}
		err := pm["ns"].DecodeUint(&p.ns)
		r.pins = append(r.pins, p)
		return err
	})
	if err != nil {
		t.Fatalf("--json: pins: %v: %s", err, out)
	}
	m["skipped"].DecodeArray(func(e *jsonv.Value) error {
		var typ, why string
		e.Map()["type"].DecodeString(&typ)
		e.Map()["reason"].DecodeString(&why)
		r.skipped = append(r.skipped, typ+": "+why)
		return nil
	})
	return r
}

// run runs the binary and returns its output, failing unless it exits 0.
func run(t *testing.T, argv ...string) string {
	t.Helper()
	r := testutil.Run(t, argv...)
	testutil.Must(t, r, 0)
	return r.Stdout
}

// TestPinJSON: --json says what was pinned, where, and the namespace of
// each pin (the inode its file has); what was done to the directory;
// what was left out and why. One pin onto a file is not the C fast
// path's to make: it would print nothing.
func TestPinJSON(t *testing.T) {
	bin, tmp := setup(t)
	p := target(t, testutil.Opts{}, "unshare", "-n", "-u", "sleep", "60")
	defer kill(t, p)
	pid := strconv.Itoa(p.Pid())
	h := tmp + "/h"
	r := readReport(t, run(t, bin, "pin", "--json", "-t", pid, "-u", "--net="+tmp+"/net", h))
	if r.pid != p.Pid() || r.dir != h || !r.created || r.private || r.holder != 0 || len(r.skipped) != 0 {
		t.Errorf("--json: %+v", r)
	}
	want := []pinned{{"uts", h + "/uts", uint(inode(t, h+"/uts"))}, {"net", tmp + "/net", uint(inode(t, tmp+"/net"))}}
	if len(r.pins) != 2 || r.pins[0] != want[0] || r.pins[1] != want[1] {
		t.Errorf("--json pins: %+v, want %+v", r.pins, want)
	}
	if uint(inode(t, "/proc/"+pid+"/ns/net")) != r.pins[1].ns {
		t.Errorf("--json: the net pin's ns %d is not the target's", r.pins[1].ns)
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", h, tmp+"/net"), 0)

	r = readReport(t, run(t, bin, "pin", "--json", "-t", pid, "--net="+tmp+"/net"))
	if r.dir != "" || r.created || len(r.pins) != 1 || r.pins[0].file != tmp+"/net" {
		t.Errorf("--json, the fast path's command line: %+v", r)
	}
	testutil.Must(t, testutil.Run(t, bin, "pin", "-d", tmp+"/net"), 0)

	// Every namespace of a process in our own mount namespace: its
	// mount namespace is left out, and said so; with --hold, the holder.
	own := target(t, testutil.Opts{}, "sleep", "60")
	defer kill(t, own)
	for _, hold := range []bool{false, true} {
		args := []string{bin, "pin", "--json", "-t", strconv.Itoa(own.Pid()), h}
		if hold {
			args = append(args[:2], append([]string{"--hold"}, args[2:]...)...)
		}
		r = readReport(t, run(t, args...))
		if (r.holder != 0) != hold || !r.created || len(r.pins) < 6 || len(r.skipped) != 1 || !strings.HasPrefix(r.skipped[0], "mnt: PID ") {
			t.Errorf("--json, own mount namespace, --hold %v: %+v", hold, r)
		}
		testutil.Must(t, testutil.Run(t, bin, "pin", "-d", h), 0)
	}
	if _, err := os.Lstat(h); err == nil {
		t.Errorf("pin -d left %s", h)
	}
}
