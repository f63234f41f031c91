# nsbox - build, test, benchmark, install.
#
#   make                 out/nsbox: the static cgo multi-call binary
#   make test            deps, binaries, go vet, gofmt check, go test, fuzzing, cnitest, vmtest (.ci/run)
#   make rootfs          out/rootfs: a small root filesystem for pivot (busybox + nsbox)
#   make demo            a whole container assembled from applets, step by step (docs/demo.sh)
#   make bench           start latency, peak RSS and size against util-linux (bench/run.sh)
#   make man             out/man: the manual pages, roff from docs/*.md (go-md2man)
#   make install         out/nsbox into $(DESTDIR)$(PREFIX)/bin with a link per applet
#                        (in bin, or in libexec/nsbox under DESTDIR), the manual pages
#                        (nsbox-unshare.1...) and the bash, zsh and fish completion
#   make dist            out/dist: nsbox-VERSION-linux-amd64.tar.gz (static, musl) and
#                        -arm64.tar.gz (cgo-free), SHA256SUMS; reproducible
#   make deb             out/dist/nsbox_VERSION_amd64.deb: /usr/bin/nsbox, the applets
#                        in /usr/libexec/nsbox, beside util-linux without a conflict
#   make install-setuid  a separate set-user-ID root copy, $(DESTDIR)$(PREFIX)/bin/setuidmap
#                        and mkbridge (a hard link to it)
#   make install-setcap  the same with file capabilities instead (the CGO_ENABLED=0 build)
#   make vm              boot the u-root image under QEMU and run the walk-through (docs/vm.md)
#   make vm-shell        the same image, an interactive shell instead of the walk-through
#   make vmtest          make vm with assertions on the transcript (the end of make test)
#   make cnitest         nsbox-bridge, the CNI plugin, under cnitool, podman and containerd
#   make install-cni     the nsbox-bridge link into $(CNI_BINDIR) (default /opt/cni/bin)
#
# Needs GNU make, Go (go on PATH, else /usr/local/go/bin/go), and gcc with
# musl (musl-gcc) for the static cgo build (make deps installs what is missing, as root).

MODULE  := github.com/nsbox/nsbox
PREFIX  ?= /usr/local
# Where the applet links go. A direct install makes them commands beside
# nsbox, leaving alone what is there (/usr/bin/unshare stays util-linux's);
# a staged install (DESTDIR: a package) puts them in a directory of their
# own, since a package that ships /usr/bin/unshare conflicts with
# util-linux's.
ifeq ($(DESTDIR),)
APPLETDIR ?= $(PREFIX)/bin
else
APPLETDIR ?= $(PREFIX)/libexec/nsbox
endif
# zsh's directory for completion functions (Debian's zsh reads
# /usr/share/zsh/vendor-completions, not /usr/share/zsh/site-functions).
ZSHDIR  ?= $(PREFIX)/share/zsh/site-functions
BINDIR   = $(DESTDIR)$(PREFIX)/bin
LINKDIR  = $(DESTDIR)$(APPLETDIR)
MANDIR   = $(DESTDIR)$(PREFIX)/share/man
BASHCOMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(DESTDIR)$(ZSHDIR)
FISHCOMPDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
# The applets are commands (linked into bin): then their names get manual
# pages and completions too, where nothing of that name is installed.
COMMANDS = $(filter $(PREFIX)/bin,$(APPLETDIR))

ifeq ($(origin GO),undefined)
GO      := $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
endif
GOFMT    = $(shell $(GO) env GOROOT)/bin/gofmt

# The version every --version prints: the release tag, else the commit
# (its first 12 hexadecimal digits, as a plain "go build" in a checkout
# says it), with -dirty for a changed tree. Outside a checkout, give it:
# make VERSION=1.2.3.
ifeq ($(origin VERSION),undefined)
VERSION := $(shell git describe --tags --always --dirty --abbrev=12 2>/dev/null || echo unknown)
endif

# The builds are reproducible: the same sources and VERSION give the same
# bytes, wherever the tree is (-trimpath), whatever the state of .git
# (-buildvcs=false: the version is in VERSION) and with no build ID.
GOBUILD        := build -trimpath -buildvcs=false
LDFLAGS        := -s -w -buildid= -X $(MODULE)/pkg/applet.Version=$(VERSION)
LDFLAGS_STATIC := -s -w -buildid= -linkmode external -extldflags -static -X $(MODULE)/pkg/applet.Version=$(VERSION)

# Everything the binaries are built from: rebuilt when a source, go.mod,
# go.sum or the version changes (go build's own cache does the rest).
GO_SRC := $(shell find . \( -path ./out -o -path ./.git -o -path ./initramfs -o -path ./cnitest -o -name testdata \) -prune -o \
		-type f \( -name '*.go' -o -name '*.c' -o -name '*.h' -o -name '*.s' \) ! -name '*_test.go' -print 2>/dev/null) \
	go.mod $(wildcard go.sum)

BINS := out/nsbox out/nsbox-purego out/cmds/.built

# apt-get, only for what is missing; "apt-get update" only then.
APT_GET = DEBIAN_FRONTEND=noninteractive apt-get
define apt_install
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make: warning: not root, not installing:$$missing" >&2; exit 0; fi; \
		echo "installing:$$missing"; \
		$(APT_GET) -q update && $(APT_GET) -q -y install --no-install-recommends $$missing; \
	fi
endef

.PHONY: all build rootfs rootfs-deps demo test vet fmt fmt-check deps bench-deps bench vm-deps vm-image vm vm-shell vmtest cni-deps cnitools cnitest install install-cni install-setuid install-setcap uninstall uninstall-cni uninstall-setuid uninstall-setcap dist deb clean FORCE

all: out/nsbox

build: $(BINS)

# The version is a prerequisite through a stamp that changes only with it.
out/.version: FORCE
	@mkdir -p out; [ "$$(cat $@ 2>/dev/null)" = '$(VERSION)' ] || printf '%s\n' '$(VERSION)' >$@

# The C constructor is linked against musl: a static glibc costs about
# 1.5 ms more at every start (measured: bench/run.sh, unshare -r), and the
# -U path starts the binary twice. CC=gcc builds with glibc.
CC ?= musl-gcc
ifeq ($(origin CC),default)
CC := musl-gcc
endif

out/nsbox: $(GO_SRC) out/.version
	CC=$(CC) CGO_ENABLED=1 $(GO) $(GOBUILD) -tags osusergo,netgo -ldflags '$(LDFLAGS_STATIC)' -o $@ ./cmds/nsbox

out/nsbox-purego: $(GO_SRC) out/.version
	CGO_ENABLED=0 $(GO) $(GOBUILD) -ldflags '$(LDFLAGS)' -o $@ ./cmds/nsbox

# Every applet also builds alone without cgo, as u-root builds it:
# out/cmds/<applet>.
out/cmds/.built: $(GO_SRC) out/.version
	@mkdir -p out/cmds
	CGO_ENABLED=0 $(GO) $(GOBUILD) -ldflags '$(LDFLAGS)' -o out/cmds/ ./cmds/...
	@touch $@

# ---- manual pages and completion ----
# out/man/nsbox-NAME.SECTION (nsbox.1, nsbox-unshare.1, nsbox-lsns.8...)
# from each docs/NAME.md whose first line is "# NAME(SECTION) — nsbox",
# by internal/mkman with go-md2man: build-time only, never linked into
# nsbox. Named nsbox-NAME so that they never take the place of
# util-linux's unshare.1 or lsns.8. cmds/nsbox's tests check each page's
# options against the applet's parser and --help text.
MAN_MD := $(shell grep -l '^\# [a-z0-9-]*([1-8]) — nsbox$$' docs/*.md 2>/dev/null)
# "name section" of a page, from its first line.
man_id = sed -n '1s/^\# \([a-z0-9-]*\)(\([1-8]\)) — nsbox$$/\1 \2/p'

.PHONY: man completion

man: out/man/.built

out/man/.built: $(MAN_MD) internal/mkman/main.go go.mod out/.version
	@rm -rf out/man; mkdir -p out/man
	$(GO) run ./internal/mkman -o out/man -version '$(VERSION)' -prefix nsbox- $(MAN_MD)
	@touch $@

# The scripts of "nsbox --completion": applet names and each applet's options.
COMPLETIONS = out/completion/nsbox.bash out/completion/_nsbox out/completion/nsbox.fish
completion: $(COMPLETIONS)

out/completion/nsbox.bash: out/nsbox
	@mkdir -p out/completion
	out/nsbox --completion bash >$@

out/completion/_nsbox: out/nsbox
	@mkdir -p out/completion
	out/nsbox --completion zsh >$@

out/completion/nsbox.fish: out/nsbox
	@mkdir -p out/completion
	out/nsbox --completion fish >$@

# ---- dependencies ----
# gcc and musl (the static cgo build), newuidmap/newgidmap (uidmap: the
# unprivileged tests), setcap (libcap2-bin: the file-capability install and
# its test), zsh and fish (their completions' tests), strace (the fault
# injection's kills at a system call, faultinject/), the Go modules.
deps:
	@missing=; \
	command -v gcc >/dev/null 2>&1 || missing="$$missing build-essential"; \
	command -v setcap >/dev/null 2>&1 || [ -x /usr/sbin/setcap ] || [ -x /sbin/setcap ] || missing="$$missing libcap2-bin"; \
	command -v zsh >/dev/null 2>&1 || missing="$$missing zsh"; \
	command -v fish >/dev/null 2>&1 || missing="$$missing fish"; \
	command -v strace >/dev/null 2>&1 || missing="$$missing strace"; \
	command -v musl-gcc >/dev/null 2>&1 || missing="$$missing musl-tools"; \
	command -v newuidmap >/dev/null 2>&1 && command -v newgidmap >/dev/null 2>&1 || missing="$$missing uidmap"; \
	$(apt_install)
	$(GO) mod download

# ---- a root filesystem for pivot ----
# out/rootfs: Debian's static busybox (sh, ls, ps, id, hostname, ip, ping,
# mount...) with a link per applet, out/nsbox with a link per applet (in
# place of busybox's unshare, nsenter...), minimal /etc (passwd, group,
# hosts) and the empty mount points. rootfs/mkrootfs.sh says how; the
# pivot tests use it (NSBOX_ROOTFS). See docs/pivot.md for why busybox.
BUSYBOX ?= /bin/busybox

rootfs: out/rootfs/bin/nsbox

rootfs-deps:
	@missing=; \
	[ "$(BUSYBOX)" != /bin/busybox ] || { [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || missing="$$missing busybox-static"; \
	$(apt_install)

# The tree is made whole or not at all; its nsbox is the newest file in it.
out/rootfs/bin/nsbox: out/nsbox rootfs/mkrootfs.sh | rootfs-deps
	rootfs/mkrootfs.sh out/rootfs out/nsbox $(BUSYBOX)

# ---- the demo ----
# docs/demo.sh prints each command of a container's assembly and its
# output: as root with a bridge (nsboxdemo0), as another user rootless.
# It removes everything it made and checks that nothing is left. deps
# first: on a fresh machine (as root) it installs musl-tools and uidmap.
demo: deps out/nsbox rootfs
	docs/demo.sh out/nsbox out/rootfs

# hyperfine (start latency), GNU time (peak RSS), gcc + static libc (the kit's nsraw.c).
bench-deps:
	@missing=; \
	command -v hyperfine >/dev/null 2>&1 || missing="$$missing hyperfine"; \
	[ -x /usr/bin/time ] || missing="$$missing time"; \
	command -v gcc >/dev/null 2>&1 || missing="$$missing build-essential"; \
	$(apt_install)

# ---- checks ----
FMT_CHECK = bad=$$($(GOFMT) -l .) || exit 1; \
	if [ -n "$$bad" ]; then echo "gofmt: these files need formatting (make fmt):" >&2; echo "$$bad" >&2; exit 1; fi

vet:
	$(GO) vet ./...

fmt:
	$(GOFMT) -l -w .

fmt-check:
	@$(FMT_CHECK)

# The tests run the binaries themselves (NSBOX_BIN, NSBOX_PUREGO_BIN, and
# the standalone ones in NSBOX_CMDS_DIR).
# -p 1: the leak checks compare host-wide state (mounts, links), so test
# binaries must not run side by side.
test: deps $(BINS) rootfs man
	$(GO) vet ./...
	@$(FMT_CHECK)
	NSBOX_BIN=$(CURDIR)/out/nsbox NSBOX_PUREGO_BIN=$(CURDIR)/out/nsbox-purego NSBOX_ROOTFS=$(CURDIR)/out/rootfs \
		NSBOX_CMDS_DIR=$(CURDIR)/out/cmds $(GO) test -p 1 -count=1 -timeout 20m ./...
	$(GO) test -run '^$$' -fuzz '^FuzzParseRanges$$' -fuzztime 10s ./pkg/idmap/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10s ./pkg/jsonv/
	$(GO) test -run '^$$' -fuzz '^FuzzGrammar$$' -fuzztime 10s ./pkg/ere/
	$(MAKE) cnitest
	$(MAKE) vmtest

# ---- benchmarks (root; see bench/run.sh for ROUNDS, RUNS, MEMRUNS) ----
bench: bench-deps out/nsbox out/cnitools/.built
	bench/run.sh

# ---- the u-root VM (docs/vm.md) ----
# initramfs/ is its own Go module (u-root stays out of the main go.mod).
# The base image (u-root's commands, listed in initramfs/tools.go) is built
# once and again only when its inputs change (the stamp out/vm/base.inputs
# holds their hash: a checkout that only touches them rebuilds nothing); the
# image is the base plus a layer (out/nsbox, the applet links, the kernel
# modules, the walk-through) made in under a second by initramfs/layer.sh.
# The kernel and its modules come from Debian's linux-image-amd64 (vm-deps).
VM_KVER = $(shell for k in $$(ls /boot 2>/dev/null | sed -n 's/^vmlinuz-//p' | sort -V -r); do \
		[ -f /lib/modules/$$k/modules.dep ] && { echo $$k; break; }; done)
VM_CMDS = $(shell sed -n 's|^\t_ "\(github.com/u-root/u-root/cmds/[^"]*\)"$$|\1|p' initramfs/tools.go)
VM_TIMEOUT ?= 120

vm-deps:
	@missing=; \
	command -v qemu-system-x86_64 >/dev/null 2>&1 || missing="$$missing qemu-system-x86"; \
	[ -n "$(VM_KVER)" ] || missing="$$missing linux-image-amd64"; \
	$(apt_install)

out/vm/base.inputs: FORCE
	@mkdir -p out/vm; s="$$(cat initramfs/go.mod initramfs/go.sum initramfs/tools.go | sha256sum) $$($(GO) version)"; \
	[ "$$(cat $@ 2>/dev/null)" = "$$s" ] || printf '%s\n' "$$s" >$@

# Not -trimpath: u-root finds go through the GOROOT compiled into it.
out/vm/u-root: out/vm/base.inputs
	cd initramfs && CGO_ENABLED=0 $(GO) build -o ../$@ github.com/u-root/u-root

out/vm/base.cpio: out/vm/u-root out/vm/base.inputs
	cd initramfs && GOAMD64=v1 CGO_ENABLED=0 ../out/vm/u-root -o ../$@.tmp -defaultsh=gosh -uinitcmd= $(VM_CMDS)
	mv $@.tmp $@

out/vm/nsbox.cpio: out/nsbox out/vm/base.cpio initramfs/layer.sh initramfs/guest.sh initramfs/inside.sh | vm-deps
	@[ -n "$(VM_KVER)" ] || { echo "make: no /boot/vmlinuz-* with its /lib/modules (make vm-deps as root)" >&2; exit 1; }
	initramfs/layer.sh out/vm/u-root out/vm/base.cpio out/nsbox $(VM_KVER) $@

vm-image: out/vm/nsbox.cpio

vm: out/vm/nsbox.cpio
	VM_TIMEOUT=$(VM_TIMEOUT) initramfs/boot.sh /boot/vmlinuz-$(VM_KVER) out/vm/nsbox.cpio

vm-shell: out/vm/nsbox.cpio
	initramfs/boot.sh /boot/vmlinuz-$(VM_KVER) out/vm/nsbox.cpio shell

vmtest: out/vm/nsbox.cpio
	cd initramfs && $(GO) vet . && \
		NSBOX_VM_KERNEL=/boot/vmlinuz-$(VM_KVER) NSBOX_VM_IMAGE=$(CURDIR)/out/vm/nsbox.cpio VM_TIMEOUT=$(VM_TIMEOUT) \
		$(GO) test -count=1 -timeout 10m -run '^TestWalkthrough$$' .

# ---- the CNI plugin under cnitool and the runtimes (docs/cni.md) ----
# cnitest/ is its own Go module, as initramfs/ is: cnitool and libcni, the
# reference plugins and crictl, at the versions its go.mod pins, are built
# once into out/cnitools and again only when that go.mod or go.sum changes.
# podman and containerd come from Debian (cni-deps); a test whose runtime
# cannot be installed is skipped and says why.
CNI_TOOLS = github.com/containernetworking/cni/cnitool \
	github.com/containernetworking/plugins/plugins/main/bridge \
	github.com/containernetworking/plugins/plugins/main/loopback \
	github.com/containernetworking/plugins/plugins/ipam/host-local \
	github.com/containernetworking/plugins/plugins/meta/tuning \
	github.com/containernetworking/plugins/plugins/meta/bandwidth \
	github.com/containernetworking/plugins/plugins/meta/portmap \
	sigs.k8s.io/cri-tools/cmd/crictl

cni-deps:
	@missing=; \
	command -v podman >/dev/null 2>&1 || missing="$$missing podman"; \
	command -v runc >/dev/null 2>&1 || missing="$$missing runc"; \
	command -v conmon >/dev/null 2>&1 || missing="$$missing conmon"; \
	command -v containerd >/dev/null 2>&1 || missing="$$missing containerd"; \
	command -v ip >/dev/null 2>&1 || missing="$$missing iproute2"; \
	$(apt_install) || echo "make: warning: could not install:$$missing (their tests are skipped)" >&2

cnitools: out/cnitools/.built

out/cnitools/.built: cnitest/go.mod cnitest/go.sum
	@mkdir -p out/cnitools
	cd cnitest && CGO_ENABLED=0 $(GO) build -trimpath -o ../out/cnitools/ $(CNI_TOOLS)
	@touch $@

cnitest: out/nsbox rootfs out/cnitools/.built | cni-deps
	cd cnitest && $(GO) vet . && \
		NSBOX_BIN=$(CURDIR)/out/nsbox NSBOX_ROOTFS=$(CURDIR)/out/rootfs CNI_TOOLS=$(CURDIR)/out/cnitools \
		$(GO) test -count=1 -timeout 15m .

# ---- install ----
# nsbox, a link per applet in APPLETDIR, the manual pages nsbox.1,
# nsbox-unshare.1... and the completion scripts. When the applets are
# commands (APPLETDIR is bin), their names get links too, where nothing of
# that name is installed already, as "nsbox --install" leaves what it
# finds: unshare.1 -> nsbox-unshare.1, the bash completion unshare ->
# nsbox, the fish completion unshare.fish -> nsbox.fish. So an install
# into /usr/local shows nsbox's pages and completes nsbox's options for
# the applets it puts first in PATH, and one into /usr touches none of
# util-linux's files.
# "nsbox --install -s DIR" links to the target of /proc/self/exe, so the
# installed copy makes the links. Under DESTDIR (a staging tree) those links
# would name the staging path: there, relative links are made from --list.
install: out/nsbox out/man/.built completion
	install -d '$(BINDIR)' '$(LINKDIR)'
	install -m 0755 out/nsbox '$(BINDIR)/nsbox'
ifeq ($(DESTDIR),)
	'$(BINDIR)/nsbox' --install -s '$(LINKDIR)'
else
	@for a in $$(out/nsbox --list); do \
		[ -e '$(LINKDIR)'/"$$a" ] || [ -L '$(LINKDIR)'/"$$a" ] || ln -sr '$(BINDIR)/nsbox' '$(LINKDIR)'/"$$a" || exit 1; \
	done
endif
	@for f in out/man/*.[1-8]; do \
		d='$(MANDIR)'/man$${f##*.}; \
		install -d "$$d" && install -m 0644 "$$f" "$$d/" && echo "install $$f $$d/" || exit 1; \
	done
	install -d '$(BASHCOMPDIR)' '$(ZSHCOMPDIR)' '$(FISHCOMPDIR)'
	install -m 0644 out/completion/nsbox.bash '$(BASHCOMPDIR)/nsbox'
	install -m 0644 out/completion/_nsbox '$(ZSHCOMPDIR)/_nsbox'
	install -m 0644 out/completion/nsbox.fish '$(FISHCOMPDIR)/nsbox.fish'
ifneq ($(COMMANDS),)
	@# bash-completion loads completions/NAME, fish NAME.fish, for command
	@# NAME; man finds NAME.SECTION, NAME.SECTION.gz...
	@for a in $$(out/nsbox --list); do \
		b='$(BASHCOMPDIR)'/"$$a"; f='$(FISHCOMPDIR)'/"$$a.fish"; \
		[ -e "$$b" ] || [ -L "$$b" ] || ln -s nsbox "$$b" || exit 1; \
		[ -e "$$f" ] || [ -L "$$f" ] || ln -s nsbox.fish "$$f" || exit 1; \
		for p in out/man/nsbox-"$$a".[1-8]; do \
			[ -e "$$p" ] || continue; n=$${p##*/nsbox-}; d='$(MANDIR)'/man$${n##*.}; \
			[ -n "$$(find "$$d" -maxdepth 1 \( -name "$$n" -o -name "$$n.*" \) -print -quit)" ] || \
				ln -s nsbox-"$$n" "$$d/$$n" || exit 1; \
		done; \
	done
endif

# The CNI plugin: a link called nsbox-bridge, where runtimes look for
# plugins, to the installed nsbox (make install first).
CNI_BINDIR ?= /opt/cni/bin

install-cni:
	install -d '$(DESTDIR)$(CNI_BINDIR)'
	ln -sf '$(PREFIX)/bin/nsbox' '$(DESTDIR)$(CNI_BINDIR)/nsbox-bridge'

uninstall-cni:
	@f='$(DESTDIR)$(CNI_BINDIR)/nsbox-bridge'; [ ! -L "$$f" ] || { echo "rm $$f"; rm -f "$$f"; }

# setuidmap needs root's CAP_SETUID/CAP_SETGID to write range maps for an
# unprivileged user, and mkbridge root's CAP_NET_ADMIN (and, for a moment,
# CAP_SYS_ADMIN) to give a user's rootless container a port on a bridge
# that /etc/nsbox/usernet allows (docs/mkbridge.md). They get them from a
# separate copy of the binary, owned by root and mode 4755, called
# setuidmap, with a hard link to it called mkbridge: only setuidmap (and
# newuidmap/newgidmap) and mkbridge act on the privilege, and drop it at
# once to the caller with just the capability each step needs; every other
# applet run through the copy has it dropped before it starts, and the
# internal stages refuse to run. A name can be faked (argv[0]), so the
# copy is one file: what stops a user is the policy of each (/etc/subuid,
# /etc/nsbox/usernet), not the name. The ordinary nsbox and its links stay
# unprivileged. The applet symlinks that "make install" made are removed
# first, so that install never writes through them onto nsbox itself.

install-setuid: out/nsbox
	install -d '$(BINDIR)'
	rm -f '$(BINDIR)/setuidmap' '$(BINDIR)/mkbridge'
	install -o root -g root -m 4755 out/nsbox '$(BINDIR)/setuidmap'
	ln '$(BINDIR)/setuidmap' '$(BINDIR)/mkbridge'

# The other way to give them their privilege: file capabilities, no
# set-user-ID bit. The copies are the CGO_ENABLED=0 build: a process with
# file capabilities keeps its ids, so the capabilities must be cut on every
# thread, which only Go's AllThreadsSyscall does, and it is not available
# with cgo (the cgo build refuses to run with file capabilities). Two
# copies, each with only its own capabilities: setuidmap's cannot act as
# mkbridge, nor mkbridge's as setuidmap, whatever name runs them.
SETCAP = $(shell command -v setcap 2>/dev/null || echo /usr/sbin/setcap)
install-setcap: out/nsbox-purego
	install -d '$(BINDIR)'
	rm -f '$(BINDIR)/setuidmap' '$(BINDIR)/mkbridge'
	install -o root -g root -m 0755 out/nsbox-purego '$(BINDIR)/setuidmap'
	$(SETCAP) cap_setuid,cap_setgid,cap_setfcap+ep '$(BINDIR)/setuidmap'
	install -o root -g root -m 0755 out/nsbox-purego '$(BINDIR)/mkbridge'
	$(SETCAP) cap_net_admin,cap_sys_admin+ep '$(BINDIR)/mkbridge'

uninstall-setuid uninstall-setcap:
	rm -f '$(BINDIR)/setuidmap' '$(BINDIR)/mkbridge'

# Removes the binary and every entry of BINDIR and APPLETDIR that resolves
# to it (the applet links, and hard links), APPLETDIR when that leaves it
# empty, the manual pages and the links to them, the completion scripts
# and the links to them.
uninstall:
	@b='$(BINDIR)/nsbox'; \
	if [ -e "$$b" ]; then \
		for f in '$(BINDIR)'/* '$(BINDIR)'/.[!.]* '$(LINKDIR)'/* '$(LINKDIR)'/.[!.]*; do \
			[ "$$f" != "$$b" ] && [ "$$f" -ef "$$b" ] && { echo "rm $$f"; rm -f "$$f"; }; \
		done; \
		echo "rm $$b"; rm -f "$$b"; \
	fi; \
	[ '$(LINKDIR)' = '$(BINDIR)' ] || rmdir '$(LINKDIR)' 2>/dev/null; true
	@for f in $(MAN_MD); do \
		set -- $$($(man_id) "$$f"); n=$$1; d='$(MANDIR)'/man$$2; \
		case $$n in nsbox*) ;; *) n=nsbox-$$n ;; esac; \
		[ ! -e "$$d/$$n.$$2" ] || { echo "rm $$d/$$n.$$2"; rm -f "$$d/$$n.$$2"; }; \
		[ "$$(readlink "$$d/$$1.$$2")" != "$$n.$$2" ] || { echo "rm $$d/$$1.$$2"; rm -f "$$d/$$1.$$2"; }; \
	done
	@for f in '$(BASHCOMPDIR)'/* '$(FISHCOMPDIR)'/*; do \
		case $$(readlink "$$f") in nsbox | nsbox.fish) echo "rm $$f"; rm -f "$$f" ;; esac; \
	done; true
	@for f in '$(BASHCOMPDIR)/nsbox' '$(ZSHCOMPDIR)/_nsbox' '$(FISHCOMPDIR)/nsbox.fish'; do \
		[ ! -e "$$f" ] || { echo "rm $$f"; rm -f "$$f"; }; \
	done

# ---- release archives and the Debian package ----
# make dist: out/dist/nsbox-VERSION-linux-amd64.tar.gz (out/nsbox, the
# static musl build) and nsbox-VERSION-linux-arm64.tar.gz (the cgo-free
# build, cross-compiled), each with the manual pages, the completions,
# LICENSE, README.md and the licences of what the binary holds
# (packaging/mkdist.sh), and SHA256SUMS ("sha256sum -c SHA256SUMS" checks
# a download). make deb: out/dist/nsbox_DEBVERSION_amd64.deb, the staged
# "make install" of PREFIX=/usr with the CNI link in /usr/lib/cni, made a
# package by dpkg-deb (packaging/mkdeb.sh). Built twice from the same
# commit, they are the same bytes: every time in them is the commit's
# (SOURCE_DATE_EPOCH), and packaging/'s test builds them twice to check.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
MUSL_COPYRIGHT ?= /usr/share/doc/musl/copyright
DIST      = out/dist
DIST_TGZ  = $(DIST)/nsbox-$(VERSION)-linux-amd64.tar.gz $(DIST)/nsbox-$(VERSION)-linux-arm64.tar.gz
# A Debian version starts with a digit and has no "-" (that would start a
# revision): v1.2.3-4-gabc is 1.2.3+4+gabc, v2.0.0-rc1 2.0.0~rc1 (before
# 2.0.0), a commit 0~7b8436c9d3b2 (before every release).
DEB_VERSION = $(shell echo '$(VERSION)' | sed -e 's/^v//' -e '/^[0-9][0-9]*\./!s/^/0~/' -e 's/-\(rc\|alpha\|beta\)/~\1/' -e 's/-/+/g')
DEB       = $(DIST)/nsbox_$(DEB_VERSION)_amd64.deb

dist: $(DIST)/SHA256SUMS

deb: $(DEB)

out/arm64/nsbox: $(GO_SRC) out/.version
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) $(GOBUILD) -ldflags '$(LDFLAGS)' -o $@ ./cmds/nsbox

out/licenses/amd64/.built: go.mod go.sum packaging/licenses.sh
	GO='$(GO)' packaging/licenses.sh $(@D) $(MUSL_COPYRIGHT)
	@touch $@

out/licenses/arm64/.built: go.mod go.sum packaging/licenses.sh
	GO='$(GO)' packaging/licenses.sh $(@D)
	@touch $@

DIST_INPUTS = out/man/.built $(COMPLETIONS) LICENSE README.md packaging/mkdist.sh

$(DIST)/nsbox-$(VERSION)-linux-amd64.tar.gz: out/nsbox out/licenses/amd64/.built $(DIST_INPUTS)
	@mkdir -p $(DIST)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) packaging/mkdist.sh $@ out/nsbox out/licenses/amd64

$(DIST)/nsbox-$(VERSION)-linux-arm64.tar.gz: out/arm64/nsbox out/licenses/arm64/.built $(DIST_INPUTS)
	@mkdir -p $(DIST)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) packaging/mkdist.sh $@ out/arm64/nsbox out/licenses/arm64

$(DIST)/SHA256SUMS: $(DIST_TGZ)
	cd $(DIST) && sha256sum $(notdir $(DIST_TGZ)) >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS

$(DEB): out/nsbox out/man/.built $(COMPLETIONS) out/licenses/amd64/.built README.md packaging/mkdeb.sh
	@mkdir -p $(DIST)
	rm -rf out/deb
	$(MAKE) --no-print-directory install install-cni DESTDIR='$(CURDIR)/out/deb' PREFIX=/usr \
		ZSHDIR=/usr/share/zsh/vendor-completions CNI_BINDIR=/usr/lib/cni >/dev/null
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) packaging/mkdeb.sh $@ out/deb '$(DEB_VERSION)' amd64 out/licenses/amd64
	rm -rf out/deb

clean:
	rm -rf out

FORCE:
