#!/usr/bin/env bash
# Soak: `feedgate gen` -> veth -> XDP filter -> `feedgate run` for
# SOAK_SECONDS (default 600) at 80% of a lossless rate measured first (or
# SOAK_RATE packets/s), 4 ITCH feeds. PASS when
#   - every packet is accounted for: per feed, sent = received + counted
#     drops, and (reported) lost = drops = 0;
#   - RSS is flat after warm-up: VmRSS of the consumer, sampled every second,
#     grows by at most 1 MiB after the first SOAK_WARMUP seconds;
#   - latency holds: the median of the per-second p99 (XDP stamp -> consumer,
#     from run's live lines) over the last minute is within 20% of the first
#     minute after warm-up (windows shrink to a third of the run when shorter).
# Prints PASS/FAIL lines and one summary line "soak: ..." that
# bench/RESULTS.md's reliability section quotes. Needs root.
#   SOAK_SECONDS=60 bench/soak.sh      a short run
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
fg_require_root
F=$FEEDGATE
SECS=${SOAK_SECONDS:-600}
WARM=${SOAK_WARMUP:-10}
PROBES=${SOAK_PROBE_RATES:-"20000 40000 80000 160000"}
fg_scratch soak
fg_lab_up 1
fg_filter_feeds 4 --policy drop || {
	echo "FAIL soak: attach / rule add failed"
	exit 1
}

start_run() { fg_run_start "$1" "$2" --poll wakeup --json "${@:3}"; }
stop_run() {
	sleep 0.5
	fg_run_stop
}
# account GEN_REPORT RUN_JSON: "sent received drops"
account() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
sent = 0
for line in open(sys.argv[1]):
    w = line.split()
    if w[:1] == ["feed"] and "packets" in w:
        sent += int(w[w.index("packets") + 1])
d = json.load(open(sys.argv[2]))
t = d["total"]
drops = t["kstats"]["rx_dropped"] + t["kstats"]["rx_ring_full"]
print(sent, sum(x["packets"] for x in d["feeds"]), drops)
EOF
}

# --- the lossless rate -------------------------------------------------------------------------
if [ -n "${SOAK_RATE:-}" ]; then
	rate=$SOAK_RATE
	echo "rate: $rate packets/s (SOAK_RATE)"
else
	best=0
	for r in $PROBES; do
		start_run "$T/p.json" "$T/p.err" || break
		fg_in_tx "$F" gen --iface "$FG_IF_TX" --rate "$r" --count $((r * 2)) --feeds 4 >"$T/p.gen" 2>/dev/null
		stop_run
		read -r s g d < <(account "$T/p.gen" "$T/p.json")
		echo "probe: $r packets/s for 2 s: sent $s received $g drops $d"
		if [ "$s" -gt 0 ] && [ "$s" = "$g" ] && [ "$d" = 0 ]; then best=$r; else break; fi
	done
	if [ "$best" -eq 0 ]; then
		echo "FAIL soak: no lossless rate among $PROBES"
		exit 1
	fi
	rate=$((best * 8 / 10))
	echo "rate: $rate packets/s (80% of the highest lossless probe, $best)"
fi

# --- the soak --------------------------------------------------------------------------------------
start_run "$T/run.json" "$T/run.err" || {
	echo "FAIL soak: run did not start: $(head -c 300 "$T/run.err")"
	exit 1
}
fg_bg nsenter --net=/var/run/netns/"$FG_NS_TX" -- "$F" gen --iface "$FG_IF_TX" --rate "$rate" \
	--duration "$SECS" --feeds 4 >"$T/gen.txt" 2>"$T/gen.err"
GEN=$FG_BG_PID
: >"$T/rss"
while kill -0 $GEN 2>/dev/null; do
	awk '/^VmRSS:/ { print $2 }' /proc/$FG_RUN_PID/status >>"$T/rss" 2>/dev/null
	sleep 1
done
wait $GEN
stop_run
rc=$FG_RUN_RC
FAILED=0
res() { echo "$1"; case $1 in FAIL*) FAILED=1 ;; esac; }

read -r sent got drops < <(account "$T/gen.txt" "$T/run.json")
lost=$((sent - got - drops))
if [ "$rc" -eq 0 ] && [ "$sent" -gt 0 ] && [ "$lost" -eq 0 ]; then
	res "PASS soak_accounted: sent $sent = received $got + counted drops $drops"
else
	res "FAIL soak_accounted: run exit $rc, sent $sent, received $got, counted drops $drops, unaccounted $lost"
fi

read -r rss0 rssmax rsslast n < <(awk -v w="$WARM" 'NR == w + 1 { a = $1 } NR > w { if ($1 > m) m = $1; l = $1; n++ } END { print a + 0, m + 0, l + 0, n + 0 }' "$T/rss")
if [ "$n" -gt 0 ] && [ $((rssmax - rss0)) -le 1024 ]; then
	res "PASS soak_rss_flat: VmRSS ${rss0} kB after ${WARM} s warm-up, max ${rssmax} kB, last ${rsslast} kB ($n samples)"
else
	res "FAIL soak_rss_flat: VmRSS ${rss0} kB after warm-up, grew to ${rssmax} kB ($n samples)"
fi

read -r p99a p99b nsec < <(python3 - "$T/run.err" "$WARM" <<'EOF'
import re, sys, statistics
warm = int(sys.argv[2])
unit = {"us": 1e3, "ms": 1e6}
pts = []
for line in open(sys.argv[1]):
    m = re.match(r"run: (\d+)s .* p99 ([\d.]+)(us|ms)", line)
    if m:
        pts.append((int(m.group(1)), float(m.group(2)) * unit[m.group(3)]))
pts = [p for p in pts if p[0] > warm]
if len(pts) < 6:
    print(0, 0, len(pts))
    sys.exit()
w = min(60, len(pts) // 3)
first = statistics.median(v for _, v in pts[:w])
last = statistics.median(v for _, v in pts[-w:])
print(int(first), int(last), len(pts))
EOF
)
if [ "${nsec:-0}" -ge 6 ] && [ "$p99a" -gt 0 ] && [ $((p99b * 10)) -le $((p99a * 12)) ]; then
	res "PASS soak_latency_stable: median per-second p99 ${p99a} ns in the first window, ${p99b} ns in the last ($nsec seconds with samples)"
else
	res "FAIL soak_latency_stable: p99 first ${p99a:-?} ns, last ${p99b:-?} ns ($nsec seconds with samples): more than 20% worse"
fi
echo "soak: ${SECS} s at ${rate} packets/s, 4 feeds: sent $sent, received $got, counted drops $drops, lost $lost; VmRSS ${rss0} -> ${rssmax} kB; p99 ${p99a} -> ${p99b} ns"
exit $FAILED
