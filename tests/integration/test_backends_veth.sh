#!/usr/bin/env bash
# The capture backends other than AF_XDP (af_packet, io_uring, socket), end
# to end over a veth pair between two namespaces made here, driven by
# $BUILD/tests/fg_backend_probe (tests/integration/fg_backend_probe.c): it
# opens a backend, counts what arrives per flow (packets, MoldUDP64 message
# numbers, a hash of every payload) and prints JSON. The reference for a
# `feedgate gen` stream is the same generator's pcap of the same seed, run
# through the same counter.
#
# Cases (each prints PASS / FAIL / SKIPPED):
#   exact_<backend>_<mode>      2 feeds + 100% noise from `feedgate gen`: per
#                               feed exactly the packets, messages and bytes
#                               sent, same payload hash, no gap, no duplicate,
#                               no noise; blocking, spinning, several threads
#                               (af_packet: fanout hash and cpu)
#   membership_<backend>        the feed groups are in /proc/net/igmp (and
#                               /proc/net/igmp6) of the receive namespace while
#                               the backend runs, and gone once it is closed
#                               (the process still alive)
#   overflow_accounted_<backend>  a sink too slow behind a small ring / socket
#                               buffer: received + kernel drops = sent, nothing
#                               twice (af_packet: a burst wraps the whole ring)
#   ipv6_and_vlan_<backend>     hand-made frames: IPv4 and IPv6 feeds (with an
#                               extension header), 802.1Q and QinQ tagged
#                               feeds, noise of every kind: af_packet gets
#                               every feed (tags put back), the socket paths
#                               the untagged ones (the stack drops tagged
#                               frames without a VLAN device)
#   xdp_pass_rules_<backend>    XDP filter attached with the drop policy and
#                               the feeds as `--action pass` rules: the backend
#                               takes its feeds from the rules, receives every
#                               feed packet, each frame carries its rule's id,
#                               and XDP dropped the noise
#   io_uring_disabled           kernel.io_uring_disabled=2 (restored on exit):
#                               one line saying so, non-zero exit, no group
#                               left joined
#   not_permitted               af_packet as an unprivileged user: one line,
#                               non-zero exit
#   errors                      unknown backend, no such interface: one line each
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

fg_require_root
BUILD=${BUILD:-$here/../../build}
F=$FEEDGATE
P=$BUILD/tests/fg_backend_probe
IOU_OLD=""

fg_require_tools python3 nsenter setpriv sysctl
fg_require_built "$F" "$P"
fg_scratch backends
# io_uring_disabled is global: put it back whatever happened
# shellcheck disable=SC2016 # IOU_OLD is read when the trap runs
fg_on_exit '[ -z "$IOU_OLD" ] || sysctl -qw kernel.io_uring_disabled="$IOU_OLD"'
fg_lab_up 2
FEEDS="--feed 239.1.1.1:5000 --feed 239.1.1.2:5001"
COUNT=3000

# probe_start OUT ERR ARGS...: the probe in the receive namespace, in the
# background (PROBE_PID); returns once its threads run.
probe_start() {
	local out=$1 err=$2 i
	shift 2
	rm -f "$T/ready" "$T/closed"
	nsenter --net=/var/run/netns/"$FG_NS_RX" -- "$P" --iface "$IF" --ready "$T/ready" \
		--closed "$T/closed" "$@" \
		>"$out" 2>"$err" &
	PROBE_PID=$!
	FG_BG_PIDS="$FG_BG_PIDS $PROBE_PID"
	for i in $(seq 1 200); do
		[ -e "$T/ready" ] && return 0
		kill -0 $PROBE_PID 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

probe_wait() {
	wait $PROBE_PID
	PROBE_RC=$?
}

# after_close CHECK...: once the probe has closed its backend (it waits, alive,
# while $T/closed exists), run CHECK, then let the probe exit and wait for it.
after_close() {
	local i
	for i in $(seq 1 1500); do
		[ -e "$T/closed" ] && break
		kill -0 $PROBE_PID 2>/dev/null || break
		sleep 0.02
	done
	[ -e "$T/closed" ] || fg_bad "the probe never closed its backend"
	"$@"
	rm -f "$T/closed"
	probe_wait
}

# compare GOT.json WANT.json: "" when every wanted flow arrived exactly and
# nothing else did, else what differs.
compare() {
	python3 - "$1" "$2" <<'PYEOF'
import json, sys
try:
    got = json.load(open(sys.argv[1]))
except Exception as e:
    print("no JSON from the probe (%s)" % e)
    sys.exit()
want = json.load(open(sys.argv[2]))
g = {f["dst"]: f for f in got["flows"]}
errs = []
for f in want["flows"]:
    d, x = f["dst"], g.get(f["dst"])
    if not x:
        errs.append("%s: nothing received" % d)
        continue
    for k in ("packets", "messages", "bytes", "hash", "seq_first", "seq_last", "seq_missing",
              "seq_dups"):
        if x[k] != f[k]:
            errs.append("%s: %s %s, want %s" % (d, k, x[k], f[k]))
for d in g:
    if d not in {f["dst"] for f in want["flows"]}:
        errs.append("unexpected flow %s (%d packets)" % (d, g[d]["packets"]))
other = {k: v for k, v in got["non_udp"].items() if v}
if other:
    errs.append("frames that are not feed datagrams: %s" % other)
if any(got["thread_errors"]):
    errs.append("thread errors %s" % got["thread_errors"])
k = got["kstats_total"]
if k["kernel_drops"] or k["truncated"] or k["bad"]:
    errs.append("kernel drops %d, truncated %d, bad %d" % (k["kernel_drops"], k["truncated"],
                                                         k["bad"]))
print("; ".join(errs))
PYEOF
}

# Hex of a group as /proc/net/igmp prints it (host byte order) / igmp6 (32 hex digits).
igmp_hex() { python3 -c "import socket,struct,sys; print('%08X' % struct.unpack('=I', socket.inet_aton(sys.argv[1]))[0])" "$1"; }
igmp6_hex() { python3 -c "import socket,sys; print(socket.inet_pton(socket.AF_INET6, sys.argv[1]).hex())" "$1"; }

# joined GROUP: is GROUP joined on the receive interface (in its namespace)?
joined() {
	case $1 in
	*:*) fg_in_rx cat /proc/net/igmp6 | awk -v i="$IF" -v g="$(igmp6_hex "$1")" \
		'$2 == i && $3 == g { f = 1 } END { exit !f }' ;;
	*) fg_in_rx cat /proc/net/igmp | awk -v i="$IF" -v g="$(igmp_hex "$1")" \
		'/^[0-9]/ { dev = $2 } $1 == g && dev == i { f = 1 } END { exit !f }' ;;
	esac
}

# The reference: the generator's own pcap of the stream, counted by the probe.
"$F" gen --pcap "$T/ref.pcap" --count $COUNT --feeds 2 --noise 1 --seed 5 >/dev/null ||
	{ echo "FAIL setup: feedgate gen --pcap failed"; exit 1; }
"$P" --pcap "$T/ref.pcap" $FEEDS >"$T/ref.json" ||
	{ echo "FAIL setup: the probe could not read the reference pcap"; exit 1; }
WANT=$(fg_jfile "$T/ref.json" "sum(f['packets'] for f in d['flows'])")
[ "${WANT:-0}" -gt 1000 ] || { echo "FAIL setup: reference has ${WANT:-no} feed packets"; exit 1; }

# exact NAME ARGS...: one backend configuration against the generated stream.
exact() {
	local name=$1 be=$2 g
	shift
	fg_begin "exact_$name"
	if ! probe_start "$T/$name.json" "$T/$name.err" --backend "$@" $FEEDS --expect "$WANT" \
		--timeout 20; then
		fg_bad "probe did not start: $(head -1 "$T/$name.err")"
		fg_end
		return
	fi
	# membership while it runs (checked once per backend, reported below)
	MEMBER_DURING=1
	for g in 239.1.1.1 239.1.1.2; do joined $g || MEMBER_DURING=0; done
	fg_in_tx "$F" gen --iface "$FG_IF_TX" --count $COUNT --feeds 2 --noise 1 --seed 5 \
		--rate 20000 >"$T/$name.gen" || fg_bad "gen failed"
	MEMBER_AFTER=0
	after_close member_after 239.1.1.1 239.1.1.2
	[ "$PROBE_RC" -eq 0 ] || fg_bad "probe exit status $PROBE_RC: $(head -1 "$T/$name.err")"
	r=$(compare "$T/$name.json" "$T/ref.json")
	[ -n "$r" ] && fg_bad "$r"
	fg_end "$WANT packets, p50 $(fg_jfile "$T/$name.json" "d['latency_kernel_ns'].get('p50')") ns kernel->probe"
}

# member_after GROUP...: MEMBER_AFTER=1 if any is still joined.
member_after() {
	local g
	for g in "$@"; do joined "$g" && MEMBER_AFTER=1; done
	return 0
}

membership() {
	fg_begin "membership_$1"
	[ "$MEMBER_DURING" = 1 ] || fg_bad "feed groups not in /proc/net/igmp while running"
	[ "$MEMBER_AFTER" = 0 ] || fg_bad "feed groups still joined after the backend closed"
	fg_end
}

exact af_packet_block af_packet
membership af_packet
exact af_packet_fanout_hash af_packet --threads 2 --fanout hash
exact af_packet_fanout_cpu_spin af_packet --threads 2 --fanout cpu --spin
exact io_uring_block io_uring
membership io_uring
exact io_uring_spin io_uring --spin
exact io_uring_2_threads io_uring --threads 2
exact socket_block socket
membership socket
exact socket_spin socket --spin
exact socket_2_threads socket --threads 2 --batch 8

# --- a consumer too slow: what the kernel drops is counted -----------------------------------------

# overflow NAME ARGS...: threads that start 50 ms late (the ring or socket
# buffers fill up and overflow first: af_packet then finds every block of
# its ring full at once) and a sink that sleeps 3 ms per batch, behind a
# small ring / socket buffer. Every packet sent is either received once or
# counted as dropped by the kernel; a burst never hands out a frame twice.
overflow() {
	local name=$1
	shift
	fg_begin "overflow_accounted_$name"
	if ! probe_start "$T/o$name.json" "$T/o$name.err" --backend "$@" $FEEDS --slow 3000 \
		--start-delay 50 --timeout 20; then
		fg_bad "probe did not start: $(head -1 "$T/o$name.err")"
		fg_end
		return
	fi
	fg_in_tx "$F" gen --iface "$FG_IF_TX" --count $COUNT --feeds 2 --noise 1 --seed 5 \
		--rate 50000 >/dev/null || fg_bad "gen failed"
	sleep 1
	kill -INT $PROBE_PID
	after_close true
	r=$(python3 - "$T/o$name.json" "$WANT" <<'PYEOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("no JSON from the probe (%s)" % e)
    sys.exit()
want = int(sys.argv[2])
got = sum(f["packets"] for f in d["flows"])
drops = d["kstats_total"]["kernel_drops"]
dups = sum(f["seq_dups"] for f in d["flows"])
errs = []
if got + drops != want:
    errs.append("received %d + dropped %d != sent %d" % (got, drops, want))
if dups:
    errs.append("%d messages received twice" % dups)
if not drops:
    errs.append("nothing dropped: the case did not overflow")
print("; ".join(errs) or "ok %d received, %d dropped" % (got, drops))
PYEOF
)
	case $r in
	ok*) fg_end "${r#ok }" ;;
	*) fg_bad "$r"; fg_end ;;
	esac
}

overflow af_packet af_packet --block-size 4096 --block-count 4 --batch 256
overflow io_uring io_uring --rcvbuf 8192 --ring-buffers 16
overflow socket socket --rcvbuf 8192 --batch 4

# --- IPv6, VLAN and QinQ, hand-made ---------------------------------------------------------------

# send_frames WANT.json AF_PACKET: craft and send the frames; write what each
# kind of receiver must get. Feeds (flows): 239.1.1.1:5000 plain, 239.1.1.3:5002 802.1Q,
# 239.1.1.4:5003 QinQ (af_packet only), [ff15::1]:5000 plain, [ff15::2]:5001 behind a
# hop-by-hop header. Noise: feed groups on other ports, other groups, TCP,
# an IPv4 fragment, tagged noise.
send_frames() {
	fg_py_src <<'PYEOF' | fg_in_tx python3 - "$FG_IF_TX" "$FG_MAC_TX" "$1" "$2"
import json, socket, struct, sys, time

ifname, smac, want_path, afp = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), \
    sys.argv[3], sys.argv[4] == "1"
SRC4, SRC6 = "10.199.0.1", "fd00:fe::1"

def frame(dst, dport, payload, tags=(), proto=17, frag=0, hbh=False):
    v6 = ":" in dst
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    sa, da = socket.inet_pton(fam, SRC6 if v6 else SRC4), socket.inet_pton(fam, dst)
    if proto == 17:
        l4 = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
        pseudo = sa + da + (struct.pack("!IxxxB", len(l4), 17) if v6 else
                            struct.pack("!xBH", 17, len(l4)))
        l4 = l4[:6] + struct.pack("!H", csum(pseudo + l4) or 0xFFFF) + l4[8:]
    else:
        l4 = struct.pack("!HHIIBBHHH", 40000, dport, 1, 0, 5 << 4, 2, 8192, 0, 0)
    if v6:
        ext, nh = b"", proto
        if hbh:
            ext, nh = bytes([proto, 0, 1, 4, 0, 0, 0, 0]), 0
        l3 = struct.pack("!IHBB", 6 << 28, len(ext) + len(l4), nh, 64) + sa + da + ext
        et, dmac = 0x86DD, b"\x33\x33" + da[12:]
    else:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, frag, 64, proto, 0, sa, da)
        l3 = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        et, dmac = 0x0800, b"\x01\x00\x5e" + bytes([da[1] & 0x7F]) + da[2:]
    eth = dmac + smac
    for tpid, vid in tags:
        eth += struct.pack("!HH", tpid, vid)
    return eth + struct.pack("!H", et) + l3 + l4

def mold(session, seq, msgs):
    p = session.encode().ljust(10) + struct.pack("!QH", seq, len(msgs))
    for m in msgs:
        p += struct.pack("!H", len(m)) + m
    return p

def fnv(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

feeds = [  # dst, port, tags, hbh, socket paths get it
    ("239.1.1.1", 5000, (), False, True),
    ("239.1.1.3", 5002, ((0x8100, 10),), False, False),
    ("239.1.1.4", 5003, ((0x88A8, 20), (0x8100, 30)), False, False),
    ("ff15::1", 5000, (), False, True),
    ("ff15::2", 5001, (), True, True),
]
noise = [
    frame("239.1.1.1", 5999, b"x" * 40), frame("239.1.9.9", 5000, b"x" * 40),
    frame("239.1.1.1", 5000, b"", proto=6), frame("239.1.1.1", 5000, b"y" * 40, frag=0x2000),
    frame("ff15::1", 5999, b"x" * 40), frame("ff15::9", 5000, b"x" * 40),
    frame("239.1.1.3", 5999, b"x" * 40, tags=((0x8100, 10),)),
]
out, want, seq = [], {"afp": [], "sock": []}, {}
for rnd in range(40):
    for dst, port, tags, hbh, sock in feeds:
        s = seq.get(dst, 1)
        msgs = [bytes([0x41 + (s + i) % 26]) * (10 + (s + i) % 30) for i in range(3)]
        pl = mold("FG%08u" % port, s, msgs)
        seq[dst] = s + len(msgs)
        out.append(frame(dst, port, pl, tags=tags, hbh=hbh))
        key = ("[%s]:%d" if ":" in dst else "%s:%d") % (socket.inet_ntop(
            socket.AF_INET6 if ":" in dst else socket.AF_INET,
            socket.inet_pton(socket.AF_INET6 if ":" in dst else socket.AF_INET, dst)), port)
        for kind in ("afp", "sock") if sock else ("afp",):
            f = next((x for x in want[kind] if x["dst"] == key), None)
            if not f:
                f = {"dst": key, "packets": 0, "messages": 0, "bytes": 0, "hash": 0,
                     "seq_first": 1, "seq_last": 0, "seq_missing": 0, "seq_dups": 0}
                want[kind].append(f)
            f["packets"] += 1
            f["messages"] += len(msgs)
            f["bytes"] += len(pl)
            f["hash"] = (f["hash"] + fnv(pl)) & 0xFFFFFFFFFFFFFFFF
            f["seq_last"] = s + len(msgs) - 1
    out.append(noise[rnd % len(noise)])
for kind in want:
    for f in want[kind]:
        f["hash"] = "%016x" % f["hash"]
json.dump({"flows": want["afp" if afp else "sock"]}, open(want_path, "w"))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
for fr in out:
    s.send(fr)
    time.sleep(0.0005)
PYEOF
}

V6FEEDS="--feed 239.1.1.1:5000 --feed 239.1.1.3:5002 --feed 239.1.1.4:5003 --feed [ff15::1]:5000 --feed [ff15::2]:5001"
for be in af_packet io_uring socket; do
	fg_begin "ipv6_and_vlan_$be"
	afp=0
	[ $be = af_packet ] && afp=1
	if probe_start "$T/v6$be.json" "$T/v6$be.err" --backend $be $V6FEEDS --timeout 10; then
		joined ff15::1 && joined ff15::2 || fg_bad "IPv6 groups not in /proc/net/igmp6 while running"
		send_frames "$T/v6want$be.json" $afp || fg_bad "sending the frames failed"
		sleep 0.3
		kill -INT $PROBE_PID
		MEMBER_AFTER=0
		after_close member_after ff15::1 ff15::2 239.1.1.1
		[ "$MEMBER_AFTER" = 0 ] || fg_bad "groups still joined after the backend closed"
		[ "$PROBE_RC" -eq 0 ] || fg_bad "probe exit status $PROBE_RC: $(head -1 "$T/v6$be.err")"
		r=$(compare "$T/v6$be.json" "$T/v6want$be.json")
		[ -n "$r" ] && fg_bad "$r"
		if [ $be = af_packet ]; then
			# 40 802.1Q + 40 QinQ feed frames: the outer tag of each was put back
			v=$(fg_jfile "$T/v6$be.json" "d['kstats_total']['vlan_restored']")
			[ "$v" = 80 ] || fg_bad "vlan_restored $v, want 80"
		fi
	else
		fg_bad "probe did not start: $(head -1 "$T/v6$be.err")"
	fi
	fg_end
done

# --- XDP filter in front, feeds as pass rules ---------------------------------------------------------

fg_begin xdp_pass_rules_setup
if fg_in_rx "$F" attach "$IF" --policy drop >/dev/null &&
	fg_in_rx "$F" rule add "$IF" 239.1.1.1:5000 --action pass >/dev/null &&
	fg_in_rx "$F" rule add "$IF" 239.1.1.2:5001 --action pass >/dev/null; then
	XDP_OK=1
else
	XDP_OK=0
	fg_bad "feedgate attach / rule add failed"
fi
fg_end
for be in af_packet io_uring socket; do
	fg_begin "xdp_pass_rules_$be"
	if [ $XDP_OK = 0 ]; then
		fg_skip "no XDP filter"
		continue
	fi
	fg_in_rx "$F" stats "$IF" --json >"$T/xs0.json" 2>/dev/null
	if probe_start "$T/x$be.json" "$T/x$be.err" --backend $be --rules --expect "$WANT" \
		--timeout 20; then
		fg_in_tx "$F" gen --iface "$FG_IF_TX" --count $COUNT --feeds 2 --noise 1 --seed 5 \
			--rate 20000 >/dev/null || fg_bad "gen failed"
		after_close true
		[ "$PROBE_RC" -eq 0 ] || fg_bad "probe exit status $PROBE_RC: $(head -1 "$T/x$be.err")"
		r=$(compare "$T/x$be.json" "$T/ref.json")
		[ -n "$r" ] && fg_bad "$r"
		# every frame carries the id of its rule (0 and 1, in the order added)
		r=$(python3 -c "
import json, sys
g, w = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want = {str(i): f['packets'] for i, f in enumerate(w['flows'])}
print('' if g.get('rule_packets') == want else 'per rule %s, want %s' % (g.get('rule_packets'), want))
" "$T/x$be.json" "$T/ref.json")
		[ -n "$r" ] && fg_bad "$r"
		fg_in_rx "$F" stats "$IF" --json >"$T/xs1.json" 2>/dev/null
		d0=$(fg_jfile "$T/xs0.json" "d['global']['drop_no_rule']")
		d1=$(fg_jfile "$T/xs1.json" "d['global']['drop_no_rule']")
		p0=$(fg_jfile "$T/xs0.json" "d['global']['pass_rule']")
		p1=$(fg_jfile "$T/xs1.json" "d['global']['pass_rule']")
		# UDP and TCP noise dies in XDP (ARP noise passes as control plane)
		[ -n "$d1" ] && [ $((d1 - d0)) -gt $((COUNT / 4)) ] ||
			fg_bad "XDP dropped $((${d1:-0} - ${d0:-0})) noise packets"
		[ -n "$p1" ] && [ $((p1 - p0)) -eq "$WANT" ] ||
			fg_bad "XDP passed $((${p1:-0} - ${p0:-0})) packets by rule, want $WANT"
	else
		fg_bad "probe did not start: $(head -1 "$T/x$be.err")"
	fi
	fg_end
done
# The generator's trailer does not reach UDP socket paths; `gen --itch-stamps`
# puts the send time in the ITCH timestamps, `run --itch-stamps` measures
# generator -> consumer from them. Without the flag on run: no such figure.
for be in socket io_uring; do
	for flag in --itch-stamps ""; do
		onoff=off
		[ -n "$flag" ] && onoff=on
		fg_begin "itch_stamps_${be}_$onoff"
		if [ $XDP_OK = 0 ]; then
			fg_skip "no XDP filter"
			continue
		fi
		# shellcheck disable=SC2086
		nsenter --net=/var/run/netns/"$FG_NS_RX" -- "$F" run "$IF" --backend $be --poll wakeup \
			--duration 4 --json $flag >"$T/is$be$flag.json" 2>"$T/is$be$flag.err" &
		pid=$!
		FG_BG_PIDS="$FG_BG_PIDS $pid"
		for _ in $(seq 1 100); do
			grep -q "run: $IF: " "$T/is$be$flag.err" 2>/dev/null && break
			sleep 0.05
		done
		fg_in_tx "$F" gen --iface "$FG_IF_TX" --count 2000 --feeds 2 --noise 0 --seed 7 \
			--rate 5000 --itch-stamps >/dev/null || fg_bad "gen failed"
		wait $pid || fg_bad "run exit status $?: $(head -1 "$T/is$be$flag.err")"
		r=$(python3 -c "
import json, sys
t = json.load(open(sys.argv[1]))['total']
g = t.get('latency_gen_ns') or {}
n = g.get('count', 0)
if t['packets'] != 2000:
    print('received %d, want 2000' % t['packets'])
elif sys.argv[2] and n != 2000:
    print('%d stamped, want 2000' % n)
elif sys.argv[2] and not 0 < g['p50'] < 1e9:
    print('p50 %s ns' % g['p50'])
elif not sys.argv[2] and n:
    print('%d stamped without --itch-stamps' % n)
" "$T/is$be$flag.json" "$flag" 2>&1)
		[ -n "$r" ] && fg_bad "$r"
		fg_end
	done
done
[ $XDP_OK = 1 ] && fg_in_rx "$F" detach "$IF" >/dev/null

# --- backends that cannot start ------------------------------------------------------------------

# one_line_fail WANT CMD...: non-zero exit, exactly one stderr line containing WANT.
one_line_fail() {
	local want=$1 rc
	shift
	"$@" >"$T/ol.out" 2>"$T/ol.err"
	rc=$?
	if [ $rc -eq 0 ]; then
		fg_bad "'$want': exit status 0"
	elif [ "$(wc -l <"$T/ol.err")" -ne 1 ]; then
		fg_bad "'$want': want one stderr line, got: $(tr '\n' '|' <"$T/ol.err")"
	elif ! grep -q -- "$want" "$T/ol.err"; then
		fg_bad "got '$(cat "$T/ol.err")', want '$want'"
	fi
}

fg_begin io_uring_disabled
IOU_OLD=$(sysctl -n kernel.io_uring_disabled 2>/dev/null)
if [ -z "$IOU_OLD" ]; then
	fg_skip "no kernel.io_uring_disabled on this kernel"
else
	if sysctl -qw kernel.io_uring_disabled=2; then
		one_line_fail "io_uring is disabled (kernel.io_uring_disabled = 2)" \
			fg_in_rx "$P" --backend io_uring --iface "$IF" $FEEDS --timeout 1
		sysctl -qw kernel.io_uring_disabled="$IOU_OLD"
		joined 239.1.1.1 && fg_bad "a group is left joined"
		fg_end
	else
		fg_skip "could not set kernel.io_uring_disabled"
	fi
	IOU_OLD=""
fi

fg_begin not_permitted
install -m 0755 "$P" "$T/probe"
chmod 0755 "$T"
one_line_fail "needs root or CAP_NET_RAW" fg_in_rx setpriv --reuid=65534 --regid=65534 \
	--clear-groups --inh-caps=-all "$T/probe" --backend af_packet --iface "$IF" $FEEDS --timeout 1
fg_end

fg_begin errors
one_line_fail "unknown; use af_xdp, af_packet, io_uring or socket" \
	fg_in_rx "$P" --backend netmap --iface "$IF" $FEEDS
one_line_fail "fgnosuch$$: no such interface" "$P" --backend socket --iface fgnosuch$$ $FEEDS
fg_end

exit $FG_FAILED
