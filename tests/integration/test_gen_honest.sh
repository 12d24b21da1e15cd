#!/usr/bin/env bash
# gen says what left, on a veth
# pair between two namespaces made here. gen reads the sending end's TX
# counters (tx_packets, tx_dropped) before and after it sends and reports
# what the device took and dropped; when the device took fewer frames than
# were sent, or the rate reached is below --rate, by more than 3%, one
# warning line goes to stderr, and --strict makes that exit status 1.
#
# Cases (each prints PASS / FAIL / SKIPPED):
#   normal_send_is_quiet_TX    afpacket, af_xdp: a send the device takes whole
#                              at a rate gen keeps: the device line, no warning,
#                              exit 0, with --strict too
#   peer_down_is_told_TX       the receiving end down: gen ends, the device took
#                              nothing and dropped every frame, one warning line
#                              saying so; exit 0, with --strict exit 1
#   impossible_rate_is_told    --rate 5000000, far above what AF_PACKET reaches:
#                              one warning line naming the rate reached; exit 0,
#                              with --strict exit 1
#   strict_needs_an_interface  --strict with --pcap: a usage error
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

fg_require_root
fg_require_tools nsenter timeout
fg_require_built "$FEEDGATE"
F=$FEEDGATE
fg_scratch honest
fg_lab_up 1

# send OUT ARGS...: gen on the tx end (a minute at most: a gen that never
# ends is a failure too); stdout OUT.txt, stderr OUT.err, status in RC.
send() {
	local out=$1
	shift
	fg_in_tx timeout -s INT 60 "$F" gen --iface "$FG_IF_TX" --feeds 2 "$@" >"$out.txt" 2>"$out.err"
	RC=$?
}

# warnings OUT: gen's "feedgate:" lines on stderr (the start line is not one).
warnings() { grep '^feedgate: ' "$1.err"; }

# carrier up|down: wait (2 s at most) until the tx end sees the link so.
carrier() {
	local _
	for _ in $(seq 1 40); do
		if fg_in_tx ip link show "$FG_IF_TX" | grep -q NO-CARRIER; then
			[ "$1" = down ] && return 0
		else
			[ "$1" = up ] && return 0
		fi
		sleep 0.05
	done
	return 1
}

# --- a normal send: the device line, nothing on stderr -----------------------------------------
for tx in afpacket af_xdp; do
	fg_begin "normal_send_is_quiet_$tx"
	send "$T/n_$tx" --tx "$tx" --rate 10000 --count 5000
	fg_eq "exit status" "$RC" 0
	took=$(sed -n "s/^device $FG_IF_TX: took \([0-9]*\) frames (tx_packets), dropped \([0-9]*\) (tx_dropped)$/\1 \2/p" "$T/n_$tx.txt")
	read -r t d <<<"${took:-x x}"
	if [ "$t" = x ] || [ "$t" -lt 5000 ]; then
		fg_bad "device line: '$(grep '^device' "$T/n_$tx.txt")', want 5000 or more taken"
	fi
	fg_eq "frames dropped by the device" "$d" 0
	fg_eq "warnings" "$(warnings "$T/n_$tx")" ""
	send "$T/ns_$tx" --tx "$tx" --rate 10000 --count 5000 --strict
	fg_eq "--strict: exit status" "$RC" 0
	fg_eq "--strict: warnings" "$(warnings "$T/ns_$tx")" ""
	fg_end "$(grep '^device' "$T/n_$tx.txt")"
done

# --- the peer down: the device drops everything, and gen says so ----------------------------
fg_in_rx ip link set "$FG_IF_RX" down
carrier down || echo "  (the tx end still shows a carrier 2 s after the peer went down)"
for tx in afpacket af_xdp; do
	fg_begin "peer_down_is_told_$tx"
	for strict in "" --strict; do
		out=$T/d_$tx${strict:+_strict}
		send "$out" --tx "$tx" --rate 20000 --count 2000 $strict
		want=0
		[ -n "$strict" ] && want=1
		fg_eq "${strict:-plain}: exit status" "$RC" "$want"
		fg_eq "${strict:-plain}: sent" "$(sed -n 's/^sent \([0-9]*\) packets.*/\1/p' "$out.txt")" 2000
		grep -q "^device $FG_IF_TX: took 0 frames (tx_packets), dropped [0-9]* (tx_dropped)$" "$out.txt" ||
			fg_bad "${strict:-plain}: device line '$(grep '^device' "$out.txt")', want 0 taken"
		w=$(warnings "$out")
		case $w in
		"feedgate: gen: $FG_IF_TX: the device took 0 of the 2000 frames sent (100.00% short; tx_dropped +"[0-9]*")${strict:+ (--strict: exit 1)}") ;;
		*) fg_bad "${strict:-plain}: want one warning that the device took 0 of 2000, got '$(tr '\n' '|' <<<"$w")'" ;;
		esac
	done
	fg_end "$(warnings "$T/d_$tx")"
done
fg_in_rx ip link set "$FG_IF_RX" up
carrier up || echo "  (no carrier on the tx end 2 s after the peer came up)"

# --- a rate gen cannot reach ----------------------------------------------------------------
fg_begin impossible_rate_is_told
for strict in "" --strict; do
	out=$T/r${strict:+_strict}
	send "$out" --tx afpacket --rate 5000000 --count 200000 $strict
	want=0
	[ -n "$strict" ] && want=1
	fg_eq "${strict:-plain}: exit status" "$RC" "$want"
	pct=$(sed -n 's/^sent .*(target 5000000 pps, \([0-9.]*\)%).*/\1/p' "$out.txt")
	[ -n "$pct" ] || fg_bad "${strict:-plain}: no target in the report: $(grep '^sent' "$out.txt")"
	w=$(warnings "$out")
	case $w in
	"feedgate: gen: "*[0-9]" pps reached, $pct% of --rate 5000000${strict:+ (--strict: exit 1)}") ;;
	*) fg_bad "${strict:-plain}: want one warning naming the rate reached ($pct%), got '$(tr '\n' '|' <<<"$w")'" ;;
	esac
done
fg_end "$(warnings "$T/r")"

# --- --strict judges a device: not a file ------------------------------------------------------
fg_begin strict_needs_an_interface
fg_gen_usage "--strict judges what the device took; it does not go with --pcap" \
	--pcap "$T/x.pcap" --count 10 --strict
fg_end

exit $FG_FAILED
