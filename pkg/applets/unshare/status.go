package unshare

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/nsexec"
)

// --json-status-fd FD, bubblewrap's option: JSON lines on FD (the objects
// are nsexec.Status and nsexec.ExitStatus). The first is written where
// --ready-fd is, once the namespaces, maps and pins exist: by the stage
// that made them when unshare does not fork (this process, or the C
// constructor's self stage), and by this process for a forked child. The
// second only with a fork: unshare waits for the child and says how it
// ended, then closes FD. Without a fork unshare becomes the program and
// has no status to tell: FD is closed before the program runs, and its
// reader sees the end of the file; whoever started unshare waits for the
// program itself.

// openStatus checks --json-status-fd's descriptor, as openNotify checks
// --ready-fd's: the file, or nil without the option.
func (p *plan) openStatus() (*os.File, error) {
	if p.statusFd < 0 {
		return nil, nil
	}
	if _, err := unix.FcntlInt(uintptr(p.statusFd), unix.F_GETFD, 0); err != nil {
		return nil, applet.Errorf("--json-status-fd %d: %s", p.statusFd, applet.Strerror(err))
	}
	return os.NewFile(uintptr(p.statusFd), "json-status-fd"), nil
}

// files are the descriptors this process writes for others: the notify
// files, the pid file's directory and the status descriptor.
func (l *launch) files() []*os.File {
	files := l.notify[:len(l.notify):len(l.notify)]
	if l.pidFile != nil && l.pidFile.Dir != nil {
		files = append(files, l.pidFile.Dir)
	}
	if l.status != nil {
		files = append(files, l.status)
	}
	return files
}

// tellStarted writes the first object for the forked child pid, whose
// namespaces exist.
func (l *launch) tellStarted(pid int) error {
	if l.status == nil {
		return nil
	}
	b, err := nsexec.Status(pid, l.unshare)
	if err != nil {
		return stepError(err)
	}
	if _, err := l.status.Write(b); err != nil {
		return applet.Errorf("cannot write the status to file descriptor %d: %s", l.statusFd, applet.Strerror(err))
	}
	return nil
}

// tellExit writes how the child ended (err is what supervise returned:
// its exit status or signal) and closes the descriptor; it returns err.
// A failure to wait is no status of the program's: nothing is written
// then. A reader that went away is not unshare's failure: the write is
// not checked.
func (l *launch) tellExit(err error) error {
	if l.status == nil {
		return err
	}
	defer l.status.Close()
	code := 0
	var ex *applet.Exit
	var sg *applet.Signaled
	switch {
	case errors.As(err, &sg):
		code = 128 + sg.Sig
	case errors.As(err, &ex) && ex.Msg == "":
		code = ex.Code
	case err != nil:
		return err
	}
	l.status.Write(nsexec.ExitStatus(code))
	return err
}
