// Command mkbridge is nsbox's mkbridge applet as a program of its own (for
// u-root and gobusybox builds, which take one main package per command).
package main

import (
	"github.com/nsbox/nsbox/pkg/applet"

	_ "github.com/nsbox/nsbox/pkg/applets/mkbridge"
)

func main() { applet.MainOne("mkbridge") }
