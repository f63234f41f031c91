// Command pin is nsbox's pin applet as a program of its own (for u-root and
// gobusybox builds, which take one main package per command).
package main

import (
	"github.com/nsbox/nsbox/pkg/applet"

	_ "github.com/nsbox/nsbox/pkg/applets/pin"
)

func main() { applet.MainOne("pin") }
