// Package errtext spells errors the way util-linux prints them: glibc's
// strerror text (Go's errno strings are glibc's with a lower-case first
// letter) after a message that names the path once.
package errtext

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// Errno strips *os.PathError, *os.LinkError and *os.SyscallError from
// err, so that a message built around it names the path once and ends
// with the errno.
func Errno(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	var se *os.SyscallError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	case errors.As(err, &se):
		return se.Err
	}
	return err
}

// Strerror returns err's text as glibc's strerror prints it.
func Strerror(err error) string {
	err = Errno(err)
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	return capital(errno.Error())
}

// Message is err's text with the errno at its end, if any, spelt as
// strerror spells it ("mount /x failed: No such file or directory").
func Message(err error) string {
	msg := err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) && strings.HasSuffix(msg, errno.Error()) {
		msg = strings.TrimSuffix(msg, errno.Error()) + capital(errno.Error())
	}
	return msg
}

func capital(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
