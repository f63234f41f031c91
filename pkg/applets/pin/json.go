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
	str := func(k, v string) { j.Key(k); j.String(v) }
	orNull := func(k string, set bool, write func()) {
		j.Key(k)
		if set {
			write()
		} else {
			j.Null()
		}
	}
	j.BeginObject()
	j.Key("pid")
	j.Int(int64(b.PID))
	orNull("dir", b.Dir != "", func() { j.String(b.Dir) })
	j.Key("created")
	j.Bool(res.Created != "")
	j.Key("private")
	j.Bool(res.Prepared != "")
	orNull("holder", res.Holder != 0, func() { j.Int(int64(res.Holder)) })
	j.Key("pins")
	j.BeginArray()
	for _, p := range res.Pins {
		j.BeginObject()
		str("type", p.Type.String())
		j.Key("ns")
		j.Uint(p.Ino)
		str("file", p.Path)
		j.EndObject()
	}
	j.EndArray()
	j.Key("skipped")
	j.BeginArray()
	for _, s := range res.Skipped {
		j.BeginObject()
		str("type", s.Type.String())
		str("reason", skipReason(s, b.PID))
		j.EndObject()
	}
	j.EndArray()
	j.EndObject()
	w.Write(append(j.Bytes(), '\n'))
}
