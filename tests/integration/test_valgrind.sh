#!/usr/bin/env bash
# The command line under valgrind: `feedgate replay` of a real NASDAQ
# capture with an order book, and `feedgate rule list` / `stats` on a veth with
# the filter attached, each with no invalid access and no leak
# (--leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode).
# SKIPPED when valgrind is not installed.
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
fg_require_root
fg_require_tools valgrind
cap=$root/tests/data/itch-real/Nasdaq.Equities.TotalView.Itch.v5.0/Multiple.Packets.pcap
vlog=$(mktemp /tmp/fg-valgrind-$$.XXXXXX)
# shellcheck disable=SC2016 # vlog expands when the trap runs
fg_on_exit 'rm -f "$vlog"'

# vg NAME [--rx] CMD...: run CMD under valgrind (--rx: in the receive
# namespace); PASS when it exits 0 and valgrind reported no error and no
# definite / indirect leak.
vg() {
	local name=$1 rc pre=()
	shift
	if [ "$1" = --rx ]; then
		pre=(nsenter --net=/var/run/netns/"$FG_NS_RX" --)
		shift
	fi
	fg_case "$name"
	"${pre[@]}" valgrind -q --suppressions="$root/tests/valgrind.supp" --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --error-exitcode=99 --log-file="$vlog" "$@" \
		>/dev/null 2>&1
	rc=$?
	if [ $rc -eq 99 ] || grep -qE 'definitely lost: [1-9]|indirectly lost: [1-9]|Invalid (read|write)|uninitialised' "$vlog"; then
		fg_fail "valgrind reported: $(grep -m1 -E '==[0-9]+== [A-Z]' "$vlog" | sed 's/==[0-9]*== //')"
		sed 's/^/    | /' "$vlog" | head -20
	elif [ $rc -ne 0 ]; then
		fg_fail "exit status $rc"
	else
		fg_pass
	fi
}

vg valgrind_replay_book "$FEEDGATE" replay "$cap" --book META --depth 5
vg valgrind_replay_decode_json "$FEEDGATE" replay "$cap" --decode - --json

if ! fg_lab_setup 1; then
	echo "SKIPPED valgrind_rule_list: cannot create the veth lab"
	exit 0
fi
fg_in_rx "$FEEDGATE" attach "$FG_IF_RX" --mode skb >/dev/null || { echo "FAIL valgrind_rule_list: attach failed"; exit 1; }
fg_in_rx "$FEEDGATE" rule add "$FG_IF_RX" 239.1.1.1:5000 --feed VG >/dev/null
fg_in_rx "$FEEDGATE" rule add "$FG_IF_RX" "[ff15::1]:5000" --src fd00:fe::/64 >/dev/null
vg valgrind_rule_list --rx "$FEEDGATE" rule list "$FG_IF_RX"
vg valgrind_rule_list_json --rx "$FEEDGATE" rule list "$FG_IF_RX" --json
vg valgrind_stats_json --rx "$FEEDGATE" stats "$FG_IF_RX" --json
exit $FG_FAILED
