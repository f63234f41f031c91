package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConvert(t *testing.T) {
	dir := t.TempDir()
	page := "# demo(8) — nsbox\n\n## NAME\n\nnsbox demo — show a thing\n\n## OPTIONS\n\n" +
		"**-t**, **--type** *type*\n: The type.\n\n## EXIT STATUS\n\n| status | meaning |\n|---|---|\n| 1 | **a** failure |\n"
	md := filepath.Join(dir, "demo.md")
	other := filepath.Join(dir, "guide.md")
	os.WriteFile(md, []byte(page), 0o644)
	os.WriteFile(other, []byte("# A guide\n\ntext\n"), 0o644)
	for _, p := range []string{md, other} {
		if err := convert(p, dir, "1.2", ""); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo.8"))
	if err != nil {
		t.Fatal(err)
	}
	roff := string(b)
	for _, want := range []string{
		`.TH demo 8 "" "nsbox 1.2" "nsbox manual"`,
		".SH NAME\ndemo \\- show a thing\n",
		"\\fB-t\\fP, \\fB--type\\fP \\fItype\\fP",
		"T{\n1\nT}\tT{\n\\fBa\\fP failure\nT}\n",
	} {
		if !strings.Contains(roff, want) {
			t.Errorf("no %q in:\n%s", want, roff)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "guide.1")); err == nil {
		t.Errorf("a page was made of a file that is not one")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("%d files in %s, want the two pages and demo.8", len(entries), dir)
	}
}

// TestConvertPrefix: with a prefix, a page is named after it in its file,
// its title and its NAME line; nsbox's own pages keep their names.
func TestConvertPrefix(t *testing.T) {
	dir := t.TempDir()
	for name, page := range map[string]string{
		"demo.md":  "# demo(8) — nsbox\n\n## NAME\n\nnsbox demo — show a thing\n",
		"nsbox.md": "# nsbox(1) — nsbox\n\n## NAME\n\nnsbox — the multi-call binary\n",
		"cni.md":   "# nsbox-bridge(8) — nsbox\n\n## NAME\n\nnsbox-bridge — a plugin\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(page), 0o644)
		if err := convert(p, dir, "1.2", "nsbox-"); err != nil {
			t.Fatal(err)
		}
	}
	for file, want := range map[string]string{
		"nsbox-demo.8":   ".TH nsbox-demo 8 \"\" \"nsbox 1.2\" \"nsbox manual\"\n.SH NAME\nnsbox-demo \\- show a thing\n",
		"nsbox.1":        ".TH nsbox 1 \"\" \"nsbox 1.2\" \"nsbox manual\"\n.SH NAME\nnsbox \\- the multi-call binary\n",
		"nsbox-bridge.8": ".TH nsbox-bridge 8 \"\" \"nsbox 1.2\" \"nsbox manual\"\n.SH NAME\nnsbox-bridge \\- a plugin\n",
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Errorf("no %s: %v", file, err)
			continue
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: no %q in:\n%s", file, want, b)
		}
	}
}
