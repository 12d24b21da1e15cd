#!/usr/bin/env bash
# `feedgate gen --burst` (bursts of 10x the mean rate for 1 ms every
# 100 ms). Every case measures the same thing from packet
# times (pcap timestamps of gen --pcap; send stamps of the packets captured
# on the far end of a veth pair): the packet density in the 1 ms burst
# windows against the density elsewhere, and whether the burst packets
# arrive on time (burst_check below). The schedule gives a density ratio of
# F (P - B) / (P - F B) = 11 for 10x, 1 ms, 100 ms; evenly paced traffic
# gives about 1, and the no-burst control cases prove that the check tells
# the two apart. The packet count checks the mean rate.
#
# Cases (each prints PASS / FAIL / SKIPPED):
#   pcap_burst_shape         gen --pcap: the file's timestamps are the schedule
#                            itself: exactly 20000 packets in 1 s, ratio 11.0,
#                            the report line names the bursts and keeps the
#                            text bench/bench_compare.sh parses
#   pcap_even_fails_check    the same check on evenly paced output fails
#   veth_afpacket_burst      --tx afpacket over a veth pair, captured by tcpdump
#                            on the receiving end: mean rate and burst shape,
#                            loose tolerances (a shared 2-core machine)
#   veth_afpacket_even_fails_check   the loose check refuses evenly paced traffic
#   veth_af_xdp_burst        --tx af_xdp (AF_XDP TX socket, copy mode on veth)
#                            likewise
#   veth_xdp_burst           --tx xdp (live frames, sleep-only pacing) likewise;
#                            SKIPPED with gen's one-line reason where the kernel
#                            refuses XDP live frames
#   errors                   --burst 0.5, --burst 200 (F x 1ms >= 100ms),
#                            --burst-len junk, --burst-len without --burst:
#                            one stderr line each, exit 2
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

F=$FEEDGATE
RATE=20000
FACTOR=10
LEN_NS=1000000
EVERY_NS=100000000

fg_require_built "$F"
fg_require_tools python3
fg_scratch burst

# burst_check PCAP CLOCK WANT_COUNT COUNT_TOL RATIO_MIN RATIO_MAX ON_TIME_MIN:
# prints one line of measurements; exit 0 when all of these hold:
#  - count: the mean rate (gen ran for 1 s)
#  - density ratio: packets per ms in the burst windows (the median over the
#    periods: a clump here and there does not move it) against the packets
#    per ms in the rest of those periods
#  - on time: the share of the packets the schedule puts in a burst window
#    that arrive less than a window length after their due time.
# The schedule comes from the packets themselves: the trailer of every feed
# packet carries its number n in the run (no noise: n counts every packet),
# its due offset follows from n; the run's start is where no packet would
# be early, min(arrival - offset), since gen never sends early. A sender
# that lost its CPU on a busy machine sends late and in clumps, which moves
# neither a median nor the windows; evenly paced output cannot come close,
# its burst packets being up to 9 ms late.
# CLOCK: the packet times are the pcap timestamps (pcap) or the send stamps
# in the trailers (stamp). A capture on the receiving end proves delivery,
# but its timestamps are taken when the veth peer's softirq gets to the
# frame (NAPI with an XDP program attached), ms late when ksoftirqd waits
# behind other work; the send stamps time the generator itself.
cat >"$T/burst_check.py" <<'PYEOF'
import statistics, struct, sys

path, clock = sys.argv[1], sys.argv[6]
rate, factor, blen, every = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
want, ctol, rmin, rmax, on_min = int(sys.argv[7]), float(sys.argv[8]), float(sys.argv[9]), float(sys.argv[10]), float(sys.argv[11])
data = open(path, "rb").read()
if len(data) < 24:
    sys.exit("not a pcap file (%d bytes)" % len(data))
magic = struct.unpack_from("<I", data)[0]
unit = {0xA1B23C4D: 1, 0xA1B2C3D4: 1000}.get(magic)
if unit is None:
    sys.exit("not a little-endian pcap file (magic %#x)" % magic)
pk, off = [], 24
while off + 16 <= len(data):
    sec, frac, incl, orig = struct.unpack_from("<IIII", data, off)
    fr = data[off + 16:off + 16 + incl]
    off += 16 + incl
    # the send-stamp trailer: u64 stamp, u32 packet number, "FGTS" (user/lib/fg_gen.h)
    if incl != orig or incl < 16 or fr[-4:] != b"FGTS":
        sys.exit("a frame without the generator's trailer (captured %d of %d bytes)" % (incl, orig))
    stamp, no = struct.unpack(">QI", fr[-16:-4])
    pk.append((sec * 1000000000 + frac * unit if clock == "pcap" else stamp, no))

# the schedule of user/lib/fg_gen.c, fg_pace_init_burst(), in ns from the start
per_period = rate * every / 1e9
per_burst = rate * factor * blen / 1e9
def due(n):
    k = n // per_period
    m = n - k * per_period
    if m < per_burst:
        return k * every + m * 1e9 / (rate * factor)
    return k * every + blen + (m - per_burst) * (every - blen) * 1e9 / (rate * (every - factor * blen))

n = len(pk)
# ns since the first packet, as integers: doubles of wall-clock ns are 256 ns coarse
t0 = min(t for t, _ in pk)
pk = [(t - t0, no) for t, no in pk]
start = min(t - due(no) for t, no in pk)
ts = sorted(t - start for t, _ in pk)
periods = int(ts[-1] // every)  # whole periods captured
if periods < 3:
    sys.exit("%d packets over %.3f s: want at least 3 periods" % (n, ts[-1] / 1e9))
inwin = [0] * periods
total = 0
for t in ts:
    k = int(t // every)
    if k < periods:
        total += 1
        if t - k * every < blen:
            inwin[k] += 1
burst = statistics.median(inwin)
base = (total - sum(inwin)) / (periods * (every - blen) / blen)
ratio = burst / base if base else float("inf")
late = [t - start - due(no) for t, no in pk if no % per_period < per_burst]
on_time = sum(1 for x in late if x < blen) / len(late)
exact = factor * (every - blen) / (every - factor * blen)
why = []
if abs(n - want) > ctol * want:
    why.append("count %d, want %d +- %g%%" % (n, want, ctol * 100))
if not rmin <= ratio <= rmax:
    why.append("density ratio %.2f outside %g-%g" % (ratio, rmin, rmax))
if on_time < on_min:
    why.append("%.0f%% of the burst packets on time, want %.0f%%" % (on_time * 100, on_min * 100))
print("%d packets in %.3f s (%.0f pps mean); per %g ms: %g in the burst window (median of %d "
      "periods), %.2f outside: density ratio %.2f (schedule %.2f, want %g-%g); burst packets "
      "less than %g ms late: %.1f%% (want %g%%)%s" %
      (n, ts[-1] / 1e9, (n - 1) / ts[-1] * 1e9, blen / 1e6, burst, periods, base, ratio, exact,
       rmin, rmax, blen / 1e6, on_time * 100, on_min * 100,
       "; check failed: " + ", ".join(why) if why else ""))
sys.exit(1 if why else 0)
PYEOF
burst_check() {
	python3 "$T/burst_check.py" "$1" $RATE $FACTOR $LEN_NS $EVERY_NS "$2" "$3" "$4" "$5" "$6" "$7"
}

# The report line bench/bench_compare.sh parses, unchanged, and the bursts after it.
report_ok() {
	grep -qE 'sent [0-9]+ packets \([0-9]+ feed, [0-9]+ noise\), [0-9]+ bytes in [0-9.]+ s: [0-9]+ pps' "$1" ||
		fg_bad "report: no 'sent N packets ... pps' line: $(grep '^sent' "$1")"
	grep -q "^sent .*, bursts 10x for 1ms every 100ms (200000 pps in bursts, 18182 pps between)$" "$1" ||
		fg_bad "report does not state the bursts: $(grep '^sent' "$1")"
}
sent_of() { sed -n 's/^sent \([0-9]*\) packets.*/\1/p' "$1"; }

# --- pcap: the schedule itself ---------------------------------------------------------------
fg_begin pcap_burst_shape
if "$F" gen --pcap "$T/burst.pcap" --rate $RATE --duration 1 --burst $FACTOR --burst-len 1ms \
	--burst-every 100ms >"$T/g1.txt" 2>"$T/g1.err"; then
	report_ok "$T/g1.txt"
	# exact: 200 packets in each 1 ms burst window, 1800 in the 99 ms after it
	res=$(burst_check "$T/burst.pcap" pcap $RATE 0 10.99 11.01 1) || fg_bad "$res"
else
	fg_bad "gen --pcap --burst failed: $(head -1 "$T/g1.err")"
	res=""
fi
fg_end "${res:-}"

fg_begin pcap_even_fails_check
if "$F" gen --pcap "$T/even.pcap" --rate $RATE --duration 1 >"$T/g2.txt" 2>"$T/g2.err"; then
	if res=$(burst_check "$T/even.pcap" pcap $RATE 0 10.99 11.01 1); then
		fg_bad "evenly paced output passed the burst check: $res"
	elif [[ $res != *"check failed: "*"density ratio"* ]]; then
		fg_bad "the check did not get to the density: $res"
	fi
	grep -q ", bursts " "$T/g2.txt" && fg_bad "report of an evenly paced run mentions bursts"
else
	fg_bad "gen --pcap failed: $(head -1 "$T/g2.err")"
fi
fg_end "refused as it should be: ${res:-}"

# --- errors ----------------------------------------------------------------------------------
fg_begin errors
P=(--pcap "$T/err.pcap" --count 10)
fg_gen_usage "--burst '0.5': want a factor above 1" "${P[@]}" --burst 0.5
fg_gen_usage "--burst '1': want a factor above 1" "${P[@]}" --burst 1
fg_gen_usage "--burst 200 x --burst-len 1ms is not below --burst-every 100ms" "${P[@]}" --burst 200
fg_gen_usage "--burst 10 x --burst-len 10ms is not below --burst-every 0.1s" "${P[@]}" --burst 10 \
	--burst-len 10ms --burst-every 0.1s
fg_gen_usage "--burst-len 'junk': want a duration like 500us, 1ms or 0.1s" "${P[@]}" --burst 10 \
	--burst-len junk
fg_gen_usage "--burst-every '100': want a duration" "${P[@]}" --burst 10 --burst-every 100
fg_gen_usage "--burst-len needs --burst FACTOR" "${P[@]}" --burst-len 1ms
# parsed before anything touches the interface
fg_gen_usage "--burst needs a --rate above 0" --iface lo --burst 10 --rate 0
fg_end

# --- over a veth pair ------------------------------------------------------------------------
FG_CASES="veth_afpacket_burst veth_afpacket_even_fails_check veth_af_xdp_burst veth_xdp_burst"
fg_require_root
fg_require_tools tcpdump nsenter
fg_lab_up 1

# capture OUT GEN_ARGS...: tcpdump on the receiving end (OUT.pcap, whole
# frames: the trailers) around one gen run of 1 s; gen's report in OUT.txt.
capture() {
	local out=$1
	shift
	fg_capture_start "$out" 'udp dst port 5000' --time-stamp-precision=nano
	# A higher weight than the compilers of whoever shares the machine: the
	# AF_PACKET pacer spins between packets 55 us apart, and a burst torn
	# up by time slices says nothing about the schedule.
	fg_in_tx nice -n -10 "$F" gen --iface "$FG_IF_TX" --rate $RATE --duration 1 "$@" \
		>"$out.txt" 2>"$out.err" ||
		fg_bad "gen $* failed: $(head -1 "$out.err")"
	fg_capture_stop "$out"
}

# Loose for a noisy shared machine: mean within 3%, ratio 5-20 (schedule 11;
# evenly paced about 1), half the burst packets on time (evenly paced: about
# 1 in 9). Every packet gen sent is in the capture.
veth_check() {
	local out=$1 sent got
	sent=$(sent_of "$out.txt")
	res=$(burst_check "$out.pcap" stamp $RATE 0.03 5 20 0.5)
	VETH_RC=$?
	got=$(tcpdump -nr "$out.pcap" 2>/dev/null | wc -l)
	if [ -z "$sent" ] || [ "$got" != "$sent" ]; then
		fg_bad "captured $got packets, gen sent ${sent:-?}"
	fi
}

fg_begin veth_afpacket_burst
capture "$T/afp" --burst $FACTOR
report_ok "$T/afp.txt"
veth_check "$T/afp"
[ $VETH_RC -eq 0 ] || fg_bad "$res"
fg_end "$res"

fg_begin veth_afpacket_even_fails_check
capture "$T/afpeven"
veth_check "$T/afpeven"
if [ $VETH_RC -eq 0 ]; then
	fg_bad "evenly paced traffic passed the burst check: $res"
elif [[ $res != *"check failed: "*"density ratio"* ]]; then
	fg_bad "the check did not get to the density: $res"
fi
fg_end "refused as it should be: $res"

fg_begin veth_af_xdp_burst
# no program needed on the receiving end: copy-mode AF_XDP TX goes through
# the veth's normal transmit path into the peer
capture "$T/axdp" --tx af_xdp --burst $FACTOR
report_ok "$T/axdp.txt"
grep -q "^gen: af_xdp on $FG_IF_TX " "$T/axdp.txt" ||
	fg_bad "report does not name af_xdp: $(head -1 "$T/axdp.txt")"
grep -q " 0 refused by the device" "$T/axdp.txt" ||
	fg_bad "the device refused frames: $(grep backpressure "$T/axdp.txt")"
veth_check "$T/axdp"
[ $VETH_RC -eq 0 ] || fg_bad "$res"
fg_end "$res"

fg_begin veth_xdp_burst
# Some kernels refuse XDP live frames (EPERM even for root): gen makes a
# trial run before it sends anything and says so in one line.
fg_xdp_refused "$T/xdpp"
xdp=$?
if [ $xdp = 2 ]; then
	fg_end
elif [ $xdp = 0 ]; then
	fg_skip "${FG_XDP_REFUSAL#*--tx xdp: }"
# live frames go out only when the peer has an XDP program: the filter with
# the pass policy and no rule passes everything on to tcpdump
elif ! fg_in_rx "$F" attach "$FG_IF_RX" --policy pass >"$T/attach.txt" 2>&1; then
	fg_skip "couldn't attach an XDP program to the receiving end: $(head -1 "$T/attach.txt")"
else
	capture "$T/xdp" --tx xdp --burst $FACTOR
	report_ok "$T/xdp.txt"
	grep -q " 0 refused by the device" "$T/xdp.txt" ||
		fg_bad "the device refused frames: $(grep backpressure "$T/xdp.txt")"
	veth_check "$T/xdp"
	[ $VETH_RC -eq 0 ] || fg_bad "$res"
	fg_in_rx "$F" detach "$FG_IF_RX" >/dev/null 2>&1
	fg_end "$res"
fi

exit 0
