// Command mkman turns nsbox's manual pages, docs/NAME.md in Markdown, into
// roff with go-md2man: "go run ./internal/mkman -o out/man -version V
// docs/*.md" writes out/man/NAME.SECTION for each page whose first line is
// "# NAME(SECTION) — nsbox" and skips the other files. It is a build-time
// tool (make man): nothing of it, or of go-md2man, is linked into nsbox.
//
// Two things are adapted on the way. The page's first line becomes the
// title line (.TH NAME SECTION "" "nsbox V" "nsbox manual"), and the NAME
// line "nsbox APPLET — what" becomes "APPLET - what" ("nsbox-bridge —
// what": "nsbox-bridge - what"), which whatis and apropos read. With -prefix P (make man: nsbox-), a page whose name does
// not start with nsbox is named P+NAME, in its file, title and NAME line:
// nsbox-unshare.1, which never takes the place of util-linux's unshare.1. And every table cell is a text block (T{ T}), which tbl
// wraps to the page width; go-md2man makes only some cells text blocks, so
// a table with long cells ran off the right edge of the terminal.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/russross/blackfriday/v2"
)

var (
	title    = regexp.MustCompile(`^# ([a-z0-9-]+)\(([1-8])\) — nsbox\n`)
	nameLine = regexp.MustCompile(`(?m)^(## NAME\n\n)(nsbox(?:-[a-z0-9-]+)?) (?:([a-z0-9-]+) )?— `)
)

func main() {
	outDir := flag.String("o", ".", "output directory")
	version := flag.String("version", "", "nsbox version for the title line")
	prefix := flag.String("prefix", "", "prefix of the pages' names that do not start with nsbox")
	flag.Parse()
	for _, path := range flag.Args() {
		if err := convert(path, *outDir, *version, *prefix); err != nil {
			fmt.Fprintf(os.Stderr, "mkman: %v\n", err)
			os.Exit(1)
		}
	}
}

func convert(path, outDir, version, prefix string) error {
	md, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	t := title.FindSubmatch(md)
	if t == nil {
		return nil // not a manual page
	}
	name, section := string(t[1]), string(t[2])
	if !strings.HasPrefix(name, "nsbox") {
		name = prefix + name
	}
	head := fmt.Sprintf("%s %s \"\" \"nsbox %s\" \"nsbox manual\"\n===\n", name, section, version)
	md = append([]byte(head), md[len(t[0]):]...)
	md = nameLine.ReplaceAllFunc(md, func(m []byte) []byte {
		s := nameLine.FindSubmatch(m)
		n := string(s[3]) // "nsbox APPLET — ": the applet
		switch {
		case n == "":
			n = string(s[2]) // "nsbox — ", "nsbox-bridge — "
		case !strings.HasPrefix(n, "nsbox"):
			n = prefix + n
		}
		return append(s[1], n+" - "...)
	})
	r := md2man.NewRoffRenderer()
	roff := blackfriday.Run(md, blackfriday.WithRenderer(textBlocks{r}), blackfriday.WithExtensions(r.GetExtensions()))
	out := filepath.Join(outDir, name+"."+section)
	if err := os.WriteFile(out, roff, 0o644); err != nil {
		return err
	}
	fmt.Printf("mkman %s > %s\n", path, out)
	return nil
}

// textBlocks is go-md2man's renderer with every body cell of a table a
// text block.
type textBlocks struct{ blackfriday.Renderer }

func (r textBlocks) RenderNode(w io.Writer, n *blackfriday.Node, entering bool) blackfriday.WalkStatus {
	if n.Type != blackfriday.TableCell || n.IsHeader {
		return r.Renderer.RenderNode(w, n, entering)
	}
	var b bytes.Buffer
	switch {
	case entering && n.Prev != nil:
		b.WriteString("\tT{\n")
	case entering:
		b.WriteString("T{\n")
	default:
		b.WriteString("\nT}")
		if n.Next == nil {
			b.WriteString("\n")
		}
	}
	w.Write(b.Bytes())
	return blackfriday.GoToNext
}
