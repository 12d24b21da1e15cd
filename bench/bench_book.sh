#!/usr/bin/env bash
# The order book on whole generated days (bench/book.mk): `feedgate replay DAY --book A
# --depth 1` (which builds the book of every symbol) timed on one core, on the
# 20-million-message day (seed 5) and on one with millions of live orders, side by side
# with a baseline build when BASE is given (runs alternate, the machine is shared);
# bench_pipeline's per-chunk book cost over the day, plotted; the section between
# <!-- book:begin --> and <!-- book:end --> of bench/RESULTS.md.
#   bench/bench_book.sh [--runs N] [--cpu N] [--quick]
# Environment: FEEDGATE, MKDAY, BENCH_PIPELINE, MEMPROBE (this build), BASE (a baseline feedgate,
# optional), BASE_NAME (what to call it in the results), BASE_LIB (its libfeedgate.a,
# optional: bench_pipeline is built against it for the baseline curve), DAYS (where the day files go), RESULTS (the file to update).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
fg=${FEEDGATE:-$root/build/feedgate}
mkday=${MKDAY:-$root/build/bench/mkday}
bp=${BENCH_PIPELINE:-$root/build/bench/bench_pipeline}
memprobe=${MEMPROBE:-$root/build/bench/memprobe}
base=${BASE:-}
base_lib=${BASE_LIB:-}
days=${DAYS:-$root/bench/out/book}
results=${RESULTS:-$here/RESULTS.md}
runs=5
cpu=$(($(nproc) - 1))
messages=20000000
hold=4000000

while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--quick) runs=2; messages=4000000; hold=1000000; shift ;;
	*) echo "feedgate: bench_book.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
for b in "$fg" "$mkday" "$bp" "$memprobe"; do
	if [ ! -x "$b" ]; then
		echo "feedgate: bench_book.sh: $b not built; run 'make bench-book'" >&2
		exit 1
	fi
done
case $days in /*) ;; *) days=$root/$days ;; esac
mkdir -p "$days"
out=$days/run
mkdir -p "$out"

m=$((messages / 1000000))
day=$days/day-seed5-${m}M.itch
big=$days/day-seed5-${m}M-hold$((hold / 1000))k.itch
[ -s "$day" ] || "$mkday" --out "$day" --messages "$messages" --seed 5
[ -s "$big" ] || "$mkday" --out "$big" --messages "$messages" --seed 5 \
	--max-live $((2 * hold)) --hold "$hold"

# One timed replay: "label elapsed user sys maxrss_kb live" appended to $out/times.
replay() {
	local label=$1 bin=$2 file=$3 args=$4 live
	/usr/bin/time -f "%e %U %S %M" -o "$out/time.one" taskset -c "$cpu" \
		"$bin" replay "$file" $args >"$out/replay.one" 2>/dev/null
	live=$(sed -n 's/^books *orders live \([0-9]*\).*/\1/p' "$out/replay.one")
	echo "$label $(cat "$out/time.one") ${live:-0}" >>"$out/times"
	cp "$out/replay.one" "$out/replay.$label"
}

rm -f "$out/times"
for ((i = 0; i < runs; i++)); do
	for d in day big; do
		f=$day
		[ $d = big ] && f=$big
		replay "new-$d" "$fg" "$f" "--book A --depth 1"
		[ -n "$base" ] && replay "base-$d" "$base" "$f" "--book A --depth 1"
	done
	replay "new-nobook" "$fg" "$day" ""
	echo "  run $((i + 1))/$runs" >&2
done

# What a line beyond the caches costs here (bench/memprobe.c), on the same CPU.
"$memprobe" --cpu "$cpu" >"$out/memprobe"

# The book over the day (bench_pipeline, book only, per chunk of a million messages).
"$bp" --messages "$messages" --seed 5 --cpu "$cpu" --csv "$out/new.csv" \
	--out "$out/pipeline_new.md" --whole >/dev/null
if [ -n "$base_lib" ]; then
	${CC:-gcc} -O2 -g -std=gnu11 -D_GNU_SOURCE -I"$root/include" -o "$out/bench_pipeline_base" \
		"$here/bench_pipeline.c" "$base_lib" -lxdp -lbpf -lelf -lz -lpcap -luring -lpthread -lm
	"$out/bench_pipeline_base" --messages "$messages" --seed 5 --cpu "$cpu" \
		--csv "$out/base.csv" --out "$out/pipeline_base.md" --whole >/dev/null
fi

python3 - "$out" "$results" "$here" "$messages" "$hold" "$cpu" "$runs" "${base:+1}" <<'EOF'
import os, statistics, sys, time
out, results, here, messages, hold, cpu, runs, have_base = sys.argv[1:9]
sys.path.insert(0, here)
from fgbench import gnuplot, splice_results
messages, hold = int(messages), int(hold)
rows = {}
for l in open(os.path.join(out, "times")):
    f = l.split()
    rows.setdefault(f[0], []).append([float(f[1]), float(f[2]), float(f[3]), int(f[4]), int(f[5])])
def med(label, k):
    return statistics.median(r[k] for r in rows[label]) if label in rows else None
def fmt(label, n):
    if label not in rows:
        return None
    e, u, s, rss, live = med(label, 0), med(label, 1), med(label, 2), med(label, 3), med(label, 4)
    return (e, u + s, rss / 1024, live, 1e9 * e / n)
def tenths(csv, col):
    rows = [l.split() for l in open(csv) if not l.startswith("#")]
    v = [float(r[col]) for r in rows if len(r) > col]
    n = len(v)
    if n < 10 or n < len(rows) or not all(v):
        return []  # a column this build's bench_pipeline did not fill
    return [statistics.mean(v[t * n // 10:(t + 1) * n // 10]) for t in range(10)]
cpuinfo = open("/proc/cpuinfo").read()
model = next((l.split(":", 1)[1].strip() for l in cpuinfo.splitlines() if l.startswith("model name")), "?")
hyper = " (KVM guest)" if " hypervisor" in cpuinfo else ""
load = open("/proc/loadavg").read().split()[:3]
md = ["## Order book: whole-process replay of a generated day (`make bench-book`)", ""]
md.append("%s: %s%s, %d CPUs, every run pinned to CPU %s (`taskset -c %s`), load average %s "
          "at the end. %s runs of each, alternating, median shown. Days made by bench/mkday "
          "(fg_itchgen, seed 5, NASDAQ BinaryFILE): %d million messages; the large one holds "
          "back deletes until %s orders more than the generator's own are live "
          "(`mkday --hold %d --max-live %d`). Command: `taskset -c %s /usr/bin/time -v "
          "feedgate replay DAY --book A --depth 1`." %
          (time.strftime("%Y-%m-%d", time.gmtime()), model, hyper, os.cpu_count(), cpu, cpu,
           " ".join(load), runs, messages // 1000000, format(hold, ","), hold, 2 * hold, cpu))
if have_base and os.environ.get("BASE_NAME"):
    md[-1] += " \"before\": %s." % os.environ["BASE_NAME"]
md.append("")
md.append("| build | day | live orders at the end | elapsed s | CPU s (user + sys) | "
          "ns/message (elapsed) | peak RSS MB | <= 40 ns |")
md.append("|---|---|--:|--:|--:|--:|--:|:-:|")
for who in (["base", "new"] if have_base else ["new"]):
    for d, name in (("day", "%dM" % (messages // 1000000)), ("big", "%dM, %s held" % (messages // 1000000, format(hold, ",")))):
        r = fmt("%s-%s" % (who, d), messages)
        if r:
            md.append("| %s | %s | %d | %.2f | %.2f | %.1f | %.0f | %s |" %
                      ("before" if who == "base" else "after", name, r[3], r[0], r[1], r[4], r[2],
                       "" if d == "big" else ("yes" if r[4] <= 40 else "NO")))
nb = fmt("new-nobook", messages)
if nb:
    md.append("| after, no --book (the floor: read, sequence, decode) | %dM | | %.2f | %.2f | %.1f | %.0f | |" %
              (messages // 1000000, nb[0], nb[1], nb[4], nb[2]))
md.append("")
md.append("The RSS includes the day file, which replay maps (%.0f MB and %.0f MB)." %
          (os.path.getsize(os.path.join(os.path.dirname(out), "day-seed5-%dM.itch" % (messages // 1000000))) / 1048576,
           os.path.getsize(os.path.join(os.path.dirname(out), "day-seed5-%dM-hold%dk.itch" % (messages // 1000000, hold // 1000))) / 1048576))
md.append("")
mp = [l.split() for l in open(os.path.join(out, "memprobe")) if l.strip() and not l.startswith("#")]
if mp:
    md.append("What a cache line costs on this machine (bench/memprobe.c on the same CPU: random "
              "lines of a buffer of each size, huge pages; dependent: each address read from the "
              "previous load, as the book follows an order to its level; independent: addresses "
              "known ahead, as for the lines it prefetches), ns per load:")
    md.append("")
    md.append("| working set | " + " | ".join(
        ("%d MiB" % (int(r[0]) // 1024)) if int(r[0]) >= 1024 else ("%s KiB" % r[0]) for r in mp) + " |")
    md.append("|---|" + "--:|" * len(mp))
    md.append("| dependent | " + " | ".join(r[1] for r in mp) + " |")
    md.append("| independent | " + " | ".join(r[2] for r in mp) + " |")
    md.append("")
cur = {}
for who in ("base", "new"):
    csv = os.path.join(out, who + ".csv")
    if os.path.exists(csv):
        cur[who] = (tenths(csv, 2), tenths(csv, 3), tenths(csv, 7))
if cur:
    md.append("The book over the same day (bench_pipeline: mean ns/message of each tenth of the "
              "day; target: the last tenth at most 1.3 times the first). The book alone, on "
              "decoded messages, one at a time and in batches; and replay's whole path, file "
              "reading aside (`--whole`: the day made in memory, then read by replay's own "
              "reader, `fg_capfile_next()` over `fg_capfile_open_mem()`, and fed to "
              "`fg_pipeline_raw()` with every symbol's book, 1024 messages a call, "
              "as `feedgate replay DAY --book SYMBOL` does; one run, timed per million "
              "messages):")
    md.append("")
    rows = []
    for who in ("base", "new"):
        if who not in cur:
            continue
        for k, path in ((0, "fg_books_apply()"), (1, "fg_books_apply_batch()"),
                        (2, "replay's path: `fg_pipeline_raw()`, every book")):
            t = cur[who][k]
            if t:
                rows.append("| %s | %s | %s | %.2f | %s |" % (
                    "before" if who == "base" else "after", path,
                    " | ".join("%.1f" % x for x in t), t[9] / t[0],
                    "yes" if t[9] <= 1.3 * t[0] else "NO"))
    if rows:
        md.append("| build | path | " + " | ".join(str(t + 1) for t in range(10)) +
                  " | last / first | <= 1.3 |")
        md.append("|---|---|" + "--:|" * 11 + ":-:|")
        md.extend(rows)
    else:
        md.append("(No tenths: the day is shorter than ten chunks of a million messages.)")
    md.append("")
    png = "book_over_day.png"
    plots = []
    for who, col, name in (("base", 3, "before, apply"), ("base", 4, "before, batch"),
                           ("base", 8, "before, replay's path"), ("new", 3, "after, apply"),
                           ("new", 4, "after, batch"), ("new", 8, "after, replay's path")):
        csv = os.path.join(out, who + ".csv")
        if os.path.exists(csv):
            plots.append("'%s' using ($2/1e6):%d with lines lw 2 title \"%s\"" % (csv, col, name))
    gp = ("set terminal pngcairo size 900,560 noenhanced\n"
          "set output '%s'\n" % os.path.join(here, png) +
          "set title 'order book of every symbol: ns per message over the day (seed 5, one core)'\n"
          "set xlabel 'messages processed (millions)'\nset ylabel 'ns/message (chunk of 1M)'\n"
          "set key below\nset grid\nset yrange [0:*]\n"
          "plot " + ", ".join(plots) + "\n")
    if gnuplot(gp, "bench_book"):
        md.append("![book ns/message over the day](%s)" % png)
        md.append("")
md.append("""How the book spends a message, and what changed (target: 40 ns/message whole process, last tenth at most 1.3 times the first):

- Start of the work (rev 8d763bd, same command, 5 runs): 84.0 ns/message on the 20M day, 284.5
  on the large one, 685 MB peak.
- First round (perf, the 20M day): `fg_books_apply` 64% of the samples, reading the capture
  11%, decode 7-10%, and in the kernel the page clearing of the 98 MB the book mapped and
  touched at creation. The book's cost grew with the book because its orders and levels
  leave the 2 MB L2 early in the day: on this VM a random load that misses L2 costs 160-200
  ns (pointer chase over 16 MB to 1 GB), about four messages' budget.
- Order table: 16-byte slots (reference, open shares, level) in a primary table indexed by
  the reference itself (no probing: a newer reference claiming a slot moves the older order
  to a hashed secondary table). Levels keep counts, not queues, so deleting an order no
  longer touches its queue neighbours; time priority comes from an add stamp that only
  `fg_books_level_orders()` reads.
- Memory grows with the live orders: every table starts small and doubles (the order tables
  are rebuilt once per power of two of live orders: tens of ms for the largest rebuilds of
  this day, a chunk above its neighbours in the plot); nothing is reserved and zeroed up
  front. The capacity (16 M orders by default) is a limit only. Level and ladder pools from
  256 KiB on live in 2 MiB-aligned mappings with MADV_HUGEPAGE (mremap kept small pages).
- Levels: each book is one cache line with the best and worst of both sides and their prices
  (57% of the adds join or improve on the best and need no lookup); a side where an add walks
  past more than 4 levels gets a 256-tick ladder (price -> level, occupancy bits).
- Read-ahead: the pipeline decodes a run of 256 selected messages before it delivers them, and
  `fg_books_prefetch()` requests, 16 messages ahead, the order slot and the book, and 8 ahead
  the order's level; a near stage (for an add, the secondary slot an order it displaces will
  move to, and the add's ladder slot) runs only once the secondary table outgrows the L2 (2^17
  slots): on the 20M day it cost more than it saved, on the large day it is worth 13%.
- Second round, the replay floor (read, sequence, decode; the "no --book" row): the BinaryFILE
  walk reads its mapping 1 KiB ahead (the chain of length loads stalled at every page), the
  decoder is inlined into the counting decode, and wire lengths come from a table: 17.1 -> 12.2
  ns/message (5 alternating runs).
- Second round, the book: branch-free level unlinking (level 0 takes the writes for a missing
  neighbour) and best/crossed bookkeeping, the BBO check only with a BBO callback, the side of
  an add by arithmetic (consecutive adds are B or S at random: cachegrind counted 0.44 M
  mispredicts there per 2 M messages), Delete and Add tested before the type switch, the
  run's start-up read-ahead in a call of its own (the per-message prefetch saves one register
  instead of six). Measured step by step, 5-7 alternating runs each: the 20M day 62.0 -> 47.9
  ns/message in the first part, 50.0 -> 47.0 in the second (the machine's baseline moved
  between the two). The large day gains less than those runs showed (138 -> 113): in the
  run of the table above its user time fell from 2.7 to 2.2 s but its system time rose from
  0.2 to 0.6 s (the kernel clearing the huge pages of the growing pools and tables), so its
  elapsed time moved from 146.5 to 142.0 ns/message only.
- Where a message goes now (cachegrind, 2 M-message day): about 474 instructions a message in
  the whole process, the book about 250 of them (`fg_books_apply` 159, prefetch 52,
  `level_drop` 28). On a day whose whole book fits in L2 (812 live orders) the book alone
  still costs 22-27 ns/message: it is bound by instructions and mispredicted branches (level
  created or dropped: half the adds create a level, half the removals drop one), not by
  misses. On the large day, kernel page clearing of the growing tables is 23% of the profile.
- Measured and left out: primary tables of 2^16 to 2^21 slots; prefetchnta; read-ahead
  distances 8/4, 24/12, 32; prefetching the add's level or the best level of its side (+22% to
  +36%: its branches cost more than the misses it saves); a level allocated in its
  neighbour's cache line (+10%: loses the LIFO reuse); up to 8 levels a book held inline at
  locate * K in the pool (+0-1% on the 20M day, +3% on the large one); a sorted array of the 8
  best prices a side in a line of its own (+12%: one more line a message while the level's own
  line is still needed); prefetch and apply fused in one call (+5.6%); -O3 (+2.9%); a
  branch-free level drop (+3%, 25 more instructions a message for fewer mispredicts).
- Third round (this session's build; callgrind, `perf`, bench_pipeline per chunk):
  `fg_books_apply` became a dispatcher that tail-calls one handler per kind (delete, add, the
  rest) and adds behind the best went to a call of their own, so the common paths save fewer
  registers: 936.6 M -> 905.9 M instructions on the 2 M-message day (-3.3%), the 20M replay
  0.87 -> 0.86 s (median of 7 alternating pinned runs: within the noise). Where the growth
  over the day comes from, one variable at a time on 10 M-message days: with the generator's
  live orders capped at 5,000 (`--max-live 5000`) the book costs 25-27 ns/message flat from
  the first chunk to the last; uncapped it climbs to 37 ns by 10 M messages (39,000 live); 80
  symbols with 5,000 live (deep books, ladders in use) 23-24 ns; 800 symbols with 40,000 live
  about 31. The growth follows the live orders (the memory the deletes and executions reach),
  not the depth of the books; the instructions a message do not grow (462 over the 2 M day,
  453 over the 20 M one), mispredicted branches a little (cachegrind's model: 1.53 -> 1.87 a
  message). `perf` on the 20M day: `level_get_deep` 15% of the samples, a quarter of them on
  the load of the ladder slot, `fg_books_prefetch` 9%. Tried and left out (20M day, pinned,
  alternating): prefetch and apply fused in one hidden call (6 instructions a message fewer,
  time unchanged); primary spread 2 slots a live order (+8%) and 16 (+0-7%); the near stage
  always on (+16%); the near stage with only the order's level (unchanged); the ladder slot
  of an add prefetched from the book's line (+11%). On this machine the 20M replay takes
  0.87-1.02 s from one day to the next (43.5-51 ns/message): the table above is one run.
- Correctness: `make bench-book-diff` (bench/book_diff.c) replays a day through the old
  implementation (rev 8d763bd, message by message) and this one (in batches) and compares
  every level of both sides of every book, the BBO and the counters at checkpoints: the same
  books at 10 checkpoints of the 20M day and 5 of the large one (430,634 levels; run with
  `--capacity 8388608`, the default 4 M orders is too small for that day).
- Fourth round (2026-12-07, second session: `perf` at 10 kHz, an instrumented build, one
  variable at a time with bench_pipeline, 2 alternating rounds each, CPU 1). Where the growth
  is, ns/message of each function on the first 2 M messages of the day against the whole 20 M:
  `level_get_deep` 1.8 -> 9.2, `on_delete` 4.6 -> 6.2, `on_other` 3.4 -> 4.2, `level_drop` 3.2
  -> 3.9, `on_add` 7.9 -> 8.5; reading, decoding and the prefetch stage stay flat. The adds
  behind the best are 21% of the adds over the first 2 M messages and 43% over the day (4.53 M
  of 10.53 M) as the books fill (2,588 levels live after 1 M messages, 36,920 at the end); 2.43
  M of them went through a ladder (1.72 M found their level, 0.71 M placed a new one), 2.10 M
  walked (0.54 steps each, 1.65 M created a level); 1,501 ladders at the end. Such an add costs
  about 16 ns early and 40 late: its ladder slot and its level are loads whose addresses come
  from lines the same message loads, and by then the book's lines (levels, ladders, book lines,
  76,595 orders) are several times the 2 MB L2, where the memprobe table above puts a dependent
  load at 36-92 ns at 4-16 MiB (over this session's runs) against 5-7 ns within 1 MiB. Tried and
  left out: every message's level prefetched 8 messages ahead (batch path, first / last two
  chunks, 26.1 / 40.0 and 26.3 / 40.7 ns against 24.8 / 38.5 and 24.2 / 38.3: no gain); every
  add's ladder slot prefetched 8 ahead from its book's line (29.1 / 43.0 and 28.1 / 39.9 against
  24.2 / 39.4 and 23.0 / 38.9: worse); a ladder after one step of walk instead of four (25.4 /
  43.1, 25.2 / 41.2: worse, more ladder memory); no ladders (the last chunks 5-6 ns slower);
  ladders of 64 or 128 slots (within the runs' noise of about 2 ns). The order table is not
  where the growth is: with the primary at its full 8 MiB from the first message, the first
  chunk of the unbatched path went from 22.6 to 35.1 ns but the batched path's stayed at 24.3
  (24.2 before): the read-ahead hides the order slots' misses. Also left out: replay taking a
  BinaryFILE's messages a batch at a time from one call instead of one call a message (0.93-0.98
  s against 0.91-0.97, 5 alternating runs; without the book 0.25-0.26 against 0.26: the walk's
  cost is its loads, not the calls). The large day's elapsed time moves with its system time,
  the kernel clearing the pages the growing tables touch. In the table's alternation the after
  build's large-day runs follow the before build's 20M runs and pay 0.77-0.83 s of it (before:
  0.22-0.25); run back to back, 4 pairs, after then before: after 0.79 s the first time, then
  0.21-0.29, before 0.23-0.30, and elapsed 2.41-3.02 s against 2.77-3.09. The user time is lower
  after in every run (2.18-2.36 s against 2.66-2.86 in the table's). This revises the third
  round's reading: on this day the live orders and the books' depth grow together, and what
  grows with them is the adds behind the best, not the removals that reach old orders.
- Not reached: 40 ns/message whole process (the first table has the figure, 45.5-49.5 on this
  machine over the day's runs). Flat: replay's whole path (the third row of the tenths) has its
  last tenth at 1.12 times its first in the run above, and 0.92, 1.23, 1.25, 1.29, 1.33 and 1.34
  in other runs the same day; its first tenth is two chunks of a million messages, the first of
  them with the start, and one slow chunk moves the ratio (0.92: a first chunk at 68 ns against
  44 for the second; the run above: 44 against 40). At the limit, not reliably within it. The
  book alone's is not (the batch path's last / first stays at 1.4-1.7; the build before is
  flatter, 1.27-1.43, because its first tenth is slower, not its last faster). With the floor at
  12-13 ns, 40 needs the book at 28 ns/message over the day; in cache it costs 22-27. What
  remains is the adds behind the best: an index from price to level whose address the message
  alone gives (prefetched with the order slot) would take their ladder-slot miss, not their
  level's nor the neighbours' on a new level; the 2.15 M that find an existing level would save
  about 24 ns each, 2.6 ns/message over the day, a third of what 40 needs. Not attempted.
""")
body = "\n".join(md) + "\n"
open(os.path.join(out, "section.md"), "w").write(body)
splice_results(here, "book", body, path=results, after="pipeline")
print(body)
EOF
echo "feedgate: bench_book.sh: updated the book section of $results" >&2
