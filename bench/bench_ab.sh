#!/usr/bin/env bash
# A/B arbitration and recovery, measured (make bench-ab):
#   1. the sequencer's cost per packet, one line against two (bench_seqr,
#      pinned to one CPU, rounds interleaved);
#   2. end to end on a veth pair between two namespaces made here: the
#      generator -> consumer latency (generator clock) of one feed on one
#      line against the same feed on two lines, at the same packet rate, side
#      by side, alternating, median of the runs;
#   3. recovery latency against the re-request server's distance: 0.5% of
#      the packets lost on both lines, the server holding each reply back by
#      gen --serve-delay (0, 100 us, 1 ms, 5 ms).
# Layout: generator, veth softirq and the server on CPU 0; the consumer on
# CPU 1 (--poll spin). Writes the ab section of bench/RESULTS.md.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
F=$FEEDGATE
SEQR=${BENCH_SEQR:-$root/build/bench/bench_seqr}
ROUNDS=${AB_ROUNDS:-3}
fgb_require_lab
OUT=$here/out/ab
mkdir -p "$OUT"
NCPU=$(nproc)
CG=0
CR=$((NCPU > 1 ? 1 : 0))

echo "== sequencer cost per packet (bench_seqr, CPU $CR)"
taskset -c "$CR" "$SEQR" 1000000 7 | tee "$OUT/seqr.md"

fg_lab_setup 1 || die "couldn't make the lab"
IF=$FG_IF_RX
SERVER=$FG_TX_ADDR:9000
rx() { fg_in_rx "$F" "$@"; }
rx attach "$IF" --policy drop >/dev/null
rx rule add "$IF" 239.1.1.1:5000 --feed F1 >/dev/null
rx rule add "$IF" 239.2.1.1:5000 --feed F1 >/dev/null

# one NAME GENARGS... : one 4-second run, its JSON summary in $OUT/NAME.json
one() {
	local name=$1
	shift
	fg_run_start "$OUT/$name.json" "$OUT/$name.err" --poll spin --cpus "$CR" --json \
		--rerequest "F1=$SERVER" || { echo "bench_ab: run did not start" >&2; return 1; }
	fg_in_tx taskset -c "$CG" "$F" gen --iface "$FG_IF_TX" --tx afpacket --feeds 1 --seed 3 \
		--rate 50000 --duration 4 --serve-rerequest "$SERVER" --serve-linger 0.5 "$@" \
		>"$OUT/$name.gen" 2>&1
	sleep 0.3
	fg_run_stop
}

echo "== latency two lines add over one (50 kpps of packets, 1 feed, $ROUNDS rounds)"
for r in $(seq 1 "$ROUNDS"); do
	one "l1_$r" --lines 1
	one "l2_$r" --lines 2
done
for d in 0 100 1000 5000; do
	echo "== recovery latency, server $d us away"
	one "rec_$d" --lines 2 --loss-both 0.005 --serve-delay "$d"
done

python3 - "$here" "$OUT" "$ROUNDS" "$CG" "$CR" "$(uname -r)" <<'PYEOF'
import json, os, statistics, sys
here, out, rounds, cg, cr, kernel = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
sys.path.insert(0, here)
from fgbench import splice_results

def load(n):
    return json.load(open(os.path.join(out, n + ".json")))

def lat(d):
    return d["total"]["latency_gen_ns"]

rows = []
for lines in (1, 2):
    p50 = [lat(load("l%d_%d" % (lines, r)))["p50"] for r in range(1, rounds + 1)]
    p99 = [lat(load("l%d_%d" % (lines, r)))["p99"] for r in range(1, rounds + 1)]
    rows.append((lines, statistics.median(p50), min(p50), max(p50), statistics.median(p99), min(p99), max(p99)))
rec = []
for d in (0, 100, 1000, 5000):
    j = load("rec_%d" % d)
    s = [x for x in j.get("feeds_sequenced", []) if x["name"] == "F1"]
    s = s[0] if s else None
    rec.append((d, s))
seqr = open(os.path.join(out, "seqr.md")).read()
b = ["## A/B arbitration and re-request recovery (`make bench-ab`)\n",
     "Kernel %s, 2-core KVM guest. Layout: generator, veth softirq and the re-request server on CPU %s; "
     "`feedgate run --poll spin` on CPU %s (1-queue veth, stamp mode auto). Figures of one run, "
     "taken side by side.\n" % (kernel, cg, cr),
     "### The sequencer per packet (bench/bench_seqr.c, 1M packets of 4 messages, 7 rounds interleaved)\n",
     seqr,
     "A feed on one line takes the in-order path: the message goes from the packet to the pipeline "
     "without a copy. The second line's copy of each packet costs a comparison per message (a duplicate).\n",
     "### Latency two lines add over one (generator -> consumer, generator clock, 50k packets/s of 4 messages, median of %d runs)\n" % rounds,
     "| lines | p50 (us) | p50 range | p99 (us) | p99 range |", "|--:|--:|--:|--:|--:|"]
for lines, m50, lo50, hi50, m99, lo99, hi99 in rows:
    b.append("| %d | %.1f | %.1f-%.1f | %.1f | %.1f-%.1f |" % (lines, m50 / 1e3, lo50 / 1e3, hi50 / 1e3, m99 / 1e3, lo99 / 1e3, hi99 / 1e3))
b.append("\nWith two lines every packet arrives twice (A, then B right behind it on the same veth): "
         "the consumer takes the first copy at once and counts the second as a duplicate.\n")
b.append("### Recovery latency against the server's distance (0.5% of packets lost on both lines, 50 kpps)\n")
b.append("| server delay (us, one way) | ranges recovered | messages | unrecovered | recovery p50 (us) | p99 (us) | max (us) |")
b.append("|--:|--:|--:|--:|--:|--:|--:|")
for d, s in rec:
    if not s:
        b.append("| %d | (no summary) | | | | | |" % d)
        continue
    r = s["recovery_ns"]
    b.append("| %d | %d | %d | %d | %.0f | %.0f | %.0f |" % (d, s["recovered"], s["recovered_messages"],
             s["gap_messages"], r["p50"] / 1e3, r["p99"] / 1e3, r["max"] / 1e3))
b.append("\nRecovery latency runs from the discovery of the hole (a later packet on either line) to its "
         "last message: the arbitration wait (`--gap-wait`, 200 us), the request's way out, the "
         "server's delay (`gen --serve-delay`, which holds each reply back: the lab has no netem) "
         "and the reply's way back; the messages behind the hole wait in the hold buffer meanwhile.\n")
body = "\n".join(b) + "\n"
open(os.path.join(here, "ab_results.md"), "w").write(body)
splice_results(here, "ab", body)
print(body)
PYEOF
