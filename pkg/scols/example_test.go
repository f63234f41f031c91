package scols_test

import (
	"os"

	"github.com/nsbox/nsbox/pkg/scols"
)

func Example() {
	t := &scols.Table{UTF8: true}
	t.AddColumn("NAME", 0, scols.FlTree)
	t.AddColumn("SIZE", 0, scols.FlRight)
	root := t.NewLine(nil)
	root.Set(0, "sda")
	root.Set(1, "100G")
	for _, p := range [][2]string{{"sda1", "1G"}, {"sda2", "99G"}} {
		l := t.NewLine(root)
		l.Set(0, p[0])
		l.Set(1, p[1])
	}
	t.Print(os.Stdout)

	t.Format = scols.JSON
	t.Name = "disks"
	t.Print(os.Stdout)
	// Output:
	// NAME   SIZE
	// sda    100G
	// ├─sda1   1G
	// └─sda2  99G
	// {
	//    "disks": [
	//       {
	//          "name": "sda",
	//          "size": "100G",
	//          "children": [
	//             {
	//                "name": "sda1",
	//                "size": "1G"
	//             },{
	//                "name": "sda2",
	//                "size": "99G"
	//             }
	//          ]
	//       }
	//    ]
	// }
}
