# shellcheck shell=bash
# Helpers for scripts that build a two-namespace veth lab. Source it, then:
#   fg_require_root / fg_require_tools TOOL... / fg_require_built FILE...
#                           (SKIPPED: the script, or each case in $FG_CASES)
#   fg_scratch NAME         -> $T, a scratch folder removed on exit
#   fg_lab_up [QUEUES]      the lab or FAIL; -> $IF (= $FG_IF_RX)
#   fg_lab_setup [QUEUES]   -> $FG_NS_TX, $FG_NS_RX, $FG_IF_TX, $FG_IF_RX
#   fg_on_exit CMD          one more thing the EXIT trap does
#   fg_case NAME; ...; fg_pass | fg_fail "why" | fg_skip "why"
#   fg_begin NAME; fg_bad "why"...; fg_end   a case of several checks
#   fg_eq WHAT GOT WANT  /  fg_expect_err WANT CMD...   checks reporting by fg_bad
#   fg_expect_exit RC WANT CMD...  /  fg_gen_usage WANT ARGS...
#   fg_in_rx CMD...  /  fg_in_tx CMD...   run in a namespace (host mount ns,
#                                         so /sys/fs/bpf pins stay visible)
#   fg_bg CMD... / fg_wait_for FILE ERE [PID] [SECONDS]   background work
#   fg_filter_feeds N [ARGS...]  the filter with a rule for each of gen's N feeds
#   fg_run_start OUT ERR ARGS... / fg_run_stop [SIGNAL]   `feedgate run` on the rx end
#   fg_capture_start OUT FILTER / fg_capture_stop OUT     tcpdump on the rx end
#   fg_xdp_refused OUT [ERE]    does this kernel refuse gen's XDP live frames?
#   fg_send [--pps N] FLOW...   exact frames from the tx end to the rx end
#   fg_ping [-6] ADDR [COUNT]   ICMP echo from the tx namespace (no iputils)
#   fg_json JSON EXPR / fg_jfile FILE EXPR / fg_stats EXPR   values out of JSON (python)
#   fg_gen_sent REPORT FEED     a feed's packets from gen's report
#   fg_attached                 is an XDP program on the rx end?
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
FG_LAB=0 # 1 once fg_lab_setup made namespaces: the EXIT trap removes them
FG_EXIT_CMDS=() # what fg_on_exit added to the EXIT trap

# fg_on_exit CMD: CMD (a string, run by eval) on exit, after the lab is gone,
# in the order given. Installs the EXIT trap; INT and TERM exit through it.
fg_on_exit() {
	FG_EXIT_CMDS+=("$1")
	trap fg_exit EXIT
	trap 'exit 130' INT TERM
}
fg_exit() {
	local c
	[ "$FG_LAB" = 0 ] || fg_lab_teardown
	for c in "${FG_EXIT_CMDS[@]}"; do eval "$c"; done
}

# fg_skip_all WHY: SKIPPED for each case named in FG_CASES, or for the whole
# script when it names none, and exit 0.
fg_skip_all() {
	local c
	for c in ${FG_CASES:-$(basename "$0" .sh)}; do echo "SKIPPED $c: $*"; done
	exit 0
}

# fg_require_root: the script (or its FG_CASES) SKIPPED unless root.
fg_require_root() {
	[ "$(id -u)" -eq 0 ] || fg_skip_all "needs root"
}

# fg_require_tools TOOL...: the script (or its FG_CASES) SKIPPED when one is missing.
fg_require_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || fg_skip_all "$tool not installed (make deps)"
	done
}

# fg_require_built FILE...: the script FAILs (exit 1) unless each is built.
fg_require_built() {
	local bin
	for bin in "$@"; do
		if [ ! -x "$bin" ]; then
			echo "FAIL $(basename "$0" .sh): $bin not built (make test-build)"
			exit 1
		fi
	done
}

# fg_scratch NAME: T, a fresh folder /tmp/fg-NAME.XXXXXX, removed on exit
# unless KEEP is set (then its name is printed).
fg_scratch() {
	T=$(mktemp -d "/tmp/fg-$1.XXXXXX") || {
		echo "FAIL $1: couldn't make a scratch folder"
		exit 1
	}
	if [ -n "${KEEP:-}" ]; then
		echo "keeping $T"
	else
		# shellcheck disable=SC2016 # T expands when the trap runs
		fg_on_exit 'rm -rf "$T"'
	fi
}

fg_in_rx() { nsenter --net=/var/run/netns/$FG_NS_RX -- "$@"; }
fg_in_tx() { nsenter --net=/var/run/netns/$FG_NS_TX -- "$@"; }

# fg_bg CMD...: start CMD in the background (its pid in FG_BG_PID) and
# remember it for teardown; echoes nothing. Redirections given to fg_bg
# are CMD's.
fg_bg() {
	"$@" &
	FG_BG_PID=$!
	FG_BG_PIDS="$FG_BG_PIDS $FG_BG_PID"
}
# fg_bg_forget PID: a process waited for: teardown must not signal its pid,
# which may belong to someone else by then.
fg_bg_forget() {
	local p keep=""
	for p in $FG_BG_PIDS; do [ "$p" = "$1" ] || keep="$keep $p"; done
	FG_BG_PIDS=$keep
}

# fg_wait_for FILE ERE [PID] [SECONDS]: 0 once a line of FILE matches ERE;
# 1 when PID (if given) is gone first or SECONDS (default 10) pass.
fg_wait_for() {
	local _
	for _ in $(seq 1 $((${4:-10} * 20))); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		[ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

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
# program on the sender so that native XDP redirects into it work. The
# EXIT trap (fg_exit) takes it down again.
fg_lab_setup() {
	local q=${1:-1}
	FG_LAB=1
	trap fg_exit EXIT
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

# fg_lab_up [QUEUES]: fg_lab_setup, or a FAIL line and exit 1. IF is the
# receiving end.
fg_lab_up() {
	fg_lab_setup "$@" || {
		echo "FAIL lab_setup: couldn't make the namespaces and veth pair"
		exit 1
	}
	IF=$FG_IF_RX
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
fg_expect_err() { fg_expect_exit "" "$@"; }

# fg_expect_exit RC WANT CMD...: the same, with exit status RC (any but 0
# when RC is empty).
fg_expect_exit() {
	local want_rc=$1 want=$2 out rc err errf
	shift 2
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
	elif [ -n "$want_rc" ] && [ $rc -ne "$want_rc" ]; then
		fg_bad "'${*##*/}': exit $rc, want $want_rc"
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

# fg_gen_usage WANT ARGS...: `feedgate gen ARGS` is a usage error (exit 2,
# one line "feedgate: gen: WANT...") and writes no --pcap file.
fg_gen_usage() {
	local want=$1 a pcap=""
	shift
	for a in "$@"; do
		[ "$pcap" = next ] && pcap=$a
		[ "$a" = --pcap ] && pcap=next
	done
	fg_expect_exit 2 "gen: $want" "$FEEDGATE" gen "$@"
	if [ -n "$pcap" ] && [ "$pcap" != next ] && [ -e "$pcap" ]; then
		fg_bad "gen $*: wrote a file"
		rm -f "$pcap"
	fi
}

# Python the programs below share: `fg_py_src <<'PYEOF' | python3 - ARGS`
# runs the program of the here-document after it.
FG_PY_CSUM='import struct

def csum(b):
    """The Internet checksum (RFC 1071) of b, ready to store."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
'
fg_py_src() {
	printf '%s\n' "$FG_PY_CSUM"
	cat
}

# fg_send [--pps N] FLOW...: send exact Ethernet frames out of $FG_IF_TX
# (tx namespace) to $FG_MAC_RX through an AF_PACKET socket, so every frame
# reaches the rx end once and nothing else is added. FLOW is
#   PROTO,SRC,DST,DPORT,COUNT[,PAYLOAD]
# PROTO udp or tcp (a bare SYN), SRC/DST IPv4 or IPv6, PAYLOAD bytes of UDP
# payload (default 32). Frame length: 14 + 20|40 + 8|20 + PAYLOAD.
# --pps paces the whole send (default: as fast as the socket takes them).
fg_send() {
	fg_py_src <<'PYEOF' | fg_in_tx python3 - "$FG_IF_TX" "$FG_MAC_TX" "$FG_MAC_RX" "$@"
import socket, struct, sys, time

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
	fg_py_src <<'PYEOF' | fg_in_tx python3 - "$six" "$1" "${2:-1}"
import os, select, socket, struct, sys, time
six, dst, count = sys.argv[1] == "1", sys.argv[2], int(sys.argv[3])
if six:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    req, rep = 128, 129
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    req, rep = 8, 0

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

# fg_jfile FILE EXPR: print(EXPR) with d = the JSON document in FILE (python
# prints: True, None, a dict's repr); nothing when it does not parse.
fg_jfile() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }

# fg_stats EXPR: print(EXPR) with s = `feedgate stats --json` of the rx end.
fg_stats() {
	fg_in_rx "$FEEDGATE" stats "$FG_IF_RX" --json 2>/dev/null |
		python3 -c "import json,sys; s=json.load(sys.stdin); print($1)" 2>/dev/null
}

# fg_attached: is an XDP program (ours: nothing else attaches there) on the rx end?
fg_attached() { fg_in_rx ip link show "$FG_IF_RX" 2>/dev/null | grep -q " xdp"; }

# fg_gen_sent REPORT FEED: the packets gen's report says feed FEED (1-based) sent.
fg_gen_sent() {
	awk -v f="$2" '$1 == "feed" && $2 == f { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }' "$1"
}

# fg_filter_feeds N [ATTACH ARG...] [-- RULE ARG...]: attach the filter to the
# rx end and add a rule for each of gen's feeds 1..N (239.1.1.f:4999+f).
# 1 when a step fails.
fg_filter_feeds() {
	local n=$1 f attach=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		attach+=("$1")
		shift
	done
	[ $# -eq 0 ] || shift
	fg_in_rx "$FEEDGATE" attach "$FG_IF_RX" "${attach[@]}" >/dev/null || return 1
	for f in $(seq 1 "$n"); do
		fg_in_rx "$FEEDGATE" rule add "$FG_IF_RX" "239.1.1.$f:$((4999 + f))" "$@" >/dev/null ||
			return 1
	done
}

# fg_run_start OUT ERR ARGS...: `feedgate run $FG_IF_RX ARGS...` in the rx
# namespace, in the background (FG_RUN_PID), stdout to OUT and stderr to ERR;
# returns once its sockets are registered (its start line), 1 if it died or
# never got there within 10 s. nsenter execs feedgate, so the pid is the
# consumer's own and takes the signals sent to it.
fg_run_start() {
	local out=$1 err=$2
	shift 2
	fg_bg nsenter --net=/var/run/netns/"$FG_NS_RX" -- "$FEEDGATE" run "$FG_IF_RX" "$@" \
		>"$out" 2>"$err"
	FG_RUN_PID=$FG_BG_PID
	fg_wait_for "$err" "queue.*mode" "$FG_RUN_PID"
}

# fg_run_stop [SIGNAL]: end the run started last (SIGINT by default); its exit status in FG_RUN_RC.
fg_run_stop() {
	kill -"${1:-INT}" "$FG_RUN_PID" 2>/dev/null
	wait "$FG_RUN_PID" 2>/dev/null
	FG_RUN_RC=$?
	fg_bg_forget "$FG_RUN_PID"
}

# fg_capture_start OUT FILTER [TCPDUMP OPTION...]: tcpdump on the rx end,
# frames of up to 2048 bytes (with gen's trailer) into OUT.pcap, its messages
# in OUT.td; back once it listens (5 s at most). Immediate mode: otherwise
# the last ring block, not yet retired when SIGINT comes, is never read.
fg_capture_start() {
	local out=$1 filter=$2
	shift 2
	# nsenter execs tcpdump: the pid is tcpdump's own, which takes SIGINT
	fg_bg nsenter --net=/var/run/netns/"$FG_NS_RX" -- tcpdump -i "$FG_IF_RX" -n -s 2048 \
		-B 16384 --immediate-mode "$@" -w "$out.pcap" "$filter" 2>"$out.td"
	FG_CAP_PID=$FG_BG_PID
	fg_wait_for "$out.td" "listening on" "$FG_CAP_PID" 5
}

# fg_capture_stop OUT: stop the capture 0.3 s after the last frame sent;
# fg_bad when the kernel dropped any of them.
fg_capture_stop() {
	sleep 0.3
	kill -INT "$FG_CAP_PID" 2>/dev/null
	wait "$FG_CAP_PID" 2>/dev/null
	fg_bg_forget "$FG_CAP_PID"
	grep -q "^0 packets dropped by kernel" "$1.td" ||
		fg_bad "tcpdump lost packets: $(grep dropped "$1.td" | tr '\n' ' ')"
}

# fg_xdp_refused OUT [ERE]: one frame of `gen --tx xdp` from the tx end
# (stdout OUT.out, stderr OUT.err). Some kernels refuse XDP live frames (EPERM
# even for root), and gen says so in one line before it sends anything:
# 0 when it did (one line "feedgate: gen: ..." matching ERE, default
# "refuses XDP live frames", nothing on stdout; the line in
# FG_XDP_REFUSAL); 1 when the frame went out; 2, and fg_bad, when gen failed
# in any other way.
fg_xdp_refused() {
	local out=$1 ere=${2:-refuses XDP live frames}
	FG_XDP_REFUSAL=""
	fg_in_tx "$FEEDGATE" gen --iface "$FG_IF_TX" --tx xdp --count 1 >"$out.out" 2>"$out.err" &&
		return 1
	if [ "$(wc -l <"$out.err")" -eq 1 ] && [ ! -s "$out.out" ] &&
		grep -q "^feedgate: gen: .*$ere" "$out.err"; then
		FG_XDP_REFUSAL=$(cat "$out.err")
		return 0
	fi
	fg_bad "gen --tx xdp failed without the one-line refusal: out '$(head -c 200 "$out.out")' err '$(tr '\n' '|' <"$out.err")'"
	return 2
}
