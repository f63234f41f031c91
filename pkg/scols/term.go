package scols

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// This file is what libsmartcols asks of its environment: the locale, and
// whether the output is a terminal and how wide.

// UTF8Locale tells whether the C library would run in a UTF-8 locale for
// the environment getenv reads (os.Getenv): util-linux calls setlocale(LC_ALL, "") and draws the
// tree with "├─" only when nl_langinfo(CODESET) is "UTF-8", with "|-"
// otherwise. The locale is LC_ALL, else LC_CTYPE, else LANG; "C", "POSIX"
// and unset are ASCII; C.UTF-8 is built into glibc; any other name counts
// only if it is installed (setlocale fails otherwise and the C locale
// stays).
func UTF8Locale(getenv func(string) string) bool {
	name := ""
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if s := getenv(v); s != "" {
			name = s
			break
		}
	}
	if name == "" || name == "C" || name == "POSIX" {
		return false
	}
	lang, cs, ok := strings.Cut(name, ".")
	if !ok {
		return false
	}
	cs, mod, _ := strings.Cut(cs, "@")
	norm := strings.ToLower(strings.ReplaceAll(cs, "-", ""))
	if norm != "utf8" {
		return false
	}
	if lang == "C" || lang == "POSIX" {
		return true
	}
	// installed: /usr/lib/locale/<lang>.utf8[@mod]/ or inside locale-archive
	suffix := ""
	if mod != "" {
		suffix = "@" + mod
	}
	for _, n := range []string{lang + ".utf8" + suffix, lang + "." + cs + suffix, name} {
		if st, err := os.Stat("/usr/lib/locale/" + n + "/LC_CTYPE"); err == nil && !st.IsDir() {
			return true
		}
	}
	if b, err := os.ReadFile("/usr/lib/locale/locale-archive"); err == nil {
		for _, n := range []string{lang + ".utf8" + suffix, lang + "." + cs + suffix} {
			if strings.Contains(string(b), "\x00"+n+"\x00") || strings.HasPrefix(string(b), n+"\x00") {
				return true
			}
		}
	}
	return false
}

// IsTerminal is isatty(fd): whether fd is a terminal (a Table's Terminal).
func IsTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// TermWidth is util-linux's get_terminal_width(80): the window size of the
// terminal fd, else $COLUMNS (as getenv reads it), else 80.
func TermWidth(fd int, getenv func(string) string) int {
	if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
		return int(ws.Col)
	}
	if s := getenv("COLUMNS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 80
}
