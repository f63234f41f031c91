package pin

import (
	"io"

	"github.com/nsbox/nsbox/pkg/jsonv"
	"github.com/nsbox/nsbox/pkg/pin"
)

// writeJSON writes what a batch did, --json's one object on one line (its
// shape is documented in docs/pin.md): the target, the directory handle,
// what was done to it, the holder, each pin (type, namespace inode, file)
// and each namespace left out, with why.
func writeJSON(w io.Writer, b *pin.Batch, res *pin.Result) {
	var j jsonv.Writer
	j.BeginObject()
	j.Key("pid")
	j.Int(int64(b.PID))
	j.Key("dir")
	if b.Dir != "" {
		j.String(b.Dir)
	} else {
		j.Null()
	}
	j.Key("created")
	j.Bool(res.Created != "")
	j.Key("private")
	j.Bool(res.Prepared != "")
	j.Key("holder")
	if res.Holder != 0 {
		j.Int(int64(res.Holder))
	} else {
		j.Null()
	}
	j.Key("pins")
	j.BeginArray()
	for _, p := range res.Pins {
		j.BeginObject()
		j.Key("type")
		j.String(p.Type.String())
		j.Key("ns")
		j.Uint(p.Ino)
		j.Key("file")
		j.String(p.Path)
		j.EndObject()
	}
	j.EndArray()
	j.Key("skipped")
	j.BeginArray()
	for _, s := range res.Skipped {
		j.BeginObject()
		j.Key("type")
		j.String(s.Type.String())
		j.Key("reason")
		j.String(skipReason(s, b.PID))
		j.EndObject()
	}
	j.EndArray()
	j.EndObject()
	w.Write(append(j.Bytes(), '\n'))
}
