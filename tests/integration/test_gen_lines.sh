#!/usr/bin/env bash
# `feedgate gen --lines 2`, `--loss`, `--loss-both` and `--serve-rerequest`:
# the generator side of A/B arbitration and MoldUDP64 recovery, checked from
# the bytes on the wire (pcap files, tcpdump on the receiving end of a veth
# pair, a python client for the re-request server); no consumer runs here.
#
# The reference for "the right messages" is a plain run with the same seed
# (one line, no loss): the messages do not depend on lines or loss.
#
# Cases (each prints PASS / FAIL / SKIPPED):
#   errors                  --loss 1.5, --lines 3, two ratios with one line,
#                           --serve-rerequest without --iface, a bad ADDR:PORT,
#                           --serve-history 1000, --serve-mode junk, a --serve-*
#                           option without a server, --tx xdp with lines: one
#                           stderr line each, exit 2
#   pcap_lines_and_loss     gen --pcap: line B frames carry line A's payload
#                           (groups 239.2.1.f, source ports 40064+), every payload
#                           is the reference's, per-line counts and losses are the
#                           report's, the packets on neither line are the report's
#                           "lost on all lines", loss ratios within bounds, one
#                           closing heartbeat per feed and line, noise never on a
#                           B group
#   veth_lines_afpacket     the same over a veth pair, captured by tcpdump in the
#   veth_lines_af_xdp       receiving namespace (--tx afpacket, --tx af_xdp)
#   server_full             a client in the receiving namespace asks the server
#   server_partial          (--serve-rerequest on the sending end's address) for
#   server_garbage          ranges of each feed, an unknown session and a short
#   server_silent           request, and checks the replies against the reference:
#                           full = every message asked for that is remembered,
#                           partial = the first half, garbage = no well-formed
#                           packet of the session, silent = nothing; and the
#                           report's per-feed and total server counts
#   served_while_sending    requests made while gen is still sending are answered
#                           at once: paced afpacket (full: the 4 messages asked
#                           for), unpaced af_xdp (garbage: whatever is asked)
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

F=$FEEDGATE
SEED=7
PORT=26400 # the server's UDP port in the sending namespace

fg_require_built "$F"
fg_require_tools python3
fg_scratch lines

cat >"$T/lines.py" <<'PYEOF'
import re, select, socket, struct, sys, time

def frames(path):
    """(dst, sport, dport, udp payload without the trailer) of every IPv4/UDP frame."""
    data = open(path, "rb").read()
    magic = struct.unpack_from("<I", data)[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit("%s: not a little-endian pcap file" % path)
    out, off = [], 24
    while off + 16 <= len(data):
        incl, orig = struct.unpack_from("<II", data, off + 8)
        fr = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if incl != orig:
            sys.exit("%s: a frame cut to %d of %d bytes" % (path, incl, orig))
        if len(fr) < 42 or fr[12:14] != b"\x08\x00" or fr[23] != 17:
            continue
        tot = struct.unpack_from(">H", fr, 16)[0]
        sport, dport, ulen = struct.unpack_from(">HHH", fr, 34)
        out.append((socket.inet_ntoa(fr[30:34]), sport, dport, fr[42:34 + ulen], fr))
    return out

def mold(p):
    """(session, seq, count, [messages]) of a well-formed MoldUDP64 packet, else None."""
    if len(p) < 20:
        return None
    sess, seq, count = p[:10], struct.unpack_from(">Q", p, 10)[0], struct.unpack_from(">H", p, 18)[0]
    msgs, off = [], 20
    if count in (0, 0xFFFF):
        return (sess, seq, count, []) if off == len(p) else None
    for _ in range(count):
        if off + 2 > len(p):
            return None
        n = struct.unpack_from(">H", p, off)[0]
        if n == 0 or off + 2 + n > len(p):
            return None
        msgs.append(p[off + 2:off + 2 + n])
        off += 2 + n
    return (sess, seq, count, msgs) if off == len(p) else None

def report(path):
    """gen's report: per feed (1-based) packets, messages, last seq and the line rows."""
    feeds, cur = {}, None
    for line in open(path):
        w = line.split()
        if w and w[0] == "feed":
            cur = feeds[int(w[1])] = {"packets": int(w[w.index("packets") + 1]),
                                      "messages": int(w[w.index("messages") + 1]),
                                      "last": int(w[-1].split("-")[1]), "line": {}}
        elif cur is not None and w[:1] == ["line"]:
            cur["line"][w[1]] = {"group": w[2], "sent": int(w[4]), "lost": int(w[6]),
                                 "refused": int(w[8])}
        elif cur is not None and line.startswith("  lost on all lines:"):
            m = re.match(r"  lost on all lines: (\d+) packets, (\d+) messages", line)
            cur["lost_all"], cur["lost_all_msgs"] = int(m.group(1)), int(m.group(2))
    return feeds

def reference(path):
    """{(feed, seq of the packet's first message): payload} and {(feed, seq): message}."""
    pk, msg = {}, {}
    for dst, sport, dport, p, _ in frames(path):
        if not dst.startswith("239.1.1.") or dport != 4999 + int(dst.split(".")[3]):
            continue
        m = mold(p)
        f = int(dst.split(".")[3])
        pk[(f, m[1])] = p
        for i, x in enumerate(m[3]):
            msg[(f, m[1] + i)] = x
    return pk, msg

def check_lines(ref_path, got_path, rep_path, nfeeds, lines, loss_a, loss_b, loss_both, stats):
    """The frames of a run with lines and loss against the reference and the report."""
    why = []
    ref, _ = reference(ref_path)
    rep = report(rep_path)
    seen = {}  # (feed, line) -> {seq: payload}
    hb = {}
    for dst, sport, dport, p, fr in frames(got_path):
        o = dst.split(".")
        if dst.startswith("239.2.1."):
            line = "B"
        elif dst.startswith("239.1.1.") and 5000 <= dport < 6000:
            line = "A"
        else:
            continue  # noise (239.2.0.x, other ports)
        f = int(o[3])
        if dport != 4999 + f:
            why.append("a frame to %s:%d: not feed %d's port" % (dst, dport, f))
            continue
        want_sport = 39999 + f + (64 if line == "B" else 0)
        if sport != want_sport:
            why.append("line %s of feed %d from port %d, want %d" % (line, f, sport, want_sport))
        m = mold(p)
        if m is None:
            why.append("line %s of feed %d: a malformed MoldUDP64 packet" % (line, f))
            continue
        if m[2] == 0:
            hb.setdefault((f, line), []).append(m[1])
            continue
        seen.setdefault((f, line), {})[m[1]] = p
    for f in range(1, nfeeds + 1):
        r = rep.get(f)
        if r is None:
            why.append("feed %d: not in the report" % f)
            continue
        refs = {s: p for (ff, s), p in ref.items() if ff == f}
        if r["packets"] != len(refs):
            why.append("feed %d: report says %d packets, the reference has %d" % (f, r["packets"], len(refs)))
        for l in "AB"[:lines]:
            got = seen.get((f, l), {})
            row = r["line"].get(l)
            if row is None:
                why.append("feed %d: no line %s row in the report" % (f, l))
                continue
            if row["sent"] != len(got):
                why.append("feed %d line %s: report sent %d, %d arrived" % (f, l, row["sent"], len(got)))
            if row["lost"] != len(refs) - len(got):
                why.append("feed %d line %s: report lost %d, %d did not arrive" % (f, l, row["lost"], len(refs) - len(got)))
            bad = [s for s, p in got.items() if refs.get(s) != p]
            if bad:
                why.append("feed %d line %s: %d payloads differ from the reference (first seq %d)" % (f, l, len(bad), bad[0]))
            if hb.get((f, l)) != [r["last"] + 1]:
                why.append("feed %d line %s: closing heartbeats %s, want [%d]" % (f, l, hb.get((f, l)), r["last"] + 1))
        a, b = seen.get((f, "A"), {}), seen.get((f, "B"), {})
        if lines > 1:
            diff = [s for s in a if s in b and a[s] != b[s]]
            if diff:
                why.append("feed %d: %d packets differ between A and B" % (f, len(diff)))
        if 1 not in a or (lines > 1 and 1 not in b):
            why.append("feed %d: the first packet is missing on a line (never lost)" % f)
        nowhere = [s for s in refs if s not in a and s not in b]
        msgs = sum(mold(refs[s])[2] for s in nowhere)
        if (r.get("lost_all"), r.get("lost_all_msgs")) != (len(nowhere), msgs):
            why.append("feed %d: report lost on all lines %s packets %s messages, %d packets %d messages on no line" %
                       (f, r.get("lost_all"), r.get("lost_all_msgs"), len(nowhere), msgs))
        n = len(refs)
        both = [s for s in refs if s not in a and s not in b]
        # the expected shares: loss_both, then each line on its own
        for name, k, p in (("A", len([s for s in refs if s not in a]), loss_both + (1 - loss_both) * loss_a),
                           ("B", len([s for s in refs if s not in b]), loss_both + (1 - loss_both) * loss_b),
                           ("both", len(both), loss_both + (1 - loss_both) * loss_a * loss_b)):
            if name == "B" and lines < 2:
                continue
            if name == "both" and lines < 2:
                p = loss_both + (1 - loss_both) * loss_a
            sd = (n * p * (1 - p)) ** 0.5
            if abs(k - n * p) > 5 * sd + 1:
                why.append("feed %d: %d of %d lost on %s, want %.0f +- %.0f" % (f, k, n, name, n * p, 5 * sd + 1))
            stats.append("%d/%s %.3f" % (f, name, k / n))
    for dst, sport, dport, p, fr in frames(got_path):
        if dst.startswith("239.2.1.") and not 5000 <= dport < 5000 + nfeeds:
            why.append("noise to a line B group: %s:%d" % (dst, dport))
            break
    return why

def client(addr, port, mode, ref_path, nfeeds, out):
    """Ask the server for three ranges per feed, an unknown session, a short request."""
    _, msg = reference(ref_path)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    why, lines = [], []

    def ask(req, wait=0.4):
        while select.select([s], [], [], 0)[0]:
            s.recv(65536)
        s.send(req)
        got, end = [], time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                return got
            got.append(s.recv(65536))
            end = time.monotonic() + 0.1  # the rest of a train comes right after

    for f in range(1, nfeeds + 1):
        sess = b"FG%08d" % f
        last = max(q for (ff, q) in msg if ff == f)
        for first, count in ((1, 10), (101, 64), (last - 4, 20)):
            got = ask(sess + struct.pack(">QH", first, count))
            remembered = min(count, last + 1 - first)
            if mode == "full":
                want = remembered
            elif mode == "partial":
                want = min(max(count // 2, 1), remembered)
            else:
                want = 0
            parsed = [mold(p) for p in got]
            if mode in ("full", "partial"):
                seqs = []
                for m in parsed:
                    if m is None or m[0] != sess or m[2] in (0, 0xFFFF):
                        why.append("feed %d [%d, +%d): a reply that is not a packet of the session" % (f, first, count))
                        continue
                    for i, x in enumerate(m[3]):
                        seqs.append(m[1] + i)
                        if msg.get((f, m[1] + i)) != x:
                            why.append("feed %d: message %d differs from the reference" % (f, m[1] + i))
                if seqs != list(range(first, first + want)):
                    why.append("feed %d [%d, +%d) %s: got messages %s, want %d-%d" %
                               (f, first, count, mode, "%d-%d" % (seqs[0], seqs[-1]) if seqs else "none",
                                first, first + want - 1))
            elif mode == "garbage":
                if not got:
                    why.append("feed %d [%d, +%d): no garbage came back" % (f, first, count))
                for m in parsed:
                    if m is not None and m[0] == sess:
                        why.append("feed %d [%d, +%d): a well-formed packet of the session in garbage mode" % (f, first, count))
            elif got:
                why.append("feed %d [%d, +%d): %d datagrams from a silent server" % (f, first, count, len(got)))
            lines.append("feed %d [%d,+%d): %d datagrams" % (f, first, count, len(got)))
    for req, what in ((b"NOSUCHSESS" + struct.pack(">QH", 1, 5), "an unknown session"),
                      (b"FG00000001" + struct.pack(">QH", 1, 5)[:-1], "a 19-byte request")):
        got = ask(req, 0.3)
        if got:
            why.append("%d datagrams for %s" % (len(got), what))
    open(out, "w").write("; ".join(lines) + "\n")
    return why

def while_sending(addr, port, t0, out):
    """Ask for feed 1's first messages every 20 ms until one reply comes: its wall time."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    end = time.monotonic() + 10
    while time.monotonic() < end:
        sent = time.time()
        try:
            # before gen binds its socket the port is closed: ECONNREFUSED
            s.send(b"FG00000001" + struct.pack(">QH", 1, 4))
            if select.select([s], [], [], 0.02)[0]:
                m = mold(s.recv(65536))
                now = time.time()
                open(out, "w").write("%.6f %.6f %s\n" % (sent - float(t0), now - sent, m and m[2]))
                return []
        except ConnectionRefusedError:
            time.sleep(0.02)
    return ["no reply within 10 s"]

cmd = sys.argv[1]
if cmd == "check":
    stats = []
    why = check_lines(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]),
                      float(sys.argv[7]), float(sys.argv[8]), float(sys.argv[9]), stats)
    print("; ".join(why) if why else "lost shares " + " ".join(stats))
    sys.exit(1 if why else 0)
if cmd == "client":
    why = client(*sys.argv[2:6], int(sys.argv[6]), sys.argv[7])
    print("; ".join(why))
    sys.exit(1 if why else 0)
if cmd == "while":
    why = while_sending(*sys.argv[2:6])
    print("; ".join(why))
    sys.exit(1 if why else 0)
sys.exit("unknown command " + cmd)
PYEOF
lines_py() { python3 "$T/lines.py" "$@"; }

# --- errors ----------------------------------------------------------------------------------
fg_begin errors
P=(--pcap "$T/err.pcap" --count 10)
fg_gen_usage "--loss '1.5': want a ratio from 0 to 1" "${P[@]}" --loss 1.5
fg_gen_usage "--loss '0.1,2': want a ratio" "${P[@]}" --lines 2 --loss 0.1,2
fg_gen_usage "--loss 'x': want a ratio" "${P[@]}" --loss x
fg_gen_usage "--loss-both '-0.1': want a number from 0 to 1" "${P[@]}" --loss-both -0.1
fg_gen_usage "--lines '3': use 1 or 2" "${P[@]}" --lines 3
fg_gen_usage "--loss '0.1,0.2': two ratios need --lines 2" "${P[@]}" --loss 0.1,0.2
fg_gen_usage "--serve-rerequest needs --iface" "${P[@]}" --serve-rerequest 10.0.0.1:9000
fg_gen_usage "--serve-mode needs --serve-rerequest" "${P[@]}" --serve-mode full
# parsed before anything touches the interface
fg_gen_usage "--serve-rerequest '10.0.0.1': want ADDR:PORT" --iface lo --serve-rerequest 10.0.0.1
fg_gen_usage "--serve-rerequest 'nohost:1': want ADDR:PORT" --iface lo --serve-rerequest nohost:1
fg_gen_usage "--serve-history '1000': want a power of two" --iface lo \
	--serve-rerequest 10.0.0.1:9000 --serve-history 1000
fg_gen_usage "--serve-mode 'loud': use full, partial, garbage or silent" --iface lo \
	--serve-rerequest 10.0.0.1:9000 --serve-mode loud
fg_gen_usage "--serve-linger 'x': want a number" --iface lo --serve-rerequest 10.0.0.1:9000 \
	--serve-linger x
fg_gen_usage "--tx xdp sends copies of one template frame" --iface lo --tx xdp --lines 2
fg_end

# --- pcap ------------------------------------------------------------------------------------
LOSSY=(--lines 2 --loss "0.1,0.2" --loss-both 0.05)
fg_begin pcap_lines_and_loss
if ! "$F" gen --pcap "$T/ref.pcap" --count 6000 --feeds 2 --noise 0.3 --seed $SEED \
	>"$T/ref.txt" 2>"$T/ref.err"; then
	fg_bad "gen --pcap (reference) failed: $(head -1 "$T/ref.err")"
elif ! "$F" gen --pcap "$T/lossy.pcap" --count 6000 --feeds 2 --noise 0.3 --seed $SEED \
	"${LOSSY[@]}" >"$T/lossy.txt" 2>"$T/lossy.err"; then
	fg_bad "gen --pcap ${LOSSY[*]} failed: $(head -1 "$T/lossy.err")"
else
	res=$(lines_py check "$T/ref.pcap" "$T/lossy.pcap" "$T/lossy.txt" 2 2 0.1 0.2 0.05) ||
		fg_bad "$res"
	grep -q "^lines: 2, sent A [0-9]* B [0-9]*, lost A [0-9]* B [0-9]*, lost on all lines" \
		"$T/lossy.txt" || fg_bad "no summary line: $(tail -1 "$T/lossy.txt")"
	# one line: the same losses on line A as with two lines (draws of their own)
	"$F" gen --pcap "$T/one.pcap" --count 6000 --feeds 2 --noise 0.3 --seed $SEED --loss 0.1 \
		--loss-both 0.05 >"$T/one.txt" 2>&1 || fg_bad "gen --loss 0.1 failed"
	a1=$(awk '$1 == "line" && $2 == "A" { print $5 }' "$T/one.txt" | tr '\n' ' ')
	a2=$(awk '$1 == "line" && $2 == "A" { print $5 }' "$T/lossy.txt" | tr '\n' ' ')
	fg_eq "line A sends with one line and with two" "$a1" "$a2"
	res1=$(lines_py check "$T/ref.pcap" "$T/one.pcap" "$T/one.txt" 2 1 0.1 0 0.05) ||
		fg_bad "one line: $res1"
fi
fg_end "${res:-}"

# --- over a veth pair ------------------------------------------------------------------------
FG_CASES="veth_lines_afpacket veth_lines_af_xdp server_full server_partial server_garbage server_silent served_while_sending"
fg_require_root
fg_require_tools tcpdump nsenter
fg_lab_up 1

# capture OUT GEN_ARGS...: tcpdump on the receiving end (OUT.pcap) around one
# gen run; gen's report in OUT.txt.
capture() {
	local out=$1
	shift
	fg_capture_start "$out" udp
	fg_in_tx "$F" gen --iface "$FG_IF_TX" "$@" >"$out.txt" 2>"$out.err" ||
		fg_bad "gen $* failed: $(head -1 "$out.err")"
	fg_capture_stop "$out"
}

for tx in afpacket af_xdp; do
	fg_begin veth_lines_$tx
	capture "$T/v$tx" --tx $tx --count 6000 --rate 20000 --feeds 2 --noise 0.3 --seed $SEED \
		"${LOSSY[@]}"
	grep -q "^gen: $tx on $FG_IF_TX" "$T/v$tx.txt" ||
		fg_bad "report does not name $tx: $(head -1 "$T/v$tx.txt")"
	res=$(lines_py check "$T/ref.pcap" "$T/v$tx.pcap" "$T/v$tx.txt" 2 2 0.1 0.2 0.05) ||
		fg_bad "$res"
	fg_end "${res:-}"
done

# --- the re-request server ---------------------------------------------------------------------
# serve MODE TX: gen with a server in the background (lingering until the
# client is done), the client in the receiving namespace once the packets
# are out, then SIGINT ends the linger and gen reports.
serve() {
	local mode=$1 tx=$2 out=$T/srv_$1 pid i res
	"$F" gen --pcap "$T/sref.pcap" --count 400 --feeds 2 --seed $SEED >/dev/null 2>&1 ||
		fg_bad "gen --pcap (reference) failed"
	fg_bg nsenter --net=/var/run/netns/"$FG_NS_TX" -- "$F" gen --iface "$FG_IF_TX" --tx "$tx" \
		--count 400 --rate 20000 --feeds 2 --seed $SEED --lines 2 --loss-both 0.1 \
		--serve-rerequest "$FG_TX_ADDR:$PORT" --serve-mode "$mode" --serve-history 1024 \
		--serve-linger 30 >"$out.txt" 2>"$out.err"
	pid=$FG_BG_PID
	fg_wait_for "$out.err" "sending with" "" 5
	sleep 0.5 # 400 packets at 20 kpps: 20 ms
	res=$(fg_in_rx python3 "$T/lines.py" client "$FG_TX_ADDR" $PORT "$mode" "$T/sref.pcap" 2 \
		"$out.client") || fg_bad "client: $res"
	kill -INT $pid 2>/dev/null
	wait $pid
	i=$?
	[ $i -eq 0 ] || fg_bad "gen exited $i: $(head -2 "$out.err" | tr '\n' '|')"
	# three well-formed requests per feed: [1, +10), [101, +64) and
	# [796, +20) of 800 messages; the unknown session and the short
	# request are counted apart, for no feed
	case $mode in
	full) want="3 requests, * replies, 79 messages served, 15 not remembered" ;;
	partial) want="3 requests, * replies, 42 messages served, 5 not remembered" ;;
	garbage) want="3 requests, 9 replies, 0 messages served, 0 not remembered" ;;
	silent) want="3 requests, 0 replies, 0 messages served, 0 not remembered" ;;
	esac
	for f in 1 2; do
		got=$(awk -v f=$f '$1 == "feed" { cur = $2 } cur == f && $1 == "re-requests:"' "$out.txt")
		# shellcheck disable=SC2053 # want is a pattern
		[[ $got == "  re-requests: "$want ]] || fg_bad "feed $f: '$got', want '$want'"
	done
	grep -q "; server $FG_TX_ADDR:$PORT $mode: requests 6 .* unknown_session 1 bad 1 " "$out.txt" ||
		fg_bad "server summary: $(grep '^lines:' "$out.txt")"
	case $mode in
	silent) grep -q "server .*: requests 6 replies 0 messages 0 " "$out.txt" ||
		fg_bad "a silent server replied: $(grep '^lines:' "$out.txt")" ;;
	garbage) grep -q "server .*: requests 6 replies 18 messages 0 " "$out.txt" ||
		fg_bad "garbage: want 3 datagrams per request, no message: $(grep '^lines:' "$out.txt")" ;;
	esac
	SERVE_NOTE=$(cat "$out.client" 2>/dev/null)
}
for m in full partial garbage silent; do
	fg_begin server_$m
	case $m in full | garbage) tx=af_xdp ;; *) tx=afpacket ;; esac
	serve $m $tx
	fg_end "--tx $tx: ${SERVE_NOTE:-}"
done

# --- answered while sending --------------------------------------------------------------------
# while TX GEN_ARGS...: a client asks every 20 ms from the start; its first
# reply must come before gen's last packet: t0 + the send time gen reports
# bounds the end of the sending from below.
fg_begin served_while_sending
note=""
# Flat out, the first messages are long forgotten by the time the client
# asks (65536 per feed: 20 ms of sending): the garbage mode answers every
# request of a known session, remembered or not.
for run in "afpacket full --rate 5000 --count 5000" "af_xdp garbage --rate 0 --count 1500000"; do
	# shellcheck disable=SC2086 # the words of the run
	set -- $run
	tx=$1
	mode=$2
	shift 2
	out=$T/while_$tx
	t0=$(date +%s.%N)
	fg_bg nsenter --net=/var/run/netns/"$FG_NS_TX" -- "$F" gen --iface "$FG_IF_TX" --tx "$tx" "$@" \
		--lines 2 --serve-rerequest "$FG_TX_ADDR:$PORT" --serve-mode "$mode" --serve-linger 0 \
		>"$out.txt" 2>"$out.err"
	pid=$FG_BG_PID
	res=$(fg_in_rx python3 "$T/lines.py" while "$FG_TX_ADDR" $PORT "$t0" "$out.client") ||
		fg_bad "$tx: $res"
	wait $pid || fg_bad "$tx: gen failed: $(head -1 "$out.err")"
	secs=$(sed -n 's/^sent .* in \([0-9.]*\) s: .*/\1/p' "$out.txt")
	read -r at took count <"$out.client" 2>/dev/null
	if [ -z "$secs" ] || [ -z "${at:-}" ]; then
		fg_bad "$tx: no send time (${secs:-?}) or no reply (${at:-?})"
	elif ! python3 -c "import sys; sys.exit(0 if float('$at') + float('$took') < float('$secs') else 1)"; then
		fg_bad "$tx: the reply came ${at}+${took} s after the start, gen sent for $secs s"
	elif [ "$mode" = full ] && [ "$count" != 4 ]; then
		fg_bad "$tx: the reply carried ${count:-no} messages, want 4"
	fi
	note="$note $tx ($mode): asked at ${at:-?} s, answered in ${took:-?} s, sending took ${secs:-?} s;"
done
fg_end "${note# }"

exit 0
