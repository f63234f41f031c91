package cni

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nsbox/nsbox/pkg/execpath"
	"github.com/nsbox/nsbox/pkg/jsonv"
)

// FindPlugin looks plugin name up in the directories of cniPath (CNI_PATH,
// ':'-separated), as a runtime does: the first regular executable file
// of that name. Not found: code 7 (the configuration names a plugin that
// is not installed).
func FindPlugin(name, cniPath string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return "", Errorf(CodeInvalidConfig, "invalid plugin name '%s'", name)
	}
	if cniPath == "" {
		return "", &Error{Code: CodeInvalidEnv, Msg: "CNI_PATH is not set: cannot find plugin " + name}
	}
	for _, dir := range filepath.SplitList(cniPath) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", Errorf(CodeInvalidConfig, "failed to find plugin '%s' in path [%s]", name, cniPath)
}

// Delegate runs a delegated plugin (section 4): path with environ (the
// caller's environment, CNI_COMMAND set to the command), conf on stdin,
// its stderr on stderr. It returns the plugin's stdout on success, its
// error object on failure (code 105 when it printed none).
func Delegate(path string, environ []string, command string, conf []byte, stderr io.Writer) ([]byte, error) {
	env := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "CNI_COMMAND=") {
			env = append(env, kv)
		}
	}
	env = append(env, "CNI_COMMAND="+command)
	var out bytes.Buffer
	st, err := execpath.Run(path, []string{path}, env, conf, &out, stderr)
	if err != nil {
		return nil, &Error{Code: CodeDelegate, Msg: filepath.Base(path) + " " + command + " failed: " + err.Error()}
	}
	if st.Success() {
		return out.Bytes(), nil
	}
	name := filepath.Base(path)
	var e Error
	if v, perr := jsonv.Parse(out.Bytes()); perr == nil && e.decode(v) == nil && e.Msg != "" {
		e.Msg = name + ": " + e.Msg
		if e.Code == 0 {
			e.Code = CodeDelegate
		}
		return nil, &e
	}
	details := strings.TrimSpace(out.String())
	return nil, &Error{Code: CodeDelegate, Msg: name + " " + command + " failed: " + st.String(), Details: details}
}

// decode reads an error object (keys matched without regard to case,
// unknown ones ignored).
func (e *Error) decode(v *jsonv.Value) error {
	return v.DecodeFields(func(name string, m *jsonv.Value) error {
		switch name {
		case "code":
			return m.DecodeUint(&e.Code)
		case "msg":
			return m.DecodeString(&e.Msg)
		}
		return m.DecodeString(&e.Details)
	}, "code", "msg", "details")
}
