// Command nsbox is the multi-call binary: every applet in one static
// executable, chosen by the name it is called by or by its first argument.
package main

import (
	"github.com/nsbox/nsbox/pkg/applet"

	_ "github.com/nsbox/nsbox/pkg/applets/cnibridge"
	_ "github.com/nsbox/nsbox/pkg/applets/lsns"
	_ "github.com/nsbox/nsbox/pkg/applets/mkbridge"
	_ "github.com/nsbox/nsbox/pkg/applets/nsenter"
	_ "github.com/nsbox/nsbox/pkg/applets/nsid"
	_ "github.com/nsbox/nsbox/pkg/applets/pin"
	_ "github.com/nsbox/nsbox/pkg/applets/pivot"
	_ "github.com/nsbox/nsbox/pkg/applets/setuidmap"
	_ "github.com/nsbox/nsbox/pkg/applets/unshare"
)

func main() { applet.Main() }
