package cnitest

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The network the runtimes' containers get: nsbox-bridge with its own
// allocator, the bridge their gateway. CNITEST_TYPE=bridge runs the same
// tests on the reference bridge plugin with host-local (to tell a
// runtime's set-up problem from the plugin's).
func runtimeConflist(name, br, subnet, dataDir string) string {
	plugin := fmt.Sprintf(`{"type":"nsbox-bridge","bridge":%q,"isGateway":true,"isDefaultGateway":true,"ipam":{"type":"nsbox","subnet":%q}}`, br, subnet)
	if os.Getenv("CNITEST_TYPE") == "bridge" {
		plugin = fmt.Sprintf(`{"type":"bridge","bridge":%q,"isGateway":true,"isDefaultGateway":true,"ipam":{"type":"host-local","subnet":%q,"dataDir":%q}}`, br, subnet, dataDir)
	}
	return fmt.Sprintf(`{"cniVersion":"1.0.0","name":%q,"plugins":[%s,{"type":"loopback"}]}`, name, plugin)
}

// needCmds skips the test unless every command is installed.
func needCmds(t *testing.T, cmds ...string) {
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s is not installed (make cni-deps installs it)", c)
		}
	}
}

// rootfs is the busybox root filesystem the images are made of.
func rootfs(t *testing.T) string {
	d := os.Getenv("NSBOX_ROOTFS")
	if d == "" {
		t.Skip("NSBOX_ROOTFS is not set (make rootfs)")
	}
	if _, err := os.Stat(filepath.Join(d, "bin", "busybox")); err != nil {
		t.Skipf("NSBOX_ROOTFS: %v", err)
	}
	return d
}

// layerTar writes dir as an uncompressed tar to w: regular files,
// directories and symbolic links (what a busybox tree has).
func layerTar(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		if !fi.Mode().IsRegular() && !fi.IsDir() && link == "" {
			return nil // devices, sockets: none in an image
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name, h.Uname, h.Gname, h.Uid, h.Gid = rel, "", "", 0, 0
		if fi.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// dockerArchive writes an image of the tree dir in the docker-archive
// format ("docker save": manifest.json, the config, one layer) to path,
// tagged tag, running cmd.
func dockerArchive(dir, tag string, cmd []string, path string) error {
	layer, err := os.CreateTemp(filepath.Dir(path), "layer")
	if err != nil {
		return err
	}
	defer os.Remove(layer.Name())
	defer layer.Close()
	h := sha256.New()
	if err := layerTar(dir, io.MultiWriter(layer, h)); err != nil {
		return err
	}
	diffID := "sha256:" + hex.EncodeToString(h.Sum(nil))
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Cmd": cmd, "Env": []string{"PATH=/bin:/sbin:/usr/bin:/usr/sbin"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	cs := sha256.Sum256(config)
	configName := hex.EncodeToString(cs[:]) + ".json"
	manifest, _ := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{tag}, "Layers": []string{"layer.tar"}}})
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	st, _ := layer.Stat()
	for _, f := range []struct {
		name string
		data []byte
		r    io.Reader
		size int64
	}{{name: "manifest.json", data: manifest}, {name: configName, data: config}, {name: "layer.tar", size: st.Size()}} {
		size, r := int64(len(f.data)), io.Reader(strings.NewReader(string(f.data)))
		if f.name == "layer.tar" {
			layer.Seek(0, io.SeekStart)
			size, r = f.size, layer
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := io.Copy(tw, r); err != nil {
			return err
		}
	}
	return tw.Close()
}
