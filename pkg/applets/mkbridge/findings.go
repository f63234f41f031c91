package mkbridge

import (
	"io"

	"github.com/nsbox/nsbox/pkg/jsonv"
	"github.com/nsbox/nsbox/pkg/netsetup"
)

// writeFindings writes --check --json's object on one line (its shape is
// documented in docs/mkbridge.md): the bridge, the target (null without
// one), how many problems, and each finding: what was checked, whether
// it is a problem, the line --check prints for it.
func writeFindings(w io.Writer, bridge string, t *netsetup.Target, findings []netsetup.Finding, problems int) {
	var j jsonv.Writer
	j.BeginObject()
	j.Key("bridge")
	j.String(bridge)
	j.Key("target")
	if t != nil {
		j.String(t.Name)
	} else {
		j.Null()
	}
	j.Key("problems")
	j.Int(int64(problems))
	j.Key("findings")
	j.BeginArray()
	for _, f := range findings {
		j.BeginObject()
		j.Key("check")
		j.String(f.Check)
		j.Key("problem")
		j.Bool(f.Problem)
		j.Key("text")
		j.String(f.Text)
		j.EndObject()
	}
	j.EndArray()
	j.EndObject()
	w.Write(append(j.Bytes(), '\n'))
}
