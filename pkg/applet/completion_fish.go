package applet

import (
	"fmt"
	"io"
	"strings"
)

// fishCompletion writes the fish script: the same table and the same
// rules as bash's (options until "--" or the first operand, an option's
// argument is not an option, the program an applet runs is a command
// whose own completion follows), in fish. fish filters the candidates by
// what is typed and adds file names, which is what operands are.
func fishCompletion(w io.Writer) {
	names := Names()
	fmt.Fprintf(w, `# fish completion for nsbox %s and its applets: "nsbox --completion fish".
# Install as nsbox.fish in a vendor_completions.d directory (with a link
# per applet name), or source it.

function __nsbox_words -a cmd
	switch $cmd
`, Release())
	for _, n := range names {
		words, argWords := optionWords(table[n])
		fmt.Fprintf(w, "\t\tcase %s\n\t\t\tset -g __nsbox_opts %s\n\t\t\tset -g __nsbox_argopts %s\n\t\t\tset -g __nsbox_prog %d\n",
			n, strings.Join(words, " "), strings.Join(argWords, " "), programOperand(table[n]))
	}
	fmt.Fprintf(w, `		case '*'
			return 1
	end
	return 0 # set keeps the status it found
end

function __nsbox_complete
	set -l words (commandline -opc)
	set -l cur (commandline -ct)
	set -l cmd (string replace -r '^-' '' -- (string replace -r '.*/' '' -- $words[1]))
	set -l i 2
	if string match -q 'nsbox*' -- $cmd; and not __nsbox_words $cmd
		if not set -q words[2]
			printf '%%s\n' %s %s
			return
		end
		switch $words[2]
			case --completion
				set -q words[3]; or printf '%%s\n' bash zsh fish
				return
			case -h --help
				set -q words[3]; or printf '%%s\n' %s
				return
			case '-*'
				return # --install: directories, among the files
		end
		set cmd (string replace -r '.*/' '' -- $words[2])
		set i 3
	end
	__nsbox_words $cmd; or return
	# Options end at "--" or the first operand (getopt with '+'); "-o ARG"
	# takes the next word, "--opt=ARG" is one word.
	set -l n (count $words)
	set -l j $i
	while test $j -le $n
		switch $words[$j]
			case --
				set j (math $j + 1)
				break
			case '-?*'
				contains -- $words[$j] $__nsbox_argopts; and set j (math $j + 1)
			case '*'
				break
		end
		set j (math $j + 1)
	end
	set -l at (math $n + 1) # the word being completed
	if test $j -gt $at
		return # the argument of the option before
	end
	if test $j -eq $at; and string match -q -- '-*' $cur; and test "$words[$n]" != --
		printf '%%s\n' $__nsbox_opts
		return
	end
	test $__nsbox_prog -ge 0; or return
	set -l p (math $j + $__nsbox_prog) # the program's word
	if test $at -eq $p
		__fish_complete_command
	else if test $at -gt $p
		__fish_complete_subcommand --commandline $words[$p..-1] $cur
	end
end

for __nsbox_c in nsbox %s
	complete -c $__nsbox_c -a '(__nsbox_complete)'
end
set -e __nsbox_c
`, strings.Join(names, " "), strings.Join(multicallWords(), " "), strings.Join(names, " "), strings.Join(names, " "))
}
