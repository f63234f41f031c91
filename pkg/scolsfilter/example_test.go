package scolsfilter_test

import (
	"fmt"
	"strings"

	"github.com/nsbox/nsbox/pkg/scolsfilter"
)

// disk is a row: NAME, then SIZE in bytes.
type disk [2]string

func (d disk) Cell(col int) (string, bool) { return d[col], d[col] != "" }

func Example() {
	f, err := scolsfilter.Parse(`SIZE > 1G && NAME =~ "^sd"`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range f.Holders() {
		switch strings.ToUpper(h.Name) {
		case "NAME":
			h.Col, h.Type = 0, scolsfilter.DataString
		case "SIZE":
			h.Col, h.Type = 1, scolsfilter.DataU64
		}
	}
	for _, d := range []disk{{"sda", "107374182400"}, {"sdb", "1048576"}, {"nvme0n1", "512110190592"}} {
		ok, err := f.Match(d)
		fmt.Println(d[0], ok, err)
	}
	_, err = scolsfilter.Parse(`SIZE >`)
	fmt.Println(err)
	// Output:
	// sda true <nil>
	// sdb false <nil>
	// nvme0n1 false <nil>
	// syntax error, unexpected end of file
}
