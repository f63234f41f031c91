package applet

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

const multicallUsage = `Usage: nsbox [APPLET] [ARGUMENTS...]
   or: nsbox --list
   or: nsbox --install [-s] DIR
   or: nsbox --completion bash|zsh|fish
   or: APPLET [ARGUMENTS...]    (nsbox linked as APPLET)

nsbox builds Linux containers one step at a time: each applet does one step.

Options:
 --list            list the applets, one a line
 --install [-s] DIR
                   link every applet into DIR (hard links; -s: symbolic)
 --completion SHELL
                   print a completion script for bash, zsh or fish
 -h, --help        display this help
 -V, --version     display version

Applets:
`

// multicall handles "nsbox" without an applet name, or with an option.
func multicall(args []string, stdout, stderr io.Writer) int {
	ow := &errWriter{w: stdout}
	code := multicallRun(args, ow, stderr)
	if code == 0 && ow.err != nil {
		fmt.Fprintf(stderr, "nsbox: write error: %s\n", errText(ow.err))
		return 1
	}
	return code
}

func multicallRun(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printMulticallHelp(stdout)
		return 0
	}
	switch args[0] {
	case "-h", "--help":
		if len(args) > 1 {
			if a := Lookup(args[1]); a != nil {
				return Run(a, []string{"--help"}, nil, stdout, stderr)
			}
			fmt.Fprintf(stderr, "%s: applet not found\n", args[1])
			return 127
		}
		printMulticallHelp(stdout)
		return 0
	case "-V", "--version":
		fmt.Fprintf(stdout, "nsbox %s\n", Release())
		for _, f := range Features {
			fmt.Fprintln(stdout, f)
		}
		return 0
	case "--list":
		for _, n := range Names() {
			fmt.Fprintln(stdout, n)
		}
		return 0
	case "--completion":
		if len(args) != 2 {
			fmt.Fprintf(stderr, "nsbox: --completion needs a shell: bash, zsh or fish\nTry 'nsbox --help' for more information.\n")
			return 1
		}
		if err := WriteCompletion(stdout, args[1]); err != nil {
			fmt.Fprintf(stderr, "nsbox: %v\n", err)
			return 1
		}
		return 0
	case "--install":
		symlink := false
		rest := args[1:]
		if len(rest) > 0 && rest[0] == "-s" {
			symlink, rest = true, rest[1:]
		}
		if len(rest) != 1 {
			fmt.Fprintf(stderr, "nsbox: --install needs a directory\nTry 'nsbox --help' for more information.\n")
			return 1
		}
		if err := install(rest[0], symlink); err != nil {
			fmt.Fprintf(stderr, "nsbox: %v\n", err)
			return 1
		}
		return 0
	}
	if strings.HasPrefix(args[0], "--") {
		fmt.Fprintf(stderr, "nsbox: unrecognized option '%s'\nTry 'nsbox --help' for more information.\n", args[0])
	} else {
		fmt.Fprintf(stderr, "nsbox: invalid option -- '%s'\nTry 'nsbox --help' for more information.\n", strings.TrimPrefix(args[0], "-")[:1])
	}
	return 1
}

func printMulticallHelp(w io.Writer) {
	io.WriteString(w, multicallUsage)
	width := 0
	for _, n := range Names() {
		width = max(width, len(n))
	}
	for _, n := range Names() {
		fmt.Fprintf(w, " %-*s  %s\n", width, n, table[n].Summary)
	}
}

// install links every visible applet into dir, pointing at the running
// binary (the target of /proc/self/exe). Existing entries are left alone,
// as busybox does.
func install(dir string, symlink bool) error {
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		if self, err = filepath.Abs(os.Args[0]); err != nil {
			return fmt.Errorf("cannot find the nsbox binary: %w", err)
		}
	}
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("cannot install into %s: %s", dir, errText(err))
	} else if !st.IsDir() {
		return fmt.Errorf("cannot install into %s: %s", dir, Strerror(syscall.ENOTDIR))
	}
	for _, n := range Names() {
		dst := filepath.Join(dir, n)
		if symlink {
			err = os.Symlink(self, dst)
		} else {
			err = os.Link(self, dst)
		}
		if err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("cannot link %s: %s", dst, errText(err))
		}
	}
	return nil
}

// MulticallOptions are the options of nsbox itself (nsbox --help).
func MulticallOptions() []Option {
	return []Option{{"list", "", 'n'}, {"install", "", 'r'}, {"completion", "", 'r'}, {"help", "h", 'n'}, {"version", "V", 'n'}}
}
