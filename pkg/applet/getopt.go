package applet

import (
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
// does: long options may be abbreviated to any unambiguous prefix, short
// options cluster, parsing stops at "--" or the first non-option, and
// errors are glibc's words. It handles --help and --version itself: done is
// true when one of them was printed and the applet should return.
func Parse(e *Env, fs *pflag.FlagSet, usage string) (rest []string, done bool, err error) {
	canon, rest, err := canonical(fs, e.Args)
	if err != nil {
		return nil, false, err
	}
	if err := fs.Parse(canon); err != nil {
		return nil, false, &Usage{Msg: err.Error()}
	}
	if h, _ := fs.GetBool("help"); h {
		io.WriteString(e.Stdout, usage)
		return nil, true, nil
	}
	if v, _ := fs.GetBool("version"); v {
		fmt.Fprintf(e.Stdout, "%s from nsbox %s\n", e.Name, Version)
		return nil, true, nil
	}
	return rest, false, nil
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

// canonical rewrites args into "--name" / "--name=value" words that pflag
// parses without ambiguity, and returns the operands that follow.
func canonical(fs *pflag.FlagSet, args []string) (canon, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return canon, args[i+1:], nil
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			f, err := lookupLong(fs, name, a)
			if err != nil {
				return nil, nil, err
			}
			switch takesArg(f) {
			case 'n':
				if hasVal {
					return nil, nil, Usagef("option '--%s' doesn't allow an argument", f.Name)
				}
				canon = append(canon, "--"+f.Name)
			case 'o':
				if hasVal {
					canon = append(canon, "--"+f.Name+"="+val)
				} else {
					canon = append(canon, "--"+f.Name)
				}
			case 'r':
				if !hasVal {
					if i+1 >= len(args) {
						return nil, nil, Usagef("option '--%s' requires an argument", f.Name)
					}
					i++
					val = args[i]
				}
				canon = append(canon, "--"+f.Name+"="+val)
			}
		case strings.HasPrefix(a, "-") && a != "-":
			cluster := a[1:]
			for j := 0; j < len(cluster); j++ {
				c := cluster[j : j+1]
				f := fs.ShorthandLookup(c)
				if f == nil || c == "=" {
					return nil, nil, Usagef("invalid option -- '%s'", c)
				}
				more := cluster[j+1:]
				switch takesArg(f) {
				case 'r':
					if more == "" {
						if i+1 >= len(args) {
							return nil, nil, Usagef("option requires an argument -- '%s'", c)
						}
						i++
						more = args[i]
					}
					canon = append(canon, "--"+f.Name+"="+more)
					j = len(cluster)
				case 'o':
					if _, ok := f.Annotations[OptionalShort]; ok && more != "" {
						canon = append(canon, "--"+f.Name+"="+more)
						j = len(cluster)
					} else {
						canon = append(canon, "--"+f.Name)
					}
				default:
					canon = append(canon, "--"+f.Name)
				}
			}
		default:
			return canon, args[i:], nil
		}
	}
	return canon, nil, nil
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
