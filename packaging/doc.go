// Package packaging holds what makes nsbox's releases, and their tests.
// The scripts (make dist, make deb):
//
//	licenses.sh   the licences of what the binaries hold besides nsbox
//	mkdist.sh     a release archive, nsbox-VERSION-linux-ARCH.tar.gz
//	mkdeb.sh      the Debian package from a staged "make install", with dpkg-deb
//
// The tests (release_test.go, deb_test.go) build the archives and the
// package in two copies of the working tree, at two different paths, and
// check that the bytes are the same; that an archive holds what it should
// and checks against SHA256SUMS; that a plain "go build" says the commit
// as its version; and, as root where dpkg is, that the package installs
// with dpkg -i beside util-linux, runs the demo, and that dpkg -r leaves
// nothing of it.
package packaging
