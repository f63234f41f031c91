package cnitest

import (
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// plugin runs nsbox-bridge directly, as a runtime does: the command and
// parameters in the environment, the configuration on stdin. It returns
// stdout and the exit status.
func plugin(t *testing.T, cniPath string, env map[string]string, conf string) (string, int) {
	t.Helper()
	e := []string{"CNI_PATH=" + cniPath}
	for k, v := range env {
		e = append(e, k+"="+v)
	}
	cmd := exec.Command(filepath.Join(cniPath, "nsbox-bridge"))
	cmd.Env = e
	cmd.Stdin = strings.NewReader(conf)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if len(ee.Stderr) > 0 {
			t.Errorf("stderr: %s", ee.Stderr)
		}
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestErrorCodes runs the plugin with bad environments and configurations:
// each gives the spec's error object on stdout, with its code, exit 1,
// and changes nothing.
func TestErrorCodes(t *testing.T) {
	cniPath := setup(t)
	ns := netns(t, "nsbterr")
	removeBridge(t, "nsbterr0")
	add := map[string]string{"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "errtest", "CNI_NETNS": ns, "CNI_IFNAME": "eth0"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	const good = `{"cniVersion":"1.1.0","name":"errnet","type":"nsbox-bridge","bridge":"nsbterr0","isGateway":true,"ipam":{"type":"nsbox","subnet":"10.229.0.0/24"}}`
	for _, c := range []struct {
		name string
		env  map[string]string
		conf string
		code uint
		key  string // what the message must name
	}{
		{"incompatible version", add, `{"cniVersion":"0.2.0","name":"n"}`, 1, "0.2.0"},
		{"CHECK in 0.3.1", with(add, "CNI_COMMAND", "CHECK"), `{"cniVersion":"0.3.1","name":"n"}`, 1, "CHECK"},
		{"unsupported field", add, `{"cniVersion":"1.1.0","name":"n","vlan":7}`, 2, "vlan=7"},
		{"iptables", add, `{"cniVersion":"1.1.0","name":"n","ipMasq":true,"ipMasqBackend":"iptables"}`, 2, "ipMasqBackend"},
		{"unknown CNI_ARGS", with(add, "CNI_ARGS", "FOO=1"), good, 2, "FOO=1"},
		{"no CNI_COMMAND", map[string]string{}, good, 4, "CNI_COMMAND"},
		{"no CNI_NETNS", with(add, "CNI_NETNS", ""), good, 4, "CNI_NETNS"},
		{"bad CNI_CONTAINERID", with(add, "CNI_CONTAINERID", "-x"), good, 4, "CNI_CONTAINERID"},
		{"not JSON", add, `{"cniVersion":`, 6, "decode"},
		{"wrong type", add, `{"cniVersion":"1.1.0","name":"n","mtu":"x"}`, 6, "mtu"},
		{"bad subnet", add, `{"cniVersion":"1.1.0","name":"n","ipam":{"type":"nsbox","subnet":"10.1.0.0/33"}}`, 7, "subnet"},
		{"IPAM plugin missing", add, `{"cniVersion":"1.1.0","name":"n","ipam":{"type":"no-such-ipam"}}`, 7, "no-such-ipam"},
		{"not a namespace", with(add, "CNI_NETNS", "/etc/passwd"), good, 100, "/etc/passwd"},
	} {
		out, status := plugin(t, cniPath, c.env, c.conf)
		var e struct {
			CNIVersion string `json:"cniVersion"`
			Code       uint   `json:"code"`
			Msg        string `json:"msg"`
			Details    string `json:"details"`
		}
		if err := json.Unmarshal([]byte(out), &e); err != nil || status != 1 || e.Code != c.code || !strings.Contains(e.Msg+e.Details, c.key) || e.CNIVersion == "" {
			t.Errorf("%s: exit %d, stdout %q; want code %d naming %q", c.name, status, out, c.code, c.key)
		}
	}
	// The plugin's own codes (100+): an address in use, an attachment
	// that exists.
	env := with(add, "CNI_ARGS", "IP=10.229.0.9")
	if out, status := plugin(t, cniPath, env, good); status != 0 {
		t.Fatalf("ADD: %s", out)
	}
	if out, _ := plugin(t, cniPath, env, good); !strings.Contains(out, `"code":103`) {
		t.Errorf("ADD twice: %s, want code 103", out)
	}
	ns2 := netns(t, "nsbterr2")
	if out, _ := plugin(t, cniPath, with(env, "CNI_CONTAINERID", "errtest2", "CNI_NETNS", ns2), good); !strings.Contains(out, `"code":101`) {
		t.Errorf("an address in use: %s, want code 101", out)
	}
	if out, status := plugin(t, cniPath, with(add, "CNI_COMMAND", "DEL"), good); status != 0 {
		t.Errorf("DEL: %s", out)
	}
	// DEL again, and without CNI_NETNS: nothing to do, success.
	if out, status := plugin(t, cniPath, with(add, "CNI_COMMAND", "DEL", "CNI_NETNS", ""), good); status != 0 || out != "" {
		t.Errorf("DEL without CNI_NETNS: %d %q", status, out)
	}
	// STATUS: 50 when the bridge's name is taken by another kind of link,
	// 51 when the bridge is down (its containers are cut off).
	st := map[string]string{"CNI_COMMAND": "STATUS"}
	if out, status := plugin(t, cniPath, st, good); status != 0 {
		t.Errorf("STATUS: %s", out)
	}
	must(t, nil, "", "ip", "link", "set", "nsbterr0", "down")
	if out, _ := plugin(t, cniPath, st, good); !strings.Contains(out, `"code":51`) {
		t.Errorf("STATUS with the bridge down: %s, want code 51", out)
	}
	must(t, nil, "", "ip", "link", "del", "nsbterr0")
	must(t, nil, "", "ip", "link", "add", "nsbterr0", "type", "veth", "peer", "name", "nsbterr1")
	if out, _ := plugin(t, cniPath, st, good); !strings.Contains(out, `"code":50`) {
		t.Errorf("STATUS with a veth for the bridge: %s, want code 50", out)
	}
	// VERSION answers whatever the request's version.
	out, status := plugin(t, cniPath, map[string]string{"CNI_COMMAND": "VERSION"}, `{"cniVersion":"0.4.0"}`)
	if status != 0 || out != `{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}`+"\n" {
		t.Errorf("VERSION: %d %q", status, out)
	}
}
