#!/usr/bin/env bash
# The loader CLI end to end on a veth pair in two namespaces made here, in
# native and in skb mode: attach, rules by CLI and by bpftool (while traffic
# flows), exact per-rule and global counters, rule deletion, the drop policy
# (noise dropped, ARP/ND/ICMP still pass), every error (one line, non-zero
# exit, nothing changed), `ip netns exec` (fresh bpffs: maps found through
# the kernel), stale pins, a full rule table, stats --watch, and a detach
# that leaves nothing behind.
#
# Cases (each prints PASS / FAIL / SKIPPED):
#   per mode M in native, skb:
#     attach_M rules_M counters_M bpftool_live_M rule_del_M ip_netns_exec_M
#     stale_pins_M errors_M bpffs_unusable_M drop_policy_M detach_M
#   once: native_refused_on_lo stats_watch rule_table_full concurrent_rule_adds
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

fg_require_root
fg_require_tools bpftool python3 setpriv nsenter unshare
fg_require_built "$FEEDGATE"
F=$FEEDGATE
fg_scratch veth
fg_lab_up 1
PINS=/sys/fs/bpf/feedgate/$IF

rx() { fg_in_rx "$F" "$@"; }
stats() { rx stats "$IF" --json; }

# jcheck BEFORE AFTER EXPR WANT [EXPR WANT]...: python expressions over the
# stats/rule documents; d = AFTER, b = BEFORE, rule(k) = d's rule k,
# g(k) = d.global[k], dg(k) = g(k) - b.global[k].
jcheck() {
	local msg
	msg=$(python3 - "$@" <<'PYEOF'
import json, sys
b, d = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def rule(k, doc=None):
    return next((r for r in (doc or d).get("rules", []) if r["rule"] == k), None)
def g(k):
    return d["global"][k]
def dg(k):
    return d["global"][k] - b["global"][k]
def q(i, k):
    return d["queues"][i][k] - (b["queues"][i][k] if b else 0)
a, bad = sys.argv[3:], []
for e, w in zip(a[::2], a[1::2]):
    try:
        v = eval(e)
    except Exception as x:
        v = "error: %r" % x
    s = str(v) if isinstance(v, (int, tuple)) and not isinstance(v, bool) else json.dumps(v)
    if s != w:
        bad.append("%s = %s, want %s" % (e, s, w))
print("; ".join(bad))
PYEOF
)
	[ -z "$msg" ] || fg_bad "$msg"
}

# XDP state of the rx interface: "MODE PROGID" (mode 1 drv, 2 skb) or "none".
xdp_state() {
	fg_in_rx ip -j link show dev "$IF" | python3 -c '
import json, sys
x = json.load(sys.stdin)[0].get("xdp")
print("%s %s" % (x["mode"], x["prog"]["id"]) if x and x.get("prog") else "none")'
}
prog_id() { xdp_state | awk '{print $2}'; }

# Map ids of a program, sorted, space separated.
# The program's own maps, without its read-only settings (.rodata: fixed at
# load, never pinned).
prog_map_ids() {
	local ids i out=""
	ids=$(bpftool -j prog show id "$1" | python3 -c '
import json, sys
print(" ".join(str(i) for i in sorted(json.load(sys.stdin).get("map_ids", []))))')
	for i in $ids; do
		bpftool -j map show id "$i" 2>/dev/null | grep -q '"name":"[^"]*\.rodata"' && continue
		out="${out:+$out }$i"
	done
	echo "$out"
}
# Ids of the maps pinned for IF, sorted ("" when none).
pinned_ids() {
	local m ids=""
	for m in feed_rules rule_stats filter_stats queue_stats fg_config xsk_map; do
		[ -e "$PINS/$m" ] || continue
		ids="$ids $(bpftool -j map show pinned "$PINS/$m" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
	done
	echo "$ids" | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# Everything an error must leave alone.
snapshot() {
	xdp_state
	rx rule list "$IF" --json 2>&1
	ls -ln "$PINS" 2>&1 | awk 'NR > 1 {print $1, $NF}'
	pinned_ids
}

# The README's command: add 239.1.1.9:5008 as rule 100, feed 100 "NEWFEED",
# action redirect, any source. Kept byte for byte identical to the README.
readme_bpftool_add() {
	bpftool map update pinned /sys/fs/bpf/feedgate/"$1"/feed_rules \
		key hex 02 00 13 90 ef 01 01 09 00 00 00 00 00 00 00 00 00 00 00 00 \
		value hex 64 00 00 00 03 00 64 00 \
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
		4e 45 57 46 45 45 44 00 00 00 00 00 00 00 00 00
}

run_mode() {
	local mode=$1 xdpmode pid before after js out rc p base now
	[ "$mode" = native ] && xdpmode=1 || xdpmode=2

	# --- attach -----------------------------------------------------------
	fg_begin "attach_$mode"
	out=$(rx attach "$IF" --mode "$mode" 2>&1) || fg_bad "attach failed: $out"
	case $out in *"attached to $IF in $mode mode"*) ;; *) fg_bad "attach said '$out'" ;; esac
	p=$(prog_id)
	fg_eq "xdp mode" "$(xdp_state | awk '{print $1}')" "$xdpmode"
	bpftool prog show id "${p:-0}" 2>/dev/null | grep -q "name fg_xdp_filter" ||
		fg_bad "prog ${p:-none} is not fg_xdp_filter"
	fg_eq "pin dir mode" "$(stat -c %a "$PINS" 2>&1)" 700
	for m in feed_rules rule_stats filter_stats queue_stats fg_config xsk_map; do
		fg_eq "pin $m mode" "$(stat -c %a "$PINS/$m" 2>&1)" 600
	done
	fg_eq "pinned maps are the program's" "$(pinned_ids)" "$(prog_map_ids "${p:-0}")"
	fg_end

	# --- rules by CLI ---------------------------------------------------------
	fg_begin "rules_$mode"
	for r in "239.1.1.1:5000 --feed F1" "239.1.1.2:5001 --feed F2" \
		"239.1.1.3:5002 --feed F3" "239.1.1.4:5003 --feed F4" \
		"[ff15::1]:5000 --src fd00:fe::/64 --feed F1" \
		"0.0.0.0:6000 --action pass --feed UNI" "239.2.2.2:7000 --action drop" \
		"239.1.1.5:5004 --src 10.199.0.0/24 --feed SRC" \
		"239.1.1.6:5005 --src 192.0.2.0/24 --feed OTHER" "[::]:6001 --action drop"; do
		# shellcheck disable=SC2086
		out=$(rx rule add "$IF" $r 2>&1) || fg_bad "rule add $r: $out"
	done
	js=$(rx rule list "$IF" --json)
	jcheck '{}' "$js" \
		'len(d["rules"])' 10 \
		'[r["rule_id"] for r in d["rules"]]' '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]' \
		'rule("239.1.1.1:5000")["feed_id"] == rule("[ff15::1]:5000")["feed_id"]' true \
		'len(set(r["feed_id"] for r in d["rules"]))' 9 \
		'rule("[ff15::1]:5000")["src"]' '"fd00:fe::/64"' \
		'rule("0.0.0.0:6000")["action"]' '"pass"' \
		'rule("0.0.0.0:6000")["wildcard"]' true \
		'rule("239.2.2.2:7000")["action"]' '"drop"' \
		'rule("239.2.2.2:7000")["feed"]' null \
		'rule("239.1.1.1:5000")["action"]' '"redirect"' \
		'rule("[::]:6001")["family"]' '"ipv6"'
	out=$(rx rule list "$IF")
	case $out in *"[ff15::1]:5000"*"fd00:fe::/64"*redirect*F1*) ;; *) fg_bad "rule list table: $out" ;; esac
	fg_end

	# --- exact counters ----------------------------------------------------------
	fg_begin "counters_$mode"
	before=$(stats)
	# Frame sizes: IPv4 UDP 42 + payload, IPv6 UDP 62 + payload, TCP 54 / 74.
	fg_send udp,10.199.0.1,239.1.1.1,5000,10 udp,10.199.0.1,239.1.1.2,5001,20,100 \
		udp,10.199.0.1,239.1.1.3,5002,30,0 udp,10.199.0.1,239.1.1.4,5003,40,1000 \
		udp,fd00:fe::1,ff15::1,5000,7,100 udp,fd00:ff::1,ff15::1,5000,3 \
		udp,10.199.0.1,10.199.0.2,6000,5 udp,10.199.0.1,239.1.1.1,6000,4 \
		udp,10.199.0.1,239.2.2.2,7000,6 udp,10.199.0.1,239.1.1.5,5004,3 \
		udp,10.199.0.1,239.1.1.6,5005,4 udp,fd00:fe::1,fd00:fe::2,6001,2 \
		udp,10.199.0.1,239.1.1.1,5999,9 udp,10.199.0.1,239.9.9.9,5000,8 \
		tcp,10.199.0.1,239.1.1.1,5000,2 udp,fd00:fe::1,ff15::2,5000,5 || fg_bad "fg_send failed"
	sleep 0.3
	after=$(stats)
	# 110 redirect hits (no socket: fallback to pass), 9 pass, 8 drop, 31 misses.
	jcheck "$before" "$after" \
		'[rule(k)["packets"] for k in ("239.1.1.1:5000", "239.1.1.2:5001", "239.1.1.3:5002", "239.1.1.4:5003")]' \
		'[10, 20, 30, 40]' \
		'[rule(k)["bytes"] for k in ("239.1.1.1:5000", "239.1.1.2:5001", "239.1.1.3:5002", "239.1.1.4:5003")]' \
		'[740, 2840, 1260, 41680]' \
		'(rule("[ff15::1]:5000")["packets"], rule("[ff15::1]:5000")["bytes"])' '(7, 1134)' \
		'(rule("0.0.0.0:6000")["packets"], rule("0.0.0.0:6000")["bytes"])' '(9, 666)' \
		'(rule("239.2.2.2:7000")["packets"], rule("239.2.2.2:7000")["bytes"])' '(6, 444)' \
		'(rule("239.1.1.5:5004")["packets"], rule("239.1.1.5:5004")["bytes"])' '(3, 222)' \
		'(rule("239.1.1.6:5005")["packets"], rule("239.1.1.6:5005")["bytes"])' '(0, 0)' \
		'(rule("[::]:6001")["packets"], rule("[::]:6001")["bytes"])' '(2, 188)' \
		'dg("rx_packets") - dg("pass_control")' 158 \
		'dg("redirected")' 0 'dg("redirect_fallback")' 110 'dg("pass_fallback")' 110 \
		'dg("drop_fallback")' 0 'dg("pass_rule")' 9 'dg("drop_rule")' 8 \
		'dg("pass_no_rule")' 31 'dg("drop_no_rule")' 0 'dg("drop_malformed")' 0 \
		'dg("pass_frag") + dg("drop_frag")' 0 \
		'(q(0, "redirected"), q(0, "no_socket"))' '(0, 110)' \
		'd["mode"]' "\"$mode\"" 'd["miss_policy"]' '"pass"'
	# Bytes too, when no control packet (MLD, ND) slipped in meanwhile.
	jcheck "$before" "$after" \
		'dg("rx_bytes") if dg("pass_control") == 0 else 51588' 51588
	fg_end

	# --- a rule written with bpftool while traffic flows ------------------------------
	fg_begin "bpftool_live_$mode"
	before=$(stats)
	fg_send --pps 500 udp,10.199.0.1,239.1.1.9,5008,1200 &
	pid=$!
	# Add the rule once the flow is seen missing (>= 100 packets in), well
	# before the 2.4 s of traffic are over.
	base=$(fg_json "$before" 'd["global"]["pass_no_rule"]')
	for _ in $(seq 1 40); do
		now=$(fg_json "$(stats)" 'd["global"]["pass_no_rule"]')
		[ $((now - base)) -ge 100 ] && break
		sleep 0.05
	done
	readme_bpftool_add "$IF" || fg_bad "the README's bpftool command failed"
	wait $pid || fg_bad "fg_send failed"
	sleep 0.3
	after=$(stats)
	jcheck "$before" "$after" \
		'rule("239.1.1.9:5008")["rule_id"]' 100 \
		'rule("239.1.1.9:5008")["feed"]' '"NEWFEED"' \
		'rule("239.1.1.9:5008")["feed_id"]' 100 \
		'rule("239.1.1.9:5008")["action"]' '"redirect"' \
		'0 < rule("239.1.1.9:5008")["packets"] < 1200' true \
		'rule("239.1.1.9:5008")["bytes"] == 74 * rule("239.1.1.9:5008")["packets"]' true \
		'rule("239.1.1.9:5008")["packets"] + dg("pass_no_rule")' 1200 \
		'dg("redirect_fallback") == rule("239.1.1.9:5008")["packets"]' true \
		'dg("rx_packets") - dg("pass_control")' 1200
	# The CLI treats it like its own: same feed name -> same feed id.
	out=$(rx rule add "$IF" 239.1.1.8:5007 --feed NEWFEED 2>&1) || fg_bad "rule add: $out"
	case $out in *"(feed id 100)"*) ;; *) fg_bad "NEWFEED did not get feed id 100: $out" ;; esac
	fg_end

	# --- rule del ------------------------------------------------------------------------
	fg_begin "rule_del_$mode"
	before=$(stats)
	out=$(rx rule del "$IF" 239.1.1.2:5001 2>&1) || fg_bad "rule del: $out"
	out=$(rx rule del "$IF" 239.1.1.9:5008 2>&1) || fg_bad "rule del of the bpftool rule: $out"
	fg_send udp,10.199.0.1,239.1.1.2,5001,5 udp,10.199.0.1,239.1.1.1,5000,3 || fg_bad "fg_send"
	sleep 0.3
	after=$(stats)
	jcheck "$before" "$after" \
		'rule("239.1.1.2:5001")' null 'rule("239.1.1.9:5008")' null \
		'dg("pass_no_rule")' 5 \
		'rule("239.1.1.1:5000")["packets"] - rule("239.1.1.1:5000", b)["packets"]' 3 \
		'[r["packets"] for r in d["rules"] if r["rule"] != "239.1.1.1:5000"] == [r["packets"] for r in b["rules"] if r["rule"] not in ("239.1.1.1:5000", "239.1.1.2:5001", "239.1.1.9:5008")]' true \
		'len(d["rules"])' 10
	# The freed id is reused, with its counters reset.
	out=$(rx rule add "$IF" 239.1.1.11:5011 --feed F11 2>&1) || fg_bad "rule add: $out"
	js=$(stats)
	jcheck '{}' "$js" 'rule("239.1.1.11:5011")["rule_id"]' 1 \
		'rule("239.1.1.11:5011")["packets"]' 0
	fg_end

	# --- ip netns exec: fresh bpffs, maps found through the kernel ------------------------
	fg_begin "ip_netns_exec_$mode"
	out=$(ip netns exec "$FG_NS_RX" sh -c "'$F' rule add '$IF' 239.1.1.10:5010 --feed NETNS >/dev/null &&
		findmnt -n -o FSTYPE /sys/fs/bpf && stat -c %a '$PINS/feed_rules' &&
		'$F' stats '$IF' --json" 2>&1)
	rc=$?
	fg_eq "rc" $rc 0
	fg_eq "bpffs mounted inside" "$(echo "$out" | sed -n 1p)" bpf
	fg_eq "re-pinned 0600" "$(echo "$out" | sed -n 2p)" 600
	js=$(echo "$out" | sed -n 3p)
	[ -n "$js" ] || js='{}'
	jcheck '{}' "$js" 'rule("239.1.1.10:5010")["feed"]' '"NETNS"'
	js=$(rx rule list "$IF" --json)
	jcheck '{}' "$js" 'rule("239.1.1.10:5010")["feed"]' '"NETNS"'
	fg_eq "host pins untouched" "$(pinned_ids)" "$(prog_map_ids "$(prog_id)")"
	fg_end

	# --- stale pins are never used ----------------------------------------------------------
	fg_begin "stale_pins_$mode"
	p=$(prog_id)
	if [ "$mode" = native ]; then
		fg_in_rx ip link set dev "$IF" xdp off
	else
		fg_in_rx ip link set dev "$IF" xdpgeneric off
	fi
	[ -e "$PINS/feed_rules" ] || fg_bad "pins vanished with the program"
	fg_expect_err "feedgate is not attached; run 'feedgate attach $IF' first" rx rule list "$IF"
	out=$(ip netns exec "$FG_NS_RX" "$F" attach "$IF" --mode "$mode" 2>&1) || fg_bad "attach: $out"
	[ "$(prog_id)" != "$p" ] || fg_bad "same program id after re-attach"
	[ "$(pinned_ids)" != "$(prog_map_ids "$(prog_id)")" ] || fg_bad "host pins should be stale here"
	js=$(rx rule list "$IF" --json)
	jcheck '{}' "$js" 'len(d["rules"])' 0
	fg_eq "host pins replaced" "$(pinned_ids)" "$(prog_map_ids "$(prog_id)")"
	fg_end

	# --- errors: one line, non-zero exit, nothing changed ------------------------------------
	fg_begin "errors_$mode"
	rx rule add "$IF" 239.1.1.1:5000 --feed F1 >/dev/null || fg_bad "rule add"
	before=$(snapshot)
	fg_expect_err "eth9nope: no such interface" rx attach eth9nope
	fg_expect_err "eth9nope: no such interface" rx rule list eth9nope
	fg_expect_err "feedgate already attached" rx attach "$IF" --mode "$mode"
	fg_expect_err "run 'feedgate detach $IF' first" rx attach "$IF" --mode skb
	fg_expect_err "rule add: '239.1.1.1:99999': port out of range" \
		rx rule add "$IF" 239.1.1.1:99999
	fg_expect_err "IPv6 address must be in brackets" rx rule add "$IF" ff15::1:5000
	fg_expect_err "missing port" rx rule add "$IF" 239.1.1.1
	fg_expect_err "source family does not match group" \
		rx rule add "$IF" 239.1.1.1:5001 --src fd00::/64
	fg_expect_err "host bits set; did you mean 10.199.0.0/24?" \
		rx rule add "$IF" 239.1.1.1:5001 --src 10.199.0.1/24
	fg_expect_err "prefix length 33 too long for IPv4" \
		rx rule add "$IF" 239.1.1.1:5001 --src 10.0.0.0/33
	fg_expect_err "--action 'forward': unknown action" \
		rx rule add "$IF" 239.1.1.1:5001 --action forward
	fg_expect_err "--feed 'a-name-of-16-chr'" rx rule add "$IF" 239.1.1.1:5001 --feed a-name-of-16-chr
	fg_expect_err "a rule for 239.1.1.1:5000 already exists" rx rule add "$IF" 239.1.1.1:5000
	fg_expect_err "no rule for 239.1.1.99:5000" rx rule del "$IF" 239.1.1.99:5000
	fg_expect_err "unknown option '--colour'" rx stats "$IF" --colour
	fg_expect_err "--mode 'turbo': use native or skb" rx attach "$IF" --mode turbo
	fg_expect_err "missing IFACE" rx detach
	for c in "attach $FG_IF_RX" "detach $FG_IF_RX" "rule add $FG_IF_RX 239.1.1.1:5001" \
		"rule del $FG_IF_RX 239.1.1.1:5000" "rule list $FG_IF_RX" "stats $FG_IF_RX"; do
		# shellcheck disable=SC2086
		fg_expect_err "${c%% "$FG_IF_RX"*}: must be run as root (CAP_NET_ADMIN, CAP_BPF)" \
			fg_in_rx setpriv --reuid=65534 --regid=65534 --clear-groups "$F" $c
	done
	fg_expect_err "$FG_IF_TX: feedgate is not attached; run 'feedgate attach $FG_IF_TX' first" \
		fg_in_tx "$F" rule add "$FG_IF_TX" 239.1.1.1:5000
	fg_expect_err "$FG_IF_TX: feedgate is not attached" fg_in_tx "$F" detach "$FG_IF_TX"
	after=$(snapshot)
	[ "$before" = "$after" ] || fg_bad "state changed: $(diff <(echo "$before") <(echo "$after") | tr '\n' '|')"
	fg_end

	# --- bpffs unusable: refused before anything is attached -----------------------------------
	fg_begin "bpffs_unusable_$mode"
	out=$(rx detach "$IF" 2>&1) || fg_bad "detach: $out"
	# A private mount namespace where /sys/fs is an empty read-only tmpfs:
	# no /sys/fs/bpf to mount a bpffs on.
	out=$(unshare -m --propagation private sh -c \
		"mount -t tmpfs -o ro,size=4k fgnone /sys/fs && nsenter --net=/var/run/netns/$FG_NS_RX '$F' attach '$IF' --mode $mode" 2>&1)
	rc=$?
	[ $rc -ne 0 ] || fg_bad "attach succeeded without a bpffs"
	case $out in "feedgate: $IF: bpffs unusable"*) ;; *) fg_bad "got '$out'" ;; esac
	[ "$(echo "$out" | wc -l)" -eq 1 ] || fg_bad "more than one line: $out"
	fg_eq "xdp after the failed attach" "$(xdp_state)" none
	fg_end

	# --- drop policy: noise dropped, control traffic passes --------------------------------------
	fg_begin "drop_policy_$mode"
	out=$(rx attach "$IF" --mode "$mode" --policy drop 2>&1) || fg_bad "attach --policy drop: $out"
	rx rule add "$IF" 239.1.1.1:5000 --feed F1 >/dev/null || fg_bad "rule add"
	rx rule add "$IF" 239.1.1.2:5001 --action pass >/dev/null || fg_bad "rule add"
	rx rule add "$IF" 0.0.0.0:7778 --action pass >/dev/null || fg_bad "rule add"
	local noports0 noports1
	noports0=$(fg_in_rx awk '/^Udp: [0-9]/ {print $3}' /proc/net/snmp)
	before=$(stats)
	fg_send udp,10.199.0.1,239.9.9.9,5000,9 tcp,10.199.0.1,10.199.0.2,22,2 \
		udp,10.199.0.1,10.199.0.2,7777,3 udp,10.199.0.1,239.1.1.1,5000,4 \
		udp,10.199.0.1,239.1.1.2,5001,5 udp,10.199.0.1,10.199.0.2,7778,2 || fg_bad "fg_send"
	# ARP and ND have to get through: forget the neighbours first.
	fg_in_tx ip neigh del "$FG_RX_ADDR" dev "$FG_IF_TX" 2>/dev/null
	fg_in_tx ip -6 neigh flush dev "$FG_IF_TX" 2>/dev/null
	out=$(fg_ping "$FG_RX_ADDR" 2 2>&1) || fg_bad "IPv4 ping (ARP + ICMP) failed: $out"
	out=$(fg_ping -6 "$FG_RX_ADDR6" 2 2>&1) || fg_bad "IPv6 ping (ND + ICMPv6) failed: $out"
	sleep 0.3
	after=$(stats)
	noports1=$(fg_in_rx awk '/^Udp: [0-9]/ {print $3}' /proc/net/snmp)
	jcheck "$before" "$after" \
		'd["miss_policy"]' '"drop"' \
		'dg("drop_no_rule")' 14 'dg("pass_no_rule")' 0 \
		'dg("drop_fallback")' 4 'dg("pass_fallback")' 0 'dg("redirect_fallback")' 4 \
		'dg("pass_rule")' 7 'dg("drop_malformed")' 0 \
		'dg("pass_control") >= 6' true \
		'rule("239.1.1.1:5000")["packets"]' 4 'q(0, "no_socket")' 4
	# The stack saw the passed unicast datagrams (port 7778) and not the
	# dropped ones (port 7777): ICMP port unreachable counts exactly 2.
	fg_eq "Udp NoPorts delta" $((noports1 - noports0)) 2
	fg_end

	# --- detach leaves nothing ------------------------------------------------------------------
	fg_begin "detach_$mode"
	p=$(prog_id)
	local maps
	maps=$(prog_map_ids "${p:-0}")
	out=$(rx detach "$IF" 2>&1) || fg_bad "detach: $out"
	fg_eq "xdp" "$(xdp_state)" none
	[ ! -e "$PINS" ] || fg_bad "$PINS still exists"
	[ ! -e /sys/fs/bpf/feedgate ] || [ -n "$(ls -A /sys/fs/bpf/feedgate)" ] ||
		fg_bad "empty /sys/fs/bpf/feedgate left behind"
	# The kernel frees programs and maps after an RCU grace period.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		bpftool prog show id "${p:-0}" >/dev/null 2>&1 || break
		sleep 0.2
	done
	! bpftool prog show id "${p:-0}" >/dev/null 2>&1 || fg_bad "prog $p still loaded"
	bpftool prog list | grep -q "^${p:-0}: .*fg_xdp_filter" && fg_bad "bpftool prog list shows $p"
	for m in $maps; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			bpftool map show id "$m" >/dev/null 2>&1 || break
			sleep 0.2
		done
		! bpftool map show id "$m" >/dev/null 2>&1 || fg_bad "map $m still exists"
	done
	fg_expect_err "$IF: feedgate is not attached" rx detach "$IF"
	fg_end
}

run_mode native
run_mode skb

# --- once -------------------------------------------------------------------------------------
fg_begin native_refused_on_lo
# The namespace's loopback has no native XDP: the error says what to do.
fg_expect_err "lo: couldn't attach in native mode: Operation not supported; try '--mode skb'" \
	rx attach lo
fg_eq "lo xdp" "$(fg_in_rx ip -j link show dev lo | python3 -c 'import json,sys; print("xdp" in json.load(sys.stdin)[0])')" False
fg_end

fg_begin stats_watch
rx attach "$IF" >/dev/null || fg_bad "attach"
rx rule add "$IF" 239.1.1.1:5000 --feed F1 >/dev/null || fg_bad "rule add"
fg_send --pps 200 udp,10.199.0.1,239.1.1.1,5000,300 &
spid=$!
# Not through rx(): a function would run in a subshell, and $! would not be
# feedgate's pid (nsenter execs the command).
nsenter --net=/var/run/netns/"$FG_NS_RX" -- "$F" stats "$IF" --json --watch 0.4 >"$T/watch" 2>"$T/watch.err" &
wpid=$!
sleep 1.3
kill -INT $wpid
wait $wpid
rc=$?
wait $spid
fg_eq "watch exit status" $rc 0
[ ! -s "$T/watch.err" ] || fg_bad "stderr: $(cat "$T/watch.err")"
n=$(wc -l <"$T/watch")
[ "$n" -ge 3 ] || fg_bad "want >= 3 JSON lines, got $n"
js="[$(paste -sd, "$T/watch")]"
# The first line has no rates, the others do; the 200 pps flow shows in them.
jcheck '[]' "$js" '"interval_ms" in d[0]' false \
	'all("interval_ms" in x and "rx_packets_per_sec" in x["global"] for x in d[1:])' true \
	'any(0 < x["rules"][0]["packets_per_sec"] < 1000 for x in d[1:])' true
nsenter --net=/var/run/netns/"$FG_NS_RX" -- "$F" stats "$IF" --watch 0.3 >"$T/watch" 2>&1 &
wpid=$!
sleep 0.8
kill -INT $wpid
wait $wpid
fg_eq "table watch exit status" $? 0
grep -q 'pkt/s' "$T/watch" || fg_bad "table watch shows no rates"
fg_end

fg_begin rule_table_full
# Fill the other 4095 rule ids with bpftool's batch mode, then ask for one more.
python3 - "$PINS/feed_rules" >"$T/batch" <<'PYEOF'
import sys
for i in range(1, 4096):  # id 0 is the rule added above
    key = "02 00 23 28 ef 03 %02x %02x" % (i >> 8, i & 255) + " 00" * 12
    val = "%02x %02x 00 00 03 00 01 00" % (i & 255, i >> 8) + " 00" * 32
    print("map update pinned %s key hex %s value hex %s" % (sys.argv[1], key, val))
PYEOF
bpftool batch file "$T/batch" >/dev/null 2>&1 || fg_bad "bpftool batch failed"
before=$(snapshot)
fg_expect_err "$IF: rule table full (4096 rules)" rx rule add "$IF" 239.1.1.1:5001
after=$(snapshot)
[ "$before" = "$after" ] || fg_bad "state changed"
out=$(rx detach "$IF" 2>&1) || fg_bad "detach: $out"
fg_end

fg_begin concurrent_rule_adds
# Three waves of 32 `rule add` at once (one feed name per wave): every rule
# must get its own id, and each name one feed id. Without the insert lock
# ids collided in 3 runs of 4 here; with it, never.
out=$(rx attach "$IF" 2>&1) || fg_bad "attach: $out"
for w in 1 2 3; do
	pids=""
	for i in $(seq 1 32); do
		nsenter --net=/var/run/netns/"$FG_NS_RX" -- "$F" rule add "$IF" "239.4.$w.$i:6000" \
			--feed "WAVE$w" >/dev/null 2>"$T/add$i.err" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || fg_bad "a rule add failed: $(cat "$T"/add*.err | tr '\n' '|')"; done
done
js=$(rx rule list "$IF" --json)
jcheck '{}' "$js" 'sorted(r["rule_id"] for r in d["rules"]) == list(range(96))' true \
	'sorted(set((r["feed"], r["feed_id"]) for r in d["rules"]))' \
	'[["WAVE1", 1], ["WAVE2", 2], ["WAVE3", 3]]'
out=$(rx detach "$IF" 2>&1) || fg_bad "detach: $out"
fg_end

[ "$FG_FAILED" -eq 0 ]
