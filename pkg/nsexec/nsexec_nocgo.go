//go:build !cgo

package nsexec

// Constructor tells whether this binary has the pre-runtime C stage. This
// build (CGO_ENABLED=0, as gobusybox makes) does not: stages run in Go after
// a second runtime start, and -U without --fork forks.
const Constructor = false
