#!/usr/bin/env bash
# End-to-end benchmark of the AF_XDP consumer on a veth pair:
# `feedgate gen --tx $E2E_TX --pace sleep` (default auto: the fastest
# generator that works here, AF_XDP TX on today's kernels; 1 feed, 1 ITCH
# message per packet) in one namespace, `feedgate run` in the other, the
# receive NAPI of the veth on its own core (threaded NAPI, lab.md). The
# generator each figure used is read from gen's report and named in the
# results. For each --poll mode:
#   - the highest rate with zero loss over CONFIRM_S seconds: a doubling and
#     bisecting search with PROBE_S-second probes, then a confirmation run
#     at the rate found (stepped down until it holds);
#   - one-way latency (generator send stamp -> consumer takes the frame, and
#     XDP stamp -> consumer) p50/p99/p99.9 at 100 kpps and at half the max;
# and, in the same run, dpdk-testpmd with net_af_xdp in rxonly mode (its
# counts only), searched the same way. Zero loss: every packet the
# generator sent was accepted by the device (none refused: peer ring full;
# the AF_XDP and AF_PACKET generators send a refused frame again, XDP live
# frames cannot) and received by the consumer.
#
# Layout on a 2-core machine (lab.md): CPU 0 runs the generator (--pace
# sleep: it sleeps between bursts of ~20 us of traffic) and the consumer
# thread; CPU 1 runs
# the receive NAPI thread (XDP filter + copy into the UMEM). Change with
# E2E_CPU_GEN, E2E_CPU_RX, E2E_CPU_NAPI. The NAPI thread runs SCHED_FIFO
# (E2E_NAPI_FIFO=50; 0 = normal) so that other work on a shared machine does
# not starve the receive path of both consumers alike.
# E2E_THREADED=0 instead leaves the receive work where veth does it by
# default, in the sender's softirq (the generator's CPU), and puts the
# consumer alone on CPU 1.
#
# Output: a table on stdout and in bench/e2e_results.md (every layout
# measured so far), a latency CDF in bench/e2e_latency_cdf_LAYOUT.png
# (gnuplot), raw data in bench/out/e2e/, and the section between
# <!-- e2e:begin --> and <!-- e2e:end --> of bench/RESULTS.md.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

PROBE_S=${E2E_PROBE_S:-2}
CONFIRM_S=${E2E_CONFIRM_S:-10}
LAT_S=${E2E_LAT_S:-4}
MODES=${E2E_MODES:-busy spin wakeup}
THREADED=${E2E_THREADED:-1} # 0: receive work in the sender's softirq (on CPU_GEN)
CPU_GEN=${E2E_CPU_GEN:-0}
if [ "$THREADED" = 1 ]; then CPU_RX=${E2E_CPU_RX:-0}; else CPU_RX=${E2E_CPU_RX:-1}; fi
CPU_NAPI=${E2E_CPU_NAPI:-1}
MAX_RATE=${E2E_MAX_RATE:-6000000}
TX=${E2E_TX:-auto} # gen --tx: auto, af_xdp, xdp or afpacket
NAPI_FIFO=${E2E_NAPI_FIFO:-50} # SCHED_FIFO priority of the NAPI thread; 0: normal
F=$FEEDGATE
OUT=$here/out/e2e
mkdir -p "$OUT"
: >"$OUT/gen_used" # the generator of every gen run, from its report

fgb_require_lab

fg_lab_setup 1 || die "couldn't make the namespaces and the veth pair"
IF=$FG_IF_RX
TESTPMD_PID=""
trap '[ -n "$TESTPMD_PID" ] && kill -KILL $TESTPMD_PID 2>/dev/null; fg_lab_teardown' EXIT

# Receive work on its own core: threaded NAPI (accepted only while an XDP
# program is attached), its kernel thread pinned.
pin_napi() {
	local pid
	[ "$THREADED" = 1 ] || return 0
	ip netns exec "$FG_NS_RX" sh -c "echo 1 > /sys/class/net/$IF/threaded" 2>/dev/null ||
		log "could not enable threaded NAPI on $IF"
	sleep 0.1
	for pid in $(pgrep "^napi/$IF-"); do
		taskset -pc "$CPU_NAPI" "$pid" >/dev/null
		# the machine is shared: keep other work from starving the receive path
		[ "$NAPI_FIFO" -gt 0 ] && chrt -f -p "$NAPI_FIFO" "$pid"
	done
}

filter_up() {
	fg_filter_feeds 1 --policy drop || die "attach / rule add failed"
	pin_napi
}

# gen RATE SECONDS -> "sent refused" on stdout (raw report in $OUT/gen.txt).
# --pace sleep: the generator shares CPU_GEN with the consumer in the
# threaded layout; a pacer spinning there would take the consumer's core.
gen() {
	fg_in_tx taskset -c "$CPU_GEN" "$F" gen --iface "$FG_IF_TX" --tx "$TX" --pace sleep \
		--rate "$1" --duration "$2" --feeds 1 --messages-per-packet 1 >"$OUT/gen.txt" 2>&1
	# which generator sent ("gen: af_xdp on IF (...)"), packets, bytes
	awk '$1 == "gen:" && $3 == "on" && !t { t = $2 } $1 == "sent" { s = $2; b = $8 }
		END { if (t) print t, s + 0, b + 0 }' "$OUT/gen.txt" >>"$OUT/gen_used"
	awk '$1 == "sent" { s = $2 } $1 == "backpressure:" { r = $(NF - 4) } END { print s + 0, r + 0 }' \
		"$OUT/gen.txt"
}

# probe_run MODE RATE SECONDS TAG -> "sent refused received drops" ($OUT/TAG.json)
probe_run() {
	local mode=$1 rate=$2 secs=$3 tag=$4 g
	# (measured even when it did not start: the figures then say so)
	fg_run_start "$OUT/$tag.json" "$OUT/$tag.err" --poll "$mode" --queues 0 --cpus "$CPU_RX" --json
	g=$(gen "$rate" "$secs")
	sleep 0.3
	fg_run_stop
	sleep 0.3 # the kernel releases the queue of a closed socket asynchronously
	python3 -c "
import json,sys
d=json.load(open(sys.argv[1])); t=d['total']; x=t['kstats']
print(sys.argv[2], t['packets'], x['rx_dropped'] + x['rx_ring_full'])" "$OUT/$tag.json" "$g" 2>/dev/null ||
		echo "$g 0 0"
}

# testpmd_run RATE SECONDS -> "sent refused received 0"
testpmd_run() {
	local rate=$1 secs=$2 g rx fifo=$OUT/testpmd.in
	rm -f "$fifo"
	mkfifo "$fifo"
	# testpmd exits at EOF on stdin: keep the fifo open until we are done
	sleep $((secs + 20)) >"$fifo" &
	local holder=$!
	ip netns exec "$FG_NS_RX" dpdk-testpmd --no-huge -m 1024 --file-prefix "fg$$" -l 0,1 \
		--main-lcore 1 --no-pci --vdev "net_af_xdp0,iface=$IF,start_queue=0,queue_count=1" \
		-- --forward-mode=rxonly --nb-cores=1 --total-num-mbufs=16384 <"$fifo" \
		>"$OUT/testpmd.txt" 2>&1 &
	TESTPMD_PID=$!
	for _ in $(seq 1 200); do
		grep -q "Press enter to exit" "$OUT/testpmd.txt" 2>/dev/null && break
		kill -0 $TESTPMD_PID 2>/dev/null || break
		sleep 0.05
	done
	pin_napi
	g=$(gen "$rate" "$secs")
	sleep 0.3
	kill -INT $TESTPMD_PID 2>/dev/null
	wait $TESTPMD_PID 2>/dev/null
	TESTPMD_PID=""
	kill $holder 2>/dev/null
	wait $holder 2>/dev/null
	rx=$(awk '/Accumulated forward statistics/ { a = 1 } a && /RX-packets:/ { print $2; exit }' "$OUT/testpmd.txt")
	echo "$g ${rx:-0} 0"
}

# lossless "sent refused received drops": 0 when every packet arrived
# (testpmd also counts the few frames the kernel sends itself: received >= sent)
lossless() {
	set -- $1
	[ "$1" -gt 0 ] && [ "$2" -eq 0 ] && [ "$3" -ge "$1" ] && [ "$4" -eq 0 ]
}

# search KIND -> highest lossless rate (KIND: a poll mode, or testpmd)
search() {
	local kind=$1 lo=0 hi=$MAX_RATE rate=250000 res n=0
	measure() {
		if [ "$kind" = testpmd ]; then testpmd_run "$1" "$2"; else probe_run "$kind" "$1" "$2" probe; fi
	}
	# double from 250 kpps until a probe loses, then bisect to 10%
	while [ $n -lt 14 ]; do
		n=$((n + 1))
		res=$(measure $rate "$PROBE_S")
		if lossless "$res"; then lo=$rate; else hi=$rate; fi
		log "$kind: $rate pps for ${PROBE_S}s -> sent/refused/received/drops $res"
		if [ $hi -ge $MAX_RATE ]; then
			rate=$((rate * 2))
			[ $rate -ge $MAX_RATE ] && rate=$MAX_RATE && [ $lo -eq $MAX_RATE ] && break
		else
			[ $((hi * 100)) -le $((lo * 110)) ] && break
			rate=$(((lo + hi) / 2))
			[ $lo -eq 0 ] && rate=$((hi / 2))
		fi
		[ $rate -lt 10000 ] && break
	done
	# confirm over the full duration, stepping down 15% at a time
	for n in 1 2 3 4 5 6 7 8; do
		[ $lo -lt 10000 ] && break
		res=$(measure $lo "$CONFIRM_S")
		log "$kind: confirm $lo pps for ${CONFIRM_S}s -> $res"
		lossless "$res" && break
		lo=$((lo * 85 / 100))
	done
	# "asked achieved": the generator may not reach the rate asked (it also
	# carries the receive softirq in the softirq layout)
	if lossless "$res"; then echo "$lo $((${res%% *} / CONFIRM_S))"; else echo "0 0"; fi
}

# latency MODE RATE TAG -> "p50 p99 p999 xp50 xp99 xp999" in us; buckets in $OUT/TAG.cdf
latency() {
	local res
	res=$(probe_run "$1" "$2" "$LAT_S" "$3")
	log "$1: latency run at $2 pps -> $res"
	python3 - "$OUT/$3.json" "$OUT/$3.cdf" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["total"]
g, x = t["latency_gen_ns"], t["latency_rx_ns"]
f = lambda h, k: "%.1f" % (h[k] / 1e3) if h["count"] else "-"
print(f(g, "p50"), f(g, "p99"), f(g, "p999"), f(x, "p50"), f(x, "p99"), f(x, "p999"))
n = sum(c for _, c in t["latency_gen_buckets"]) or 1
cum = 0
with open(sys.argv[2], "w") as o:
    for low, c in t["latency_gen_buckets"]:
        cum += c
        o.write("%.3f %.6f\n" % (low / 1e3, cum / n))
EOF
}

filter_up
if [ "$THREADED" = 1 ]; then
	RXWORK="receive NAPI thread (threaded NAPI, SCHED_FIFO $NAPI_FIFO) on CPU $CPU_NAPI"
else
	RXWORK="receive work in the generator's softirq on CPU $CPU_GEN (NAPI not threaded)"
fi
echo "bench_e2e: $(nproc) CPUs; generator (gen --tx $TX) on CPU $CPU_GEN, consumer on CPU $CPU_RX," \
	"$RXWORK; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
declare -A ASKED MAX L100 LHALF
for mode in $MODES; do
	read -r ASKED[$mode] MAX[$mode] <<<"$(search "$mode")"
	L100[$mode]=$(latency "$mode" 100000 "lat100_$mode")
	half=$((MAX[$mode] / 2))
	if [ "$half" -ge 10000 ]; then
		LHALF[$mode]="$half $(latency "$mode" "$half" "lathalf_$mode")"
	else
		LHALF[$mode]="0 - - - - - -"
	fi
done
TPMD="skipped: dpdk-testpmd not installed (apt-get install dpdk-dev)"
if [ "${E2E_TESTPMD:-1}" = 0 ]; then
	TPMD="skipped (E2E_TESTPMD=0)"
elif command -v dpdk-testpmd >/dev/null; then
	fg_in_rx "$F" detach "$IF" >/dev/null
	read -r TPMD_ASKED TPMD <<<"$(search testpmd)"
	fg_in_rx ip link set dev "$IF" xdp off 2>/dev/null
	filter_up
fi

python3 - "$here" "$OUT" "$CPU_GEN" "$CPU_RX" "$CPU_NAPI" "$CONFIRM_S" "$TPMD" "$(cut -d' ' -f1-3 /proc/loadavg)" \
	"$(for m in $MODES; do echo "$m|${MAX[$m]}|${L100[$m]}|${LHALF[$m]}|${ASKED[$m]}"; done)" "$RXWORK" \
	"$([ "$THREADED" = 1 ] && echo threaded || echo softirq)" "${TPMD_ASKED:-0}" "$TX" <<'EOF'
import os, sys
here, out, cg, cr, cn, conf, tpmd, load, rows, rxwork, tag, tpmd_asked, tx = sys.argv[1:14]
# the generators gen's reports named, in the order first used; frame sizes
used, npk, nby = [], 0, 0
for line in open(os.path.join(out, "gen_used")):
    w = line.split()
    if len(w) != 3:
        continue
    if w[0] not in used:
        used.append(w[0])
    npk, nby = npk + int(w[1]), nby + int(w[2])
if used == ["xdp"]:
    frames = ("137-byte frames (one MoldUDP64 packet with an Add Order and its Order Delete: "
              "the XDP generator's template)")
else:
    frames = ("%.0f-byte frames on average (one MoldUDP64 packet with one message of a "
              "generated ITCH day)" % (nby / npk if npk else 0))
GEN = {
    "af_xdp": ("AF_XDP TX socket, copy mode",
               "CLOCK_MONOTONIC written into the frame just before the sendto() that hands it "
               "to the kernel"),
    "xdp": ("XDP live frames", "bpf_ktime_get_ns in the generator's XDP program"),
    "afpacket": ("AF_PACKET sendmmsg", "CLOCK_MONOTONIC written just before the sendmmsg()"),
}
gen_text = " and ".join("%s (%s)" % (g, GEN.get(g, ("?", ""))[0]) for g in used) or "none ran"
stamp_text = "; ".join(GEN[g][1] + (" (%s)" % g if len(used) > 1 else "")
                       for g in used if g in GEN) or "the generator's send stamp"
lines = [r.split("|") for r in rows.splitlines() if r]
def mpps(v, asked="0"):
    if not (v.isdigit() and int(v) > 0):
        return "no lossless rate"
    r = "%.2f Mpps" % (int(v) / 1e6)
    if asked.isdigit() and int(v) < 0.97 * int(asked):
        r += " (generator-bound: %.2f asked)" % (int(asked) / 1e6)
    return r
t = []
t.append("| consumer | zero-loss rate (%s s) | one-way p50 / p99 / p99.9 at 100 kpps | XDP->consumer p50 / p99 / p99.9 | at half max: one-way p50 / p99 / p99.9 |" % conf)
t.append("|---|---|---|---|---|")
for mode, mx, l100, lhalf, asked in lines:
    a = (l100.split() + ["-"] * 6)[:6]
    h = (lhalf.split() + ["-"] * 7)[:7]
    half = "%s (%.0f kpps)" % (" / ".join(h[1:4]) + " us", int(h[0]) / 1e3) if h and h[0] != "0" else "-"
    t.append("| feedgate run --poll %s | %s | %s us | %s us | %s |" % (
        mode, mpps(mx, asked), " / ".join(a[0:3]), " / ".join(a[3:6]), half))
if tpmd.isdigit():
    t.append("| dpdk-testpmd net_af_xdp rxonly | %s | counts only | counts only | counts only |" % mpps(tpmd, tpmd_asked))
else:
    t.append("| dpdk-testpmd net_af_xdp rxonly | %s | | | |" % tpmd)
layout = ("veth pair between two namespaces, 1 queue, copy mode (veth has no zero-copy), "
          "%s; "
          "generator `feedgate gen --tx %s --pace sleep`: %s, on CPU %s; consumer thread on "
          "CPU %s, %s; load average at the end %s. "
          "One-way = generator send stamp (%s) to "
          "the consumer taking the frame off its RX ring; XDP->consumer = the filter's stamp "
          "to the same moment." % (frames, tx, gen_text, cg, cr, rxwork, load, stamp_text))
table = "\n".join(t)
print(table)
print()
print(layout)
png = "e2e_latency_cdf_%s.png" % tag
part = "#### Layout: %s\n\n" % tag + table + "\n\n" + layout + \
    "\n\nLatency CDF at 100 kpps: ![e2e latency CDF, %s](%s)\n" % (tag, png)
open(os.path.join(out, "part_%s.md" % tag), "w").write(part)
# every layout measured so far, threaded first; a layout not in bench/out (a fresh
# checkout) keeps its part from the last e2e_results.md
try:
    prev = open(os.path.join(here, "e2e_results.md")).read()
except OSError:
    prev = ""
parts = []
for t in ("threaded", "softirq"):
    f = os.path.join(out, "part_%s.md" % t)
    if os.path.exists(f):
        parts.append(open(f).read())
    elif "#### Layout: %s\n" % t in prev:
        part = prev[prev.index("#### Layout: %s\n" % t):]
        nxt = part.find("#### Layout: ", 1)
        parts.append((part[:nxt] if nxt > 0 else part).rstrip("\n") + "\n")
body = ("## End-to-end: AF_XDP consumer on veth (`make bench-e2e`)\n\n"
        "Zero loss = every frame the generator sent was accepted by the sending "
        "veth (none refused because the peer's 256-entry ring was full) and taken by the "
        "consumer. `E2E_THREADED=0 make bench-e2e` measures the softirq layout.\n\n"
        "Each layout names the generator its figures used (`gen --tx auto` takes the fastest "
        "that works on the machine). With XDP live frames (`--tx xdp`) the threaded figures "
        "measure the generator, not the consumers: it hands the veth 64-256 frames per "
        "BPF_PROG_RUN call, and with NAPI in a kernel thread the peer's 256-entry ring fills "
        "before that thread runs; the frames refused then count as loss at any rate, for "
        "testpmd as for feedgate. The AF_XDP and AF_PACKET generators send a frame the veth "
        "refuses again (counted as retried, not lost).\n\n" +
        "\n".join(parts))
open(os.path.join(here, "e2e_results.md"), "w").write(body)
sys.path.insert(0, here)
from fgbench import gnuplot, splice_results
splice_results(here, "e2e", body)
# the CDF plot
plots = []
for mode, *_ in lines:
    f = os.path.join(out, "lat100_%s.cdf" % mode)
    if os.path.exists(f) and os.path.getsize(f):
        plots.append("'%s' using 1:2 with steps title '--poll %s'" % (f, mode))
if plots:
    gp = ("set terminal pngcairo size 900,560 noenhanced\n"
          "set output '%s'\n" % os.path.join(here, png) +
          "set title 'feedgate run: one-way latency at 100 kpps (veth, copy mode, %s layout)'\n" % tag +
          "set logscale x\nset xlabel 'generator -> consumer latency (us)'\n"
          "set ylabel 'fraction of packets'\nset key bottom right\nset grid\n"
          "set yrange [0:1.01]\n"
          "plot " + ", ".join(plots) + "\n")
    gnuplot(gp, "bench_e2e")
EOF
