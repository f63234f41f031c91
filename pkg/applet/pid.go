package applet

import (
	"errors"
	"strconv"
	"syscall"
)

// ParsePID parses a PID argument as util-linux 2.43's ul_strtopid does: a
// decimal number that fits in pid_t and is positive. The error is the
// applet's message: "failed to parse PID argument 'V': REASON".
func ParsePID(v string) (int, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && n <= 0:
		return 0, Errorf("failed to parse PID argument '%s': %s", v, Strerror(syscall.ERANGE))
	case err != nil:
		return 0, Errorf("failed to parse PID argument '%s': %s", v, Strerror(syscall.EINVAL))
	}
	return int(n), nil
}
