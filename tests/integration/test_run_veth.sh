#!/usr/bin/env bash
# `feedgate run` (the AF_XDP consumer) and `feedgate gen` end to end, on a
# 4-queue veth pair between two namespaces made here. The consumer mostly
# polls with --poll wakeup: the machine's two cores are shared.
#
# Cases (each prints PASS / FAIL / SKIPPED):
#   every_packet_accounted   4 feeds + 50% noise: per feed, sent = received
#                            (+ counted drops); noise never reaches the
#                            consumer; XDP counters agree
#   multi_queue              32 feeds over 4 queues: each socket receives
#                            exactly what XDP redirected on its queue, all of it
#   poll_modes               busy and spin deliver everything too; so do the
#                            tail knobs (--rt-priority, --mlock, --busy-budget)
#   tail_parts               what the latency is made of: a spinning consumer
#                            stopped 300 ms shows one stall that long,
#                            switched out, the packets that waited through it
#                            in the >= 100 us band as the consumer's time; the
#                            parts add up to the latencies; blocking: no stalls
#   receive_cpu_kept         --cpus: the other threads (main loop, pcap
#                            writer) move off the receive thread's CPU and
#                            the start line says where; SKIPPED on one CPU
#   zero_copy                auto falls back to copy on veth and says so; on
#                            fails with one line, nothing left registered
#   sigkill_and_restart      SIGKILL while traffic flows: traffic falls back to
#                            the policy; a new run starts; SIGINT prints the
#                            summary and exits 0
#   run_attaches_and_detaches  run on a bare interface attaches the filter
#                            and removes it again on exit
#   pcap_output              run --pcap: tcpdump reads back the right count
#   gen_pcap_tshark          gen --pcap is MoldUDP64 for tshark, with the
#                            generated sequence numbers and counts
#   gen_xdp_live_frames      gen --tx xdp: every frame arrives, MoldUDP64
#                            sequencing without gaps, every message decoded;
#                            SKIPPED (with gen's one-line reason) where the
#                            kernel refuses XDP live frames
#   gen_af_xdp               gen --tx af_xdp: every feed frame arrives, each
#                            feed on its own queue, no gap, every message
#                            decoded, counts match gen's report
#   gen_auto                 gen with no --tx (auto) and --tx auto: says which
#                            generator it picked, everything arrives
#   errors                   missing interface, queue out of range, busy
#                            queue, other backends, not root: one line each
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

fg_require_root
fg_require_tools python3 tcpdump tshark setpriv nsenter
fg_require_built "$FEEDGATE"
F=$FEEDGATE
fg_scratch run
fg_lab_up 4

rx() { fg_in_rx "$F" "$@"; }
gen() { fg_in_tx "$F" gen --iface "$FG_IF_TX" "$@"; }

# gen_noise OUT KIND: noise packets of KIND sent, from a gen report.
gen_noise() { awk -v k="$2" '$1 == "noise" { for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$1"; }

# The filter with the drop policy and a rule for each of 32 feeds.
setup_filter() { fg_filter_feeds 32 --policy drop; }
setup_filter || {
	echo "FAIL setup: feedgate attach / rule add failed"
	exit 1
}

# --- every packet accounted for, per feed ------------------------------------------------------
fg_begin every_packet_accounted
drop0=$(fg_stats "s['global']['drop_no_rule']" )
# A non-default RX ring (--ring) on the path that must lose nothing.
if fg_run_start "$T/r1.json" "$T/r1.err" --poll wakeup --ring 4096 --json; then
	gen --rate 20000 --count 30000 --feeds 4 --noise 0.5 --seed 7 >"$T/g1.txt" || fg_bad "gen failed"
	sleep 0.3
	fg_run_stop
	fg_eq "run exit status" "$FG_RUN_RC" 0
	sent_total=0
	for f in 1 2 3 4; do
		sent=$(fg_gen_sent "$T/g1.txt" $f)
		got=$(fg_jfile "$T/r1.json" "[x['packets'] for x in d['feeds'] if x['group'] == '239.1.1.$f:$((4999 + f))'][0]")
		fg_eq "feed $f sent vs received" "$got" "$sent"
		sent_total=$((sent_total + ${sent:-0}))
	done
	drops=$(fg_jfile "$T/r1.json" "d['total']['kstats']['rx_dropped'] + d['total']['kstats']['rx_ring_full']")
	fg_eq "redirected = received + counted drops" \
		"$(fg_jfile "$T/r1.json" "d['total']['kstats']['xdp_redirected']")" \
		"$(fg_jfile "$T/r1.json" "d['total']['packets'] + $drops")"
	fg_eq "received + counted drops = sent" "$(fg_jfile "$T/r1.json" "d['total']['packets'] + $drops")" "$sent_total"
	# noise never reaches the consumer: every frame it took was a feed's
	fg_eq "frames without a stamp" "$(fg_jfile "$T/r1.json" "d['total']['no_stamp']")" 0
	fg_eq "frames = feed frames" "$(fg_jfile "$T/r1.json" "d['total']['packets'] == sum(x['packets'] for x in d['feeds'])")" True
	fg_eq "every frame stamped by gen" "$(fg_jfile "$T/r1.json" "d['total']['gen_stamped'] == d['total']['packets']")" True
	udp_tcp=$(($(gen_noise "$T/g1.txt" udp_other_port) + $(gen_noise "$T/g1.txt" udp_other_group) + $(gen_noise "$T/g1.txt" tcp)))
	fg_eq "UDP/TCP noise dropped at XDP" "$(($(fg_stats "s['global']['drop_no_rule']") - drop0))" "$udp_tcp"
	[ "$(fg_jfile "$T/r1.json" "d['total']['latency_rx_ns']['count']")" = "$sent_total" ] ||
		fg_bad "latency not recorded for every packet"
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/r1.err")"
fi
fg_end "$sent_total feed packets, drops ${drops:-?}"

# --- 4 queues: each socket its own queue, all of it --------------------------------------------
fg_begin multi_queue
if fg_run_start "$T/r2.json" "$T/r2.err" --poll wakeup --json; then
	gen --rate 20000 --count 16000 --feeds 32 --seed 3 >"$T/g2.txt" || fg_bad "gen failed"
	sleep 0.3
	fg_run_stop
	fg_eq "queues in use" "$(fg_jfile "$T/r2.json" "len(d['queues'])")" 4
	fg_eq "each socket = its queue's redirects" \
		"$(fg_jfile "$T/r2.json" "all(q['packets'] + q['kstats']['rx_dropped'] + q['kstats']['rx_ring_full'] == q['kstats']['xdp_redirected'] for q in d['queues'])")" True
	fg_eq "no redirect without socket" "$(fg_jfile "$T/r2.json" "d['total']['kstats']['xdp_no_socket']")" 0
	fg_eq "all arrived" "$(fg_jfile "$T/r2.json" "d['total']['packets']")" 16000
	busy=$(fg_jfile "$T/r2.json" "sum(1 for q in d['queues'] if q['packets'] > 0)")
	[ "${busy:-0}" -ge 2 ] || fg_bad "traffic reached only ${busy:-0} queue(s): flows not spread"
	for f in $(seq 1 32); do
		sent=$(fg_gen_sent "$T/g2.txt" "$f")
		got=$(fg_jfile "$T/r2.json" "[x['packets'] for x in d['feeds'] if x['group'] == '239.1.1.$f:$((4999 + f))'][0]")
		[ "$sent" = "$got" ] || fg_bad "feed $f: sent $sent received $got"
	done
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/r2.err")"
fi
fg_end "$(fg_jfile "$T/r2.json" "' '.join('q%d:%d' % (q['queue'], q['packets']) for q in d['queues'])")"

# --- busy and spin polling -------------------------------------------------------------------
# sent_and_taken WHAT RUN_JSON GEN_OUT: gen sends 3000 packets of 4 feeds to the
# consumer fg_run_start started, which takes them all and exits 0 on SIGINT.
sent_and_taken() {
	gen --rate 10000 --count 3000 --feeds 4 >"$3" || fg_bad "gen failed"
	sleep 0.2
	fg_run_stop
	fg_eq "$1: exit status" "$FG_RUN_RC" 0
	fg_eq "$1: received" "$(fg_jfile "$2" "d['total']['packets']")" 3000
}

fg_begin poll_modes
for mode in busy spin; do
	if fg_run_start "$T/r3.json" "$T/r3.err" --poll $mode --queues 0-3 --batch 32 --json; then
		sent_and_taken "$mode" "$T/r3.json" "$T/g3.txt"
		fg_eq "$mode: poll" "$(fg_jfile "$T/r3.json" "d['poll']")" $mode
	else
		fg_bad "$mode: run did not start: $(tr '\n' '|' <"$T/r3.err")"
	fi
done
# the tail knobs: SCHED_FIFO receive threads and memory locked (blocking: four
# spinning SCHED_FIFO threads on two CPUs would starve each other), then a
# busy-poll budget
if fg_run_start "$T/r3k.json" "$T/r3k.err" --poll wakeup --rt-priority 10 --mlock \
	--queues 0-3 --json; then
	cls=$(ps -L -o cls=,comm= -p "$FG_RUN_PID" | awk '$2 ~ /^fg-af_xdp/ {print $1}' | sort -u | tr '\n' ' ')
	fg_eq "receive threads' scheduling class" "$cls" "FF "
	locked=$(awk '/^VmLck:/ {print $2}' "/proc/$FG_RUN_PID/status")
	[ "${locked:-0}" -gt 0 ] || fg_bad "--mlock: nothing locked (VmLck ${locked:-?} kB)"
	sent_and_taken knobs "$T/r3k.json" "$T/g3k.txt"
else
	fg_bad "knobs: run did not start: $(tr '\n' '|' <"$T/r3k.err")"
fi
if fg_run_start "$T/r3b.json" "$T/r3b.err" --poll busy --busy-budget 16 --queues 0-3 --json; then
	sent_and_taken "busy budget" "$T/r3b.json" "$T/g3b.txt"
else
	fg_bad "busy budget: run did not start: $(tr '\n' '|' <"$T/r3b.err")"
fi
fg_expect_err "--busy-budget is for --poll busy" fg_in_rx "$F" run "$IF" --poll spin --busy-budget 8
# a spinning SCHED_FIFO thread under real-time throttling: said at the start
if [ "$(cat /proc/sys/kernel/sched_rt_runtime_us)" != -1 ]; then
	out=$(fg_in_rx "$F" run "$IF" --queues 0 --cpus 0 --poll spin --rt-priority 5 --duration 0.3 2>&1 >/dev/null)
	case $out in *"the kernel throttles real-time threads"*) ;; *) fg_bad "--rt-priority with spin: throttling not said: $out" ;; esac
fi
fg_end

# --- what the tail is made of ------------------------------------------------------------------
# A spinning consumer stopped (SIGSTOP) for 300 ms while 2,000 packets/s flow:
# the stop is one stall of its own, switched out; the packets that waited
# through it are in the >= 100 us band and their time is the consumer's; in
# every band the parts add up to the latencies (mean x count).
fg_begin tail_parts
if fg_run_start "$T/r9.json" "$T/r9.err" --poll spin --queues 0-3 --json; then
	fg_bg gen --rate 2000 --count 3000 --feeds 4 >"$T/g9.txt"
	gpid=$FG_BG_PID
	sleep 0.5
	kill -STOP "$FG_RUN_PID"
	sleep 0.3
	kill -CONT "$FG_RUN_PID"
	wait "$gpid" || fg_bad "gen failed"
	fg_bg_forget "$gpid"
	sleep 0.2
	fg_run_stop
	fg_eq "exit status" "$FG_RUN_RC" 0
	fg_eq "received" "$(fg_jfile "$T/r9.json" "d['total']['packets']")" 3000
	tl="d['total']['tail']"
	fg_eq "rx bands hold every stamped packet" \
		"$(fg_jfile "$T/r9.json" "sum(b['packets'] for b in $tl['rx']) == d['total']['latency_rx_ns']['count']")" True
	fg_eq "gen bands hold every gen-stamped packet" \
		"$(fg_jfile "$T/r9.json" "sum(b['packets'] for b in $tl['gen']) == d['total']['latency_gen_ns']['count'] == 3000")" True
	# the parts add up to mean x count (the mean is rounded to 1 ns)
	fg_eq "rx: held + consumer = the latencies" \
		"$(fg_jfile "$T/r9.json" "abs(sum(b['held_ns'] + b['consumer_ns'] for b in $tl['rx']) - d['total']['latency_rx_ns']['mean'] * d['total']['latency_rx_ns']['count']) <= d['total']['latency_rx_ns']['count']")" True
	fg_eq "gen: send + held + consumer = the latencies" \
		"$(fg_jfile "$T/r9.json" "abs(sum(b['send_ns'] + b['held_ns'] + b['consumer_ns'] for b in $tl['gen']) - d['total']['latency_gen_ns']['mean'] * d['total']['latency_gen_ns']['count']) <= d['total']['latency_gen_ns']['count']")" True
	# about 600 packets came during the stop; at least a third of them
	# waited 100 us or more, and that wait was the consumer's
	fg_eq "packets that waited out the stop" "$(fg_jfile "$T/r9.json" "$tl['rx'][2]['packets'] >= 200")" True
	fg_eq "their time the consumer's" \
		"$(fg_jfile "$T/r9.json" "$tl['rx'][2]['consumer_ns'] >= 0.9 * ($tl['rx'][2]['consumer_ns'] + $tl['rx'][2]['held_ns'])")" True
	fg_eq "the stop seen as a stall of 250 ms or more" "$(fg_jfile "$T/r9.json" "$tl['stall_max_ns'] >= 250000000")" True
	fg_eq "and as switched out" "$(fg_jfile "$T/r9.json" "$tl['switched_ns'] >= 250000000 and 1 <= $tl['stalls_switched'] <= $tl['stalls']")" True
	fg_eq "stalls of 50 us or more counted among the stalls" "$(fg_jfile "$T/r9.json" "1 <= $tl['stalls_50us'] <= $tl['stalls']")" True
	# and the live line of the second it came in shows it
	most=$(grep -o 'stalls [0-9]* ([0-9.]* ms)' "$T/r9.err" | sed 's/.*(\([0-9.]*\) ms)/\1/' | sort -n | tail -1)
	python3 -c "import sys; sys.exit(0 if float('${most:-0}') >= 250 else 1)" ||
		fg_bad "no live line with the stop's stall (most ${most:-none} ms): $(grep -m1 ' af_xdp ' "$T/r9.err")"
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/r9.err")"
fi
# blocking threads are never away from a spinning loop: no stalls, the
# summary for people says what the tail is made of
if fg_run_start "$T/r9w.txt" "$T/r9w.err" --poll wakeup --queues 0-3; then
	gen --rate 10000 --count 1000 --feeds 4 >"$T/g9w.txt" || fg_bad "gen failed"
	sleep 0.2
	fg_run_stop
	grep -q "^tail XDP -> consumer >= 10 us: [0-9]* packets" "$T/r9w.txt" || fg_bad "text summary: no tail line"
	grep -q "^tail generator -> consumer >= 10 us: .*send path" "$T/r9w.txt" || fg_bad "text summary: no generator tail line"
	grep -q "^tail context switches [0-9]* voluntary" "$T/r9w.txt" || fg_bad "text summary: no context switches"
	! grep -q "consumer away" "$T/r9w.txt" || fg_bad "blocking: stalls reported"
else
	fg_bad "wakeup: run did not start: $(tr '\n' '|' <"$T/r9w.err")"
fi
fg_end

# --- the receive CPU kept to the receive thread ------------------------------------------------
fg_begin receive_cpu_kept
if [ "$(python3 -c 'import os; print(len(os.sched_getaffinity(0)))')" -lt 2 ]; then
	fg_skip "one CPU: nowhere to move the other threads"
else
	last=$(python3 -c 'import os; print(max(os.sched_getaffinity(0)))')
	if fg_run_start "$T/r10.json" "$T/r10.err" --poll wakeup --queues 0 --cpus "$last" --pcap "$T/r10.pcap" --json; then
		main=$(awk '/^Cpus_allowed_list:/ {print $2}' "/proc/$FG_RUN_PID/status")
		rxt="" others=""
		for t in /proc/"$FG_RUN_PID"/task/*; do
			case $(cat "$t/comm") in
			fg-af_xdp*) rxt="$rxt$(awk '/^Cpus_allowed_list:/ {print $2}' "$t/status") " ;;
			*) others="$others$(awk '/^Cpus_allowed_list:/ {print $2}' "$t/status") " ;;
			esac
		done
		fg_run_stop
		fg_eq "receive thread's CPUs" "$rxt" "$last "
		case " $others" in *" $last "* | *"-$last "* | *",$last "*) fg_bad "another thread may run on CPU $last: $others" ;; esac
		[ "$main" != "$last" ] || fg_bad "main thread on the receive CPU"
		grep -q "other threads on CPU " "$T/r10.err" || fg_bad "start line: $(grep queue "$T/r10.err")"
	else
		fg_bad "run did not start: $(tr '\n' '|' <"$T/r10.err")"
	fi
	fg_end
fi

# --- zero-copy -------------------------------------------------------------------------------
fg_begin zero_copy
if fg_run_start "$T/r4.json" "$T/r4.err" --zero-copy auto --poll wakeup --json; then
	fg_run_stop
	fg_eq "auto: mode" "$(fg_jfile "$T/r4.json" "d['mode']")" copy
	fg_eq "auto: every queue copy" "$(fg_jfile "$T/r4.json" "set(q['mode'] for q in d['queues'])")" "{'copy'}"
	grep -q "copy mode" "$T/r4.err" || fg_bad "auto: the start line does not say copy mode"
else
	fg_bad "auto: run did not start: $(tr '\n' '|' <"$T/r4.err")"
fi
fg_expect_err "zero-copy not supported" fg_in_rx "$F" run "$IF" --zero-copy on --poll wakeup --duration 1
# nothing left registered: traffic finds no socket and falls back to the policy
nosock0=$(fg_stats "sum(q['no_socket'] for q in s['queues'])")
gen --rate 10000 --count 400 --feeds 4 >/dev/null
fg_eq "after 'on' failed: redirects without socket" "$(($(fg_stats "sum(q['no_socket'] for q in s['queues'])") - nosock0))" 400
if fg_run_start "$T/r4b.json" "$T/r4b.err" --zero-copy off --poll wakeup --json; then
	fg_run_stop
	fg_eq "off: mode" "$(fg_jfile "$T/r4b.json" "d['mode']")" copy
else
	fg_bad "off: run did not start: $(tr '\n' '|' <"$T/r4b.err")"
fi
fg_end

# --- SIGKILL while traffic flows, restart, SIGINT summary ------------------------------------
fg_begin sigkill_and_restart
if fg_run_start "$T/r5.json" "$T/r5.err" --poll wakeup --json; then
	# nsenter itself, not the gen function: the pid must be gen's own
	fg_bg nsenter --net=/var/run/netns/"$FG_NS_TX" -- "$F" gen --iface "$FG_IF_TX" --rate 5000 \
		--duration 5 --feeds 4 >"$T/g5.txt"
	GEN=$FG_BG_PID
	sleep 0.8
	fg_run_stop KILL
	sleep 0.3
	nosock0=$(fg_stats "sum(q['no_socket'] for q in s['queues'])")
	drop0=$(fg_stats "s['global']['drop_fallback']")
	sleep 0.5
	nosock1=$(fg_stats "sum(q['no_socket'] for q in s['queues'])")
	[ "${nosock1:-0}" -gt "${nosock0:-0}" ] || fg_bad "after SIGKILL no traffic fell back to the policy"
	[ "$(fg_stats "s['global']['drop_fallback']")" -gt "${drop0:-0}" ] || fg_bad "fallback not by the drop policy"
	fg_attached || fg_bad "filter no longer attached"
	if fg_run_start "$T/r6.json" "$T/r6.err" --poll wakeup --json; then
		sleep 0.5
		fg_run_stop
		fg_eq "restarted run: exit status on SIGINT" "$FG_RUN_RC" 0
		[ "$(fg_jfile "$T/r6.json" "d['total']['packets']")" -gt 0 ] 2>/dev/null ||
			fg_bad "restarted run received nothing (or no summary: $(head -c 200 "$T/r6.json"))"
	else
		fg_bad "restart failed: $(tr '\n' '|' <"$T/r6.err")"
	fi
	wait $GEN
	# the human summary on SIGINT too
	if fg_run_start "$T/r7.txt" "$T/r7.err" --poll wakeup; then
		fg_run_stop
		fg_eq "SIGINT exit status" "$FG_RUN_RC" 0
		grep -q "^feedgate run $IF" "$T/r7.txt" || fg_bad "no summary after SIGINT"
		grep -q "^latency" "$T/r7.txt" || fg_bad "no latency lines in the summary"
	else
		fg_bad "third run did not start"
	fi
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/r5.err")"
fi
fg_end

# --- run on a bare interface: attaches, detaches what it attached ----------------------------
fg_begin run_attaches_and_detaches
rx detach "$IF" >/dev/null
if fg_run_start "$T/r8.json" "$T/r8.err" --poll wakeup --json; then
	fg_attached || fg_bad "run did not attach the filter"
	grep -q "attached by this run" "$T/r8.err" || fg_bad "start line does not say it attached"
	fg_run_stop
	fg_eq "exit status" "$FG_RUN_RC" 0
	fg_eq "filter_attached_by_run" "$(fg_jfile "$T/r8.json" "d['filter_attached_by_run']")" True
	if fg_attached; then fg_bad "XDP program still attached after exit"; fi
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/r8.err")"
fi
# put the drop-policy filter and rules back for the next cases
setup_filter || fg_bad "re-attach failed"
fg_end

# --- pcap output ---------------------------------------------------------------------------
fg_begin pcap_output
if fg_run_start "$T/r9.json" "$T/r9.err" --poll wakeup --pcap "$T/rx.pcap" --json; then
	gen --rate 10000 --count 3000 --feeds 4 --noise 0.5 >"$T/g9.txt"
	sleep 0.3
	fg_run_stop
	got=$(fg_jfile "$T/r9.json" "d['total']['packets']")
	n=$(tcpdump -nr "$T/rx.pcap" 2>/dev/null | wc -l)
	fg_eq "tcpdump count = received" "$n" "$got"
	fg_eq "feed packets captured" "$n" 2000
	fg_eq "pcap written" "$(fg_jfile "$T/r9.json" "d['pcap']['written']")" 2000
	fg_eq "pcap dropped" "$(fg_jfile "$T/r9.json" "d['pcap']['dropped']")" 0
	fg_eq "only feed traffic captured" "$(tcpdump -nr "$T/rx.pcap" 'udp and dst net 239.1.1.0/24 and dst portrange 5000-5003' 2>/dev/null | wc -l)" 2000
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/r9.err")"
fi
fg_end

# --- gen --pcap for tshark -----------------------------------------------------------------
fg_begin gen_pcap_tshark
"$F" gen --pcap "$T/g.pcap" --count 300 --feeds 1 --messages-per-packet 3 --noise 0.5 >"$T/g10.txt" ||
	fg_bad "gen --pcap failed"
tshark -r "$T/g.pcap" -d udp.port==5000,moldudp64 -Y 'ip.dst == 239.1.1.1 && moldudp64' \
	-T fields -e moldudp64.session -e moldudp64.sequence -e moldudp64.count >"$T/tshark.txt" 2>/dev/null
fg_eq "packets dissected as MoldUDP64" "$(wc -l <"$T/tshark.txt")" 200
fg_eq "sequence numbers and counts" "$(awk 'BEGIN { s = 1; ok = 1 } { if ($1 != "FG00000001" || $2 != s || $3 != 3) ok = 0; s += 3 } END { print ok ":" s - 1 }' "$T/tshark.txt")" "1:600"
fg_eq "gen report" "$(awk '$1 == "feed" { print $7 ":" $9 ":" $11 }' "$T/g10.txt")" "200:600:1-600"
# no malformed-packet or expert errors in the feed packets (noise to other
# groups on port 5000 is random bytes: tshark rightly calls it malformed)
fg_eq "tshark errors" "$(tshark -r "$T/g.pcap" -d udp.port==5000,moldudp64 -Y 'ip.dst == 239.1.1.1 && (_ws.malformed || _ws.expert.severity >= error)' 2>/dev/null | wc -l)" 0
fg_end

# --- gen --tx xdp: the XDP live-frames generator, decoded by the pipeline -------------------
fg_begin gen_xdp_live_frames
# Some kernels refuse live frames (EPERM even for root): gen finds out with a
# trial run before it sends anything and says so in one line.
if fg_xdp_refused "$T/g12p" "refuses XDP live frames.*; use --tx af_xdp or --tx afpacket$"; then
	fg_skip "${FG_XDP_REFUSAL#*--tx xdp: }"
elif [ -n "$FG_ERRS" ]; then
	fg_end
elif fg_run_start "$T/r12.json" "$T/r12.err" --poll wakeup --decode "$T/d12.jsonl" --json; then
	# veth picks the receive queue of an XDP_TX'd frame from the sending CPU:
	# pin the generator so that each feed stays on one queue (and its
	# per-queue pipeline), as RSS keeps a flow on one queue of a real NIC.
	fg_in_tx taskset -c 0 "$F" gen --iface "$FG_IF_TX" --tx xdp --rate 20000 --count 6000 \
		--feeds 4 --noise 0.5 --messages-per-packet 2 \
		>"$T/g12.txt" 2>&1 || fg_bad "gen --tx xdp failed: $(tr '\n' '|' <"$T/g12.txt")"
	sleep 0.3
	fg_run_stop
	feed=0
	for f in 1 2 3 4; do feed=$((feed + $(fg_gen_sent "$T/g12.txt" $f))); done
	# the XDP path mixes noise in chunk by chunk: about 2 feed packets in 3
	[ "$feed" -ge 3900 ] && [ "$feed" -le 4100 ] || fg_bad "feed packets sent: $feed, want about 4000"
	grep -q "0 refused by the device" "$T/g12.txt" || fg_bad "the device refused frames: $(grep backpressure "$T/g12.txt")"
	fg_eq "received" "$(fg_jfile "$T/r12.json" "d['total']['packets']")" "$feed"
	fg_eq "every frame stamped" "$(fg_jfile "$T/r12.json" "d['total']['gen_stamped']")" "$feed"
	fg_eq "messages sequenced" "$(fg_jfile "$T/r12.json" "sum(p['messages'] for p in d['pipeline'])")" $((2 * feed))
	fg_eq "sequence gaps" "$(fg_jfile "$T/r12.json" "sum(p['gaps'] for p in d['pipeline'])")" 0
	fg_eq "malformed" "$(fg_jfile "$T/r12.json" "sum(p['malformed']['total'] for p in d['pipeline'])")" 0
	fg_eq "decoded lines" "$(grep -c '"type":"[AD]"' "$T/d12.jsonl")" $((2 * feed))
	fg_end
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/r12.err")"
	fg_end
fi

# --- gen --tx af_xdp: an AF_XDP socket per transmit queue, decoded by the pipeline ----------
fg_begin gen_af_xdp
if fg_run_start "$T/r13.json" "$T/r13.err" --poll wakeup --decode "$T/d13.jsonl" --json; then
	gen --tx af_xdp --rate 20000 --count 6000 --feeds 4 --noise 0.5 --messages-per-packet 2 \
		>"$T/g13.txt" 2>"$T/g13.err" || fg_bad "gen --tx af_xdp failed: $(tr '\n' '|' <"$T/g13.err")"
	sleep 0.3
	fg_run_stop
	grep -q "^gen: af_xdp on $FG_IF_TX (copy mode, 4 queues)," "$T/g13.txt" ||
		fg_bad "report does not name af_xdp on 4 queues: $(head -1 "$T/g13.txt")"
	feed=0
	for f in 1 2 3 4; do feed=$((feed + $(fg_gen_sent "$T/g13.txt" $f))); done
	noise=$(awk '$1 == "noise" { print $3 + 0 }' "$T/g13.txt")
	fg_eq "feed + noise = --count" "$((feed + ${noise:-0}))" 6000
	fg_eq "sent (completed by the kernel)" "$(awk '$1 == "sent" { print $2 }' "$T/g13.txt")" 6000
	grep -q " 0 refused by the device" "$T/g13.txt" || fg_bad "the device refused frames: $(grep backpressure "$T/g13.txt")"
	fg_eq "received" "$(fg_jfile "$T/r13.json" "d['total']['packets']")" "$feed"
	fg_eq "every frame stamped" "$(fg_jfile "$T/r13.json" "d['total']['gen_stamped']")" "$feed"
	# feed f (1-based) leaves on transmit queue f-1, which veth delivers to receive queue f-1
	for f in 1 2 3 4; do
		fg_eq "feed $f on queue $((f - 1))" \
			"$(fg_jfile "$T/r13.json" "[q['packets'] for q in d['queues'] if q['queue'] == $((f - 1))][0]")" \
			"$(fg_gen_sent "$T/g13.txt" $f)"
	done
	msgs=$(awk '$1 == "feed" { m += $9 } END { print m + 0 }' "$T/g13.txt")
	fg_eq "messages sequenced" "$(fg_jfile "$T/r13.json" "sum(p['messages'] for p in d['pipeline'])")" "$msgs"
	fg_eq "sequence gaps" "$(fg_jfile "$T/r13.json" "sum(p['gaps'] for p in d['pipeline'])")" 0
	fg_eq "malformed" "$(fg_jfile "$T/r13.json" "sum(p['malformed']['total'] for p in d['pipeline'])")" 0
	fg_eq "decoded lines" "$(grep -c '"type":' "$T/d13.jsonl")" "$msgs"
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/r13.err")"
fi
fg_end "${feed:-?} feed packets, ${msgs:-?} messages"

# --- gen --tx auto (the default): picks a generator that works here and says which -----------
fg_begin gen_auto
fg_expect_err "--tx 'dpdk': use af_xdp, xdp, afpacket or auto" gen --tx dpdk --count 1
picked=""
if fg_run_start "$T/r14.json" "$T/r14.err" --poll wakeup --json; then
	n=0
	for how in default explicit; do
		if [ $how = default ]; then
			gen --rate 20000 --count 2000 --feeds 4 >"$T/g14.txt" 2>"$T/g14.err"
		else
			gen --tx auto --rate 20000 --count 2000 --feeds 4 >"$T/g14.txt" 2>"$T/g14.err"
		fi || fg_bad "$how: gen failed: $(tr '\n' '|' <"$T/g14.err")"
		n=$((n + 2000))
		p=$(sed -n 's/^gen: \([a-z_]*\) on .*picked by --tx auto.*/\1/p' "$T/g14.txt")
		case $p in
		af_xdp | xdp | afpacket) ;;
		*) fg_bad "$how: the report does not say which generator auto picked: $(head -1 "$T/g14.txt")" ;;
		esac
		grep -q "^gen: sending with $p on $FG_IF_TX" "$T/g14.err" ||
			fg_bad "$how: no start line naming $p: $(tr '\n' '|' <"$T/g14.err")"
		# AF_XDP works on any veth (copy mode): auto takes it unless it says why not
		if [ "$p" != af_xdp ] && ! grep -q "^gen: --tx auto: af_xdp does not work" "$T/g14.err"; then
			fg_bad "$how: picked $p without saying why af_xdp did not work"
		fi
		picked="$picked $p"
	done
	sleep 0.3
	fg_run_stop
	fg_eq "received" "$(fg_jfile "$T/r14.json" "d['total']['packets']")" "$n"
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/r14.err")"
fi
fg_end "picked:${picked:- none}"

# --- run --backend af_packet with its ring tuned from the command line ------------------------
# Feed 1 becomes a pass rule (XDP hands it to the stack, still dropping the
# noise), af_packet's TPACKET_V3 ring takes it; the redirect rule comes back after.
fg_begin af_packet_tuned
rx rule del "$IF" 239.1.1.1:5000 >/dev/null && rx rule add "$IF" 239.1.1.1:5000 --action pass >/dev/null ||
	fg_bad "couldn't turn feed 1 into a pass rule"
# (its start line is not AF_XDP's, which fg_run_start waits for)
fg_bg nsenter --net=/var/run/netns/"$FG_NS_RX" -- "$F" run "$IF" --backend af_packet --poll wakeup \
	--block-size 65536 --block-count 8 --retire-ms 5 --fanout cpu --json >"$T/afp.json" 2>"$T/afp.err"
FG_RUN_PID=$FG_BG_PID
fg_wait_for "$T/afp.err" "backend af_packet" "" 5
gen --rate 10000 --count 3000 --feeds 1 --noise 1 --seed 5 >"$T/gafp.txt" || fg_bad "gen failed"
sleep 0.5
fg_run_stop
fg_eq "run exit status" "$FG_RUN_RC" 0
fg_eq "ring as asked" "$(fg_jfile "$T/afp.json" "(d['block_size'], d['block_count'], d['retire_ms'], d['fanout'])")" "(65536, 8, 5, 'cpu')"
fg_eq "feed 1 sent vs received" "$(fg_jfile "$T/afp.json" "d['feeds'][0]['packets']")" "$(fg_gen_sent "$T/gafp.txt" 1)"
fg_eq "kernel drops" "$(fg_jfile "$T/afp.json" "d['total']['kstats']['kernel_drops']")" 0
rx rule del "$IF" 239.1.1.1:5000 >/dev/null && rx rule add "$IF" 239.1.1.1:5000 >/dev/null ||
	fg_bad "couldn't restore feed 1's redirect rule"
fg_end "$(fg_gen_sent "$T/gafp.txt" 1) feed packets"

# --- errors --------------------------------------------------------------------------------
fg_begin errors
fg_expect_err "no such interface" fg_in_rx "$F" run fgnone$$
fg_expect_err "queue 7 out of range" fg_in_rx "$F" run "$IF" --queues 7
fg_expect_err "run: --backend 'netmap': use af_xdp, af_packet, io_uring or socket" fg_in_rx "$F" run "$IF" --backend netmap
fg_expect_err "--poll 'fast'" fg_in_rx "$F" run "$IF" --poll fast
fg_expect_err "must be a power of two" fg_in_rx "$F" run "$IF" --ring 1000
fg_expect_err "--fanout 'x': use hash or cpu" fg_in_rx "$F" run "$IF" --backend af_packet --fanout x
# options of another backend are refused (exit 2), never ignored
for args in "--block-size 65536" "--rcvbuf 1048576" "--fanout hash" "--retire-ms 2"; do
	# shellcheck disable=SC2086
	fg_expect_err "does not apply to --backend af_xdp" fg_in_rx "$F" run "$IF" $args
	# shellcheck disable=SC2086
	fg_in_rx "$F" run "$IF" $args >/dev/null 2>&1
	fg_eq "exit status of run $args with af_xdp" $? 2
done
fg_expect_err "does not apply to --backend socket" fg_in_rx "$F" run "$IF" --backend socket --ring 4096
fg_expect_err "does not apply to --backend socket" fg_in_rx "$F" run "$IF" --backend socket --zero-copy on
fg_expect_err "AF_XDP frames are 2048 or 4096 bytes" fg_in_rx "$F" run "$IF" --frame-size 3000
# a capture file that cannot be written: said, and the device left alone
fg_expect_err "No space left on device" fg_in_rx "$F" run "$IF" --pcap /dev/full --duration 1
[ -c /dev/full ] || fg_bad "/dev/full is gone"
fg_expect_err "must be run as root" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$F" run "$IF"
if fg_run_start "$T/r11.json" "$T/r11.err" --poll wakeup --queues 0 --json; then
	fg_expect_err "queue busy" fg_in_rx "$F" run "$IF" --queues 0 --poll wakeup
	# 32 feeds hash over all 4 queues; only queue 0's reach this consumer
	gen --rate 10000 --count 3200 --feeds 32 >/dev/null
	fg_run_stop
	fg_eq "first run unharmed by the second" "$FG_RUN_RC" 0
	[ "$(fg_jfile "$T/r11.json" "d['total']['packets']")" -gt 0 ] 2>/dev/null || fg_bad "first run lost its traffic"
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/r11.err")"
fi
fg_end

exit 0
