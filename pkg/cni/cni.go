// Package cni is the Container Network Interface protocol (spec 1.1.0, in
// the containernetworking/cni repository), written by hand for a plugin:
// the environment it is called with, the network configuration on stdin,
// the result in the shape of each spec version, the error object and its
// codes, and the execution of a delegated (IPAM) plugin. It knows nothing
// of how a network is made: nsbox-bridge (pkg/applets/cnibridge) puts it
// over pkg/netsetup.
//
// The reference library (github.com/containernetworking/cni) is not used,
// nor encoding/json: linked into the multi-call binary they cost every
// applet start-up time and size. JSON is read and written with pkg/jsonv,
// by encoding/json's rules (see Conf), and the output is byte for byte
// what encoding/json's Marshal wrote. Nothing here does work at package
// initialisation.
package cni

import (
	"fmt"
	"strconv"
	"strings"
)

// Versions are the spec versions whose configurations and results this
// package speaks, oldest first. 0.1.0 and 0.2.0 (the ip4/ip6 result) are
// not among them.
func Versions() []string { return []string{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"} }

// Supported reports whether v is one of Versions.
func Supported(v string) bool {
	for _, s := range Versions() {
		if s == v {
			return true
		}
	}
	return false
}

// AtLeast reports whether version v is min or later (both x.y.z; an
// unparsable v is not).
func AtLeast(v, min string) bool {
	a, ok1 := semver(v)
	b, ok2 := semver(min)
	if !ok1 || !ok2 {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

func semver(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || (len(p) > 1 && p[0] == '0') {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

// The error codes of the spec (section 5), and this plugin's own (100+).
const (
	CodeIncompatibleVersion = 1  // the configuration's cniVersion is not supported
	CodeUnsupportedField    = 2  // a field this plugin does not implement
	CodeUnknownContainer    = 3  // the container is unknown: no clean-up needed
	CodeInvalidEnv          = 4  // a CNI_* variable is missing or invalid
	CodeIO                  = 5  // reading stdin failed
	CodeDecode              = 6  // the configuration is not JSON of the right shape
	CodeInvalidConfig       = 7  // a value of the configuration is invalid
	CodeTryAgain            = 11 // a transient condition: retry later
	CodeNotAvailable        = 50 // STATUS: cannot service ADD
	CodeLimitedConnectivity = 51 // STATUS: and existing containers may be cut off

	CodeFailed     = 100 // setting up or removing the network failed
	CodeAddrInUse  = 101 // an address asked for is taken
	CodeNoAddrLeft = 102 // the pool has no free address
	CodeExists     = 103 // the attachment or interface exists already
	CodeCheck      = 104 // CHECK found the network not as the result says
	CodeDelegate   = 105 // a delegated plugin failed without an error object
)

// Error is the spec's error object: what a plugin prints on stdout when it
// fails.
type Error struct {
	Code    uint   // code
	Msg     string // msg
	Details string // details; "": left out
}

func (e *Error) Error() string {
	if e.Details != "" {
		return e.Msg + ": " + e.Details
	}
	return e.Msg
}

// Errorf returns an *Error with code and a formatted message.
func Errorf(code uint, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}
