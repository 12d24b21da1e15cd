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
#   spin_quiet    --poll spin with the kernel's housekeeping kept off the
#                 consumer's CPU for the run: the unbound workqueues
#                 (/sys/devices/virtual/workqueue/cpumask) and every kernel
#                 thread that may run anywhere (kdamond, kcompactd, ...: the
#                 ones allowed every CPU and letting their affinity be set),
#                 all put back after each run and by the EXIT trap: system
#                 knobs, not run's (what isolcpus does at boot)
# What the tail is made of, per configuration, from run's own summary (the
# `tail` object): of the packets at 10 us or more, the share of their time
# held before the ring and the consumer's; a spinning thread's stalls (5 us
# or more away from its ring), how many of them switched out.
# Then one more spin run with the consumer's CPU traced (perf record of
# sched_switch and the interrupt entry/exit tracepoints on that CPU, perf
# itself on the generator's; TAIL_TRACE=0 to leave it out): what took the
# CPU from the consumer, timer ticks, softirqs, device interrupts, other
# tasks, against the stall time the consumer measured; the rest is time the
# guest cannot see (the hypervisor; /proc/stat's steal beside it).
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

for v in TAIL_MPS TAIL_MPP TAIL_SECS TAIL_ROUNDS TAIL_CPU_RUN TAIL_CPU_GEN; do
	case ${!v:-1} in '' | *[!0-9]*) die "$v: a whole number, not '${!v}'" ;; esac
done
MPS=${TAIL_MPS:-200000}
MPP=${TAIL_MPP:-10}
SECS=${TAIL_SECS:-5}
ROUNDS=${TAIL_ROUNDS:-3}
CPU_RUN=${TAIL_CPU_RUN:-1}
CPU_GEN=${TAIL_CPU_GEN:-0}
CONFIGS=${TAIL_CONFIGS:-spin spin_mlock spin_rt wakeup wakeup_rt wakeup_rt_mlock busy busy_b8 shared_core spin_quiet}
TRACE=${TAIL_TRACE:-1}
F=$FEEDGATE
OUT=$here/out/tail
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.err "$OUT"/*.gen "$OUT"/kthreads.moved

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
	shared_core | spin_quiet) echo "--poll spin" ;;
	*) return 1 ;;
	esac
}

pps=$((MPS / MPP))
count=$((pps * SECS))
all_cpus=$(taskset -pc $$ | sed 's/.*: //')
WQ=/sys/devices/virtual/workqueue/cpumask
wq_saved=$(cat "$WQ" 2>/dev/null)
# quiet_on: the unbound workqueues and the movable kernel threads on CPU_GEN
# only (the threads moved listed in $OUT/kthreads.moved); quiet_off: as they were
quiet_moved=0 kthreads_moved=""
quiet_on() {
	local p
	[ -n "$wq_saved" ] && printf '%x' $((1 << CPU_GEN)) >"$WQ" 2>/dev/null || return 1
	quiet_moved=1
	kthreads_moved=""
	for p in $(ps -e -o pid=,ppid= | awk '$2 == 2 {print $1}'); do
		[ "$(taskset -pc "$p" 2>/dev/null | sed 's/.*: //')" = "$all_cpus" ] || continue
		taskset -pc "$CPU_GEN" "$p" >/dev/null 2>&1 && kthreads_moved="$kthreads_moved $p"
	done
	for p in $kthreads_moved; do cat /proc/"$p"/comm 2>/dev/null; done >"$OUT/kthreads.moved"
}
quiet_off() {
	local p
	[ "$quiet_moved" = 1 ] || return 0
	echo "$wq_saved" >"$WQ" 2>/dev/null || true
	for p in $kthreads_moved; do taskset -pc "$all_cpus" "$p" >/dev/null 2>&1; done
	quiet_moved=0 kthreads_moved=""
}
fg_on_exit quiet_off

# one run of configuration $1 as $2 (its file names); gen pinned to $3
one_run() {
	local c=$1 tag=$2 gcpu=$3 a
	a=$(args_of "$c") || die "unknown configuration $c"
	if [ "$c" = spin_quiet ] && ! quiet_on; then
		echo "skipped: $WQ not writable" >"$OUT/$tag.err"
		return
	fi
	# shellcheck disable=SC2086
	if ! fg_run_start "$OUT/$tag.json" "$OUT/$tag.err" --cpus "$CPU_RUN" --json $a; then
		echo "  $tag: run did not start: $(tail -1 "$OUT/$tag.err")" >&2
		fg_run_stop KILL
		quiet_off
		return
	fi
	# this script's own processes (sleep, cat, ...) off the consumer's CPU
	# while it runs (run had to start inside the whole set: --cpus)
	taskset -pc "$CPU_GEN" $$ >/dev/null
	${BEFORE_GEN:-:}
	fg_in_tx taskset -c "$gcpu" "$F" gen --iface "$FG_IF_TX" --feeds 4 \
		--messages-per-packet "$MPP" --rate "$pps" --count "$count" >"$OUT/$tag.gen" 2>&1
	sleep 0.3
	${AFTER_GEN:-:}
	fg_run_stop
	taskset -pc "$all_cpus" $$ >/dev/null
	quiet_off
	echo "  $tag: exit $FG_RUN_RC" >&2
}

for round in $(seq 1 "$ROUNDS"); do
	for c in $CONFIGS; do
		gcpu=$CPU_GEN
		[ "$c" = shared_core ] && gcpu=$CPU_RUN
		one_run "$c" "$c.r$round" "$gcpu"
	done
done

# The traced spin run: perf on CPU_GEN records CPU_RUN while gen sends.
# Each tracepoint is tried alone first; one the kernel refuses is left out
# and named. /proc/stat (steal) around it.
perf_start() { # perf_start NAME: record CPU_RUN into $OUT/NAME.data
	# (fg_bg: the lab's teardown stops it if this script dies first)
	# shellcheck disable=SC2086 # one word per event option
	fg_bg taskset -c "$CPU_GEN" perf record -q -k CLOCK_MONOTONIC $trace_ev -C "$CPU_RUN" \
		-o "$OUT/$1.data" >"$OUT/$1.log" 2>&1
	perf_pid=$FG_BG_PID
	sleep 0.5
}
perf_stop() { # perf_stop NAME: stop it, $OUT/NAME.txt from the record
	kill -INT "$perf_pid" 2>/dev/null
	wait "$perf_pid" 2>/dev/null
	fg_bg_forget "$perf_pid"
	perf script -i "$OUT/$1.data" --ns -F comm,tid,cpu,time,event,trace >"$OUT/$1.txt" 2>/dev/null
	rm -f "$OUT/$1".data*
	[ -s "$OUT/$1.txt" ]
}
trace_start() {
	perf_start trace
	grep "^cpu$CPU_RUN " /proc/stat >"$OUT/stat.before"
	local t
	for t in /proc/"$FG_RUN_PID"/task/*; do
		echo "${t##*/} $(cat "$t/comm" 2>/dev/null)"
	done >"$OUT/tasks"
}
trace_stop() {
	grep "^cpu$CPU_RUN " /proc/stat >"$OUT/stat.after"
	perf_stop trace || true
}
rm -f "$OUT"/trace.* "$OUT"/jitter.* "$OUT"/stat.* "$OUT"/tasks
trace_note=""
if [ "$TRACE" = 0 ]; then
	trace_note="left out (TAIL_TRACE=0)"
elif ! command -v perf >/dev/null; then
	trace_note="skipped: perf not installed (Debian package linux-perf)"
else
	trace_ev="" refused=""
	for e in sched:sched_switch irq_vectors:local_timer_entry irq_vectors:local_timer_exit \
		irq_vectors:call_function_entry irq_vectors:call_function_exit \
		irq_vectors:call_function_single_entry irq_vectors:call_function_single_exit \
		irq_vectors:reschedule_entry irq_vectors:reschedule_exit \
		irq_vectors:irq_work_entry irq_vectors:irq_work_exit \
		irq:irq_handler_entry irq:irq_handler_exit irq:softirq_entry irq:softirq_exit; do
		if timeout -s INT 2 perf record -q -e "$e" -C "$CPU_RUN" -o "$OUT/trace.probe" \
			-- sleep 0.05 >/dev/null 2>&1; then
			trace_ev="$trace_ev -e $e"
		else
			refused="$refused $e"
		fi
	done
	rm -f "$OUT"/trace.probe*
	case $trace_ev in
	*sched_switch*)
		BEFORE_GEN=trace_start AFTER_GEN=trace_stop one_run spin spin_traced "$CPU_GEN"
		if [ -s "$OUT/trace.txt" ]; then
			trace_note="ok${refused:+; refused by this kernel, left out:$refused}"
		else
			trace_note="skipped: perf recorded nothing ($(head -1 "$OUT/trace.log"))"
		fi
		# the floor: the same CPU with a spinning thread and no packets
		if [ -x "${JITTER:-}" ]; then
			taskset -pc "$CPU_GEN" $$ >/dev/null
			perf_start jitter
			"$JITTER" "$CPU_RUN" "$SECS" "$OUT/jitter.gaps" >"$OUT/jitter.out" 2>&1 &
			jpid=$!
			echo "$jpid" >"$OUT/jitter.pid"
			wait "$jpid" || echo "jitter failed: $(cat "$OUT/jitter.out")" >"$OUT/jitter.err"
			sleep 0.2
			perf_stop jitter || echo "perf recorded nothing" >"$OUT/jitter.err"
			taskset -pc "$all_cpus" $$ >/dev/null
		else
			echo "bench/jitter.c not built (make bench-tail builds it)" >"$OUT/jitter.err"
		fi
		;;
	*) trace_note="skipped: perf cannot trace sched:sched_switch here" ;;
	esac
fi
log "trace: $trace_note"

python3 - "$OUT" "$here" "$CONFIGS" "$ROUNDS" "$MPS" "$CPU_RUN" "$CPU_GEN" "$SECS" "$trace_note" <<'EOF'
import bisect, collections, json, os, re, statistics, sys
out, here, configs, rounds = sys.argv[1], sys.argv[2], sys.argv[3].split(), int(sys.argv[4])
mps, cpu_run, cpu_gen, secs, trace_note = int(sys.argv[5]), sys.argv[6], sys.argv[7], int(sys.argv[8]), sys.argv[9]
sys.path.insert(0, here)
from fgbench import splice_results

keys = [("rx", "latency_rx_ns"), ("gen", "latency_gen_ns")]
pcts = ["p50", "p99", "p999", "max"]
med = lambda v: statistics.median(v) if v else None
fmt = lambda v, f="%.2f": f % v if v is not None else "-"


def parts(tl, dur):
    """What the tail of one run was made of (run's `tail` object)."""
    rx, gen = tl["rx"][1:], tl["gen"][1:]
    h = sum(b["held_ns"] for b in rx)
    cns = sum(b["consumer_ns"] for b in rx)
    gs = sum(b["send_ns"] for b in gen)
    gh = sum(b["held_ns"] for b in gen)
    gc = sum(b["consumer_ns"] for b in gen)
    g = gs + gh + gc
    return {
        "n10": sum(b["packets"] for b in rx), "n100": tl["rx"][2]["packets"],
        "held": 100.0 * h / (h + cns) if h + cns else None,
        "gsend": 100.0 * gs / g if g else None, "gheld": 100.0 * gh / g if g else None,
        "gcons": 100.0 * gc / g if g else None,
        "stalls_s": tl["stalls"] / dur if dur else None, "s50": tl["stalls_50us"],
        "stall_ms": tl["stall_ns"] / 1e6, "stall_max": tl["stall_max_ns"] / 1e3,
        "switched": 100.0 * tl["switched_ns"] / tl["stall_ns"] if tl["stall_ns"] else None,
        "inv": tl["involuntary_switches"],
    }


def load(tag):
    try:
        return json.load(open(os.path.join(out, tag + ".json")))
    except (OSError, ValueError):
        return None


rows, each = [], {}
for c in configs:
    got = {k: {p: [] for p in pcts} for k, _ in keys}
    tp = collections.defaultdict(list)
    n, errs, pk = 0, [], []
    for r in range(1, rounds + 1):
        d = load("%s.r%d" % (c, r))
        if d is None:
            ef = os.path.join(out, "%s.r%d.err" % (c, r))
            e = open(ef).read().strip().splitlines() if os.path.exists(ef) else []
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
        if "tail" in t:
            for k, v in parts(t["tail"], d.get("duration_s") or secs).items():
                if v is not None:
                    tp[k].append(v)
    each[c] = got["rx"]["p999"]
    rows.append((c, n, pk, {k: {p: med(got[k][p]) for p in pcts} for k, _ in keys},
                 {k: med(v) for k, v in tp.items()}, errs))

lines = ["| configuration | rounds | packets | XDP->consumer p50 / p99 / p99.9 / max (us) | gen->consumer p50 / p99 / p99.9 / max (us) | XDP->consumer p99.9 of each round (us) |",
         "|---|---|---|---|---|---|"]
plines = ["| configuration | packets >= 10 us (>= 100 us) | their time: held before the ring / the consumer's | gen->consumer >= 10 us: send path / held / consumer | stalls >= 5 us per s (>= 50 us) | stall time, longest | of it switched out | involuntary switches |",
          "|---|---|---|---|---|---|---|---|"]
for c, n, pk, m, tp, errs in rows:
    if not n:
        lines.append("| %s | 0 | - | %s | | |" % (c, "; ".join(sorted(set(errs))) or "no round"))
        continue
    lines.append("| %s | %d | %s | %s | %s | %s |" % (
        c, n, "/".join(str(x) for x in pk),
        " / ".join(fmt(m["rx"][p]) for p in pcts), " / ".join(fmt(m["gen"][p]) for p in pcts),
        ", ".join("%.1f" % v for v in each[c])))
    if not tp:
        continue
    spin = not c.startswith("wakeup")
    plines.append("| %s | %s (%s) | %s%% / %s%% | %s%% / %s%% / %s%% | %s | %s | %s | %s |" % (
        c, fmt(tp.get("n10"), "%.0f"), fmt(tp.get("n100"), "%.0f"),
        fmt(tp.get("held"), "%.0f"), fmt(100 - tp["held"] if tp.get("held") is not None else None, "%.0f"),
        fmt(tp.get("gsend"), "%.0f"), fmt(tp.get("gheld"), "%.0f"), fmt(tp.get("gcons"), "%.0f"),
        ("%s (%s)" % (fmt(tp.get("stalls_s"), "%.0f"), fmt(tp.get("s50"), "%.0f"))) if spin else "-",
        ("%s ms, %s us" % (fmt(tp.get("stall_ms"), "%.1f"), fmt(tp.get("stall_max"), "%.0f"))) if spin else "-",
        ("%s%%" % fmt(tp.get("switched"), "%.0f")) if spin else "-",
        fmt(tp.get("inv"), "%.0f")))

# --- the traced runs ---------------------------------------------------------------------------
EV = re.compile(r"^\s*(.*?)\s+(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d+):\s+(\S+):\s*(.*)$")
IPI = {"local_timer": "timer tick", "call_function": "IPI: function call",
       "call_function_single": "IPI: function call", "reschedule": "IPI: reschedule",
       "irq_work": "IPI: irq work"}


def parse_trace(path, tid):
    """(start, end, what) of each interrupt that hit thread tid, and of each
    time tid was switched out (what: the task that took the CPU)."""
    opened, spans = {}, []
    off_at = off_who = None
    for line in open(path):
        m = EV.match(line)
        if not m:
            continue
        comm, t_id, cpu, sec, frac, name, rest = m.groups()
        t = int(sec) * 10**9 + int(frac.ljust(9, "0")[:9])
        if name == "sched:sched_switch":
            pp = re.search(r"prev_pid=(\d+)", rest)
            nx = re.search(r"next_comm=(.*) next_pid=(\d+)", rest)
            if pp and pp.group(1) == tid and nx:
                off_at, off_who = t, re.sub(r"\d+$", "N", nx.group(1))
            elif nx and nx.group(2) == tid and off_at is not None:
                spans.append((off_at, t, "task " + off_who))
                off_at = None
            continue
        if t_id != tid:
            continue
        if name.startswith("irq:softirq"):
            a = re.search(r"action=(\w+)", rest)
            key = "softirq " + (a.group(1) if a else "?")
        elif name.startswith("irq:irq_handler"):
            a = re.search(r"name=(\S+)", rest) or re.search(r"irq=(\d+)", rest)
            key = "device interrupt " + (a.group(1) if a else "?")
        else:
            key = IPI.get(name.split(":", 1)[1].rsplit("_", 1)[0], name)
        if name.endswith("_entry"):
            opened[key] = t
        elif name.endswith("_exit") and key in opened:
            spans.append((opened.pop(key), t, key))
    return sorted(spans)


q = lambda v, p: sorted(v)[min(len(v) - 1, int(p * len(v)))]
tr_lines = []
trace_txt = os.path.join(out, "trace.txt")
dt = load("spin_traced")
if trace_note.startswith("ok") and dt and os.path.exists(trace_txt):
    names = dict(w for w in (l.split(None, 1) for l in open(os.path.join(out, "tasks")).read().splitlines())
                 if len(w) == 2)
    ctid = ([t for t, nm in names.items() if nm.strip().startswith("fg-")] or [""])[0]
    spans = parse_trace(trace_txt, ctid)
    by = collections.defaultdict(list)
    for a, b, k in spans:
        by[k].append(b - a)
    tr_lines = ["| what took CPU %s from the consumer (traced spin run) | times | total ms | median us | max us |" % cpu_run,
                "|---|---|---|---|---|"]
    for k, v in sorted(by.items(), key=lambda kv: -sum(kv[1])):
        tr_lines.append("| %s | %d | %.2f | %.1f | %.1f |" % (k, len(v), sum(v) / 1e6, q(v, .5) / 1e3, max(v) / 1e3))
    # episodes: back-to-back interruptions (a tick and the softirqs after it)
    # are one stall for the consumer; those of 5 us or more against its count
    ep = []
    for a, b, k in spans:
        if ep and a - ep[-1][1] < 1000:
            ep[-1][1] = max(ep[-1][1], b)
        else:
            ep.append([a, b])
    ep5 = [b - a for a, b in ep if b - a >= 5000]
    tl = dt["total"]["tail"]
    steal = "-"
    try:
        sb = open(os.path.join(out, "stat.before")).read().split()
        sa = open(os.path.join(out, "stat.after")).read().split()
        steal = "%.0f ms" % ((int(sa[8]) - int(sb[8])) * 1000.0 / os.sysconf("SC_CLK_TCK"))
    except (OSError, IndexError, ValueError):
        pass
    lat = dt["total"]["latency_rx_ns"]
    lat = {"p999": lat.get("p999", 0), "max": lat.get("max", 0)}
    tr_lines.append("")
    tr_lines.append(
        "In the traced run (p99.9 %.1f us, max %.1f us XDP->consumer) the consumer counted %d stalls of "
        "5 us or more, %.2f ms in all, the longest %.0f us; the trace shows %d interruptions of 5 us or "
        "more (an interrupt with the softirqs right after it, or the thread switched out), %.2f ms. The "
        "difference, %d stalls and %.2f ms, is time the guest does not see: the stall around a traced "
        "interrupt is longer than its handler (the hypervisor's share of delivering it), and the vCPU "
        "stops with no interrupt at all. /proc/stat: %s of steal on CPU %s over the run (10-ms ticks)."
        % (lat["p999"] / 1e3, lat["max"] / 1e3, tl["stalls"], tl["stall_ns"] / 1e6,
           tl["stall_max_ns"] / 1e3, len(ep5), sum(ep5) / 1e6, tl["stalls"] - len(ep5),
           (tl["stall_ns"] - sum(ep5)) / 1e6, steal, cpu_run))
    # the floor: jitter's gaps put down to what overlaps them
    jg, jt = os.path.join(out, "jitter.gaps"), os.path.join(out, "jitter.txt")
    if os.path.exists(os.path.join(out, "jitter.err")):
        tr_lines += ["", "The floor (bench/jitter.c): skipped: %s." %
                     open(os.path.join(out, "jitter.err")).read().strip()]
    elif os.path.exists(jg) and os.path.exists(jt):
        jpid = open(os.path.join(out, "jitter.pid")).read().strip()
        js = parse_trace(jt, jpid)
        starts = [a for a, b, k in js]
        ticks = [a for a, b, k in js if k == "timer tick"]
        gaps = [tuple(map(int, l.split())) for l in open(jg) if l.strip()]
        order = ["task", "device interrupt", "IPI", "timer tick", "softirq"]
        cls = collections.defaultdict(list)
        near = []

        for a, d in gaps:
            b = a + d
            i = bisect.bisect_left(starts, a - 10**6)
            hit = [k for s0, s1, k in js[i:i + 2000] if s0 < b and s1 > a]
            if hit:
                k = min(hit, key=lambda x: next((n for n, o in enumerate(order) if x.startswith(o)), 9))
                k = "another task" if k.startswith("task") else k
            else:
                k = "nothing the guest sees"
                j = bisect.bisect_left(ticks, a)
                near.append(min([abs(ticks[x] - a) for x in (j - 1, j) if 0 <= x < len(ticks)] or [0]))
            cls[k].append(d)
        tot = sum(d for _, d in gaps) or 1
        tr_lines += ["", "The floor: bench/jitter.c, a thread spinning on CPU %s with no packets for %d s, "
                     "the CPU traced; each of its gaps of 5 us or more put down to what the trace shows "
                     "inside it (a tick and its softirqs count as the tick):" % (cpu_run, secs), "",
                     "| gap during | per s | mean us | p99 us | max us | share of the lost time |",
                     "|---|---|---|---|---|---|"]
        for k, v in sorted(cls.items(), key=lambda kv: -sum(kv[1])):
            tr_lines.append("| %s | %.0f | %.1f | %.1f | %.1f | %.0f%% |" % (
                k, len(v) / secs, sum(v) / len(v) / 1e3, q(v, .99) / 1e3, max(v) / 1e3, 100.0 * sum(v) / tot))
        if near and len(ticks) > 1:
            period = (ticks[-1] - ticks[0]) / (len(ticks) - 1)
            tr_lines += ["", "All gaps: %.2f%% of the CPU's time. The gaps with nothing traced in them lie "
                         "a median %.0f us from the nearest tick, with ticks every %.0f us (were they independent of "
                         "the tick, the median would be a quarter period, %.0f us)." % (
                             100.0 * tot / (secs * 1e9), q(near, .5) / 1e3, period / 1e3, period / 4e3)]
        # the reading, from the figures above
        spin_tp = next((tp for c, n, pk, m, tp, errs in rows if c == "spin" and tp), None)
        spin_m = next((m for c, n, pk, m, tp, errs in rows if c == "spin" and n), None)
        tick = cls.get("timer tick")
        nz = "/sys/devices/system/cpu/nohz_full"
        nohz = ("nohz_full is %s here" % (open(nz).read().strip() or "empty")) if os.path.exists(nz) \
            else "this kernel has no nohz_full (built without CONFIG_NO_HZ_FULL)"
        if spin_tp and spin_m and spin_m["rx"]["p999"] is not None and tick:
            st, fl = spin_tp["stalls_s"], len(gaps) / secs
            tg = sum(tick) / len(tick) / 1e3
            p999 = spin_m["rx"]["p999"]
            rate = ("are the floor's gaps, %.0f/s: it loses what the machine takes from any spinning "
                    "thread" % fl) if abs(st - fl) <= 0.25 * fl else \
                   ("against the floor's %.0f/s: %.0f%% %s than a thread with no packets" % (
                       fl, abs(st - fl) * 100.0 / fl, "more" if st > fl else "fewer"))
            th = q(by["timer tick"], .5) / 1e3 if by.get("timer tick") else 0
            tickgap = ("the floor's tick gaps average %.1f us, the handler itself a median %.1f us of "
                       "it in the trace, the rest the hypervisor's share of delivering it" % (tg, th))
            where = ("within one tick's stall: a packet that comes during a stall waits out the rest of "
                     "it, and %s" % tickgap) if p999 <= 2 * tg else \
                    ("longer than one tick's stall (%s): in these rounds the long stops reach into "
                     "it" % tickgap)
            tr_lines += ["", "Reading: the spinning consumer's stalls, %.0f/s (median of the spin rounds), "
                         "%s. %.0f%% of the time of its packets at 10 us or more is its own (from its previous "
                         "look at the ring), not the kernel's. The p99.9, %.1f us, is %s. The packets at 100 us or more are the rare "
                         "long stops: a task switched in (kworkers, rcu_preempt) and vCPU stops the guest "
                         "cannot see. What `run` can do, it does: `--poll spin` on a CPU given with `--cpus`, "
                         "its other threads moved off that CPU (the start line says where), the generator "
                         "elsewhere (`shared_core` is what sharing costs). The tick and the vCPU stops cannot "
                         "be removed from user space: the tick needs nohz_full and an isolated CPU, and %s; "
                         "the stops need a host that gives the vCPU a core of its own." % (
                             st, rate, 100 - spin_tp["held"] if spin_tp.get("held") is not None else 0,
                             p999, where, nohz)]
            quiet = next((m for c, n, pk, m, tp, errs in rows if c == "spin_quiet" and n), None)
            if quiet and quiet["rx"]["p999"] is not None:
                tr_lines[-1] += (" What the system can give back, `spin_quiet` measures: its housekeeping "
                                 "moved off the consumer's CPU, p99.9 %.1f us against spin's %.1f (each "
                                 "round: %s against %s)." % (
                                     quiet["rx"]["p999"], p999, ", ".join("%.1f" % v for v in each["spin_quiet"]),
                                     ", ".join("%.1f" % v for v in each["spin"])))
else:
    tr_lines = ["The trace of the consumer's CPU: %s." % trace_note]

try:
    kt = [re.sub(r"\d+$", "N", l.strip()) for l in open(os.path.join(out, "kthreads.moved")) if l.strip()]
    kt_desc = "%d kernel threads free to run anywhere: %s" % (
        len(kt), ", ".join("%s x%d" % (k, v) if v > 1 else k for k, v in sorted(collections.Counter(kt).items())))
except OSError:
    kt_desc = "the kernel threads free to run anywhere"
rt = open("/proc/sys/kernel/sched_rt_runtime_us").read().strip()
note = ("\n\nWhat the configurations separate: `spin_rt` is a spinning SCHED_FIFO thread under "
        "the kernel's real-time throttling, stopped for the rest of each period once it has used its "
        "share (its p99 and beyond are the throttled stretch, not the path); `wakeup_rt` against "
        "`wakeup` is the wake-up delay of a sleeping consumer when other work shares its CPU; "
        "`shared_core` is the generator taking the consumer's core; `busy_b8` against `busy` is the "
        "size of one busy poll; `spin_quiet` keeps the kernel's housekeeping off the consumer's CPU "
        "(the unbound workqueues and %s). `--mlock` changes nothing here: the UMEM and rings are "
        "touched up front anyway (MAP_POPULATE). The p99.9 of 100,000 packets is the 100th slowest: "
        "one long stop more or less in a round moves it; compare the rounds side by side before "
        "reading a knob's effect into it.\n" % kt_desc)
body = ("%d messages/s in 4 feeds on one veth queue, `run` on CPU %s, the generator and the "
        "receive softirq on CPU %s (shared_core: the generator on CPU %s too); median of %d "
        "interleaved rounds of each configuration; sched_rt_runtime_us %s. Produced by "
        "`make bench-tail`. Before (the figures the hot-path issue was filed with, spin on a "
        "quiet machine, before the breakdown and before run moved its other threads off the "
        "receive CPU): XDP->consumer p50 0.40 / p99 0.69 / p99.9 20.6 / max 578 us, gen->consumer "
        "p99 8.3 / p99.9 63 us.\n\n" % (mps, cpu_run, cpu_gen, cpu_run, rounds, rt)) + "\n".join(lines) + note
body += ("\n### What the tail is made of\n\nFrom run's own summary (`tail`, medians over the rounds): "
         "of the packets at 10 us or more XDP->consumer, the share of their time held before the ring "
         "(stamped, not yet flushed to it) and the consumer's (from its previous look at the ring); "
         "the same for gen->consumer with the send path; a spinning thread's stalls (an empty look, or "
         "the time from one burst's end to the next look, of 5 us or more) and the share of their time "
         "in which it was switched out (the rest: interrupts, or the hypervisor; busy polling: also "
         "the kernel's own poll inside the empty look).\n\n"
         + "\n".join(plines) + "\n\n" + "\n".join(tr_lines) + "\n")
print(body)
splice_results(here, "tail", body)
EOF
