#!/usr/bin/env bash
# The README's command-line synopsis against the parser: for every command
# it shows (attach, detach, rule add/del/list, stats, run, replay, gen), the
# options it names are exactly those `feedgate CMD --help` lists, no more,
# no fewer. A new option that reaches the parser but not the README fails
# here. No root, no namespace, no traffic.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
F=${FEEDGATE:-$BUILD/feedgate}
README=${README:-$root/README.md}
if [ ! -x "$F" ]; then
	echo "SKIPPED test_readme_cli: $F not built"
	exit 0
fi
tmp=$(mktemp -d /tmp/fg-readme-cli-$$.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failed=0

# The synopsis block: the first ``` block after "The command line".
awk '/^The command line/ { seen = 1 } seen && /^```/ { if (on) exit; on = 1; next } on' \
	"$README" >"$tmp/synopsis"
if [ ! -s "$tmp/synopsis" ]; then
	echo "FAIL readme_synopsis: no command-line block after 'The command line' in $README"
	exit 1
fi

# One file of options per command, named after the command ("rule_add").
# A line "feedgate WORD [WORD] ..." starts a command: its name is the
# words before the first argument (upper case, "[" or "--"); lines that
# do not start with "feedgate" continue the last one.
awk -v dir="$tmp" '
	/^feedgate / {
		cmd = ""
		for (i = 2; i <= NF; i++) {
			if ($i ~ /^(\[|--|[A-Z])/) break
			cmd = cmd (cmd == "" ? "" : "_") $i
		}
	}
	cmd != "" {
		line = $0
		while (match(line, /--[a-z0-9-]+/)) {
			print substr(line, RSTART, RLENGTH) > (dir "/readme_" cmd)
			line = substr(line, RSTART + RLENGTH)
		}
		if (!((dir "/readme_" cmd) in made)) { made[dir "/readme_" cmd] = 1; printf "" > (dir "/readme_" cmd) }
		print cmd > (dir "/cmds")
	}' "$tmp/synopsis"
sort -u "$tmp/cmds" >"$tmp/cmdlist"

# The options of --help: those of its usage lines (up to the first blank
# line) and those that start a line of its option list.
help_opts() {
	{
		sed '/^$/,$d' "$1" | grep -oE -- '--[a-z0-9-]+'
		sed '1,/^$/d' "$1" | grep -oE '^ +--[a-z0-9-]+' | tr -d ' '
	} | grep -vxE -- '--help|--version' | sort -u
}

for want in attach detach rule_add rule_del rule_list stats run replay gen; do
	grep -qx "$want" "$tmp/cmdlist" || {
		echo "FAIL readme_$want: the README's synopsis has no 'feedgate ${want//_/ }' line"
		failed=1
	}
done

while read -r cmd; do
	# shellcheck disable=SC2086
	if ! "$F" ${cmd//_/ } --help >"$tmp/help" 2>"$tmp/help.err" || [ -s "$tmp/help.err" ]; then
		echo "FAIL readme_$cmd: 'feedgate ${cmd//_/ } --help' failed or wrote on stderr"
		failed=1
		continue
	fi
	help_opts "$tmp/help" >"$tmp/h"
	sort -u "$tmp/readme_$cmd" | grep -vxE -- '--help|--version' >"$tmp/r"
	if diff -q "$tmp/h" "$tmp/r" >/dev/null; then
		echo "PASS readme_$cmd ($(wc -l <"$tmp/h") options)"
	else
		echo "FAIL readme_$cmd: README and --help differ (< help only, > README only):" \
			"$(diff "$tmp/h" "$tmp/r" | grep '^[<>]' | tr '\n' ' ')"
		failed=1
	fi
done <"$tmp/cmdlist"
exit $failed
