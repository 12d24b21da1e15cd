#!/usr/bin/env bash
# The latency tail of the live path, and the knobs that shorten it, side by
# side in one run: one veth queue, 4 feeds at TAIL_MPS messages/s (default
# 200,000: 20,000 packets/s of 10 messages), `feedgate run` on its own core,
# the generator and the veth's receive softirq on the other.
#
# Each configuration is measured TAIL_ROUNDS times (default 3), the
# configurations interleaved round by round so that a noisy neighbour hits
# them alike; the table gives the median over the rounds of each percentile.
# Configurations (TAIL_CONFIGS to pick):
#   spin          run --poll spin (the reference)
#   spin_mlock    + --mlock: every page of the consumer locked in memory
#   spin_rt       + --rt-priority 50: a spinning SCHED_FIFO thread, which
#                 real-time throttling (sched_rt_runtime_us) stops for the
#                 rest of every period: shown, not recommended
#   wakeup        run --poll wakeup (the thread sleeps in poll())
#   wakeup_rt     + --rt-priority 50: woken ahead of other work
#   wakeup_rt_mlock + --mlock
#   busy          run --poll busy (SO_PREFER_BUSY_POLL, budget = batch)
#   busy_b8       + --busy-budget 8: smaller NAPI batches from busy polling
#   shared_core   --poll spin with the generator on the consumer's core: what
#                 sharing the receive core costs the tail
# Latency: XDP stamp -> consumer (latency_rx_ns) and generator send stamp ->
# consumer (latency_gen_ns), p50 / p99 / p99.9 / max in microseconds.
#
# Output: a table on stdout, raw summaries in bench/out/tail/, and the section
# between <!-- tail:begin --> and <!-- tail:end --> of bench/RESULTS.md.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
fg_require_root
fgb_require_lab

MPS=${TAIL_MPS:-200000}
MPP=${TAIL_MPP:-10}
SECS=${TAIL_SECS:-5}
ROUNDS=${TAIL_ROUNDS:-3}
CPU_RUN=${TAIL_CPU_RUN:-1}
CPU_GEN=${TAIL_CPU_GEN:-0}
CONFIGS=${TAIL_CONFIGS:-spin spin_mlock spin_rt wakeup wakeup_rt wakeup_rt_mlock busy busy_b8 shared_core}
F=$FEEDGATE
OUT=$here/out/tail
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.err "$OUT"/*.gen

fg_lab_setup 1 || die "couldn't make the veth lab"
IF=$FG_IF_RX
fg_in_rx "$F" attach "$IF" --mode native >/dev/null || die "attach failed"
for f in 1 2 3 4; do
	fg_in_rx "$F" rule add "$IF" "239.1.1.$f:$((4999 + f))" --feed "T$f" >/dev/null ||
		die "rule add failed"
done

args_of() {
	case $1 in
	spin) echo "--poll spin" ;;
	spin_rt) echo "--poll spin --rt-priority 50" ;;
	spin_mlock) echo "--poll spin --mlock" ;;
	wakeup) echo "--poll wakeup" ;;
	wakeup_rt) echo "--poll wakeup --rt-priority 50" ;;
	wakeup_rt_mlock) echo "--poll wakeup --rt-priority 50 --mlock" ;;
	busy) echo "--poll busy" ;;
	busy_b8) echo "--poll busy --busy-budget 8" ;;
	shared_core) echo "--poll spin" ;;
	*) return 1 ;;
	esac
}

pps=$((MPS / MPP))
count=$((pps * SECS))
for round in $(seq 1 "$ROUNDS"); do
	for c in $CONFIGS; do
		a=$(args_of "$c") || die "unknown configuration $c"
		gcpu=$CPU_GEN
		[ "$c" = shared_core ] && gcpu=$CPU_RUN
		tag="$c.r$round"
		# shellcheck disable=SC2086
		if ! fg_run_start "$OUT/$tag.json" "$OUT/$tag.err" --cpus "$CPU_RUN" --json $a; then
			echo "  $tag: run did not start: $(tail -1 "$OUT/$tag.err")" >&2
			fg_run_stop KILL
			continue
		fi
		fg_in_tx taskset -c "$gcpu" "$F" gen --iface "$FG_IF_TX" --feeds 4 \
			--messages-per-packet "$MPP" --rate "$pps" --count "$count" >"$OUT/$tag.gen" 2>&1
		sleep 0.3
		fg_run_stop
		echo "  round $round $c: exit $FG_RUN_RC" >&2
	done
done

python3 - "$OUT" "$here" "$CONFIGS" "$ROUNDS" "$MPS" "$CPU_RUN" "$CPU_GEN" <<'EOF'
import json, os, statistics, sys
out, here, configs, rounds = sys.argv[1], sys.argv[2], sys.argv[3].split(), int(sys.argv[4])
mps, cpu_run, cpu_gen = int(sys.argv[5]), sys.argv[6], sys.argv[7]
sys.path.insert(0, here)
from fgbench import splice_results

keys = [("rx", "latency_rx_ns"), ("gen", "latency_gen_ns")]
pcts = ["p50", "p99", "p999", "max"]
rows = []
for c in configs:
    got = {k: {p: [] for p in pcts} for k, _ in keys}
    n, errs, pk = 0, [], []
    for r in range(1, rounds + 1):
        try:
            d = json.load(open(os.path.join(out, "%s.r%d.json" % (c, r))))
        except (OSError, ValueError):
            e = open(os.path.join(out, "%s.r%d.err" % (c, r))).read().strip().splitlines() \
                if os.path.exists(os.path.join(out, "%s.r%d.err" % (c, r))) else []
            errs.append(e[-1][:100] if e else "no summary")
            continue
        n += 1
        t = d["total"]
        pk.append(t["packets"])
        for k, name in keys:
            h = t.get(name) or {}
            for p in pcts:
                if h.get("count"):
                    got[k][p].append(h[p] / 1000.0)
    med = lambda v: "%.2f" % statistics.median(v) if v else "-"
    rows.append((c, n, pk, {k: {p: med(got[k][p]) for p in pcts} for k, _ in keys}, errs))

lines = ["| configuration | rounds | packets | XDP->consumer p50 / p99 / p99.9 / max (us) | gen->consumer p50 / p99 / p99.9 / max (us) |",
         "|---|---|---|---|---|"]
for c, n, pk, m, errs in rows:
    if not n:
        lines.append("| %s | 0 | - | %s | |" % (c, "; ".join(sorted(set(errs)))))
        continue
    lines.append("| %s | %d | %s | %s | %s |" % (
        c, n, "/".join(str(x) for x in pk),
        " / ".join(m["rx"][p] for p in pcts), " / ".join(m["gen"][p] for p in pcts)))
rt = open("/proc/sys/kernel/sched_rt_runtime_us").read().strip()
note = ("\n\nWhat the configurations separate: `spin_rt` is a spinning SCHED_FIFO thread under "
        "the kernel's real-time throttling, stopped for the rest of each period once it has used its "
        "share (its p99 and beyond are the throttled stretch, not the path); `wakeup_rt` against "
        "`wakeup` is the wake-up delay of a sleeping consumer when other work shares its CPU; "
        "`shared_core` is the generator taking the consumer's core; `busy_b8` against `busy` is the "
        "size of one busy poll. `--mlock` changes nothing here: the UMEM and rings are touched up "
        "front anyway (MAP_POPULATE).\n")
body = ("%d messages/s in 4 feeds on one veth queue, `run` on CPU %s, the generator and the "
        "receive softirq on CPU %s (shared_core: the generator on CPU %s too); median of %d "
        "interleaved rounds of each configuration; sched_rt_runtime_us %s. Produced by "
        "`make bench-tail`.\n\n" % (mps, cpu_run, cpu_gen, cpu_run, rounds, rt)) + "\n".join(lines) + note
print(body)
splice_results(here, "tail", body)
EOF
