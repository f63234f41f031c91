package applet

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// Strerror returns err's text as glibc's strerror prints it: Go's errno
// strings are glibc's with a lower-case first letter.
func Strerror(err error) string {
	var pe *os.PathError
	var le *os.LinkError
	var se *os.SyscallError
	var ee *exec.Error
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	case errors.As(err, &se):
		err = se.Err
	case errors.As(err, &ee):
		err = ee.Err
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	s := errno.Error()
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
