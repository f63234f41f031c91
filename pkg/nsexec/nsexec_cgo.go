//go:build cgo

package nsexec

// #cgo CFLAGS: -Wall -O2
import "C"

// Constructor tells whether this binary has the pre-runtime C stage: a
// user namespace without a fork, and --fork children that never start the
// Go runtime.
const Constructor = true

// Feature is this build's line in "nsbox --version".
const Feature = "constructor: yes (the commonest unshare, nsenter and pin forms run without the Go runtime; user namespaces without --fork keep the PID; the -U and --fork stages start no second Go runtime, --init and range-map helpers aside)"
