//go:build !cgo

package nsexec

// Constructor tells whether this binary has the pre-runtime C stage. This
// build (CGO_ENABLED=0, as gobusybox makes) does not: stages run in Go after
// a second runtime start, and -U without --fork forks.
const Constructor = false

// Feature is this build's line in "nsbox --version".
const Feature = "constructor: no, CGO_ENABLED=0 build (unshare -U without --fork forks; --fork children start the Go runtime again; nsenter cannot enter user or time namespaces)"
