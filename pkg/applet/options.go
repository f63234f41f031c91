package applet

import (
	"io"

	"github.com/spf13/pflag"
)

// Option is one option an applet accepts, as its parser knows it.
type Option struct {
	Long  string // without "--"
	Short string // one letter, or ""
	// Arg is 'n' (no argument), 'r' (required: --long ARG, --long=ARG,
	// -s ARG) or 'o' (optional: only --long=ARG, or -sARG when the short
	// form takes it attached).
	Arg byte
}

// Options returns the options applet a accepts, in the order it defines
// them, read from the flag set its Run builds: Run is called with no
// arguments in a mode where Parse hands the flag set over and returns
// done, so the applet does nothing else. This is why an applet's Run must
// not act before it calls Parse. The docs test and --completion use it, so
// the option lists there are the parser's own. It returns nil for an
// applet that never calls Parse (newuidmap, newgidmap).
func Options(a *Applet) []Option {
	var opts []Option
	e := &Env{Name: a.Name, Stdin: eofReader{}, Stdout: io.Discard, Stderr: io.Discard}
	e.describe = func(fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				opts = append(opts, Option{Long: f.Name, Short: f.Shorthand, Arg: takesArg(f)})
			}
		})
	}
	a.Run(e)
	return opts
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
