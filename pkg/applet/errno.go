package applet

import "github.com/nsbox/nsbox/pkg/errtext"

// Strerror returns err's text as glibc's strerror prints it (errtext).
func Strerror(err error) string { return errtext.Strerror(err) }

// Message is err's text with a trailing errno spelt as strerror spells it
// ("...: Operation not permitted").
func Message(err error) string { return errtext.Message(err) }
