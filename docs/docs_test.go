package docs

// The docs tests: every ```console block of every page in this directory
// is run and its output compared with the page (the convention is in
// doc.go). A page and the program that disagree fail `make test`.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nsbox/nsbox/internal/testutil"
	"golang.org/x/sys/unix"
)

// command is one command of a console block and the output shown for it.
type command struct {
	line int      // the line of the command in the page
	text string   // the command; continued lines joined with "\n"
	want []string // the output lines shown
}

// block is one ```console block.
type block struct {
	file string
	line int  // the line of the opening fence
	root bool // "# " prompts; else "$ "
	cmds []command
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// parseBlocks returns the console blocks of a page, and a message for
// each block that breaks the convention.
func parseBlocks(file, text string) ([]block, []string) {
	var blocks []block
	var errs []string
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "```") {
			continue
		}
		lang := strings.TrimSpace(strings.TrimPrefix(l, "```"))
		start := i
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		if i == len(lines) {
			errs = append(errs, fmt.Sprintf("%s:%d: the block is not closed", file, start+1))
			break
		}
		if lang != "console" {
			for _, b := range body {
				if strings.TrimSpace(b) == "" {
					continue
				}
				if strings.HasPrefix(b, "$ ") {
					errs = append(errs, fmt.Sprintf("%s:%d: a ```%s block that starts with a \"$ \" prompt: fence it ```console (executed and checked) or drop the prompts", file, start+1, lang))
				}
				break
			}
			continue
		}
		b, err := parseConsole(file, start+1, body)
		if err != "" {
			errs = append(errs, err)
			continue
		}
		blocks = append(blocks, b)
	}
	return blocks, errs
}

func parseConsole(file string, fence int, body []string) (block, string) {
	b := block{file: file, line: fence}
	prompt := ""
	continued := false
	for j, l := range body {
		n := fence + 1 + j
		if continued {
			c := &b.cmds[len(b.cmds)-1]
			c.text += "\n" + l
			continued = strings.HasSuffix(l, `\`)
			continue
		}
		if prompt == "" && strings.TrimSpace(l) == "" {
			continue
		}
		if prompt == "" {
			switch {
			case strings.HasPrefix(l, "# "):
				prompt, b.root = "# ", true
			case strings.HasPrefix(l, "$ "):
				prompt = "$ "
			default:
				return b, fmt.Sprintf("%s:%d: a console block must start with a \"# \" or \"$ \" prompt", file, n)
			}
		}
		if strings.HasPrefix(l, prompt) {
			text := strings.TrimPrefix(l, prompt)
			b.cmds = append(b.cmds, command{line: n, text: text})
			continued = strings.HasSuffix(text, `\`)
			continue
		}
		c := &b.cmds[len(b.cmds)-1]
		c.want = append(c.want, l)
	}
	if continued {
		return b, fmt.Sprintf("%s:%d: the block ends inside a continued command", file, fence)
	}
	return b, ""
}

// script is the bash script that runs a block: a marker before each
// command and one with its status after, on the same output stream.
func script(b block) string {
	var s strings.Builder
	s.WriteString("exec 2>&1\n")
	for i, c := range b.cmds {
		fmt.Fprintf(&s, "printf '\\036%d\\036'\n%s\n__doc_s=$?; printf '\\036s%%d\\036' \"$__doc_s\"; (exit \"$__doc_s\")\n", i, c.text)
	}
	return s.String()
}

var markerRE = regexp.MustCompile("\x1e(s?)(-?\\d+)\x1e")

type output struct {
	text   string
	status int
	ran    bool
}

// splitOutput cuts a script's output at the markers: what each command
// printed, and its status.
func splitOutput(out string, n int) []output {
	res := make([]output, n)
	cur := -1
	last := 0
	for _, m := range markerRE.FindAllStringSubmatchIndex(out, -1) {
		if cur >= 0 {
			res[cur].text += out[last:m[0]]
		}
		last = m[1]
		v, _ := strconv.Atoi(out[m[4]:m[5]])
		if m[3] > m[2] { // status
			if cur >= 0 {
				res[cur].status = v
			}
			continue
		}
		if v >= 0 && v < n {
			cur = v
			res[cur].ran = true
		}
	}
	if cur >= 0 {
		res[cur].text += out[last:]
	}
	return res
}

// normalize drops trailing blanks of each line and trailing empty lines.
func normalize(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimRight(l, " \t\r")
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

var placeholders = map[string]string{
	"<PID>": `\d+`,
	"<NS>":  `\d+`,
	"<N>":   `\d+`,
	"<HEX>": `[0-9a-f]+`,
	"<MAC>": `[0-9a-f]{2}(?::[0-9a-f]{2}){5}`,
}

var tokenRE = regexp.MustCompile(`<PID>|<NS>|<N>|<HEX>|<MAC>|…| +`)

// pattern compiles the output a page shows into a regular expression for
// the whole output.
func pattern(want []string) *regexp.Regexp {
	var re strings.Builder
	re.WriteString(`\A`)
	for _, l := range normalize(want) {
		if strings.TrimSpace(l) == "…" {
			re.WriteString(`(?:.*\n)*?`)
			continue
		}
		last := 0
		for _, m := range tokenRE.FindAllStringIndex(l, -1) {
			re.WriteString(regexp.QuoteMeta(l[last:m[0]]))
			tok := l[m[0]:m[1]]
			switch {
			case tok == "…":
				re.WriteString(`.*?`)
			case strings.TrimSpace(tok) == "":
				if m[0] == 0 {
					re.WriteString(` *`)
				} else {
					re.WriteString(` +`)
				}
			default:
				re.WriteString(placeholders[tok])
			}
			last = m[1]
		}
		re.WriteString(regexp.QuoteMeta(l[last:]))
		re.WriteString(`\n`)
	}
	re.WriteString(`\z`)
	return regexp.MustCompile(re.String())
}

// check compares what the commands printed with the page, and returns one
// message per disagreement.
func check(b block, out string) []string {
	var errs []string
	res := splitOutput(out, len(b.cmds))
	for i, c := range b.cmds {
		r := res[i]
		where := fmt.Sprintf("%s:%d: %s", b.file, c.line, strings.ReplaceAll(c.text, "\n", " "))
		if !r.ran {
			errs = append(errs, fmt.Sprintf("%s: did not run (an earlier command ended the script)\n--- whole output:\n%s", where, strings.ReplaceAll(out, "\x1e", "|")))
			break
		}
		got := normalize(strings.Split(r.text, "\n"))
		gotText := ""
		if len(got) > 0 {
			gotText = strings.Join(got, "\n") + "\n"
		}
		if !pattern(c.want).MatchString(gotText) {
			errs = append(errs, fmt.Sprintf("%s: the output differs from the page\n--- page:\n%s\n--- got (status %d):\n%s",
				where, strings.Join(normalize(c.want), "\n"), r.status, gotText))
			continue
		}
		if r.status != 0 && len(normalize(c.want)) == 0 {
			errs = append(errs, fmt.Sprintf("%s: exited with status %d and printed nothing; the page shows it succeeding", where, r.status))
		}
	}
	return errs
}

// pages are the files whose console blocks are run: every page here.
func pages(t *testing.T) map[string][]block {
	t.Helper()
	files, err := filepath.Glob("*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no pages: %v", err)
	}
	all := map[string][]block{}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks, errs := parseBlocks(f, string(text))
		for _, e := range errs {
			t.Errorf("%s", e)
		}
		all[f] = blocks
	}
	return all
}

// TestDocsConvention needs no privilege: every page follows the fence
// convention, and the pages that must have checked sessions have some.
func TestDocsConvention(t *testing.T) {
	all := pages(t)
	for _, f := range []string{"walkthrough.md", "unshare.md", "nsenter.md", "pin.md", "lsns.md", "mkbridge.md", "pivot.md", "setuidmap.md"} {
		if len(all[f]) == 0 {
			t.Errorf("%s: no ```console block: nothing of it is checked", f)
		}
	}
}

// TestDocs runs every console block (root blocks in a scratch namespace,
// user blocks as the test user) and compares the output with the page.
func TestDocs(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.Binary(t)
	root := testutil.Rootfs(t)
	all := pages(t)
	for _, f := range sortedKeys(all) {
		for _, b := range all[f] {
			b := b
			t.Run(b.String(), func(t *testing.T) {
				testutil.CheckNoLeaks(t)
				out := runBlock(t, b, bin, root)
				for _, e := range check(b, out) {
					t.Errorf("%s", e)
				}
			})
		}
	}
}

func sortedKeys(m map[string][]block) []string {
	var k []string
	for f := range m {
		k = append(k, f)
	}
	for i := range k {
		for j := i + 1; j < len(k); j++ {
			if k[j] < k[i] {
				k[i], k[j] = k[j], k[i]
			}
		}
	}
	return k
}

// The scratch environment of root blocks, made inside nsbox unshare -m -n
// before the block's script: the binary and the root filesystem are bound
// under /run/.doc first, since /tmp is replaced.
const rootPrelude = `set -e
mount -t tmpfs -o mode=0755 doc-run /run
mkdir -p /run/.doc/bin /run/.doc/rootfs
touch /run/.doc/bin/nsbox
mount --bind "$DOC_NSBOX" /run/.doc/bin/nsbox
mount --rbind "$DOC_ROOTFS" /run/.doc/rootfs
mount -t tmpfs -o mode=1777 doc-tmp /tmp
mount -t sysfs doc-sys /sys
ip link set lo up
mkdir -p /tmp/doc/out
ln -s /run/.doc/rootfs /tmp/doc/out/rootfs
cd /tmp/doc
export PATH=/run/.doc/bin:$PATH
unset DOC_NSBOX DOC_ROOTFS
set +e
`

const userPrelude = `mkdir -p out && ln -s "$DOC_ROOTFS" out/rootfs || exit 99
export PATH=$DOC_BIN:$PATH
unset DOC_BIN DOC_ROOTFS
`

// oneCPU is a CPU the test may run on. Root blocks run on it alone: the
// kernel hands out namespace IDs in per-CPU batches, and a mount namespace
// can be pinned only from an older one (pin.md, NOTES); on one CPU the
// scratch namespace is always older than those its block makes, as the
// host's initial namespace is for a reader.
func oneCPU(t *testing.T) string {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatalf("sched_getaffinity: %v", err)
	}
	for i := 0; i < 1024; i++ {
		if set.IsSet(i) {
			return strconv.Itoa(i)
		}
	}
	t.Fatalf("no CPU in the affinity mask")
	return ""
}

// runBlock runs b's script where b's prompt says, and returns the output.
func runBlock(t *testing.T, b block, bin, root string) string {
	t.Helper()
	o := testutil.Opts{Timeout: 90 * time.Second, Env: []string{"LC_ALL=C", "DOC_ROOTFS=" + root, "DOC_NSBOX=" + bin}}
	var r testutil.Result
	if b.root {
		r = testutil.RunWith(t, o, "taskset", "-c", oneCPU(t), bin, "unshare", "-m", "-n", "--propagation", "private",
			"bash", "--norc", "--noprofile", "-c", rootPrelude+script(b))
	} else {
		u := testutil.Unprivileged(t)
		dir := t.TempDir()
		for _, d := range []string{dir, filepath.Dir(dir)} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(bin, filepath.Join(dir, "nsbox")); err != nil {
			t.Fatal(err)
		}
		o.User = u
		o.Env = append(o.Env, "DOC_BIN="+dir)
		r = testutil.RunWith(t, o, "bash", "--norc", "--noprofile", "-c", userPrelude+script(b))
	}
	if r.TimedOut || (r.Code != 0 && !strings.Contains(r.Stdout, "\x1e")) {
		t.Fatalf("%s: the block did not run: %v", b, r)
	}
	return r.Stdout
}

// The harness itself, on blocks run by a plain bash (no privilege).

func runPlain(t *testing.T, b block) string {
	t.Helper()
	out, _ := exec.Command("bash", "--norc", "--noprofile", "-c", script(b)).CombinedOutput()
	return string(out)
}

func TestHarnessCatchesAWrongBlock(t *testing.T) {
	page := "intro\n\n```console\n# echo hello\ngoodbye\n# echo fine\nfine\n```\n"
	blocks, errs := parseBlocks("wrong.md", page)
	if len(errs) != 0 || len(blocks) != 1 || len(blocks[0].cmds) != 2 {
		t.Fatalf("parse: %q %+v", errs, blocks)
	}
	got := check(blocks[0], runPlain(t, blocks[0]))
	if len(got) != 1 || !strings.Contains(got[0], "wrong.md:4: echo hello: the output differs from the page") ||
		!strings.Contains(got[0], "--- page:\ngoodbye\n--- got (status 0):\nhello\n") {
		t.Fatalf("a wrong block was not reported as one: %q", got)
	}
}

func TestHarnessAcceptsARightBlock(t *testing.T) {
	page := "```console\n" +
		"$ x=3; echo \"pid $$ has $x\"\n" +
		"pid <PID> has 3\n" +
		"$ printf 'a  1\\nbb 22\\n' # columns\n" +
		"a   <N>\n" +
		"bb  <N>\n" +
		"$ echo one; echo two; echo three\n" +
		"one\n" +
		"…\n" +
		"$ echo \"$x\" \\\n" +
		"  more\n" +
		"3 more\n" +
		"$ readlink /proc/self/ns/net\n" +
		"net:[<NS>]\n" +
		"$ echo 'time 12:34 now'\n" +
		"time … now\n" +
		"$ true\n" +
		"```\n"
	blocks, errs := parseBlocks("right.md", page)
	if len(errs) != 0 || len(blocks) != 1 || blocks[0].root {
		t.Fatalf("parse: %q %+v", errs, blocks)
	}
	if got := check(blocks[0], runPlain(t, blocks[0])); len(got) != 0 {
		t.Fatalf("a right block was reported: %q", got)
	}
}

func TestHarnessStatusAndOrder(t *testing.T) {
	// A command shown without output must succeed; one that ends the
	// script leaves the rest unrun, and that is reported too.
	b, _ := parseBlocks("s.md", "```console\n# false\n# exit 3\n# echo after\nafter\n```\n")
	got := check(b[0], runPlain(t, b[0]))
	if len(got) != 2 || !strings.Contains(got[0], "s.md:2: false: exited with status 1") ||
		!strings.Contains(got[1], "s.md:4: echo after: did not run") {
		t.Fatalf("got %q", got)
	}
}

func TestHarnessConvention(t *testing.T) {
	_, errs := parseBlocks("c.md", "```sh\n$ nsbox unshare -r id\n0\n```\n```console\nno prompt\n```\n```text\n# a comment is fine\n```\n")
	if len(errs) != 2 || !strings.Contains(errs[0], "c.md:1: a ```sh block that starts with a \"$ \" prompt") ||
		!strings.Contains(errs[1], "c.md:6: a console block must start with") {
		t.Fatalf("got %q", errs)
	}
}

// TestDocsDisagreementFails runs a real block of a real page, as TestDocs
// does, with the output shown changed: the run must be reported.
func TestDocsDisagreementFails(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckNoLeaks(t)
	bin := testutil.Binary(t)
	root := testutil.Rootfs(t)
	for _, b := range pages(t)["walkthrough.md"] {
		if len(b.cmds) == 0 || !strings.Contains(b.cmds[0].text, "--hostname container_dawn hostname") {
			continue
		}
		if got := check(b, runBlock(t, b, bin, root)); len(got) != 0 {
			t.Fatalf("the block as the page has it: %q", got)
		}
		b.cmds[0].want = []string{"container_down"}
		got := check(b, runBlock(t, b, bin, root))
		if len(got) != 1 || !strings.Contains(got[0], "--- page:\ncontainer_down\n--- got (status 0):\ncontainer_dawn\n") {
			t.Fatalf("a page that disagrees with the program was not reported: %q", got)
		}
		return
	}
	t.Fatalf("walkthrough.md: the UTS block is gone")
}
