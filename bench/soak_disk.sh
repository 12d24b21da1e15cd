#!/usr/bin/env bash
# Soak onto a filling disk: `feedgate run` writes its output to a small tmpfs
# (SOAK_DISK_MB, default 8) while `feedgate gen` sends 4 ITCH feeds at
# SOAK_DISK_RATE packets/s (default 20,000) for SOAK_DISK_SECONDS (default
# 120). The disk fills part way; the run must then
#   - say so in one line with the file and the counts (written whole, lost),
#   - leave a file of whole records that holds exactly the count it said,
#   - go on receiving and counting to the end (a live line every second;
#     every packet gen sent received or counted as a drop),
#   - exit 1.
# Once with --decode (JSON lines; every line must parse) and once with --pcap
# (the file must read back untruncated). Prints PASS/FAIL lines. Needs root.
#   SOAK_DISK_SECONDS=20 bench/soak_disk.sh      a short run
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
fgb_require_lab
F=$FEEDGATE
SECS=${SOAK_DISK_SECONDS:-120}
RATE=${SOAK_DISK_RATE:-20000}
MB=${SOAK_DISK_MB:-8}
fg_scratch soakdisk
DISK=$(mktemp -d /tmp/fg-soakdisk-mnt.XXXXXX) || die "couldn't make a mount point"
# shellcheck disable=SC2016 # DISK expands when the trap runs
fg_on_exit 'umount "$DISK" 2>/dev/null; rmdir "$DISK"'
mount -t tmpfs -o size="${MB}m" fgsoakdisk "$DISK" || die "couldn't mount a ${MB} MB tmpfs"
fg_lab_up 1
fg_filter_feeds 4 --policy drop || die "attach / rule add failed"
failed=0

# one_run NAME OUTPUT_OPTION FILE WORD: the run, its checks
one_run() {
	local name=$1 opt=$2 file=$3 word=$4 whole lost after sent got drops
	fg_case "soak_disk_$name"
	rm -f "$DISK"/*
	if ! fg_run_start "$T/$name.json" "$T/$name.err" --poll wakeup --json "$opt" "$file"; then
		fg_fail "run did not start: $(head -c 300 "$T/$name.err")"
		failed=1
		return
	fi
	fg_in_tx "$F" gen --iface "$FG_IF_TX" --rate "$RATE" --duration "$SECS" --feeds 4 \
		--messages-per-packet 4 >"$T/$name.gen" 2>&1
	sleep 0.5
	fg_run_stop
	local bad=""
	[ "$FG_RUN_RC" = 1 ] || bad="$bad; exit status $FG_RUN_RC, want 1"
	whole=$(sed -n "s/.*write failed: No space left on device: \([0-9]*\) $word written whole, \([0-9]*\) lost.*/\1/p" "$T/$name.err" | head -1)
	lost=$(sed -n "s/.*write failed: No space left on device: [0-9]* $word written whole, \([0-9]*\) lost.*/\1/p" "$T/$name.err" | head -1)
	if [ -z "$whole" ]; then
		bad="$bad; the disk never filled, or no line said so (raise SOAK_DISK_SECONDS or lower SOAK_DISK_MB)"
	else
		# the run went on to the end: a live line every second
		after=$(grep -c " af_xdp " "$T/$name.err")
		[ "$after" -ge $((SECS - 1)) ] || bad="$bad; only $after live lines in $SECS s"
		if [ "$name" = decode ]; then
			got=$(wc -l <"$file")
			python3 -c '
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    json.loads(line)
' "$file" 2>/dev/null || bad="$bad; a line of the decode file does not parse"
		else
			"$F" replay "$file" --json >"$T/$name.replay" 2>/dev/null || bad="$bad; the capture does not read back"
			[ "$(fg_jfile "$T/$name.replay" "d['truncated']")" = False ] || bad="$bad; the capture ends in a cut record"
			got=$(fg_jfile "$T/$name.replay" "d['frames']")
		fi
		[ "$got" = "$whole" ] || bad="$bad; the file holds $got, the line said $whole"
	fi
	sent=$(python3 -c '
import sys
n = 0
for line in open(sys.argv[1]):
    w = line.split()
    if w[:1] == ["feed"] and "packets" in w:
        n += int(w[w.index("packets") + 1])
print(n)' "$T/$name.gen")
	got=$(fg_jfile "$T/$name.json" "sum(x['packets'] for x in d['feeds'])")
	drops=$(fg_jfile "$T/$name.json" "d['total']['kstats']['rx_dropped'] + d['total']['kstats']['rx_ring_full']")
	[ "$((got + drops))" = "$sent" ] 2>/dev/null || bad="$bad; sent $sent, received $got + dropped $drops"
	if [ -z "$bad" ]; then
		fg_pass "$SECS s at $RATE packets/s on a $MB MB disk: $whole $word written whole, $lost lost, all $sent packets received or counted"
	else
		fg_fail "${bad#; }"
		failed=1
	fi
}

one_run decode --decode "$DISK/decode.jsonl" lines
one_run pcap --pcap "$DISK/capture.pcap" packets
exit $failed
