#!/usr/bin/env bash
# The end-to-end demo: two namespaces joined by a 4-queue veth pair;
# feedgate's XDP filter on the receiving end with rules for 4 feeds, each on
# an A and a B line (drop policy: everything else is dropped in the driver);
# `feedgate run` takes the feeds from AF_XDP sockets, joins each feed's two
# lines into one stream, asks the generator's re-request server for what both
# lines lost, and decodes; `feedgate gen` sends 4 MoldUDP64/ITCH 5.0 feeds on
# two lines each, 200,000 messages/s in total, plus 50% noise, for about 10
# seconds, losing 1% of the packets on each line and 0.2% on both. Then: per
# feed messages made and delivered (each once, in order), per line packets,
# duplicates and loss, ranges recovered and their latency, noise dropped at
# XDP, latency, AF_XDP mode. Everything it made is removed at the end; it
# fails loudly when a message is missing, doubled or out of order.
#
# Usage: tests/demo.sh (make demo)   (as root, after make; FEEDGATE= picks the binary)
#   DEMO_SECONDS=10 DEMO_MSGS=200000 DEMO_MPP=4 to change the load.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

SECONDS_=${DEMO_SECONDS:-10}
MSGS=${DEMO_MSGS:-200000}
MPP=${DEMO_MPP:-4}
FEEDS=4
NOISE=0.5
SYMBOLS=AAPL,MSFT
LOSS=${DEMO_LOSS:-0.01,0.01}
LOSS_BOTH=${DEMO_LOSS_BOTH:-0.002}

die() {
	echo "feedgate demo: FAILED: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run it as root (it makes network namespaces)"
[ -x "$FEEDGATE" ] || die "$FEEDGATE is not built (run make)"
command -v python3 >/dev/null || die "python3 is missing (make deps)"
F=$FEEDGATE
T=$(mktemp -d /tmp/fg-demo.XXXXXX)

fg_lab_setup 4 || die "couldn't make the namespaces and the veth pair"
trap 'fg_lab_teardown; rm -rf "$T"' EXIT
IF=$FG_IF_RX

# Feed packets per second, and with the noise on top: the generator's --rate counts both.
FEED_PPS=$((MSGS / MPP))
RATE=$(python3 -c "print(round($FEED_PPS * (1 + $NOISE)))")

SERVER=$FG_TX_ADDR:9000
echo "== feedgate demo: $FEEDS ITCH feeds on A and B lines, $MSGS messages/s ($FEED_PPS packets/s of $MPP messages)"
echo "   plus $(python3 -c "print(round($NOISE * 100))")% noise, for $SECONDS_ s, $FG_NS_TX/$FG_IF_TX -> $FG_NS_RX/$IF (4 queues)"
echo "   loss: $LOSS on the lines (A,B), $LOSS_BOTH on both; re-request server $SERVER"
echo
echo "== attach the filter and add one rule per line: A 239.1.1.N, B 239.2.1.N, one --feed name"
fg_in_rx "$F" attach "$IF" --policy drop || die "attach failed"
RR=()
for i in $(seq 1 $FEEDS); do
	fg_in_rx "$F" rule add "$IF" "239.1.1.$i:$((4999 + i))" --feed "feed$i" || die "rule add failed"
	fg_in_rx "$F" rule add "$IF" "239.2.1.$i:$((4999 + i))" --feed "feed$i" || die "rule add failed"
	RR+=(--rerequest "feed$i=$SERVER")
done
fg_in_rx "$F" stats "$IF" --json >"$T/stats0.json" || die "stats failed"
echo
echo "== start the consumer: one AF_XDP socket per queue, decoding $SYMBOLS"
# wakeup polling, all four queue threads on CPU 1: the generator paces
# by spinning on CPU 0 (and veth's receive work runs there, in its softirq)
RXCPU=$(($(nproc) > 1 ? 1 : 0))
nsenter --net=/var/run/netns/"$FG_NS_RX" -- "$F" run "$IF" --poll wakeup --cpus $RXCPU --symbols "$SYMBOLS" \
	"${RR[@]}" --decode "$T/decode.jsonl" --json >"$T/run.json" 2>"$T/run.err" &
RUN=$!
FG_BG_PIDS="$FG_BG_PIDS $RUN"
for _ in $(seq 1 100); do
	grep -q "queue.*mode" "$T/run.err" 2>/dev/null && break
	kill -0 $RUN 2>/dev/null || die "feedgate run exited: $(cat "$T/run.err")"
	sleep 0.05
done
head -1 "$T/run.err"
echo
echo "== generate: $RATE packets/s for $SECONDS_ s"
fg_in_tx taskset -c 0 "$F" gen --iface "$FG_IF_TX" --feeds $FEEDS --rate "$RATE" --duration "$SECONDS_" \
	--noise $NOISE --messages-per-packet "$MPP" --seed 2024 --lines 2 --loss "$LOSS" \
	--loss-both "$LOSS_BOTH" --serve-rerequest "$SERVER" --serve-linger 1 | tee "$T/gen.txt" ||
	die "feedgate gen failed"
sleep 0.5
kill -INT $RUN
wait $RUN
rc=$?
[ $rc -eq 0 ] || die "feedgate run exited with $rc: $(tail -3 "$T/run.err")"
fg_in_rx "$F" stats "$IF" --json >"$T/stats1.json" || die "stats failed"
echo
echo "== live stats of the consumer (last 3 of $(grep -c '^run: [0-9]' "$T/run.err") lines)"
grep '^run: [0-9]' "$T/run.err" | tail -3
echo
python3 - "$T" "$FEEDS" "$SYMBOLS" <<'EOF'
import json, os, sys

t, nfeeds, symbols = sys.argv[1], int(sys.argv[2]), sys.argv[3]
run = json.load(open(os.path.join(t, "run.json")))
s0 = json.load(open(os.path.join(t, "stats0.json")))
s1 = json.load(open(os.path.join(t, "stats1.json")))
noise = {}
for line in open(os.path.join(t, "gen.txt")):
    w = line.split()
    if w and w[0] == "noise":
        noise = {w[i]: int(w[i + 1]) for i in range(3, len(w) - 1, 2)}
        noise["total"] = int(w[2].rstrip(":"))

tot = run["total"]
xs = tot["kstats"]
counted = xs["rx_dropped"] + xs["rx_ring_full"]
made, line_sent = {}, {}
feed = None
for line in open(os.path.join(t, "gen.txt")):
    w = line.split()
    if w and w[0] == "feed":
        feed = "feed" + w[1]
        made[feed] = int(w[w.index("messages") + 1])
    elif len(w) > 3 and w[0] == "line" and feed:
        line_sent[w[2]] = int(w[w.index("sent") + 1])
seq = {s["name"]: s for s in run.get("feeds_sequenced", [])}
print("== per feed: every message once, in order")
print("%-7s %9s %10s %8s %10s %10s %14s" % ("feed", "made", "delivered", "gaps", "recovered",
      "dups", "recovery p50/p99"))
bad = []
for name in sorted(made):
    s = seq.get(name)
    if not s:
        bad.append("%s: no sequencer summary" % name)
        continue
    print("%-7s %9d %10d %8d %10d %10d %8.0f/%.0f us" % (
        name, made[name], s["messages"], s["gap_messages"], s["recovered"], s["duplicates"],
        s["recovery_ns"]["p50"] / 1e3, s["recovery_ns"]["p99"] / 1e3))
    if s["messages"] != made[name] or s["gap_messages"]:
        bad.append("%s: made %d, delivered %d, %d unrecovered" % (
            name, made[name], s["messages"], s["gap_messages"]))
    for l in s["lines"]:
        print("   line %-16s packets %7d  brought first %7d  duplicates %7d  loss %6d" % (
            l["name"], l["packets"], l["messages"], l["duplicates"], l["loss"]))
lost = 0
for f in run["feeds"]:
    # the lines gen sent; each line ends with one heartbeat that gen sends
    # after its report
    if f["group"] in line_sent:
        lost += line_sent[f["group"]] + 1 - f["packets"]
# the decode stream: per feed, sequence numbers only go up
last = {}
with open(os.path.join(t, "decode.jsonl")) as fh:
    for line in fh:
        d = json.loads(line)
        if "seq" in d:
            if d["seq"] <= last.get(d["feed"], 0):
                bad.append("%s: seq %d after %d in --decode" % (d["feed"], d["seq"], last[d["feed"]]))
                break
            last[d["feed"]] = d["seq"]
g0, g1 = s0["global"], s1["global"]
delta = lambda k: g1[k] - g0[k]
print()
print("== noise: %d packets sent (%s)" % (noise.get("total", 0),
      ", ".join("%s %d" % (k, v) for k, v in noise.items() if k != "total")))
print("   dropped at XDP by the drop policy: %d   passed to the stack as control (ARP): %d" %
      (delta("drop_no_rule"), delta("pass_control")))
print("   noise frames that reached the consumer: %d" %
      (tot["packets"] - sum(f["packets"] for f in run["feeds"]) + tot["kstats"]["unclassified"]))
pipes = run.get("pipeline", [])
msgs = sum(p.get("messages", 0) for p in pipes)
dec = sum(p.get("decoded", 0) for p in pipes)
gaps = sum(p.get("gaps", 0) for p in pipes)
print()
print("== decoded: %d ITCH messages delivered (unrecovered gaps: %d); %d decoded for %s" %
      (msgs, gaps, dec, symbols))
try:
    with open(os.path.join(t, "decode.jsonl")) as fh:
        for i, line in enumerate(fh):
            if i == 2:
                break
            print("   " + line.rstrip()[:150])
except OSError:
    pass
def lat(h):
    if not h["count"]:
        return "no samples"
    return "p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us" % (
        h["p50"] / 1e3, h["p99"] / 1e3, h["p999"] / 1e3, h["max"] / 1e3)
print()
print("== latency (%d packets, stamp %s)" % (tot["latency_rx_ns"]["count"], run["stamp"]))
print("   XDP program -> consumer:  " + lat(tot["latency_rx_ns"]))
print("   generator -> consumer:    " + lat(tot["latency_gen_ns"]))
print()
print("== AF_XDP: %s mode on %d queues (--zero-copy %s; veth cannot do zero-copy), poll %s, "
      "UMEM on %s pages" % (run["mode"], len(run["queues"]), run["zero_copy"], run["poll"],
                            run["umem_pages"]))
print("   per queue: " + "  ".join("q%d %d" % (q["queue"], q["packets"]) for q in run["queues"]))
if bad or lost or counted or tot["kstats"]["unclassified"] or msgs == 0:
    print("\nfeedgate demo: FAILED: %s; %d line packets lost in transit, %d counted drops, "
          "%d unclassified frames, %d messages" % ("; ".join(bad) or "streams ok", lost, counted,
                                                  tot["kstats"]["unclassified"], msgs))
    sys.exit(1)
print("\nfeedgate demo: OK: every message of every feed delivered once and in order (the"
      " server gave back what both lines lost); no noise reached the consumer")
EOF
