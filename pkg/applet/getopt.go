package applet

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// OptionalShort marks a flag whose short form takes an optional argument
// attached to it, as "n::" does in a getopt string (nsenter's -nFILE).
const OptionalShort = "nsbox-optional-short"

// NewFlags returns a flag set for applet e with -h/--help and -V/--version.
func NewFlags(e *Env) *pflag.FlagSet {
	fs := pflag.NewFlagSet(e.Name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.SetInterspersed(false)
	fs.BoolP("help", "h", false, "display this help")
	fs.BoolP("version", "V", false, "display version")
	return fs
}

// Parse parses e.Args with fs exactly as getopt_long with a leading '+'
// does and util-linux acts on it: long options may be abbreviated to any
// unambiguous prefix, short options cluster, parsing stops at "--" or the
// first non-option, errors are glibc's words, and each option takes effect
// as it is read: a value is checked then (see Check), and --help or
// --version is printed at once, whatever follows. done is true when one of
// them was printed and the applet should return.
func Parse(e *Env, fs *pflag.FlagSet, usage string) (rest []string, done bool, err error) {
	if e.describe != nil {
		e.describe(fs)
		return nil, true, nil
	}
	stop := ""
	rest, err = scan(fs, e.Args, func(f *pflag.Flag, val string) (bool, error) {
		if f.Name == "help" || f.Name == "version" {
			stop = f.Name
			return true, nil
		}
		if err := fs.Set(f.Name, val); err != nil {
			var ex *Exit
			var us *Usage
			if errors.As(err, &ex) || errors.As(err, &us) {
				return false, err
			}
			return false, Errorf("invalid argument '%s' for --%s: %s", val, f.Name, Message(errors.Unwrap(err)))
		}
		return false, nil
	})
	switch {
	case err != nil:
		return nil, false, err
	case stop == "help":
		io.WriteString(e.Stdout, usage)
		return nil, true, nil
	case stop == "version":
		fmt.Fprintf(e.Stdout, "%s from nsbox %s\n", e.Name, Release())
		return nil, true, nil
	}
	return rest, false, nil
}

// checked is a flag value whose every Set is checked first.
type checked struct {
	pflag.Value
	check func(string) error
}

func (c checked) Set(s string) error {
	if err := c.check(s); err != nil {
		return err
	}
	return c.Value.Set(s)
}

// Check makes Parse run check on each value given to flag name, when the
// option is read, so that errors come in the order util-linux gives them.
// check returns an *Exit (Errorf) or *Usage (Usagef) error.
func Check(fs *pflag.FlagSet, name string, check func(string) error) {
	f := fs.Lookup(name)
	f.Value = checked{Value: f.Value, check: check}
}

func isBool(f *pflag.Flag) bool { return f.Value.Type() == "bool" }

// takesArg: 'r' required, 'o' optional (long form, or attached short form
// when marked OptionalShort), 'n' none.
func takesArg(f *pflag.Flag) byte {
	switch {
	case isBool(f):
		return 'n'
	case f.NoOptDefVal != "":
		return 'o'
	}
	return 'r'
}

// canonical rewrites args into "--name" / "--name=value" words and returns
// the operands that follow: what scan reads, spelt without abbreviations.
func canonical(fs *pflag.FlagSet, args []string) (canon, rest []string, err error) {
	rest, err = scan(fs, args, func(f *pflag.Flag, val string) (bool, error) {
		switch {
		case isBool(f):
			canon = append(canon, "--"+f.Name)
		case takesArg(f) == 'o' && val == f.NoOptDefVal:
			canon = append(canon, "--"+f.Name)
		default:
			canon = append(canon, "--"+f.Name+"="+val)
		}
		return false, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return canon, rest, nil
}

// scan walks args as getopt_long does and calls visit for each option with
// its value (a bool's "true", an optional argument's NoOptDefVal when none
// was given). It returns the operands, or stops early when visit says so.
func scan(fs *pflag.FlagSet, args []string, visit func(f *pflag.Flag, val string) (stop bool, err error)) (rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		var f *pflag.Flag
		var val string
		switch {
		case a == "--":
			return args[i+1:], nil
		case strings.HasPrefix(a, "--"):
			name, v, hasVal := strings.Cut(a[2:], "=")
			if f, err = lookupLong(fs, name, a); err != nil {
				return nil, err
			}
			switch takesArg(f) {
			case 'n':
				if hasVal {
					return nil, Usagef("option '--%s' doesn't allow an argument", f.Name)
				}
				v = "true"
			case 'o':
				if !hasVal {
					v = f.NoOptDefVal
				}
			case 'r':
				if !hasVal {
					if i+1 >= len(args) {
						return nil, Usagef("option '--%s' requires an argument", f.Name)
					}
					i++
					v = args[i]
				}
			}
			if stop, err := visit(f, v); stop || err != nil {
				return nil, err
			}
		case strings.HasPrefix(a, "-") && a != "-":
			cluster := a[1:]
			for j := 0; j < len(cluster); j++ {
				c := cluster[j : j+1]
				f = fs.ShorthandLookup(c)
				if f == nil || c == "=" {
					return nil, Usagef("invalid option -- '%s'", c)
				}
				more := cluster[j+1:]
				switch takesArg(f) {
				case 'r':
					if more == "" {
						if i+1 >= len(args) {
							return nil, Usagef("option requires an argument -- '%s'", c)
						}
						i++
						more = args[i]
					}
					val, j = more, len(cluster)
				case 'o':
					val = f.NoOptDefVal
					if _, ok := f.Annotations[OptionalShort]; ok && more != "" {
						val, j = more, len(cluster)
					}
				default:
					val = "true"
				}
				if stop, err := visit(f, val); stop || err != nil {
					return nil, err
				}
			}
		default:
			return args[i:], nil
		}
	}
	return nil, nil
}

// lookupLong finds the flag named name or the only one it abbreviates.
func lookupLong(fs *pflag.FlagSet, name, arg string) (*pflag.Flag, error) {
	if f := fs.Lookup(name); f != nil && name != "" {
		return f, nil
	}
	var matches []*pflag.Flag
	if name != "" {
		fs.VisitAll(func(f *pflag.Flag) {
			if strings.HasPrefix(f.Name, name) {
				matches = append(matches, f)
			}
		})
	}
	switch len(matches) {
	case 0:
		return nil, Usagef("unrecognized option '%s'", arg)
	case 1:
		return matches[0], nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "option '%s' is ambiguous; possibilities:", arg)
	for _, f := range matches {
		fmt.Fprintf(&b, " '--%s'", f.Name)
	}
	return nil, &Usage{Msg: b.String()}
}
