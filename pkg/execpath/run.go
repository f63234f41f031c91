package execpath

import (
	"io"
	"os"
	"sync"
)

// Run runs the program at path with argv (argv[0] included) and env (nil:
// this process's environment), stdin as its standard input (nil: none,
// /dev/null), stdout and stderr receiving its output (nil: /dev/null; an
// *os.File is passed to it as it is), waits for it and for its output,
// and returns how it ended. The error is for a program that could not be
// started; one that ran and failed is a state that is not Success.
//
// It is os/exec's Cmd.Run for what the applets need of it, on
// os.StartProcess: os/exec would link context and its environment
// handling into every applet of the binary.
func Run(path string, argv, env []string, stdin []byte, stdout, stderr io.Writer) (*os.ProcessState, error) {
	var (
		files  [3]*os.File
		theirs []*os.File // the program's ends of pipes, and /dev/null
		ours   []*os.File // this side's ends of pipes
		copies []func()   // what moves data through ours, once it runs
	)
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			f.Close()
		}
	}
	p, err := func() (*os.Process, error) {
		defer func() { closeAll(theirs) }() // the program has its own copies
		for i, out := range [3]io.Writer{nil, stdout, stderr} {
			if f, ok := out.(*os.File); ok && f != nil {
				files[i] = f
				continue
			}
			if (i == 0 && stdin == nil) || (i > 0 && out == nil) {
				flag := os.O_WRONLY
				if i == 0 {
					flag = os.O_RDONLY
				}
				f, err := os.OpenFile(os.DevNull, flag, 0)
				if err != nil {
					return nil, err
				}
				files[i], theirs = f, append(theirs, f)
				continue
			}
			r, w, err := os.Pipe()
			if err != nil {
				return nil, err
			}
			if i == 0 {
				files[i], theirs, ours = r, append(theirs, r), append(ours, w)
				copies = append(copies, func() { w.Write(stdin); w.Close() }) // unread input is the program's business
			} else {
				files[i], theirs, ours = w, append(theirs, w), append(ours, r)
				copies = append(copies, func() { io.Copy(out, r); r.Close() })
			}
		}
		return os.StartProcess(path, argv, &os.ProcAttr{Env: env, Files: files[:]})
	}()
	if err != nil {
		closeAll(ours)
		return nil, err
	}
	var wg sync.WaitGroup
	for _, c := range copies {
		wg.Add(1)
		go func() { defer wg.Done(); c() }()
	}
	state, err := p.Wait()
	wg.Wait()
	return state, err
}
