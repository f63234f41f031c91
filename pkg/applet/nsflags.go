package applet

import (
	"github.com/spf13/pflag"

	"github.com/nsbox/nsbox/pkg/ns"
)

// NoFile is a namespace option's value when it was given without =FILE.
const NoFile = "\x00"

// NsFlag is one namespace option, -m/--mount[=FILE] and its kin, spelt as
// util-linux's unshare and nsenter spell them.
type NsFlag struct {
	Long, Short string
	Type        ns.Type
	Val         string // NoFile, or the FILE given
}

// NamespaceFlags defines the namespace options on fs, in the order of
// longs (getopt lists ambiguous abbreviations in definition order), each
// with an optional =FILE. attached makes the short form take an attached
// FILE too (-nFILE, nsenter's "n::"); unshare's short forms take none.
func NamespaceFlags(fs *pflag.FlagSet, longs []string, attached bool) []*NsFlag {
	var flags []*NsFlag
	for _, l := range longs {
		t, ok := ns.ByLong(l)
		if !ok {
			panic("applet: no namespace option --" + l)
		}
		f := &NsFlag{Long: l, Short: string(t.Opt()), Type: t}
		fs.StringVarP(&f.Val, l, f.Short, "", "")
		pf := fs.Lookup(l)
		pf.NoOptDefVal = NoFile
		if attached {
			pf.Annotations = map[string][]string{OptionalShort: nil}
		}
		flags = append(flags, f)
	}
	return flags
}
