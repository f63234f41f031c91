// Command nsbox-bridge is nsbox's CNI plugin as a program of its own (for
// u-root and gobusybox builds, which take one main package per command).
package main

import (
	"github.com/nsbox/nsbox/pkg/applet"

	_ "github.com/nsbox/nsbox/pkg/applets/cnibridge"
)

func main() { applet.MainOne("nsbox-bridge") }
