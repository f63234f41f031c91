// Package nsid is the nsid applet: print the identity of namespace files,
// "net:[4026532298]", as readlink prints a /proc/PID/ns link, for any
// namespace file: /proc links, pins (bind mounts, which readlink cannot
// read), /run/netns names, the links of a held pin directory. It is also
// the worked example of docs/applets.md: the smallest applet that does
// something real, with the whole command-line contract.
package nsid

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/ns"
	"github.com/nsbox/nsbox/pkg/nsfs"
	"github.com/nsbox/nsbox/pkg/scols"
)

func init() {
	applet.Register(applet.Applet{
		Name:    "nsid",
		Summary: "print the type and inode of namespace files (pins too), as type:[inode]",
		Usage:   usage,
		Run:     run,
	})
}

const usage = `
Usage:
 nsid [options] <file>...

Print the identity of each namespace <file>, one a line, as readlink prints
/proc/<pid>/ns links: <type>:[<inode>]. Pins, /run/netns/<name> and the
links of a held pin directory work too.

Options:
 -t, --type <type>         fail unless <file> is a namespace of <type>
                             (mnt, net, pid, uts, ipc, user, cgroup, time)
 -J, --json                use JSON output format
 -h, --help                display this help
 -V, --version             display version

For more details see docs/nsid.md.
`

func run(e *applet.Env) error {
	// Define the options, then check values as they are read, then parse:
	// nothing may happen before Parse (applet.Options calls run to read
	// the options).
	fs := applet.NewFlags(e)
	fs.StringP("type", "t", "", "")
	json := fs.BoolP("json", "J", false, "")
	want := ns.Type(-1)
	applet.Check(fs, "type", func(v string) error {
		t, ok := ns.ByName(v)
		if !ok {
			return applet.Errorf("unknown namespace type: %s", v)
		}
		want = t
		return nil
	})
	files, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return err
	}
	if len(files) == 0 {
		return applet.Usagef("no file specified")
	}
	// With --json nothing is printed unless every file is a namespace:
	// half a document is of no use to a script.
	var out *scols.Table
	if *json {
		out = &scols.Table{Format: scols.JSON, Name: "namespaces"}
		out.AddColumn("FILE", 0, 0)
		out.AddColumn("NS", 0, 0).JSONType = scols.JSONNumber
		out.AddColumn("TYPE", 0, 0)
	}
	for _, path := range files {
		t, ino, err := identify(path)
		if err != nil {
			return err
		}
		if want >= 0 && t != want {
			return applet.Errorf("%s: a %s namespace, not %s", path, t, want)
		}
		if out == nil {
			fmt.Fprintf(e.Stdout, "%s:[%d]\n", t, ino)
			continue
		}
		l := out.NewLine(nil)
		l.Set(0, path)
		l.Set(1, strconv.FormatUint(ino, 10))
		l.Set(2, t.String())
	}
	if out != nil {
		out.Print(e.Stdout) // a write error is the applet wrapper's to report
	}
	return nil
}

// identify opens path, checks that it is a namespace file and asks the
// kernel its type (NS_GET_NSTYPE).
func identify(path string) (ns.Type, uint64, error) {
	f, err := nsfs.Open(path, 0)
	if errors.Is(err, nsfs.ErrNotNamespace) {
		return 0, 0, applet.Errorf("%s: not a namespace file", path)
	}
	if err != nil {
		return 0, 0, applet.Errorf("cannot open %s: %s", path, applet.Message(err))
	}
	defer f.Close()
	t, err := f.Type()
	if err != nil {
		return 0, 0, applet.Errorf("%s: cannot get the namespace type: %s", path, applet.Message(err))
	}
	return t, f.Ino(), nil
}
