package cni

import (
	"strings"
)

// The commands of CNI_COMMAND.
const (
	CmdAdd     = "ADD"
	CmdDel     = "DEL"
	CmdCheck   = "CHECK"
	CmdStatus  = "STATUS"
	CmdGC      = "GC"
	CmdVersion = "VERSION"
)

// Env is the protocol's parameters, from the environment (section 2).
type Env struct {
	Command     string // CNI_COMMAND
	ContainerID string // CNI_CONTAINERID
	Netns       string // CNI_NETNS
	IfName      string // CNI_IFNAME
	Args        string // CNI_ARGS
	Path        string // CNI_PATH
}

// ReadEnv reads the parameters through getenv (os.Getenv).
func ReadEnv(getenv func(string) string) Env {
	return Env{
		Command:     getenv("CNI_COMMAND"),
		ContainerID: getenv("CNI_CONTAINERID"),
		Netns:       getenv("CNI_NETNS"),
		IfName:      getenv("CNI_IFNAME"),
		Args:        getenv("CNI_ARGS"),
		Path:        getenv("CNI_PATH"),
	}
}

// Check checks that the variables the command needs are there and valid:
// ADD and CHECK need CNI_CONTAINERID, CNI_NETNS and CNI_IFNAME; DEL the
// first and the last (a DEL may come after the namespace is gone); these
// three check CNI_CONTAINERID, CNI_NETNS and CNI_ARGS too. The error
// (code 4) names the variables.
func (e Env) Check() error {
	var need []string
	switch e.Command {
	case CmdAdd, CmdCheck:
		need = []string{"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"}
	case CmdDel:
		need = []string{"CNI_CONTAINERID", "CNI_IFNAME"}
	case CmdStatus, CmdGC, CmdVersion:
	case "":
		return &Error{Code: CodeInvalidEnv, Msg: "CNI_COMMAND is not set", Details: "one of ADD, DEL, CHECK, STATUS, GC, VERSION"}
	default:
		return &Error{Code: CodeInvalidEnv, Msg: "CNI_COMMAND: unknown command '" + e.Command + "'", Details: "one of ADD, DEL, CHECK, STATUS, GC, VERSION"}
	}
	var missing []string
	for _, v := range need {
		if e.get(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return &Error{Code: CodeInvalidEnv, Msg: "required environment variables missing: " + strings.Join(missing, ", ")}
	}
	if len(need) == 0 {
		return nil // the others are not used: a runtime may set them anyway (podman's VERSION: CNI_NETNS=dummy)
	}
	if e.ContainerID != "" && !ValidContainerID(e.ContainerID) {
		return &Error{Code: CodeInvalidEnv, Msg: "CNI_CONTAINERID: invalid container ID '" + e.ContainerID + "'",
			Details: "it must start with a letter or digit, followed by letters, digits, '_', '.' or '-'"}
	}
	if e.Netns != "" && !strings.HasPrefix(e.Netns, "/") {
		return &Error{Code: CodeInvalidEnv, Msg: "CNI_NETNS: not an absolute path: '" + e.Netns + "'"}
	}
	if _, err := ParseArgs(e.Args); err != nil {
		return err
	}
	return nil
}

func (e Env) get(name string) string {
	switch name {
	case "CNI_CONTAINERID":
		return e.ContainerID
	case "CNI_NETNS":
		return e.Netns
	case "CNI_IFNAME":
		return e.IfName
	}
	return ""
}

// ValidContainerID reports whether id is a container ID as the spec
// defines it: a letter or digit, then letters, digits, '_', '.' or '-'.
func ValidContainerID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// Arg is one KEY=VALUE pair of CNI_ARGS.
type Arg struct{ Key, Value string }

// ParseArgs splits CNI_ARGS, "K1=V1;K2=V2", into its pairs. A pair without
// '=' or with an empty key is an error (code 4).
func ParseArgs(s string) ([]Arg, error) {
	if s == "" {
		return nil, nil
	}
	var out []Arg
	for _, pair := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return nil, &Error{Code: CodeInvalidEnv, Msg: "CNI_ARGS: invalid pair '" + pair + "' (KEY=VALUE;...)"}
		}
		out = append(out, Arg{Key: k, Value: v})
	}
	return out, nil
}
