#!/usr/bin/env bash
# Privileges: every command run as an unprivileged user (uid/gid
# 65534, no groups, no capabilities) fails with ONE clear "feedgate: ..." line
# on stderr, nothing on stdout, a non-zero status, and changes nothing: the
# rules (with their counters), the attached program and the pins are the same
# before and after. The pin directory is 0700 and the pinned maps 0600, owned
# by root, and the unprivileged user cannot open them with bpftool either.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
fg_require_root
fg_require_tools setpriv python3 nsenter bpftool
F=$FEEDGATE
fg_scratch priv
chmod 0755 "$T" # the unprivileged user reads nothing here but must reach it
fg_lab_up 1
PIN=/sys/fs/bpf/feedgate/$IF
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
rx() { fg_in_rx "$F" "$@"; }

rx attach "$IF" --mode skb >/dev/null || {
	echo "FAIL setup: attach failed"
	exit 1
}
rx rule add "$IF" 239.1.1.1:5000 --feed PRIV >/dev/null &&
	rx rule add "$IF" 239.1.1.2:5001 --action drop >/dev/null || {
	echo "FAIL setup: rule add failed"
	exit 1
}
fg_send udp,$FG_TX_ADDR,239.1.1.1,5000,7 udp,$FG_TX_ADDR,239.1.1.2,5001,3

# Everything an unprivileged command could change, as root sees it.
state() {
	rx rule list "$IF" --json
	fg_in_rx ip -d link show dev "$IF" | grep -o 'prog/xdp id [0-9]*'
	stat -c '%a %U %G %n' "$PIN" "$PIN"/*
	bpftool map dump pinned "$PIN/fg_config" 2>&1
}

fg_case pin_permissions
errs=""
d=$(stat -c '%a %U' "$PIN")
[ "$d" = "700 root" ] || errs="$errs; $PIN is '$d', want '700 root'"
n=0
for m in "$PIN"/*; do
	n=$((n + 1))
	p=$(stat -c '%a %U' "$m")
	[ "$p" = "600 root" ] || errs="$errs; $m is '$p', want '600 root'"
done
[ $n -eq 6 ] || errs="$errs; $n pins, want 6"
if "${NOBODY[@]}" bpftool map dump pinned "$PIN/feed_rules" >/dev/null 2>&1; then
	errs="$errs; the unprivileged user could open the pinned feed_rules"
fi
if "${NOBODY[@]}" sh -c "echo x > '$PIN/x'" 2>/dev/null; then
	errs="$errs; the unprivileged user could create a file in $PIN"
	rm -f "$PIN/x"
fi
if [ -z "$errs" ]; then fg_pass "dir 700, 6 pins 600, root"; else fg_fail "${errs#; }"; fi

# A root-only capture for replay.
cp "$root/tests/data/itch-real/Nasdaq.Equities.TotalView.Itch.v5.0/Multiple.Packets.pcap" "$T/rootonly.pcap"
chmod 0600 "$T/rootonly.pcap"

# unpriv NAME NS CMD...: run feedgate CMD as nobody in namespace NS (rx|tx).
unpriv() {
	local name=$1 ns=$2 out rc lines
	shift 2
	fg_case "unprivileged_$name"
	state >"$T/before" 2>&1
	[ "$ns" = tx ] && ns=$FG_NS_TX || ns=$FG_NS_RX
	nsenter --net=/var/run/netns/"$ns" -- "${NOBODY[@]}" "$F" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	state >"$T/after" 2>&1
	lines=$(wc -l <"$T/err")
	if [ $rc -eq 0 ]; then
		fg_fail "succeeded (stdout: $(head -c 100 "$T/out"))"
	elif [ -s "$T/out" ]; then
		fg_fail "printed on stdout: $(head -c 100 "$T/out")"
	elif [ "$lines" -ne 1 ] || ! grep -q '^feedgate: ' "$T/err"; then
		fg_fail "want one 'feedgate:' line, got $lines: $(tr '\n' '|' <"$T/err" | head -c 300)"
	elif ! cmp -s "$T/before" "$T/after"; then
		fg_fail "changed something: $(diff "$T/before" "$T/after" | head -5 | tr '\n' '|')"
	else
		fg_pass "$(cat "$T/err")"
	fi
}

unpriv attach rx attach "$IF"
unpriv attach_other_mode rx attach "$IF" --mode native --policy drop
unpriv detach rx detach "$IF"
unpriv rule_add rx rule add "$IF" 239.1.1.3:5002
unpriv rule_del rx rule del "$IF" 239.1.1.1:5000
unpriv rule_list rx rule list "$IF"
unpriv rule_list_json rx rule list "$IF" --json
unpriv stats rx stats "$IF"
unpriv stats_json rx stats "$IF" --json
unpriv run rx run "$IF" --duration 1
unpriv gen_iface tx gen --iface "$FG_IF_TX" --count 10
unpriv replay_root_only_file rx replay "$T/rootonly.pcap"
exit $FG_FAILED
