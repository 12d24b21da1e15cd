#!/usr/bin/env bash
# The command line's text against its parser. For run, replay, attach,
# rule add, rule list, stats and gen's two forms (gen, gen --itch-file):
#   - `feedgate CMD --help` lists in its options the same options as its
#     usage line and as the command's section of the man page;
#   - the parser takes every option listed (never "unknown option"; exit 2
#     for the line without IFACE or FILE, which nothing runs);
#   - run and gen list exactly the options their users rely on, none lost.
# The man page the build wrote (build/feedgate.8) is the one `feedgate --man`
# writes now. No root, no namespace, no traffic.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
F=${FEEDGATE:-$BUILD/feedgate}
if [ ! -x "$F" ]; then
	echo "SKIPPED test_cli_help: $F not built"
	exit 0
fi
tmp=$(mktemp -d /tmp/fg-clihelp-$$.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL $*"; failed=1; }

if ! "$F" --man >"$tmp/man.8" 2>"$tmp/man.err" || [ -s "$tmp/man.err" ]; then
	fail "man_page: feedgate --man failed: $(head -3 "$tmp/man.err")"
elif [ -f "$BUILD/feedgate.8" ] && ! cmp -s "$tmp/man.8" "$BUILD/feedgate.8"; then
	fail "man_page: $BUILD/feedgate.8 is not what feedgate --man writes (rebuild)"
elif command -v groff >/dev/null && [ -n "$(groff -man -Tutf8 -ww -z "$tmp/man.8" 2>&1)" ]; then
	fail "man_page: groff warns: $(groff -man -Tutf8 -ww -z "$tmp/man.8" 2>&1 | head -3)"
else
	echo "PASS man_page ($(grep -c '^\.TP' "$tmp/man.8") entries)"
fi

# The option names of each source, one a line, sorted. A help that shows
# several forms (gen) is read up to the next form's usage line; an option
# a form must have is in its usage without brackets.
help_opts() {
	awk '/^usage:/ && on { exit } /^options:/ { on = 1 } on' "$tmp/help" |
		grep -oE '^  --[a-z0-9-]+' | tr -d ' ' | sort
}
usage_opts() { sed '/^$/,$d' "$tmp/help" | grep -oE '[[ ]--[a-z0-9-]+' | tr -d '[ ' | sort -u; }
# The options of the man page section headed ".SS KEY", KEY followed by
# positionals or nothing (".SS gen" is not ".SS gen \-\-itch\-file ...").
man_opts() {
	awk -v key="$1" '
		/^\.S[HS] / { on = 0 }
		$0 == ".SS " key || (index($0, ".SS " key " ") == 1 &&
			substr($0, length(".SS " key " ") + 1, 1) != "\\") { on = 1; next }
		on && /^\\fB\\-\\-/ { print }' "$tmp/man.8" |
		sed -e 's/^\\fB//' -e 's/\\fR.*//' -e 's/\\-/-/g' | sort
}

# Each entry: the words that pick the form, then (after |) its man page key.
for entry in "run" "replay" "attach" "rule add" "rule list" "stats" "gen" \
	"gen --itch-file -|gen \\-\\-itch\\-file"; do
	cmd=${entry%%|*}
	key=$cmd
	[ "$entry" = "$cmd" ] || key=${entry#*|}
	name=${cmd%% -}
	name=${name//--/}
	name=${name// /_}
	# shellcheck disable=SC2086
	if ! "$F" $cmd --help >"$tmp/help" 2>"$tmp/help.err" || [ -s "$tmp/help.err" ]; then
		fail "help_$name: '$cmd --help' failed or wrote on stderr"
		continue
	fi
	help_opts >"$tmp/h"
	usage_opts >"$tmp/u"
	man_opts "$key" >"$tmp/m"
	why=""
	[ -s "$tmp/h" ] || why="no options listed"
	diff -q "$tmp/h" "$tmp/u" >/dev/null || why="${why:+$why; }usage line differs: $(diff "$tmp/h" "$tmp/u" | grep '^[<>]' | tr '\n' ' ')"
	diff -q "$tmp/h" "$tmp/m" >/dev/null || why="${why:+$why; }man page differs: $(diff "$tmp/h" "$tmp/m" | grep '^[<>]' | tr '\n' ' ')"
	while read -r opt; do
		# shellcheck disable=SC2086
		"$F" $cmd "$opt" >/dev/null 2>"$tmp/err"
		rc=$?
		if grep -q "unknown option" "$tmp/err"; then
			why="${why:+$why; }the parser refuses $opt"
		elif [ $rc -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
			why="${why:+$why; }'$cmd $opt': exit $rc, want 2 and one line"
		fi
	done <"$tmp/h"
	if [ -n "$why" ]; then
		fail "help_$name: $why"
	else
		echo "PASS help_$name ($(wc -l <"$tmp/h") options)"
	fi
done

# run: every option its users and scripts rely on is still there.
"$F" run --help >"$tmp/help" 2>/dev/null
help_opts >"$tmp/h"
printf '%s\n' --queues --cpus --poll --batch --symbols --backend --duration --decode --pcap \
	--json --itch-stamps --arbitrate --rerequest --gap-wait --hold --zero-copy --ring \
	--frame-size --block-size --block-count --retire-ms --fanout --rcvbuf --rt-priority --mlock \
	--busy-budget | sort >"$tmp/want"
if diff -q "$tmp/want" "$tmp/h" >/dev/null; then
	echo "PASS run_options ($(wc -l <"$tmp/want") options)"
else
	fail "run_options: $(diff "$tmp/want" "$tmp/h" | grep '^[<>]' | tr '\n' ' ')"
fi

# gen, both forms: the same for the options its scripts and tests use.
"$F" gen --help >"$tmp/help" 2>/dev/null
help_opts >"$tmp/h"
printf '%s\n' --pcap --iface --rate --count --duration --feeds --noise --messages-per-packet \
	--seed --tx --pace --itch-stamps --strict --burst --burst-len --burst-every --lines --loss \
	--loss-both --serve-rerequest --serve-history --serve-linger --serve-mode --serve-delay |
	sort >"$tmp/want"
"$F" gen --itch-file - --help >"$tmp/help" 2>/dev/null
help_opts >"$tmp/hf"
printf '%s\n' --itch-file --count --seed --symbols --max-live | sort >"$tmp/wantf"
# one --help shows both forms, the --itch-file form second
if ! diff -q "$tmp/want" "$tmp/h" >/dev/null; then
	fail "gen_options: $(diff "$tmp/want" "$tmp/h" | grep '^[<>]' | tr '\n' ' ')"
elif ! diff -q "$tmp/wantf" "$tmp/hf" >/dev/null; then
	fail "gen_options: --itch-file form: $(diff "$tmp/wantf" "$tmp/hf" | grep '^[<>]' | tr '\n' ' ')"
elif [ "$("$F" gen --help | grep -c '^usage: feedgate gen')" -ne 2 ] ||
	! "$F" gen --help | grep -q '^usage: feedgate gen --itch-file FILE|- --count N '; then
	fail "gen_options: 'gen --help' does not show both forms"
else
	echo "PASS gen_options ($(wc -l <"$tmp/want") + $(wc -l <"$tmp/wantf") options)"
fi
exit $failed
