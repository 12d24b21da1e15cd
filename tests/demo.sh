#!/usr/bin/env bash
# The end-to-end demo (issue 3): two namespaces joined by a 4-queue veth
# pair; feedgate's XDP filter on the receiving end with rules for 4 feeds
# (drop policy: everything else is dropped in the driver); `feedgate run`
# takes the feeds from AF_XDP sockets and decodes them; `feedgate gen`
# sends 4 MoldUDP64/ITCH 5.0 feeds, 200,000 messages/s in total, plus 50%
# noise, for about 10 seconds. Then: per feed packets sent, received and
# dropped, noise dropped at XDP, messages decoded, latency, AF_XDP mode.
# Everything it made is removed at the end; it fails loudly when a feed
# packet was lost.
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

echo "== feedgate demo: $FEEDS ITCH feeds, $MSGS messages/s ($FEED_PPS packets/s of $MPP messages)"
echo "   plus $(python3 -c "print(round($NOISE * 100))")% noise, for $SECONDS_ s, $FG_NS_TX/$FG_IF_TX -> $FG_NS_RX/$IF (4 queues)"
echo
echo "== attach the filter and add one rule per feed"
fg_in_rx "$F" attach "$IF" --policy drop || die "attach failed"
for i in $(seq 1 $FEEDS); do
	fg_in_rx "$F" rule add "$IF" "239.1.1.$i:$((4999 + i))" --feed "feed$i" || die "rule add failed"
done
fg_in_rx "$F" stats "$IF" --json >"$T/stats0.json" || die "stats failed"
echo
echo "== start the consumer: one AF_XDP socket per queue, decoding $SYMBOLS"
# wakeup polling, all four queue threads on CPU 1: the generator paces
# by spinning on CPU 0 (and veth's receive work runs there, in its softirq)
RXCPU=$(($(nproc) > 1 ? 1 : 0))
nsenter --net=/var/run/netns/"$FG_NS_RX" -- "$F" run "$IF" --poll wakeup --cpus $RXCPU --symbols "$SYMBOLS" \
	--decode "$T/decode.jsonl" --json >"$T/run.json" 2>"$T/run.err" &
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
	--noise $NOISE --messages-per-packet "$MPP" --seed 2024 | tee "$T/gen.txt" ||
	die "feedgate gen failed"
sleep 0.3
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
sent, noise = {}, {}
for line in open(os.path.join(t, "gen.txt")):
    w = line.split()
    if w and w[0] == "feed":
        sent[w[2]] = (int(w[w.index("packets") + 1]), int(w[w.index("messages") + 1]))
    if w and w[0] == "noise":
        noise = {w[i]: int(w[i + 1]) for i in range(3, len(w) - 1, 2)}
        noise["total"] = int(w[2].rstrip(":"))

tot = run["total"]
xs = tot["xdp_statistics"]
counted = xs["rx_dropped"] + xs["rx_ring_full"]
print("== per feed")
print("%-16s %-7s %12s %12s %9s %12s" % ("feed", "name", "sent", "received", "dropped", "messages"))
lost = 0
for f in run["feeds"]:
    s, msgs = sent.get(f["group"], (0, 0))
    d = s - f["packets"]
    lost += d
    print("%-16s %-7s %12d %12d %9d %12d" % (f["group"], f["name"], s, f["packets"], d, msgs))
print("%-24s %12d %12d %9d   (AF_XDP counted drops: %d rx_dropped, %d rx_ring_full)" %
      ("total", sum(v[0] for v in sent.values()), tot["packets"], lost, xs["rx_dropped"],
       xs["rx_ring_full"]))
g0, g1 = s0["global"], s1["global"]
delta = lambda k: g1[k] - g0[k]
print()
print("== noise: %d packets sent (%s)" % (noise.get("total", 0),
      ", ".join("%s %d" % (k, v) for k, v in noise.items() if k != "total")))
print("   dropped at XDP by the drop policy: %d   passed to the stack as control (ARP): %d" %
      (delta("drop_no_rule"), delta("pass_control")))
print("   noise frames that reached the consumer: %d" %
      (tot["packets"] - sum(f["packets"] for f in run["feeds"]) + tot["no_meta"]))
pipes = run.get("pipeline", [])
msgs = sum(p.get("messages", 0) for p in pipes)
dec = sum(p.get("decoded", 0) for p in pipes)
gaps = sum(p.get("gaps", 0) for p in pipes)
print()
print("== decoded: %d ITCH messages sequenced (MoldUDP64 gaps: %d); %d decoded for %s" %
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
print("== latency (%d packets)" % tot["latency_xdp_ns"]["count"])
print("   XDP program -> consumer:  " + lat(tot["latency_xdp_ns"]))
print("   generator -> consumer:    " + lat(tot["latency_gen_ns"]))
print()
print("== AF_XDP: %s mode on %d queues (--zero-copy %s; veth cannot do zero-copy), poll %s, "
      "UMEM on %s pages" % (run["mode"], len(run["queues"]), run["zero_copy"], run["poll"],
                            run["umem_pages"]))
print("   per queue: " + "  ".join("q%d %d" % (q["queue"], q["packets"]) for q in run["queues"]))
if lost or counted or tot["no_meta"] or msgs == 0:
    print("\nfeedgate demo: FAILED: %d feed packets lost, %d counted drops, %d non-feed frames, %d messages"
          % (lost, counted, tot["no_meta"], msgs))
    sys.exit(1)
print("\nfeedgate demo: OK: every feed packet arrived, no noise reached the consumer")
EOF
