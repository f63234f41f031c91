package applet

import (
	"fmt"
	"io"
	"strings"
)

// Shell completion, generated from the applet table: "nsbox --completion
// bash" prints a script that completes the applet names (after nsbox) and
// each applet's options, for nsbox and for every applet link. The options
// come from Options, the applet's own parser, so they cannot drift from
// what the applet accepts; nothing of this runs unless --completion is
// asked for.

// WriteCompletion writes the completion script for shell (bash, zsh or
// fish).
func WriteCompletion(w io.Writer, shell string) error {
	switch shell {
	case "bash":
		bashCompletion(w)
	case "zsh":
		zshCompletion(w)
	case "fish":
		fishCompletion(w)
	default:
		return fmt.Errorf("no completion for shell '%s': bash, zsh or fish", shell)
	}
	return nil
}

// optionWords returns the words of applet a's options (--long, then -s),
// and those that take a separate argument word (required arguments).
func optionWords(a *Applet) (words, argWords []string) {
	var shorts []string
	for _, o := range Options(a) {
		words = append(words, "--"+o.Long)
		if o.Short != "" {
			shorts = append(shorts, "-"+o.Short)
		}
		if o.Arg == 'r' {
			argWords = append(argWords, "--"+o.Long)
			if o.Short != "" {
				argWords = append(argWords, "-"+o.Short)
			}
		}
	}
	return append(words, shorts...), argWords
}

// programOperand returns which operand (0 for the first) is the program an
// applet runs, read from the synopsis of its usage text
// (" pivot [options] <newroot> [<program> [<argument>...]]" gives 1), or
// -1 when it runs none.
func programOperand(a *Applet) int {
	for _, line := range strings.Split(a.Usage, "\n") {
		words := strings.Fields(line)
		if len(words) < 2 || words[0] != a.Name {
			continue
		}
		n := 0
		for _, w := range words[1:] {
			switch {
			case strings.HasPrefix(w, "[<program>") || strings.HasPrefix(w, "<program>"):
				return n
			case strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[<"):
				n++
			}
		}
	}
	return -1
}

func multicallWords() []string {
	var w []string
	for _, o := range MulticallOptions() {
		w = append(w, "--"+o.Long)
	}
	return w
}

func bashCompletion(w io.Writer) {
	names := Names()
	fmt.Fprintf(w, `# bash completion for nsbox %s and its applets: "nsbox --completion bash".
# Install as bash-completion/completions/nsbox (with a link per applet name),
# or source it.

_nsbox_words() {
	case $1 in
`, Release())
	for _, n := range names {
		words, argWords := optionWords(table[n])
		fmt.Fprintf(w, "\t%s) _nsbox_opts='%s'; _nsbox_argopts=' %s '; _nsbox_prog=%d ;;\n",
			n, strings.Join(words, " "), strings.Join(argWords, " "), programOperand(table[n]))
	}
	fmt.Fprintf(w, `	*) return 1 ;;
	esac
}

_nsbox() {
	local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[0]##*/} i=1 j w
	local _nsbox_opts _nsbox_argopts _nsbox_prog
	COMPREPLY=()
	cmd=${cmd#-}
	if [[ $cmd == nsbox* ]]; then
		if ((COMP_CWORD == 1)); then
			COMPREPLY=($(compgen -W '%s %s' -- "$cur"))
			return
		fi
		case ${COMP_WORDS[1]} in
		--completion) ((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")); return ;;
		-h | --help) ((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W '%s' -- "$cur")); return ;;
		-*) return ;; # --install: directories, the default
		esac
		cmd=${COMP_WORDS[1]##*/}
		i=2
	fi
	_nsbox_words "$cmd" || return
	# Options end at "--" or the first operand (getopt with '+'); after
	# them come operands: files (the default completion), and for an
	# applet that runs a program, the program (a command name) and its
	# own arguments (bash-completion's _command_offset, when loaded).
	for ((j = i; j < COMP_CWORD; j++)); do
		w=${COMP_WORDS[j]}
		case $w in
		--) ((j++)); break ;;
		=) ((j++)) ;; # "--opt=value", split at the "=" (COMP_WORDBREAKS)
		-?*) [[ ${COMP_WORDS[j + 1]} == = || $_nsbox_argopts != *" $w "* ]] || ((j++)) ;;
		*) break ;;
		esac
	done
	if ((j > COMP_CWORD)); then
		return # the argument of the option before
	fi
	if ((j == COMP_CWORD)) && [[ $cur == -* && ${COMP_WORDS[j - 1]} != -- ]]; then
		COMPREPLY=($(compgen -W "$_nsbox_opts" -- "$cur"))
		return
	fi
	((_nsbox_prog >= 0)) || return
	j=$((j + _nsbox_prog)) # the program's word
	if ((COMP_CWORD == j)); then
		COMPREPLY=($(compgen -c -- "$cur"))
	elif ((COMP_CWORD > j)) && declare -F _command_offset >/dev/null; then
		_command_offset "$j"
	fi
}

complete -o default -F _nsbox nsbox %s
`, strings.Join(names, " "), strings.Join(multicallWords(), " "), strings.Join(names, " "), strings.Join(names, " "))
}

func zshCompletion(w io.Writer) {
	names := Names()
	fmt.Fprintf(w, "#compdef nsbox %s\n# zsh completion for nsbox %s and its applets: \"nsbox --completion zsh\".\n", strings.Join(names, " "), Release())
	fmt.Fprintf(w, "# Install as _nsbox in a directory of $fpath, or source it after compinit.\n\n_nsbox() {\n")
	fmt.Fprintf(w, `	local cmd=${words[1]:t} i=2 j
	local -a opts argopts
	cmd=${cmd#-}
	if [[ $cmd == nsbox* ]]; then
		if ((CURRENT == 2)); then
			compadd -- %s %s
			return
		fi
		[[ ${words[2]} == -* ]] && { _files; return }
		cmd=${words[2]:t}
		i=3
	fi
	case $cmd in
`, strings.Join(names, " "), strings.Join(multicallWords(), " "))
	for _, n := range names {
		words, argWords := optionWords(table[n])
		fmt.Fprintf(w, "\t%s) opts=(%s); argopts=(%s) ;;\n", n, strings.Join(words, " "), strings.Join(argWords, " "))
	}
	fmt.Fprintf(w, `	*) _files; return ;;
	esac
	for ((j = i; j < CURRENT; j++)); do
		case ${words[j]} in
		--) _files; return ;;
		-?*) ((${argopts[(Ie)${words[j]}]})) && ((j++)) ;;
		*) _files; return ;;
		esac
	done
	if ((j > CURRENT)) || [[ $PREFIX != -* ]]; then
		_files
		return
	fi
	compadd -- $opts
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
	_nsbox "$@"
else
	compdef _nsbox nsbox %s
fi
`, strings.Join(names, " "))
}
