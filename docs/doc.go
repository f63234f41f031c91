// Package docs holds nsbox's documentation and the tests that keep it true:
// demo_test.go runs demo.sh (make demo), docs_test.go runs the command
// blocks of every page here and compares what they print with what the
// page shows.
//
// # The convention
//
// A block fenced as ```console is a terminal session, and is executed:
//
//   - a line starting with "# " is a command run as root, "$ " a command
//     run as an unprivileged user; one block is all root or all user;
//   - a command line ending in a backslash goes on on the next line;
//   - the other lines, up to the next command, are what the command
//     prints (standard output and standard error, as a terminal shows
//     them); a command shown with no output must print nothing and exit 0.
//
// Blocks fenced ```sh, ```text, ```c or with no language are illustrations
// (syntax, fragments, output of commands that need hardware or a host
// the tests do not have) and are not executed. So that no session slips
// through unchecked, a non-console block may not start with a "$ " prompt.
//
// Expected output may hold placeholders for what changes from run to run:
//
//	<PID>, <NS>, <N>   a decimal number (a PID, a namespace inode, any count)
//	<HEX>              hexadecimal digits
//	<MAC>              a MAC address
//	…                  within a line: any text (a time, a path)
//	…                  alone on a line: any number of lines, none included
//
// and a run of blanks matches any run of blanks (columns move when a
// number is longer), trailing blanks are ignored.
//
// # Where the commands run
//
// Each block is one bash script (the commands share variables, the
// working directory, background jobs). Root blocks run in a scratch
// environment: new mount and network namespaces (nsbox unshare -m -n),
// fresh tmpfs on /run and /tmp, a fresh sysfs, the working directory an
// empty directory in that /tmp with out/rootfs linked to the root
// filesystem of make rootfs, all on one CPU (so that the scratch mount
// namespace is older than the ones a block makes and pins, as the host's
// initial one is for a reader: see pin.md on namespace IDs). Bridges, veths, pins and mounts a block makes
// are gone with those namespaces; the host's network is never touched.
// User blocks run as the unprivileged test user of internal/testutil (with
// a /etc/subuid block) in a fresh home directory. In both, PATH starts
// with a directory holding only nsbox, so `nsbox APPLET` is the binary
// under test and plain `unshare`, `nsenter`, `lsns` are util-linux's.
// Each block must clean up after itself: processes it leaves behind are
// reported by the test.
package docs
