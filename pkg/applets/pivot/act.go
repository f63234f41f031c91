package pivot

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/execpath"
	"github.com/nsbox/nsbox/pkg/rootfs"
)

// act carries out p: it checks the mount points, mounts, switches the
// root and executes the program.
func (p *plan) act(t talk) error {
	if err := p.check(); err != nil {
		return err
	}
	if err := p.mount(t); err != nil {
		return err
	}
	if err := p.switchRoot(t); err != nil {
		return err
	}
	return execute(p.argv)
}

// check validates every mount point of the plan in the new root, before
// anything is mounted.
func (p *plan) check() error {
	if err := p.dir.Check(p.steps); err != nil {
		return failure(err)
	}
	return nil
}

// mount makes / private or slave, newroot a mount point, then the steps.
// From here on, this mount namespace changes.
func (p *plan) mount(t talk) error {
	if err := rootfs.SetPropagation(p.propagation); err != nil {
		return failure(err)
	}
	t.verb("made / %s", map[uintptr]string{unix.MS_PRIVATE: "rprivate", unix.MS_SLAVE: "rslave"}[p.propagation])
	if bound, err := p.dir.BindSelf(); err != nil {
		return failure(err)
	} else if bound {
		t.verb("bound %s on itself (pivot_root needs a mount point)", p.newroot)
	}
	err := p.dir.Apply(p.steps, rootfs.Say{Note: func(m string) { t.say("note: %s", m) }, Verbose: func(m string) { t.verb("%s", m) }})
	if err == nil && p.readOnly {
		if err = p.dir.ReadOnly(); err == nil {
			t.verb("made %s read-only", p.newroot)
		}
	}
	if err != nil {
		return failure(err)
	}
	return nil
}

// switchRoot makes newroot the root, by the method the mounts as they
// now are allow, or the one asked for.
func (p *plan) switchRoot(t talk) error {
	rf := p.dir.Facts()
	method, why := switchMethod(p.how, rf)
	t.verb("%s", why)
	err := p.dir.Switch(method, rf)
	if method == rootfs.PivotRoot && rootfs.RetryMove(err, rf) {
		t.verb("pivot_root failed with EINVAL and the current root is a ramfs or tmpfs that /proc/self/mountinfo could not describe: taking it for the initramfs, switching with MS_MOVE + chroot")
		err = p.dir.Switch(rootfs.MoveChroot, rf)
	}
	if err != nil {
		return failure(err)
	}
	return nil
}

// talk writes pivot's notes, and with --verbose what it does, to
// standard error.
type talk struct {
	w       io.Writer
	name    string
	verbose bool
}

func (t talk) say(format string, a ...any) {
	fmt.Fprintf(t.w, "%s: "+format+"\n", append([]any{t.name}, a...)...)
}

func (t talk) verb(format string, a ...any) {
	if t.verbose {
		t.say(format, a...)
	}
}

func failure(err error) error { return applet.Errorf("%s", applet.Message(err)) }

// execute runs argv in the new root, as execvp does, with this process's
// environment: PATH is looked up in the new root.
func execute(argv []string) error {
	env := os.Environ()
	p, err := execpath.LookPath(argv[0], env)
	if err == nil {
		err = syscall.Exec(p, argv, env)
	}
	code := 126
	if err == unix.ENOENT {
		code = 127
	}
	return &applet.Exit{Code: code, Msg: "failed to execute " + argv[0] + ": " + applet.Strerror(err)}
}
