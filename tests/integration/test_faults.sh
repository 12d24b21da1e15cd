#!/usr/bin/env bash
# Fault injection, on a veth pair between two namespaces made here.
#   attach_detach_cycles   attach + detach FG_FAULT_CYCLES times (default 200):
#                          bpftool shows the same number of programs named
#                          fg_xdp_filter and of maps with feedgate's names after
#                          as before, and nothing is left pinned
#   umem_alloc_failure     `run` whose UMEM cannot be allocated (address space
#                          limit): one clear line, non-zero exit, no socket left
#                          in xsk_map, traffic still falls back to the policy
#   sigkill_restart        the consumer killed with SIGKILL and restarted
#                          FG_FAULT_KILLS times (default 10; `make soak` 50)
#                          while 4 feeds flow; the filter stays attached, each
#                          restart takes the queue again, the last run receives
#   bpffs_unmounted        in a mount namespace where /sys/fs/bpf is unmounted
#                          (never the host's: others use it), the CLI still finds
#                          the maps through the kernel: stats, rule add, rule
#                          list work, and the filter keeps redirecting
#   iface_deleted          the interface deleted under `feedgate run`: it stops
#                          within seconds with one "interface removed" line and a
#                          non-zero status; nothing left pinned or attached
# Order-table exhaustion is a library case: tests/unit/test_book.c
# (test_book_overflow_is_counted_not_fatal) and tests/unit/test_faults.c.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
fg_require_root
fg_require_tools bpftool python3 nsenter unshare prlimit
F=$FEEDGATE
CYCLES=${FG_FAULT_CYCLES:-200}
KILLS=${FG_FAULT_KILLS:-10}
fg_scratch faults
fg_lab_up 1
PIN=/sys/fs/bpf/feedgate/$IF
rx() { fg_in_rx "$F" "$@"; }

# Ids of loaded programs named fg_xdp_filter and maps with feedgate's map
# names, one per line. Other engineers' tests load the same names
# concurrently, so the check below compares sets: an id that appeared during
# the cycles and is still there (after up to 10 s) is a leak of ours.
our_ids() {
	{
		bpftool -j prog show 2>/dev/null
		echo
		bpftool -j map show 2>/dev/null
	} | python3 -c '
import json, sys
names = {"fg_xdp_filter", "feed_rules", "rule_stats", "filter_stats", "queue_stats", "fg_config", "xsk_map"}
for doc in sys.stdin.read().split("\n\n"):
    doc = doc.strip()
    if not doc:
        continue
    for o in json.loads(doc):
        if o.get("name") in names:
            print("%s:%s:%d" % ("prog" if "tag" in o else "map", o["name"], o["id"]))
' | sort
}

# --- attach / detach cycles ---------------------------------------------------------------------
fg_begin attach_detach_cycles
our_ids >"$T/ids0"
t0=$(date +%s.%N)
for i in $(seq 1 "$CYCLES"); do
	mode=skb
	[ $((i % 2)) -eq 0 ] && mode=native # veth has native XDP: both paths
	if ! rx attach "$IF" --mode $mode >/dev/null 2>"$T/att.err"; then
		fg_bad "cycle $i: attach failed: $(head -1 "$T/att.err")"
		break
	fi
	if ! rx detach "$IF" >/dev/null 2>"$T/det.err"; then
		fg_bad "cycle $i: detach failed: $(head -1 "$T/det.err")"
		break
	fi
done
t1=$(date +%s.%N)
fg_attached && fg_bad "a program is still attached"
[ -e "$PIN" ] && fg_bad "pins left in $PIN"
for w in $(seq 1 20); do
	our_ids >"$T/ids1"
	left=$(comm -13 "$T/ids0" "$T/ids1" | tr '\n' ' ')
	[ -z "$left" ] && break
	sleep 0.5
done
[ -n "$left" ] && fg_bad "still loaded after the cycles: $left"
n0=$(wc -l <"$T/ids0")
n1=$(wc -l <"$T/ids1")
fg_end "$CYCLES cycles in $(printf '%.1f' "$(echo "$t1 - $t0" | bc 2>/dev/null || echo 0)") s; programs+maps with our names: $n0 before, $n1 after"

# The filter for the remaining cases: 4 feeds, drop policy.
fg_filter_feeds 4 --mode skb --policy drop || {
	echo "FAIL setup: attach / rule add failed"
	exit 1
}

# --- UMEM allocation failure ------------------------------------------------------------------
fg_begin umem_alloc_failure
# 16 MB of address space: enough for feedgate's code and libraries, not for
# its 8 MB UMEM. (Somewhat more and the queue thread's stack fails instead:
# also a clean one-line failure.)
nsenter --net=/var/run/netns/"$FG_NS_RX" -- prlimit --as=16777216 "$F" run "$IF" --poll wakeup \
	--duration 2 >"$T/umem.out" 2>"$T/umem.err"
rc=$?
[ $rc -ne 0 ] || fg_bad "run succeeded under a 16 MB address-space limit"
nl=$(grep -c '^feedgate: ' "$T/umem.err")
[ "$nl" -eq 1 ] || fg_bad "want one 'feedgate:' line, got $nl: $(tr '\n' '|' <"$T/umem.err" | head -c 300)"
grep -qiE 'Segmentation|Aborted|core dumped|AddressSanitizer' "$T/umem.err" && fg_bad "crashed: $(head -c 200 "$T/umem.err")"
# Nothing left registered: feed packets find no socket and count no_socket.
ns0=$(fg_stats "s['queues'][0]['no_socket']")
fg_send udp,$FG_TX_ADDR,239.1.1.1,5000,20
ns1=$(fg_stats "s['queues'][0]['no_socket']")
[ $((ns1 - ns0)) -eq 20 ] 2>/dev/null || fg_bad "no_socket moved by $((ns1 - ns0)), want 20 (a socket left in xsk_map?)"
fg_attached || fg_bad "the filter is no longer attached"
fg_end "exit $rc: $(grep -m1 '^feedgate: ' "$T/umem.err")"

# --- SIGKILL and restart under traffic ----------------------------------------------------------
fg_begin sigkill_restart
fg_bg nsenter --net=/var/run/netns/"$FG_NS_TX" -- "$F" gen --iface "$FG_IF_TX" --rate 4000 \
	--duration $((KILLS * 2 + 30)) --feeds 4 >"$T/gen.txt" 2>&1
GEN=$FG_BG_PID
restarts=0
for k in $(seq 1 "$KILLS"); do
	if ! fg_run_start "$T/k.out" "$T/k.err" --poll wakeup --json; then
		fg_bad "restart $k: run did not start: $(tr '\n' '|' <"$T/k.err" | head -c 300)"
		break
	fi
	sleep 0.3
	fg_run_stop KILL
	restarts=$((restarts + 1))
	fg_attached || {
		fg_bad "after kill $k the filter is no longer attached"
		break
	}
done
# Killed consumers leave nothing registered: traffic falls back to the policy.
ns0=$(fg_stats "s['queues'][0]['no_socket']")
sleep 0.5
ns1=$(fg_stats "s['queues'][0]['no_socket']")
[ "${ns1:-0}" -gt "${ns0:-0}" ] || fg_bad "after the last kill no traffic fell back (no_socket $ns0 -> $ns1)"
if fg_run_start "$T/last.json" "$T/last.err" --poll wakeup --json; then
	sleep 1
	fg_run_stop
	[ $FG_RUN_RC -eq 0 ] || fg_bad "the last run exited $FG_RUN_RC"
	got=$(fg_jfile "$T/last.json" "d['total']['packets']")
	[ "${got:-0}" -gt 0 ] || fg_bad "the last run received nothing"
else
	fg_bad "the last run did not start: $(tr '\n' '|' <"$T/last.err" | head -c 300)"
fi
kill -INT $GEN 2>/dev/null
wait $GEN 2>/dev/null
fg_end "$restarts kills + restarts under 4 feeds at 4,000 packets/s; last run received ${got:-0}"

# --- bpffs unmounted ----------------------------------------------------------------------------
fg_begin bpffs_unmounted
# A private mount namespace: /sys/fs/bpf unmounted there only.
before=$(fg_stats "s['global']['redirected'] + s['global']['drop_fallback'] + s['global']['pass_fallback']")
unshare --mount --propagation private -- bash -c '
	umount /sys/fs/bpf 2>/dev/null || umount -l /sys/fs/bpf || exit 9
	ns=/var/run/netns/'"$FG_NS_RX"'
	nsenter --net=$ns -- "$0" stats "$1" --json >"$2/u_stats.json" || exit 1
	nsenter --net=$ns -- "$0" rule add "$1" 239.1.1.99:7000 --feed UMOUNT >/dev/null || exit 2
	nsenter --net=$ns -- "$0" rule list "$1" --json >"$2/u_list.json" || exit 3
	exit 0
' "$F" "$IF" "$T" 2>"$T/u.err"
rc=$?
[ $rc -eq 0 ] || fg_bad "CLI without bpffs failed at step $rc: $(head -c 200 "$T/u.err")"
[ -s "$T/u_stats.json" ] || fg_bad "no stats without bpffs"
grep -q '239.1.1.99:7000' "$T/u_list.json" 2>/dev/null || fg_bad "rule added without bpffs not listed there"
# Back in the host's mount namespace: same maps, the pins intact.
rx rule list "$IF" | grep -q '239.1.1.99:7000' || fg_bad "the rule added without bpffs is not in the host's view"
for m in feed_rules rule_stats filter_stats queue_stats fg_config xsk_map; do
	[ -e "$PIN/$m" ] || fg_bad "pin $m gone"
done
fg_send udp,$FG_TX_ADDR,239.1.1.99,7000,50 udp,$FG_TX_ADDR,239.1.1.1,5000,50
after=$(fg_stats "s['global']['redirected'] + s['global']['drop_fallback'] + s['global']['pass_fallback']")
[ $((after - before)) -ge 100 ] 2>/dev/null || fg_bad "filter no longer matching feeds: $before -> $after"
hits=$(fg_stats "[r for r in s['rules'] if r['rule'] == '239.1.1.99:7000'][0]['packets']")
[ "${hits:-0}" = 50 ] || fg_bad "the new rule counted ${hits:-?} packets, want 50"
fg_end

# --- the interface deleted under run --------------------------------------------------------------
fg_begin iface_deleted
if fg_run_start "$T/d.out" "$T/d.err" --poll wakeup; then
	fg_in_rx ip link del "$IF"
	for i in $(seq 1 100); do
		kill -0 $FG_RUN_PID 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $FG_RUN_PID 2>/dev/null; then
		fg_bad "run still running 10 s after the interface was deleted"
		kill -KILL $FG_RUN_PID
	fi
	wait $FG_RUN_PID
	rc=$?
	fg_bg_forget $FG_RUN_PID
	[ $rc -ne 0 ] || fg_bad "exit status 0"
	nl=$(grep -c '^feedgate: ' "$T/d.err")
	[ "$nl" -eq 1 ] || fg_bad "want one 'feedgate:' line, got $nl: $(grep '^feedgate: ' "$T/d.err" | tr '\n' '|')"
	grep -q "^feedgate: run: $IF: interface removed" "$T/d.err" || fg_bad "no 'interface removed' line"
	[ -e "$PIN" ] && fg_bad "pins left in $PIN: $(ls "$PIN" | tr '\n' ' ')"
else
	fg_bad "run did not start: $(tr '\n' '|' <"$T/d.err" | head -c 300)"
fi
fg_end "$(grep -m1 '^feedgate: ' "$T/d.err")"
exit $FG_FAILED
