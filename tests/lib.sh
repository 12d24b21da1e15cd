# shellcheck shell=bash
# Helpers for scripts that build a two-namespace veth lab. Source it, then:
#   fg_lab_setup [QUEUES]   -> $FG_NS_TX, $FG_NS_RX, $FG_IF_TX, $FG_IF_RX
#   fg_case NAME; ...; fg_pass | fg_fail "why" | fg_skip "why"
#   fg_begin NAME; fg_bad "why"...; fg_end   a case of several checks
#   fg_eq WHAT GOT WANT  /  fg_expect_err WANT CMD...   checks reporting by fg_bad
#   fg_in_rx CMD...  /  fg_in_tx CMD...   run in a namespace (host mount ns,
#                                         so /sys/fs/bpf pins stay visible)
#   fg_send [--pps N] FLOW...   exact frames from the tx end to the rx end
#   fg_ping [-6] ADDR [COUNT]   ICMP echo from the tx namespace (no iputils)
#   fg_json JSON EXPR           a value out of a JSON document (python)
# Every name carries the PID so parallel runs never collide; an EXIT trap
# removes the namespaces, the processes started with fg_bg and the pins.
# Traffic only ever flows between the two veth ends made here.

FEEDGATE=${FEEDGATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/feedgate}
FG_TAG=${FG_TAG:-$$}
FG_NS_TX=fgtx$FG_TAG
FG_NS_RX=fgrx$FG_TAG
FG_IF_TX=fgt$FG_TAG
FG_IF_RX=fgr$FG_TAG
FG_TX_ADDR=10.199.0.1
FG_RX_ADDR=10.199.0.2
FG_TX_ADDR6=fd00:fe::1
FG_RX_ADDR6=fd00:fe::2
FG_BG_PIDS=""
FG_FAILED=0
FG_CASE=""
FG_ERRS="" # the reasons of the case fg_begin started
FG_ERRF="" # fg_expect_err's stderr file while it runs

fg_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIPPED $(basename "$0"): needs root"
		exit 0
	fi
}

# fg_require_tools TOOL...: the whole script is SKIPPED (exit 0) when one is missing.
fg_require_tools() {
	local tool
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "SKIPPED $(basename "$0" .sh): $tool not installed (make deps)"
			exit 0
		fi
	done
}

fg_in_rx() { nsenter --net=/var/run/netns/$FG_NS_RX -- "$@"; }
fg_in_tx() { nsenter --net=/var/run/netns/$FG_NS_TX -- "$@"; }

# Start a background process and remember it for teardown; echoes nothing.
fg_bg() { "$@" & FG_BG_PIDS="$FG_BG_PIDS $!"; }

fg_lab_teardown() {
	local p
	for p in $FG_BG_PIDS; do kill -INT "$p" 2>/dev/null; done
	sleep 0.2
	for p in $FG_BG_PIDS; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	FG_BG_PIDS=""
	if [ -e /var/run/netns/$FG_NS_RX ]; then
		fg_in_rx ip link set dev "$FG_IF_RX" xdp off 2>/dev/null
		fg_in_rx ip link set dev "$FG_IF_RX" xdpgeneric off 2>/dev/null
	fi
	rm -rf "/sys/fs/bpf/feedgate/$FG_IF_RX" "/sys/fs/bpf/feedgate/$FG_IF_TX"
	rmdir /sys/fs/bpf/feedgate 2>/dev/null
	[ -z "$FG_ERRF" ] || rm -f "$FG_ERRF"
	ip netns del "$FG_NS_TX" 2>/dev/null
	ip netns del "$FG_NS_RX" 2>/dev/null
	return 0
}

# fg_lab_setup [QUEUES]: two namespaces joined by a veth pair with QUEUES
# rx/tx queues (default 1), addresses, static neighbours, and an XDP_PASS
# program on the sender so that native XDP redirects into it work.
fg_lab_setup() {
	local q=${1:-1}
	trap 'fg_lab_teardown' EXIT
	trap 'exit 130' INT TERM
	ip netns add "$FG_NS_TX" || return 1
	ip netns add "$FG_NS_RX" || return 1
	ip link add "$FG_IF_TX" numtxqueues "$q" numrxqueues "$q" netns "$FG_NS_TX" type veth \
		peer name "$FG_IF_RX" numtxqueues "$q" numrxqueues "$q" netns "$FG_NS_RX" || return 1
	fg_in_tx ip link set lo up
	fg_in_rx ip link set lo up
	fg_in_tx ip addr add $FG_TX_ADDR/24 dev "$FG_IF_TX"
	fg_in_rx ip addr add $FG_RX_ADDR/24 dev "$FG_IF_RX"
	fg_in_tx ip -6 addr add $FG_TX_ADDR6/64 dev "$FG_IF_TX" nodad
	fg_in_rx ip -6 addr add $FG_RX_ADDR6/64 dev "$FG_IF_RX" nodad
	fg_in_tx ip link set "$FG_IF_TX" up
	fg_in_rx ip link set "$FG_IF_RX" up
	local mac_rx mac_tx
	# Not /sys/class/net: nsenter --net keeps the host's /sys, where these
	# interfaces do not exist.
	mac_rx=$(fg_in_rx ip -o link show dev "$FG_IF_RX" | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p')
	mac_tx=$(fg_in_tx ip -o link show dev "$FG_IF_TX" | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p')
	fg_in_tx ip neigh replace $FG_RX_ADDR lladdr "$mac_rx" dev "$FG_IF_TX" nud permanent
	fg_in_rx ip neigh replace $FG_TX_ADDR lladdr "$mac_tx" dev "$FG_IF_RX" nud permanent
	# Multicast feeds leave through the veth.
	fg_in_tx ip route add 224.0.0.0/4 dev "$FG_IF_TX" 2>/dev/null
	fg_in_tx ip -6 route add ff00::/8 dev "$FG_IF_TX" table local 2>/dev/null
	FG_MAC_RX=$mac_rx
	FG_MAC_TX=$mac_tx
	return 0
}

fg_case() { FG_CASE=$1; }
fg_pass() { echo "PASS $FG_CASE${1:+: $1}"; }
fg_fail() { echo "FAIL $FG_CASE: $*"; FG_FAILED=1; }
fg_skip() { echo "SKIPPED $FG_CASE: $*"; }

# fg_expect_eq WHAT GOT WANT
fg_expect_eq() {
	if [ "$2" != "$3" ]; then
		fg_fail "$1: got '$2', want '$3'"
		return 1
	fi
	return 0
}

# A case made of several checks: fg_begin NAME, then fg_bad "why" for each
# check that fails; fg_end [NOTE] prints PASS NAME[: NOTE] when none did,
# else one FAIL line with every reason.
fg_begin() {
	fg_case "$1"
	FG_ERRS=""
}
fg_bad() { FG_ERRS="${FG_ERRS:+$FG_ERRS; }$*"; }
fg_end() {
	if [ -z "$FG_ERRS" ]; then fg_pass "${1:-}"; else fg_fail "$FG_ERRS"; fi
}

# fg_eq WHAT GOT WANT: fg_bad unless GOT is WANT.
fg_eq() { [ "$2" = "$3" ] || fg_bad "$1: got '$2', want '$3'"; }

# fg_expect_err WANT CMD...: CMD fails, prints nothing on stdout and exactly
# one line on stderr, "feedgate: ..." containing WANT; fg_bad otherwise.
fg_expect_err() {
	local want=$1 out rc err errf
	shift
	FG_ERRF=$(mktemp /tmp/fg-err.XXXXXX) || {
		fg_bad "'${*##*/}': mktemp failed"
		return
	}
	errf=$FG_ERRF
	out=$("$@" 2>"$errf")
	rc=$?
	err=$(cat "$errf")
	if [ $rc -eq 0 ]; then
		fg_bad "'${*##*/}' succeeded, want failure '$want'"
	elif [ -n "$out" ]; then
		fg_bad "'${*##*/}' printed on stdout: $out"
	elif [ "$(wc -l <"$errf")" -ne 1 ]; then
		fg_bad "'${*##*/}': want one stderr line, got: $(tr '\n' '|' <"$errf")"
	else
		case $err in
		"feedgate: "*"$want"*) ;;
		*) fg_bad "'${*##*/}': got '$err', want '$want'" ;;
		esac
	fi
	rm -f "$errf"
	FG_ERRF=""
}

# fg_send [--pps N] FLOW...: send exact Ethernet frames out of $FG_IF_TX
# (tx namespace) to $FG_MAC_RX through an AF_PACKET socket, so every frame
# reaches the rx end once and nothing else is added. FLOW is
#   PROTO,SRC,DST,DPORT,COUNT[,PAYLOAD]
# PROTO udp or tcp (a bare SYN), SRC/DST IPv4 or IPv6, PAYLOAD bytes of UDP
# payload (default 32). Frame length: 14 + 20|40 + 8|20 + PAYLOAD.
# --pps paces the whole send (default: as fast as the socket takes them).
fg_send() {
	nsenter --net=/var/run/netns/$FG_NS_TX -- python3 - "$FG_IF_TX" "$FG_MAC_TX" "$FG_MAC_RX" "$@" <<'PYEOF'
import socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def frame(smac, dmac, proto, src, dst, dport, payload):
    v6 = ":" in dst
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    sa, da = socket.inet_pton(fam, src), socket.inet_pton(fam, dst)
    if proto == "udp":
        l4n, l4 = 17, struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
        ck_off = 6
    else:
        l4n, l4 = 6, struct.pack("!HHIIBBHHH", 40000, dport, 1, 0, 5 << 4, 0x02, 8192, 0, 0)
        ck_off = 16
    if v6:
        pseudo = sa + da + struct.pack("!IxxxB", len(l4), l4n)
    else:
        pseudo = sa + da + struct.pack("!xBH", l4n, len(l4))
    ck = csum(pseudo + l4) or 0xFFFF
    l4 = l4[:ck_off] + struct.pack("!H", ck) + l4[ck_off + 2:]
    if v6:
        l3 = struct.pack("!IHBB", 6 << 28, len(l4), l4n, 64) + sa + da
        etype = 0x86DD
    else:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, l4n, 0, sa, da)
        l3 = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        etype = 0x0800
    return dmac + smac + struct.pack("!H", etype) + l3 + l4

args = sys.argv[1:]
ifname, smac, dmac = args[0], bytes.fromhex(args[1].replace(":", "")), bytes.fromhex(args[2].replace(":", ""))
args = args[3:]
pps = 0
if args and args[0] == "--pps":
    pps = float(args[1])
    args = args[2:]
frames = []
for f in args:
    p = f.split(",")
    n = int(p[4])
    payload = bytes(int(p[5]) if len(p) > 5 else 32)
    fr = frame(smac, dmac, p[0], p[1], p[2], int(p[3]), payload)
    frames += [fr] * n
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
t0 = time.monotonic()
for i, fr in enumerate(frames):
    if pps:
        delay = t0 + i / pps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    if s.send(fr) != len(fr):
        sys.exit("fg_send: short send")
PYEOF
}

# fg_ping [-6] ADDR [COUNT]: ICMP (or ICMPv6) echo from the tx namespace;
# succeeds when every echo (1 s apart at most) gets its reply within 2 s.
# The kernel resolves the neighbour first (ARP / ND) as for any ping.
fg_ping() {
	local six=0
	if [ "$1" = -6 ]; then six=1; shift; fi
	nsenter --net=/var/run/netns/$FG_NS_TX -- python3 - "$six" "$1" "${2:-1}" <<'PYEOF'
import os, select, socket, struct, sys, time
six, dst, count = sys.argv[1] == "1", sys.argv[2], int(sys.argv[3])
if six:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    req, rep = 128, 129
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    req, rep = 8, 0

def csum(b):
    if len(b) % 2:
        b += b"\0"
    v = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while v >> 16:
        v = (v & 0xFFFF) + (v >> 16)
    return ~v & 0xFFFF

ident = os.getpid() & 0xFFFF
for seq in range(1, count + 1):
    body = struct.pack("!BBHHH", req, 0, 0, ident, seq) + b"feedgate-ping"
    if not six:  # the kernel fills the ICMPv6 checksum itself
        body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    s.sendto(body, (dst, 0))
    end = time.monotonic() + 2
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            sys.exit("fg_ping: no reply from %s (seq %d)" % (dst, seq))
        pkt = s.recv(2048)
        if not six:
            pkt = pkt[(pkt[0] & 15) * 4:]
        t, _, _, i, q = struct.unpack("!BBHHH", pkt[:8])
        if t == rep and i == ident and q == seq:
            break
PYEOF
}

# fg_json JSON EXPR: print EXPR evaluated with d = the parsed JSON and
# rule(KEY) = the entry of d["rules"] whose "rule" is KEY (None if absent).
fg_json() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
def rule(k):
    return next((r for r in d.get("rules", []) if r["rule"] == k), None)
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
' "$1" "$2"
}

# fg_run_start OUT ERR ARGS...: `feedgate run $FG_IF_RX ARGS...` in the rx
# namespace, in the background (FG_RUN_PID), stdout to OUT and stderr to ERR;
# returns once its sockets are registered (its start line), 1 if it died or
# never got there within 10 s. nsenter execs feedgate, so the pid is the
# consumer's own and takes the signals sent to it.
fg_run_start() {
	local out=$1 err=$2 i
	shift 2
	nsenter --net=/var/run/netns/"$FG_NS_RX" -- "$FEEDGATE" run "$FG_IF_RX" "$@" >"$out" 2>"$err" &
	FG_RUN_PID=$!
	FG_BG_PIDS="$FG_BG_PIDS $FG_RUN_PID"
	for i in $(seq 1 200); do
		grep -q "queue.*mode" "$err" 2>/dev/null && return 0
		kill -0 "$FG_RUN_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# fg_run_stop [SIGNAL]: end the run started last (SIGINT by default); its exit status in FG_RUN_RC.
fg_run_stop() {
	kill -"${1:-INT}" "$FG_RUN_PID" 2>/dev/null
	wait "$FG_RUN_PID"
	FG_RUN_RC=$?
}
