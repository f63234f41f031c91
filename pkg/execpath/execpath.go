// Package execpath finds a program the way execvp(3) does, in the PATH of
// the environment the program will get rather than of this process.
package execpath

import (
	"strings"

	"golang.org/x/sys/unix"
)

// LookPath finds file as execvp does, in the PATH of env.
func LookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	if file == "" {
		return "", unix.ENOENT
	}
	path := "/bin:/usr/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v // the first one, as getenv finds it
			break
		}
	}
	firstErr := error(unix.ENOENT)
	for _, dir := range strings.Split(path, ":") { // "" (an empty PATH too) is "."
		if dir == "" {
			dir = "."
		}
		cand := dir + "/" + file
		err := unix.Access(cand, unix.X_OK)
		if err == nil {
			var st unix.Stat_t
			if unix.Stat(cand, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
				return cand, nil
			}
			err = unix.EACCES
		}
		if err == unix.EACCES {
			firstErr = err
		}
	}
	return "", firstErr
}
