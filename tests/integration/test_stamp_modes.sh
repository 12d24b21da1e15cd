#!/usr/bin/env bash
# The XDP stamp in every mode (attach --stamp meta|head|none), end to end on a
# veth pair between two namespaces made here: the same generated feeds
# through `feedgate run --decode` must give the same per-feed counts and the
# same decoded messages whatever carries (or does not carry) each frame's
# feed; only the XDP -> consumer latency needs a stamp.
#
# Cases (each prints PASS / FAIL / SKIPPED):
#   auto_mode              attach picks meta where the kernel takes
#                          bpf_xdp_adjust_meta for XDP, else head, and says so
#   mode_meta              --stamp meta: every frame stamped in the metadata
#                          (SKIPPED where the kernel refuses the helper; make
#                          test-kernel runs it on Debian's stock kernel)
#   meta_refused           --stamp meta where the kernel refuses it: one line,
#                          nothing attached
#   mode_head              --stamp head: every frame carries the prepended
#                          record, the consumer steps over it
#   mode_none              --stamp none: every frame classified by the rules
#   same_in_every_mode     per-feed counts and --decode output identical
#                          across the modes that ran, and equal to `replay` of
#                          the same generated traffic
#   mode_change_live       the mode flipped every 0.2 s while traffic flows:
#                          nothing misread, lost or left unclassified
#   rules_followed_live    stamp none: a rule added while run runs is
#                          classified into its feed from then on
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

fg_require_root
fg_require_tools python3 nsenter
F=$FEEDGATE
if [ ! -x "$F" ]; then
	echo "FAIL test_stamp_modes: $F not built (make)"
	exit 1
fi
T=$(mktemp -d /tmp/fg-stamp.XXXXXX)
fg_lab_setup 1 || {
	echo "FAIL lab_setup: couldn't make the namespaces and veth pair"
	exit 1
}
trap 'fg_lab_teardown; rm -rf "$T"' EXIT
IF=$FG_IF_RX
COUNT=${FG_STAMP_COUNT:-3000} # packets per run (2 feeds, 4 messages each)
RATE=${FG_STAMP_RATE:-20000}

rx() { fg_in_rx "$F" "$@"; }
# The generated feeds: 239.1.1.1:5000 and 239.1.1.2:5001, fixed seed.
GEN_ARGS="--feeds 2 --seed 5 --messages-per-packet 4"
gen() { fg_in_tx "$F" gen --iface "$FG_IF_TX" --tx afpacket $GEN_ARGS "$@"; }
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }
feed_sent() { awk -v f="$2" '$1 == "feed" && $2 == f { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }' "$1"; }

# attach_mode MODE: a fresh filter in MODE with the two feeds' rules; prints attach's line.
attach_mode() {
	rx detach "$IF" >/dev/null 2>&1
	rx attach "$IF" --policy drop --stamp "$1" || return 1
	rx rule add "$IF" 239.1.1.1:5000 --feed A >/dev/null || return 1
	rx rule add "$IF" 239.1.1.2:5001 --feed B >/dev/null || return 1
}

# The reference: the same traffic as a capture, decoded by replay.
"$F" gen --pcap "$T/ref.pcap" $GEN_ARGS --count "$COUNT" --rate "$RATE" >"$T/ref.gen" 2>&1
"$F" replay "$T/ref.pcap" --decode "$T/ref.decode" >/dev/null 2>&1
# run names the feeds after their rules, replay after their groups: compare the rest
unfeed() { sed -E 's/^\{"feed":"[^"]*",/{/' "$1"; }
REF_MD5=$(unfeed "$T/ref.decode" | md5sum | cut -d' ' -f1)
REF_LINES=$(wc -l <"$T/ref.decode")

# run_mode NAME: one run over COUNT generated packets in the mode attached now;
# leaves $T/NAME.json (summary), $T/NAME.decode, $T/NAME.gen.
run_mode() {
	local name=$1
	if ! fg_run_start "$T/$name.json" "$T/$name.err" --poll wakeup --json --decode "$T/$name.decode"; then
		fg_bad "run did not start: $(tr '\n' '|' <"$T/$name.err")"
		return 1
	fi
	gen --rate "$RATE" --count "$COUNT" >"$T/$name.gen" 2>&1 || fg_bad "gen failed: $(tail -1 "$T/$name.gen")"
	sleep 0.3
	fg_run_stop
	fg_eq "run exit status" "$FG_RUN_RC" 0
}

# check_mode NAME STAMP_KEY LAT: every frame counted under STAMP_KEY (stamp_meta,
# stamp_head or classified); XDP latency samples for each (LAT=1) or none.
check_mode() {
	local name=$1 key=$2 lat=$3 total got f sent
	total=$(py "$T/$name.json" "d['total']['packets']")
	fg_eq "packets received" "$total" "$COUNT"
	got=$(py "$T/$name.json" "d['total']['kstats']['$key']")
	fg_eq "$key" "$got" "$COUNT"
	fg_eq "unclassified" "$(py "$T/$name.json" "d['total']['kstats']['unclassified']")" 0
	for f in 1 2; do
		sent=$(feed_sent "$T/$name.gen" $f)
		got=$(py "$T/$name.json" "[x['packets'] for x in d['feeds'] if x['group'] == '239.1.1.$f:$((4999 + f))'][0]")
		fg_eq "feed $f sent vs received" "$got" "$sent"
	done
	got=$(py "$T/$name.json" "d['total']['latency_rx_ns']['count']")
	if [ "$lat" = 1 ]; then
		fg_eq "XDP -> consumer latency samples" "$got" "$COUNT"
	else
		fg_eq "XDP -> consumer latency samples (no stamp)" "$got" 0
	fi
	fg_eq "decoded messages ($name vs replay)" "$(wc -l <"$T/$name.decode")" "$REF_LINES"
	fg_eq "decode output ($name vs replay) md5" "$(unfeed "$T/$name.decode" | md5sum | cut -d' ' -f1)" "$REF_MD5"
}

META_OK=1
fg_begin auto_mode
rx detach "$IF" >/dev/null 2>&1
line=$(rx attach "$IF" 2>&1)
case $line in
*"stamp meta"*) AUTO=meta ;;
*"stamp head (the kernel refuses bpf_xdp_adjust_meta)"*) AUTO=head META_OK=0 ;;
*) AUTO=?; fg_bad "attach line names no stamp mode: $line" ;;
esac
s=$(rx stats "$IF" --json 2>/dev/null)
fg_eq "stats --json stamp" "$(fg_json "$s" "d['stamp']")" "$AUTO"
fg_eq "stats --json meta_helper" "$(fg_json "$s" "d['meta_helper']")" "$([ $META_OK = 1 ] && echo true || echo false)"
rx stats "$IF" | head -1 | grep -q "stamp $AUTO" || fg_bad "stats does not name the stamp mode: $(rx stats "$IF" | head -1)"
fg_end "kernel $(uname -r): auto = $AUTO"

RAN=""
fg_case mode_meta
if [ $META_OK = 0 ]; then
	fg_skip "kernel $(uname -r) refuses bpf_xdp_adjust_meta in XDP programs (make test-kernel runs this on Debian's stock kernel)"
else
	fg_begin mode_meta
	if attach_mode meta >/dev/null; then
		run_mode meta && check_mode meta stamp_meta 1
		RAN="$RAN meta"
	else
		fg_bad "attach --stamp meta failed"
	fi
	fg_end
fi

fg_begin meta_refused
if [ $META_OK = 0 ]; then
	rx detach "$IF" >/dev/null 2>&1
	fg_expect_err "refuses bpf_xdp_adjust_meta" fg_in_rx "$F" attach "$IF" --stamp meta
	fg_in_rx ip link show "$IF" | grep -q " xdp" && fg_bad "something attached after the refusal"
	fg_end
else
	fg_skip "kernel takes bpf_xdp_adjust_meta: nothing to refuse"
fi

for mode in head none; do
	fg_begin mode_$mode
	if attach_mode $mode >/dev/null; then
		if run_mode $mode; then
			if [ $mode = head ]; then check_mode head stamp_head 1; else check_mode none classified 0; fi
		fi
		RAN="$RAN $mode"
	else
		fg_bad "attach --stamp $mode failed"
	fi
	fg_end
done

fg_begin same_in_every_mode
first=""
for m in $RAN; do
	c=$(unfeed "$T/$m.decode" | md5sum | cut -d' ' -f1)
	[ -z "$first" ] && first=$c
	[ "$c" = "$first" ] || fg_bad "--decode differs between modes ($m)"
	for f in 1 2; do
		echo "$m $f $(py "$T/$m.json" "[x['packets'] for x in d['feeds'] if x['group'] == '239.1.1.$f:$((4999 + f))'][0]")"
	done
done >"$T/counts"
[ -n "$first" ] || fg_bad "no mode ran"
for f in 1 2; do
	n=$(awk -v f=$f '$2 == f { print $3 }' "$T/counts" | sort -u | wc -l)
	[ "$n" = 1 ] || fg_bad "feed $f counts differ between modes: $(tr '\n' ' ' <"$T/counts")"
done
fg_end "modes:$RAN"

# --- the mode flipped under traffic ------------------------------------------------------------
fg_begin mode_change_live
modes="none head"
[ $META_OK = 1 ] && modes="none meta head"
if attach_mode head >/dev/null && fg_run_start "$T/flip.json" "$T/flip.err" --poll wakeup --json --decode "$T/flip.decode"; then
	# The traffic lasts DUR seconds (longer under emulation: make test-kernel
	# sets FG_SLOW); the mode changes twice through the list meanwhile, at
	# even steps, whatever time each change itself takes.
	dur=$((3 * ${FG_SLOW:-1}))
	nsteps=$(($(echo $modes | wc -w) * 2))
	step=$(python3 -c "print($dur / ($nsteps + 1))")
	(
		for m in $modes $modes; do
			sleep "$step"
			fg_in_rx "$F" attach "$IF" --stamp $m >/dev/null 2>>"$T/flip.attach" || exit 1
		done
	) &
	flipper=$!
	FG_BG_PIDS="$FG_BG_PIDS $flipper"
	gen --rate $((COUNT / dur)) --count "$COUNT" >"$T/flip.gen" 2>&1 || fg_bad "gen failed"
	wait $flipper 2>/dev/null
	sleep 0.3
	fg_run_stop
	fg_eq "run exit status" "$FG_RUN_RC" 0
	[ -s "$T/flip.attach" ] && fg_bad "attach --stamp failed: $(head -1 "$T/flip.attach")"
	fg_eq "packets received" "$(py "$T/flip.json" "d['total']['packets']")" "$COUNT"
	fg_eq "unclassified" "$(py "$T/flip.json" "d['total']['kstats']['unclassified']")" 0
	sum=$(py "$T/flip.json" "d['total']['kstats']['stamp_meta'] + d['total']['kstats']['stamp_head'] + d['total']['kstats']['classified']")
	fg_eq "stamped + classified" "$sum" "$COUNT"
	for k in stamp_head classified; do
		[ "$(py "$T/flip.json" "d['total']['kstats']['$k']")" -gt 0 ] 2>/dev/null || fg_bad "no frame counted as $k: the mode never changed?"
	done
	fg_eq "decode output vs replay md5" "$(unfeed "$T/flip.decode" | md5sum | cut -d' ' -f1)" "$REF_MD5"
	note="meta $(py "$T/flip.json" "d['total']['kstats']['stamp_meta']"), head $(py "$T/flip.json" "d['total']['kstats']['stamp_head']"), rules $(py "$T/flip.json" "d['total']['kstats']['classified']")"
else
	fg_bad "setup failed: $(tr '\n' '|' <"$T/flip.err" 2>/dev/null)"
	note=""
fi
fg_end "$note"

# --- rules followed live without a stamp ----------------------------------------------------------
fg_begin rules_followed_live
if attach_mode none >/dev/null && rx rule del "$IF" 239.1.1.2:5001 >/dev/null &&
	rx rule add "$IF" 0.0.0.0:5001 --feed W --action pass >/dev/null &&
	fg_run_start "$T/live.json" "$T/live.err" --poll wakeup --json; then
	# Feed 2 is only passed to the stack: nothing of it reaches the socket.
	gen --rate "$RATE" --count 400 >"$T/live1.gen" 2>&1
	rx rule del "$IF" 0.0.0.0:5001 >/dev/null
	rx rule add "$IF" 239.1.1.2:5001 --feed LATE >/dev/null
	sleep 0.6 # the consumer reads the rules every 250 ms
	gen --rate "$RATE" --count 400 >"$T/live2.gen" 2>&1
	sleep 0.3
	fg_run_stop
	sent2=$(feed_sent "$T/live2.gen" 2)
	got=$(py "$T/live.json" "[x['packets'] for x in d['feeds'] if x['group'] == '239.1.1.2:5001'][0]")
	fg_eq "late feed's packets (sent after its rule)" "$got" "$sent2"
	fg_eq "unclassified" "$(py "$T/live.json" "d['total']['kstats']['unclassified']")" 0
else
	fg_bad "setup failed"
fi
fg_end
rx detach "$IF" >/dev/null 2>&1
exit 0
