#!/usr/bin/env bash
# Live feed integrity end to end: two feeds, each on an A and a B line
# (gen --lines 2), independent loss on each line plus loss on both, and the
# generator's re-request server, into `feedgate run` on a 4-queue veth pair
# between two namespaces made here. The strategy's view is the --decode
# stream: per feed, every message once, in sequence order, or a precise gap.
#
# Cases (each prints PASS / FAIL / SKIPPED):
#   lines_across_queues    the A and B lines of the feeds land on different
#                          receive queues (the case below needs that)
#   ab_loss_recovered      2% loss per line and 1% on both, a server: each feed
#                          delivers exactly the messages gen made, once, in
#                          order; what both lines lost comes back (recovered
#                          gap events, recovery latency); per-line duplicates
#                          and loss counted; the summary on stdout parses
#   silent_server          the server never answers: every range both lines
#                          lost is one unrecovered gap event, precise (first,
#                          last, count), and the stream goes on in order
#   partial_server         the server answers half of each request: asked
#                          again until whole, nothing unrecovered
#   garbage_server         malformed replies and wrong sessions are counted,
#                          never merged: the lost ranges end as gaps
#   no_server_same_stream  no --rerequest: A/B arbitration alone, gaps for
#                          what both lines lost, each message once
#   starved_tail           the consumer stopped through the end of the stream
#                          (its ring overflows, the last packets and closing
#                          heartbeats lost on both lines): the server's next
#                          heartbeat shows the end, the tail is recovered
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

fg_require_root
fg_require_tools python3 nsenter
F=$FEEDGATE
T=$(mktemp -d /tmp/fg-ab.XXXXXX)
fg_lab_setup 4 || {
	echo "FAIL lab_setup: couldn't make the namespaces and veth pair"
	exit 1
}
trap 'fg_lab_teardown; rm -rf "$T"' EXIT
IF=$FG_IF_RX
SERVER=$FG_TX_ADDR:9000
COUNT=${FG_AB_COUNT:-6000}
RATE=${FG_AB_RATE:-6000}
rx() { fg_in_rx "$F" "$@"; }
gen() { fg_in_tx "$F" gen --iface "$FG_IF_TX" --tx afpacket --feeds 2 --lines 2 --seed 11 "$@"; }
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }

rx attach "$IF" --policy drop >/dev/null &&
	rx rule add "$IF" 239.1.1.1:5000 --feed F1 >/dev/null &&
	rx rule add "$IF" 239.2.1.1:5000 --feed F1 >/dev/null &&
	rx rule add "$IF" 239.1.1.2:5001 --feed F2 >/dev/null &&
	rx rule add "$IF" 239.2.1.2:5001 --feed F2 >/dev/null || {
	echo "FAIL setup: attach / rule add failed"
	exit 1
}

# check NAME FEED...: the decode stream of run NAME against what gen made.
# Prints a python verdict: "ok" or the first problem.
check_stream() {
	python3 - "$T/$1.decode" "$T/$1.gen" "$T/$1.json" "$2" <<'PYEOF'
import json, re, sys
decode, genrep, summary, want_state = sys.argv[1:5]
made = {}
for line in open(genrep):
    m = re.match(r"feed (\d+) \S+ session \S+ packets \d+ messages (\d+)", line)
    if m:
        made["F" + m.group(1)] = int(m.group(2))
seen = {f: [] for f in made}
gaps = {f: [] for f in made}
for n, line in enumerate(open(decode)):
    d = json.loads(line)
    if d.get("event") == "gap":
        gaps[d["feed"]].append(d)
        continue
    if "seq" in d:
        seen[d["feed"]].append((d["seq"], n))
problems = []
for f, total in made.items():
    seqs = [s for s, _ in seen[f]]
    if seqs != sorted(set(seqs)):
        problems.append("%s: messages out of order or twice" % f)
    lost = set()
    for g in gaps[f]:
        if g["count"] != g["last"] - g["first"] + 1:
            problems.append("%s: gap count %d for %d-%d" % (f, g["count"], g["first"], g["last"]))
        if g["state"] == "unrecovered":
            lost |= set(range(g["first"], g["last"] + 1))
            # before the message that follows it
            after = [n for s, n in seen[f] if s == g["last"] + 1]
            before = [n for s, n in seen[f] if s == g["first"] - 1]
    got = set(seqs)
    if got & lost:
        problems.append("%s: delivered inside an unrecovered gap" % f)
    if got | lost != set(range(1, total + 1)):
        missing = sorted(set(range(1, total + 1)) - got - lost)[:5]
        problems.append("%s: %d of %d made neither delivered nor in a gap (e.g. %s)" %
                        (f, total - len(got | lost), total, missing))
    states = {g["state"] for g in gaps[f]}
    if want_state == "none" and lost:
        problems.append("%s: %d messages unrecovered" % (f, len(lost)))
    if want_state == "lost" and not lost:
        problems.append("%s: nothing unrecovered though the server was no help" % f)
    print("%s made %d delivered %d unrecovered %d recovered_events %d" %
          (f, total, len(got), len(lost), sum(1 for g in gaps[f] if g["state"] == "recovered")),
          file=sys.stderr)
print("; ".join(problems) if problems else "ok")
PYEOF
}

# run_ab NAME GENARGS... -- RUNARGS...: one run of the two feeds
run_ab() {
	local name=$1 ga=() ra=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do ga+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	ra=("$@")
	if ! fg_run_start "$T/$name.json" "$T/$name.err" --poll wakeup --json --decode "$T/$name.decode" \
		"${ra[@]}"; then
		fg_bad "run did not start: $(tr '\n' '|' <"$T/$name.err")"
		return 1
	fi
	gen --rate "$RATE" --count "$COUNT" "${ga[@]}" >"$T/$name.gen" 2>&1 || fg_bad "gen failed: $(tail -2 "$T/$name.gen" | tr '\n' '|')"
	sleep 1.5
	fg_run_stop
	fg_eq "run exit status" "$FG_RUN_RC" 0
	python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/$name.json" 2>/dev/null ||
		fg_bad "summary is not one JSON object: $(head -c 200 "$T/$name.json")"
}

stream() { py "$T/$1.json" "[s for s in d['feeds_sequenced'] if s['name'] == '$2'][0]$3"; }

fg_begin ab_loss_recovered
if run_ab ab --loss 0.02,0.02 --loss-both 0.01 --serve-rerequest "$SERVER" -- \
	--rerequest "F1=$SERVER" --rerequest "F2=$SERVER"; then
	v=$(check_stream ab none 2>"$T/ab.check")
	[ "$v" = ok ] || fg_bad "${v:-the stream check crashed}"
	for f in F1 F2; do
		rec=$(stream ab $f "['recovered']")
		[ "${rec:-0}" -gt 0 ] || fg_bad "$f: nothing recovered though both lines lost packets"
		fg_eq "$f unrecovered" "$(stream ab $f "['gap_messages']")" 0
		dup=$(stream ab $f "['duplicates']")
		[ "${dup:-0}" -gt 0 ] || fg_bad "$f: no duplicates counted from two lines"
		for l in 0 1; do
			loss=$(stream ab $f "['lines'][$l]['loss']")
			[ "${loss:-0}" -gt 0 ] || fg_bad "$f line $l: no loss counted (gen dropped 3%)"
		done
		p99=$(stream ab $f "['recovery_ns']['p99']")
		[ "${p99:-0}" -gt 0 ] || fg_bad "$f: no recovery latency"
	done
	# the summary's feeds are the four lines, not the pass rule the run adds
	# for the re-request replies
	groups=$(py "$T/ab.json" "' '.join(sorted(f['group'] for f in d['feeds']))")
	[ "$(wc -w <<<"$groups")" -eq 4 ] && [[ "$groups" != *0.0.0.0* ]] ||
		fg_bad "summary feeds are not the 4 lines: $groups"
	# the live line: per feed, messages and gaps as they come
	grep -Eq "feeds: F[12] [0-9]+ msgs, gaps [0-9]+ recovered [0-9]+ lost, held [0-9]+" "$T/ab.err" ||
		fg_bad "no per-feed counters in the live line: $(grep -m1 ' af_xdp ' "$T/ab.err")"
	note="$(tr '\n' ' ' <"$T/ab.check")recovery p50 $(stream ab F1 "['recovery_ns']['p50']") ns, p99 $(stream ab F1 "['recovery_ns']['p99']") ns"
else
	note=""
fi
fg_end "$note"

fg_begin lines_across_queues
fw=$(py "$T/ab.json" "d['router']['forwarded']")
[ "${fw:-0}" -gt 0 ] || fg_bad "no frame was handed to another queue's thread: the lines share a queue (router forwarded ${fw:-none})"
fg_end "${fw:-0} frames handed to the thread of their feed"

fg_begin silent_server
if run_ab silent --loss 0.02,0.02 --loss-both 0.01 --serve-rerequest "$SERVER" --serve-mode silent -- \
	--rerequest "F1=$SERVER" --rerequest "F2=$SERVER" --gap-wait 500; then
	v=$(check_stream silent lost 2>"$T/silent.check")
	[ "$v" = ok ] || fg_bad "${v:-the stream check crashed}"
	grep -q '"state":"unrecovered","reason":"no reply"' "$T/silent.decode" || fg_bad "no gap event says 'no reply'"
	fg_eq "F1 recovered" "$(stream silent F1 "['recovered']")" 0
fi
fg_end "$(tr '\n' ' ' <"$T/silent.check" 2>/dev/null)"

fg_begin partial_server
if run_ab partial --loss-both 0.02 --messages-per-packet 8 --serve-rerequest "$SERVER" --serve-mode partial -- \
	--rerequest "F1=$SERVER" --rerequest "F2=$SERVER"; then
	v=$(check_stream partial none 2>"$T/partial.check")
	[ "$v" = ok ] || fg_bad "${v:-the stream check crashed}"
fi
fg_end "$(tr '\n' ' ' <"$T/partial.check" 2>/dev/null)"

fg_begin garbage_server
if run_ab garbage --loss-both 0.02 --serve-rerequest "$SERVER" --serve-mode garbage -- \
	--rerequest "F1=$SERVER" --rerequest "F2=$SERVER"; then
	v=$(check_stream garbage lost 2>"$T/garbage.check")
	[ "$v" = ok ] || fg_bad "${v:-the stream check crashed}"
	bad=$(stream garbage F1 "['replies_rejected']['malformed'] + d['feeds_sequenced'][0]['replies_rejected']['wrong_session']")
	[ "${bad:-0}" -gt 0 ] || fg_bad "no rejected reply counted"
	fg_eq "F1 reply messages merged" "$(stream garbage F1 "['reply_messages']")" 0
fi
fg_end "$(tr '\n' ' ' <"$T/garbage.check" 2>/dev/null)"

fg_begin no_server_same_stream
if run_ab nosrv --loss 0.03,0.03 --loss-both 0.01 --; then
	v=$(check_stream nosrv lost 2>"$T/nosrv.check")
	[ "$v" = ok ] || fg_bad "${v:-the stream check crashed}"
fi
fg_end "$(tr '\n' ' ' <"$T/nosrv.check" 2>/dev/null)"
# A consumer starved of its CPU (SIGSTOP) through the end of the stream: its
# 256-entry ring overflows, and the last packets and the closing heartbeats
# are dropped on both lines. The heartbeat the server's feed sends a second
# later shows where the feed ends: the tail is asked for and delivered.
fg_begin starved_tail
if fg_run_start "$T/tail.json" "$T/tail.err" --poll wakeup --json --decode "$T/tail.decode" --ring 256 \
	--rerequest "F1=$SERVER" --rerequest "F2=$SERVER"; then
	fg_bg gen --rate "$RATE" --count "$COUNT" --serve-rerequest "$SERVER" --serve-linger 3 >"$T/tail.gen" 2>&1
	gpid=$FG_BG_PID
	sleep 0.5
	kill -STOP "$FG_RUN_PID"
	sleep 1.2 # past the last packet and the closing heartbeats, before the next
	kill -CONT "$FG_RUN_PID"
	wait "$gpid" || fg_bad "gen failed: $(tail -2 "$T/tail.gen" | tr '\n' '|')"
	fg_bg_forget "$gpid"
	sleep 0.5
	fg_run_stop
	fg_eq "run exit status" "$FG_RUN_RC" 0
	drops=$(py "$T/tail.json" "d['total']['kstats']['rx_dropped'] + d['total']['kstats']['rx_ring_full']")
	[ "${drops:-0}" -gt 0 ] || fg_bad "the ring did not overflow (drops ${drops:-?}): the case proves nothing"
	v=$(check_stream tail none 2>"$T/tail.check")
	[ "$v" = ok ] || fg_bad "${v:-the stream check crashed}"
	# and the tail came back through the server: a recovered range ending
	# at the last message made, per feed (not merely a late closing heartbeat)
	t=$(python3 - "$T/tail.decode" "$T/tail.gen" <<'PYEOF'
import json, re, sys
made = {}
for line in open(sys.argv[2]):
    m = re.match(r"feed (\d+) \S+ session \S+ packets \d+ messages (\d+)", line)
    if m:
        made["F" + m.group(1)] = int(m.group(2))
end = {f: False for f in made}
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("event") == "gap" and d.get("state") == "recovered" and d.get("feed") in made \
            and d["last"] == made[d["feed"]]:
        end[d["feed"]] = True
print(" ".join(sorted(f for f, ok in end.items() if not ok)) if made else "no feed in the report")
PYEOF
)
	[ -z "$t" ] || fg_bad "the tail was not recovered through the server for: $t"
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/tail.err")"
fi
fg_end "$(tr '\n' ' ' <"$T/tail.check" 2>/dev/null)drops ${drops:-?}"
rx detach "$IF" >/dev/null 2>&1
exit 0
