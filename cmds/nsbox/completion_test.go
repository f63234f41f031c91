package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nsbox/nsbox/pkg/applet"
)

// script writes the completion script for shell into a temporary file.
func script(t *testing.T, shell string) string {
	t.Helper()
	var b bytes.Buffer
	if err := applet.WriteCompletion(&b, shell); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "nsbox."+shell)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBashCompletionSyntax(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	if out, err := exec.Command("bash", "-n", script(t, "bash")).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
}

// TestBashCompletion drives the completion function as bash's readline
// does: COMP_WORDS split as bash splits them (COMP_WORDBREAKS cuts at "="),
// COMP_CWORD the word under the cursor, then reads COMPREPLY.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	s := script(t, "bash")
	tests := []struct {
		words []string // the last one is the word being completed
		want  string   // COMPREPLY, space-separated
	}{
		{[]string{"nsbox", "uns"}, "unshare"},
		{[]string{"nsbox", "p"}, "pin pivot"},
		{[]string{"nsbox", "--li"}, "--list"},
		{[]string{"nsbox", "--completion", ""}, "bash zsh fish"},
		{[]string{"nsbox", "--help", "mk"}, "mkbridge"},
		{[]string{"unshare", "--map-r"}, "--map-root-user"},
		{[]string{"/usr/local/bin/unshare", "--map-r"}, "--map-root-user"},
		{[]string{"nsbox", "unshare", "--map-r"}, "--map-root-user"},
		{[]string{"nsbox", "unshare", "-r", "--fork", "--mount-p"}, "--mount-proc"},
		{[]string{"nsenter", "--pres"}, "--preserve-credentials"},
		{[]string{"lsns", "--output-"}, "--output-all"},
		{[]string{"mkbridge", "--delete-"}, "--delete-bridge"},
		{[]string{"pin", "--hol"}, "--hold"},
		{[]string{"pivot", "--no-d"}, "--no-dev --no-devpts"},
		{[]string{"setuidmap", "--dry"}, "--dry-run"},
		// the argument of an option, an operand, what follows "--": not options
		{[]string{"unshare", "--hostname", "--"}, ""},
		{[]string{"nsenter", "-t", "1", "--mou"}, "--mount"},
		{[]string{"unshare", "--map-user", "=", "0", "--map-g"}, "--map-group --map-groups"},
		{[]string{"unshare", "sh", "--no"}, ""},
		{[]string{"unshare", "--", "--i"}, ""},
		{[]string{"nosuch", "--h"}, ""},
		// the program an applet runs: a command name (here a function
		// the test defines), at its place among the operands
		{[]string{"unshare", "-r", "nsboxtestpr"}, "nsboxtestprog"},
		{[]string{"nsbox", "nsenter", "-t", "1", "--", "nsboxtestpr"}, "nsboxtestprog"},
		{[]string{"pivot", "/newroot", "nsboxtestpr"}, "nsboxtestprog"},
		{[]string{"pivot", "nsboxtestpr"}, ""},
		{[]string{"pin", "nsboxtestpr"}, ""},
	}
	for _, tc := range tests {
		var quoted []string
		for _, w := range tc.words {
			quoted = append(quoted, "'"+w+"'")
		}
		prog := ". " + s + "\nnsboxtestprog() { :; }\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\n" +
			"COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_nsbox\necho \"${COMPREPLY[*]}\"\n"
		out, err := exec.Command("bash", "--norc", "--noprofile", "-c", prog).CombinedOutput()
		if err != nil {
			t.Errorf("%q: %v\n%s", tc.words, err, out)
			continue
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != tc.want {
			t.Errorf("%q: completions %q, want %q", tc.words, got, tc.want)
		}
	}
}

func TestBashCompletionCoversEveryApplet(t *testing.T) {
	var b bytes.Buffer
	applet.WriteCompletion(&b, "bash")
	complete := ""
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "complete ") {
			complete = l + " "
		}
	}
	for _, n := range append(applet.Names(), "nsbox") {
		if !strings.Contains(complete, " "+n+" ") {
			t.Errorf("%s is not completed: %q", n, complete)
		}
	}
}

func TestZshCompletion(t *testing.T) {
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip("no zsh: the zsh script is not checked")
	}
	s := script(t, "zsh")
	if out, err := exec.Command("zsh", "-n", s).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	// Outside a completion widget words, CURRENT and PREFIX are plain
	// parameters: set them, and stand in for compadd (filtering by PREFIX,
	// as it does) and _files.
	prog := "compdef() { :; }\n. " + s + `
compadd() { [[ $1 == -- ]] && shift; local w; for w; do [[ $w == ${PREFIX}* ]] && print -rn -- "$w "; done; print; }
_files() { print FILES; }
t() { words=("$@"); CURRENT=$#; PREFIX=${words[-1]}; _nsbox; }
t unshare --map-r
t nsbox uns
t nsbox unshare --map-r
t nsbox --comp
t unshare --hostname ''
t unshare sh --n
t nsenter -t 1 --mou
`
	want := "--map-root-user \nunshare \n--map-root-user \n--completion \nFILES\nFILES\n--mount \n"
	out, err := exec.Command("zsh", "-f", "-c", prog).CombinedOutput()
	if err != nil || string(out) != want {
		t.Errorf("zsh completions: %v\n%s\nwant:\n%s", err, out, want)
	}
}

// TestFishCompletion asks fish itself (complete -C, what the Tab key
// shows) with the script loaded, in a home of its own so that no user
// configuration takes part. fish adds the file names of the working
// directory to what the script offers: it is an empty one.
func TestFishCompletion(t *testing.T) {
	if _, err := exec.LookPath("fish"); err != nil {
		t.Skip("no fish: the fish script is not checked")
	}
	s := script(t, "fish")
	if out, err := exec.Command("fish", "--no-execute", s).CombinedOutput(); err != nil {
		t.Fatalf("fish --no-execute: %v\n%s", err, out)
	}
	tests := []struct {
		line string // the command line up to the cursor
		want string // the candidates, space-separated
	}{
		{"nsbox uns", "unshare"},
		{"nsbox p", "pin pivot"},
		{"nsbox --li", "--list"},
		{"nsbox --completion ", "bash fish zsh"},
		{"nsbox --help mk", "mkbridge"},
		{"unshare --map-r", "--map-root-user"},
		{"/usr/local/bin/unshare --map-r", "--map-root-user"},
		{"nsbox unshare --map-r", "--map-root-user"},
		{"nsbox unshare -r --fork --mount-p", "--mount-proc"},
		{"nsenter --pres", "--preserve-credentials"},
		{"mkbridge --delete-", "--delete-bridge"},
		// the argument of an option, an operand, what follows "--": not options
		{"unshare --hostname --", ""},
		{"nsenter -t 1 --mou", "--mount"},
		{"unshare --map-user=0 --map-g", "--map-group --map-groups"},
		{"unshare sh --no", ""},
		{"unshare -- --i", ""},
		{"nosuch --h", ""},
		// the program an applet runs, at its place among the operands,
		// then the program's own completion (fish's, for env)
		{"unshare -r nsboxtestpr", "nsboxtestprog"},
		{"nsbox nsenter -t 1 -- nsboxtestpr", "nsboxtestprog"},
		{"pivot /newroot nsboxtestpr", "nsboxtestprog"},
		{"pivot nsboxtestpr", ""},
		{"pin nsboxtestpr", ""},
		{"unshare -r env --unse", "--unset"},
	}
	home := t.TempDir()
	wd := t.TempDir()
	for _, tc := range tests {
		prog := "source " + s + "\nfunction nsboxtestprog; end\n" +
			"complete -C " + fishQuote(tc.line) + " | string replace -r '\\t.*' '' | sort | string join ' '; true\n"
		cmd := exec.Command("fish", "-c", prog)
		cmd.Dir = wd
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home+"/config", "XDG_DATA_HOME="+home+"/data")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%q: %v\n%s", tc.line, err, out)
			continue
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != tc.want {
			t.Errorf("%q: completions %q, want %q", tc.line, got, tc.want)
		}
	}
}

// fishQuote quotes s for fish: single quotes, with \ and ' escaped.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
