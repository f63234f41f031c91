// Command pivot is nsbox's pivot applet as a program of its own (for u-root
// and gobusybox builds, which take one main package per command).
package main

import (
	"github.com/nsbox/nsbox/pkg/applet"

	_ "github.com/nsbox/nsbox/pkg/applets/pivot"
)

func main() { applet.MainOne("pivot") }
