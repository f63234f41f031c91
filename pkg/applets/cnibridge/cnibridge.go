// Package cnibridge is nsbox-bridge, mkbridge as a CNI plugin (spec 1.1.0
// and back to 0.3.0): containerd, Kubernetes and podman run it from
// CNI_PATH as a network configuration's "type": "nsbox-bridge", one
// process per command. The protocol is pkg/cni; the network is made by
// pkg/netsetup, as mkbridge makes it. A hidden applet: it is chosen by its
// name (a link called nsbox-bridge), never listed or installed with the
// others ("make install-cni" links it into CNI_BINDIR).
package cnibridge

import (
	"errors"
	"io"
	"os"

	"github.com/nsbox/nsbox/pkg/applet"
	"github.com/nsbox/nsbox/pkg/cni"
	"github.com/nsbox/nsbox/pkg/jsonv"
	"github.com/nsbox/nsbox/pkg/reexec"
)

// Name is the applet's name and the plugin's type.
const Name = "nsbox-bridge"

func init() {
	reexec.Register(reapStage, reap)
	applet.Register(applet.Applet{
		Name:    Name,
		Summary: "mkbridge as a CNI plugin (containerd, Kubernetes, podman)",
		Usage:   usage,
		Run:     run,
		Hidden:  true,
	})
}

const usage = `
Usage:
 CNI_COMMAND=<command> [CNI_...=...] nsbox-bridge <config.json

A CNI plugin (spec 1.1.0; configurations of 0.3.0 to 1.1.0): give a
container's network namespace a port on a host bridge, as mkbridge does, when
a container runtime runs it as the "type": "nsbox-bridge" of a network
configuration. The command is CNI_COMMAND: ADD, DEL, CHECK, STATUS, GC or
VERSION; the parameters are CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS
and CNI_PATH; the network configuration is read from stdin. The result, or
the error object, is printed on stdout as JSON.

Options:
 -h, --help                 display this help
 -V, --version              display version

For more details see docs/cni.md.
`

// getenv reads the protocol's parameters (a variable for the tests).
var getenv = os.Getenv

func run(e *applet.Env) error {
	fs := applet.NewFlags(e)
	rest, done, err := applet.Parse(e, fs, usage)
	if err != nil || done {
		return err
	}
	if len(rest) > 0 {
		return applet.Usagef("takes no arguments: the command is CNI_COMMAND, the configuration stdin")
	}
	env := cni.ReadEnv(getenv)
	out, version, err := serve(env, e.Stdin, e.Stderr)
	if err != nil {
		var ce *cni.Error
		if !errors.As(err, &ce) {
			ce = &cni.Error{Code: cni.CodeFailed, Msg: err.Error()}
		}
		e.Stdout.Write(append(cni.EncodeError(version, ce), '\n'))
		return &applet.Exit{Code: 1}
	}
	if out != nil {
		e.Stdout.Write(append(out, '\n'))
	}
	return nil
}

// serve carries out one command: its output (nil: none) and the version to
// answer an error in.
func serve(env cni.Env, stdin io.Reader, stderr io.Writer) ([]byte, string, error) {
	if err := env.Check(); err != nil {
		return nil, "", err
	}
	conf, err := io.ReadAll(stdin)
	if err != nil {
		return nil, "", &cni.Error{Code: cni.CodeIO, Msg: "cannot read the network configuration", Details: err.Error()}
	}
	if env.Command == cni.CmdVersion {
		return version(conf)
	}
	p, err := parse(env, conf)
	if err != nil {
		return nil, versionOf(conf), err
	}
	p.Environ = os.Environ()
	out, err := act(p, stderr)
	return out, p.Version, err
}

// version answers VERSION: the request's cniVersion (any, even one not
// supported: the runtime asks in order to choose) and the supported ones.
func version(conf []byte) ([]byte, string, error) {
	v := versionOf(conf)
	out, err := cni.VersionResult(v)
	return out, v, err
}

// versionOf is the cniVersion of a configuration (its key matched without
// regard to case), or "" when it has none or is not JSON.
func versionOf(conf []byte) string {
	doc, err := jsonv.Parse(conf)
	if err != nil {
		return ""
	}
	var v string
	if doc.DecodeFields(func(_ string, m *jsonv.Value) error { return m.DecodeString(&v) }, "cniVersion") != nil {
		return ""
	}
	return v
}
