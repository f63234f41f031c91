package errtext

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestErrno(t *testing.T) {
	plain := errors.New("plain")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"nil", nil, nil},
		{"path error", &os.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}, syscall.ENOENT},
		{"syscall error", os.NewSyscallError("write", syscall.EPERM), syscall.EPERM},
		{"errno", syscall.EINVAL, syscall.EINVAL},
		{"plain", plain, plain},
	}
	for _, tc := range tests {
		if got := Errno(tc.err); got != tc.want {
			t.Errorf("Errno(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStrerrorAndMessage(t *testing.T) {
	if got := Strerror(&os.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}); got != "No such file or directory" {
		t.Errorf("Strerror = %q", got)
	}
	if got := Strerror(errors.New("plain")); got != "plain" {
		t.Errorf("Strerror(plain) = %q", got)
	}
	if got := Message(fmt.Errorf("mount /x failed: %w", syscall.EPERM)); got != "mount /x failed: Operation not permitted" {
		t.Errorf("Message = %q", got)
	}
	if got := Message(errors.New("no errno here")); got != "no errno here" {
		t.Errorf("Message(plain) = %q", got)
	}
}
