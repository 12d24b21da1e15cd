#!/usr/bin/env bash
# Live rule changes under load. `feedgate gen --iface` sends 5 ITCH
# feeds (MoldUDP64) into `feedgate run` while FG_LIVE_OPS (default 1000,
# each takes a few ms) rule adds and deletes of OTHER, unused groups go in,
# half through the CLI and half through `bpftool map update/delete` on the
# pinned feed_rules. Checks:
#   unchanged_feeds_lose_nothing  feeds 1-4: received = sent, per feed, and
#                                 MoldUDP64 sequencing saw no gap
#   changed_feed_switches_cleanly feed 5's rule deleted after a third of the
#                                 operations and added again after two thirds:
#                                 its stream has exactly one gap (one clean cut,
#                                 one clean resume) and no duplicate
#   churn_left_rules_as_before    the rule set after the churn is the one before
# The rate: FG_LIVE_PPS packets/s x FG_LIVE_MPP messages per packet, default
# 20,000 x 10 = 200,000 messages/s over the 5 feeds.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
fg_require_root
fg_require_tools bpftool python3 nsenter
F=$FEEDGATE
OPS=${FG_LIVE_OPS:-1000}
PPS=${FG_LIVE_PPS:-20000}
MPP=${FG_LIVE_MPP:-10}
fg_scratch live
fg_lab_up 1
PIN=/sys/fs/bpf/feedgate/$IF
rx() { fg_in_rx "$F" "$@"; }

rx attach "$IF" --mode skb >/dev/null || {
	echo "FAIL setup: attach failed"
	exit 1
}
for f in 1 2 3 4 5; do
	rx rule add "$IF" "239.1.1.$f:$((4999 + f))" --feed "LIVE$f" >/dev/null || {
		echo "FAIL setup: rule add failed"
		exit 1
	}
done
rx rule list "$IF" --json | python3 -c 'import json,sys; print(sorted(r["rule"] for r in json.load(sys.stdin)["rules"]))' >"$T/rules0"

if ! fg_run_start "$T/run.json" "$T/run.err" --poll wakeup --symbols AAPL --json; then
	echo "FAIL unchanged_feeds_lose_nothing: run did not start: $(head -c 300 "$T/run.err")"
	exit 1
fi

# The churn runs while gen sends; gen's duration covers it with room to spare.
fg_bg nsenter --net=/var/run/netns/"$FG_NS_TX" -- "$F" gen --iface "$FG_IF_TX" --rate "$PPS" \
	--messages-per-packet "$MPP" --feeds 5 --duration $((OPS / 20 + 20)) >"$T/gen.txt" 2>"$T/gen.err"
GEN=$FG_BG_PID
sleep 0.5

# bpftool key/value bytes for group 239.3.X.Y:7000 (include/fg_maps.h):
# key {family 2, pad, dport BE, addr[4]}; value {rule_id LE, action 3,
# plen 0, feed_id LE, src_addr[16], name[16]}.
hexkey() { printf '02 00 1b 58 ef 03 %02x %02x 00 00 00 00 00 00 00 00 00 00 00 00' "$1" "$2"; }
hexval() {
	printf '%02x %02x 00 00 03 00 %02x %02x' $(($1 & 255)) $(($1 >> 8)) $(($1 & 255)) $(($1 >> 8))
	printf ' 00%.0s' $(seq 1 32)
}
errs=""
t0=$(date +%s.%N)
for i in $(seq 1 "$OPS"); do
	x=$(((i / 250) % 250 + 1))
	y=$((i % 250 + 1))
	if [ $((i % 2)) -eq 0 ]; then
		# CLI: add then (next even op) delete, so at most one is in at a time.
		if [ $((i % 4)) -eq 2 ]; then
			rx rule add "$IF" "239.2.$x.$y:6000" >/dev/null 2>>"$T/churn.err" || errs="$errs cli-add#$i"
			last_cli="239.2.$x.$y:6000"
		else
			rx rule del "$IF" "${last_cli:-239.2.0.0:6000}" >/dev/null 2>>"$T/churn.err" || errs="$errs cli-del#$i"
			last_cli=""
		fi
	else
		if [ $((i % 4)) -eq 1 ]; then
			# shellcheck disable=SC2046
			bpftool map update pinned "$PIN/feed_rules" key hex $(hexkey $x $y) \
				value hex $(hexval $((4000 + i % 90))) 2>>"$T/churn.err" || errs="$errs bpf-add#$i"
			last_bpf="$x $y"
		else
			# shellcheck disable=SC2046,SC2086
			bpftool map delete pinned "$PIN/feed_rules" key hex $(hexkey ${last_bpf:-0 0}) \
				2>>"$T/churn.err" || errs="$errs bpf-del#$i"
			last_bpf=""
		fi
	fi
	if [ "$i" -eq $((OPS / 3)) ]; then
		rx rule del "$IF" 239.1.1.5:5004 >/dev/null || errs="$errs del-feed5"
	elif [ "$i" -eq $((2 * OPS / 3)) ]; then
		rx rule add "$IF" 239.1.1.5:5004 --feed LIVE5 >/dev/null || errs="$errs readd-feed5"
	fi
done
t1=$(date +%s.%N)
# Leave any odd last add removed.
[ -n "${last_cli:-}" ] && rx rule del "$IF" "$last_cli" >/dev/null
# shellcheck disable=SC2046,SC2086
[ -n "${last_bpf:-}" ] && bpftool map delete pinned "$PIN/feed_rules" key hex $(hexkey $last_bpf)
kill -INT $GEN 2>/dev/null
wait $GEN
sleep 0.5
fg_run_stop
rrc=$FG_RUN_RC
secs=$(python3 -c "print('%.1f' % ($t1 - $t0))")

fg_case unchanged_feeds_lose_nothing
bad=""
[ -z "$errs" ] || bad="$bad; rule operations failed:$errs ($(head -1 "$T/churn.err"))"
[ $rrc -eq 0 ] || bad="$bad; run exited $rrc"
summary=""
for f in 1 2 3 4; do
	sent=$(fg_gen_sent "$T/gen.txt" $f)
	got=$(fg_jfile "$T/run.json" "[x['packets'] for x in d['feeds'] if x['group'] == '239.1.1.$f:$((4999 + f))'][0]")
	# The feed's stream (named by its rule's --feed) in the pipeline that
	# owned it; none at all is a failure, not zero gaps.
	gaps=$(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
s = [s for p in d['pipeline'] for s in p['streams'] if s['name'] == sys.argv[2] and s['packets']]
print(sum(x['gaps'] for x in s) if s else 'no stream')" "$T/run.json" "LIVE$f" 2>/dev/null)
	[ -n "$sent" ] && [ "$sent" -gt 0 ] || bad="$bad; feed $f: gen sent nothing"
	[ "$got" = "$sent" ] || bad="$bad; feed $f: sent $sent, received $got"
	[ "$gaps" = 0 ] || bad="$bad; feed $f: $gaps gaps"
	summary="$summary $f:$got"
done
if [ -z "$bad" ]; then
	fg_pass "$OPS rule operations in $secs s while feeds ran; received per feed$summary; gaps 0"
else
	fg_fail "${bad#; }"
fi

fg_case changed_feed_switches_cleanly
read -r g5 d5 n5 u5 < <(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
s = [s for p in d['pipeline'] for s in p['streams'] if s['name'] == 'LIVE5' and s['packets']]
print(sum(x['gaps'] for x in s), sum(x['duplicates'] for x in s), len(s), d['pipeline'][0]['unmatched'])" "$T/run.json" 2>/dev/null)
if [ "${g5:-x}" = 1 ] && [ "${d5:-x}" = 0 ] && [ "${n5:-x}" = 1 ] && [ "${u5:-x}" = 0 ]; then
	fg_pass "one gap, no duplicate, one stream, nothing unmatched"
else
	fg_fail "feed 5: gaps ${g5:-?} (want 1), duplicates ${d5:-?} (want 0), streams ${n5:-?} (want 1), unmatched frames ${u5:-?} (want 0)"
fi

fg_case churn_left_rules_as_before
rx rule list "$IF" --json | python3 -c 'import json,sys; print(sorted(r["rule"] for r in json.load(sys.stdin)["rules"]))' >"$T/rules1"
if cmp -s "$T/rules0" "$T/rules1"; then
	fg_pass
else
	fg_fail "before $(cat "$T/rules0"), after $(cat "$T/rules1")"
fi
exit $FG_FAILED
