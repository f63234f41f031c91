package nsexec

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/pkg/ns"
)

var update = flag.Bool("update", false, "rewrite nstypes.h from pkg/ns")

// nsTypesHeader is the C side's table of namespace types, written from
// pkg/ns's: the one table, in ns.JoinOrder.
func nsTypesHeader() string {
	var b strings.Builder
	b.WriteString(`// The namespace types of pkg/ns for the C constructor, in ns.JoinOrder
// (user first): option letter, long option, file under /proc/PID/ns, clone
// flag. Written by "go test ./pkg/nsexec -run TestNsTypesHeader -update"
// from pkg/ns; do not edit.
#ifndef NSBOX_NSTYPES_H
#define NSBOX_NSTYPES_H

`)
	fmt.Fprintf(&b, "#define NSX_NTYPES %d\n#define NSX_TYPES", len(ns.JoinOrder))
	for _, t := range ns.JoinOrder {
		fmt.Fprintf(&b, " \\\n\t{ '%c', %q, %q, %#x },", t.Opt(), t.Long(), t.String(), t.Flag())
	}
	b.WriteString("\n\n#endif\n")
	return b.String()
}

// TestNsTypesHeader: the C table (nstypes.h) is pkg/ns's.
func TestNsTypesHeader(t *testing.T) {
	want := nsTypesHeader()
	if *update {
		if err := os.WriteFile("nstypes.h", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("nstypes.h")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("nstypes.h is not pkg/ns's table (go test ./pkg/nsexec -run TestNsTypesHeader -update):\n%s\nwant:\n%s", got, want)
	}
}
