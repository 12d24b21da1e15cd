#!/usr/bin/env bash
# `make demo`: feedgate on a veth pair between two namespaces made here.
# Stage 1, the XDP filter: attach on the receiving end with the drop policy
# (a feed-only NIC), rules for four feeds, feed and noise traffic from the
# peer, the counters, then everything removed again - also on Ctrl-C or on
# failure (tests/lib.sh's EXIT trap). Needs root; takes about 10 s.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

F=${FEEDGATE:-$here/../build/feedgate}
if [ "$(id -u)" -ne 0 ]; then
	echo "feedgate: demo: must be run as root (it makes namespaces and attaches XDP)" >&2
	exit 1
fi
if [ ! -x "$F" ]; then
	echo "feedgate: demo: $F is not built; run 'make' first" >&2
	exit 1
fi

if [ -t 1 ]; then
	step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	step() { printf '\n== %s\n' "$*"; }
fi
# Show a command as a user would type it, then run it in the rx namespace.
show() {
	printf '$ feedgate %s\n' "$*"
	fg_in_rx "$F" "$@"
}
die() {
	echo "feedgate: demo: $*" >&2
	exit 1
}

step "lab: namespaces $FG_NS_TX -> $FG_NS_RX, veth $FG_IF_TX -> $FG_IF_RX"
fg_lab_setup 1 || die "couldn't make the namespaces and the veth pair"
IF=$FG_IF_RX
echo "sender $FG_TX_ADDR ($FG_IF_TX), receiver $FG_RX_ADDR ($IF)"

step "attach the XDP filter to $IF; traffic that matches no rule is dropped"
show attach "$IF" --policy drop || die "attach failed"

step "one rule per feed: 239.1.1.1-4, ports 5000-5003, two A/B pairs"
show rule add "$IF" 239.1.1.1:5000 --feed ITCH-A || die "rule add failed"
show rule add "$IF" 239.1.1.2:5001 --feed ITCH-B || die "rule add failed"
show rule add "$IF" 239.1.1.3:5002 --feed ITCH-A --src 10.199.0.0/24 || die "rule add failed"
show rule add "$IF" 239.1.1.4:5003 --feed ITCH-B --src 10.199.0.0/24 || die "rule add failed"
show rule list "$IF" || die "rule list failed"

step "traffic from $FG_NS_TX: 4,000 feed packets and 1,500 noise packets"
# Feeds: 1000 per group, ITCH-sized payloads. Noise: wrong ports, other
# groups, unicast UDP and TCP to the receiver.
fg_send udp,10.199.0.1,239.1.1.1,5000,1000,1200 udp,10.199.0.1,239.1.1.2,5001,1000,1200 \
	udp,10.199.0.1,239.1.1.3,5002,1000,300 udp,10.199.0.1,239.1.1.4,5003,1000,300 \
	udp,10.199.0.1,239.1.1.1,5009,500,100 udp,10.199.0.1,239.7.7.7,5000,500,100 \
	udp,10.199.0.1,10.199.0.2,53,300,60 tcp,10.199.0.1,10.199.0.2,22,200 ||
	die "sending failed"
echo "sent"
step "control traffic still passes under the drop policy: ARP + ICMP echo"
fg_in_tx ip neigh del "$FG_RX_ADDR" dev "$FG_IF_TX" 2>/dev/null
if fg_ping "$FG_RX_ADDR" 3; then
	echo "ping $FG_RX_ADDR: 3 replies"
else
	die "ping through the filter failed"
fi
sleep 0.3

step "counters (no AF_XDP consumer yet: redirects fall back to the policy, per queue 'no_socket')"
show stats "$IF" || die "stats failed"

step "the same maps through bpftool (pinned under /sys/fs/bpf/feedgate/$IF)"
echo "\$ bpftool map dump pinned /sys/fs/bpf/feedgate/$IF/feed_rules | head -20"
bpftool map dump pinned "/sys/fs/bpf/feedgate/$IF/feed_rules" 2>&1 | head -20

step "detach: the program, its maps and pins are gone"
show detach "$IF" || die "detach failed"
ls -d "/sys/fs/bpf/feedgate/$IF" 2>/dev/null && die "pins left behind"
fg_in_rx ip link show dev "$IF" | grep -q 'prog/xdp' && die "XDP program left behind"
echo "nothing left on $IF"

step "removing the namespaces"
exit 0
