#!/usr/bin/env bash
# feedgate replay on the real NASDAQ captures (tests/data/itch-real), on the
# same messages as pcapng and as NASDAQ BinaryFILE, and on bad input. Files only:
# no namespace, no traffic. Everything lives in one temporary directory that the
# EXIT trap removes. Prints PASS / FAIL / SKIPPED per case.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
REAL=${FG_ITCH_REAL:-$here/../data/itch-real}
D1=$REAL/Nasdaq.Equities.TotalView.Itch.v5.0
D2=$REAL/Nasdaq.Equities.TotalView.Itch.v5.0.20230822

if [ ! -x "$FEEDGATE" ]; then
	echo "SKIPPED test_replay: $FEEDGATE not built"
	exit 0
fi
if [ ! -d "$D1" ] || [ ! -d "$D2" ]; then
	echo "SKIPPED test_replay: real captures not found in $REAL"
	exit 0
fi
fg_scratch replay
tmp=$T

# --- decode output of one capture --------------------------------------------------------------
fg_case replay_decode_multiple_packets
if "$FEEDGATE" replay "$D1/Multiple.Packets.pcap" --decode "$tmp/mp.jsonl" >"$tmp/mp.txt" 2>"$tmp/mp.err"; then
	lines=$(wc -l <"$tmp/mp.jsonl")
	msgs=$(grep -c '"seq"' "$tmp/mp.jsonl")
	gaps=$(grep -c '"event":"gap"' "$tmp/mp.jsonl")
	first=$(head -1 "$tmp/mp.jsonl")
	last=$(tail -1 "$tmp/mp.jsonl")
	if [ "$lines" -ne 40 ] || [ "$msgs" -ne 39 ] || [ "$gaps" -ne 1 ]; then
		fg_fail "want 39 messages + 1 gap line, got $lines lines ($msgs messages, $gaps gaps)"
	elif [[ $first != '{"feed":"233.54.12.111:26477","seq":14764496,"type":"D","stock_locate":2737,"tracking_number":0,"timestamp":34200007495351,"order_reference_number":23485802}' ]]; then
		fg_fail "first line: $first"
	elif ! grep -q '"first":14764497,"last":19009116' "$tmp/mp.jsonl"; then
		fg_fail "gap line without its range"
	elif [[ $last != *'"seq":19009154,"type":"A"'*'"order_reference_number":5325319,"buy_sell":"S","shares":1,"stock":"META","price":3580000}' ]]; then
		fg_fail "last line: $last"
	elif ! python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$tmp/mp.jsonl"; then
		fg_fail "a line is not JSON"
	elif [ -s "$tmp/mp.err" ]; then
		fg_fail "unexpected stderr: $(head -1 "$tmp/mp.err")"
	else
		fg_pass
	fi
else
	fg_fail "exit $?: $(head -1 "$tmp/mp.err")"
fi

# --- every capture: 117 messages of 15 types ---------------------------------------------------
fg_case replay_all_real_captures
total=0 ok=1
: >"$tmp/all.jsonl"
for f in "$D1"/*.pcap "$D2"/*.pcap; do
	if ! "$FEEDGATE" replay "$f" --decode - 2>/dev/null >>"$tmp/all.jsonl"; then
		ok=0
		fg_fail "$(basename "$f"): exit status $?"
		break
	fi
done
if [ $ok = 1 ]; then
	total=$(grep -c '"seq"' "$tmp/all.jsonl")
	types=$(grep -o '"type":"[A-Za-z]"' "$tmp/all.jsonl" | sort -u | wc -l)
	adds=$(grep -c '"type":"A"' "$tmp/all.jsonl")
	if [ "$total" -ne 117 ] || [ "$types" -ne 15 ] || [ "$adds" -ne 42 ]; then
		fg_fail "want 117 messages of 15 types (42 A), got $total of $types ($adds A)"
	elif ! grep -q '"type":"Q","stock_locate":8231,.*"shares":5577,"stock":"PTGX","cross_price":195600' "$tmp/all.jsonl"; then
		fg_fail "cross trade PTGX not decoded as expected"
	elif ! grep -q '"type":"S","stock_locate":0,"tracking_number":0,"timestamp":34200000070384,"event_code":"Q"' "$tmp/all.jsonl"; then
		fg_fail "system event not decoded as expected"
	elif ! grep -q '"seq":0,"type":"C",.*"printable":"Y","execution_price":48500' "$tmp/all.jsonl"; then
		fg_fail "order executed with price not decoded as expected"
	else
		fg_pass
	fi
fi

# --- the JSON summary ------------------------------------------------------------------------------
fg_case replay_json_summary
if "$FEEDGATE" replay "$D1/Multiple.Packets.pcap" --json >"$tmp/sum.json" 2>"$tmp/sum.err"; then
	got=$(fg_jfile "$tmp/sum.json" '"%d %d %d %d %d %s %s" % (d["messages"], d["messages_per_type"]["A"], d["messages_per_type"]["F"], d["gaps"], d["malformed"]["total"], d["format"], d["streams"][0]["session"])')
	if [ "$(wc -l <"$tmp/sum.json")" -ne 1 ]; then
		fg_fail "not one line"
	elif [ "$got" != "39 36 2 1 0 pcap 000010059B" ]; then
		fg_fail "got '$got'"
	else
		fg_pass
	fi
else
	fg_fail "exit $?: $(head -1 "$tmp/sum.err")"
fi

# --- decode to stdout keeps stdout pure JSON lines; the summary goes to stderr -----------------------
fg_case replay_decode_stdout
if "$FEEDGATE" replay "$D2/NonCrossTrade.pcap" --decode - --json >"$tmp/out.jsonl" 2>"$tmp/out.err"; then
	if [ "$(wc -l <"$tmp/out.jsonl")" -ne 5 ]; then
		fg_fail "want 5 lines on stdout, got $(wc -l <"$tmp/out.jsonl")"
	elif [ "$(fg_jfile "$tmp/out.err" 'd["messages_per_type"]["P"]')" != 5 ]; then
		fg_fail "summary on stderr: $(head -c 200 "$tmp/out.err")"
	elif ! grep -q '"type":"P","stock_locate":4499,"tracking_number":2,.*"order_reference_number":0,"buy_sell":"B","shares":100,"stock":"GOOGL","price":1284600,"match_number":255554}' "$tmp/out.jsonl"; then
		fg_fail "P message fields"
	else
		fg_pass
	fi
else
	fg_fail "exit $?: $(head -1 "$tmp/out.err")"
fi

# --- symbols ------------------------------------------------------------------------------------------
fg_case replay_symbols_filter
if "$FEEDGATE" replay "$D2/AddOrderNoMPID.pcap" --symbols XLF --decode "$tmp/xlf.jsonl" --json >"$tmp/xlf.json" 2>"$tmp/xlf.err"; then
	n=$(wc -l <"$tmp/xlf.jsonl")
	others=$(grep -vc '"stock":"XLF"' "$tmp/xlf.jsonl")
	if [ "$n" -ne 2 ] || [ "$others" -ne 0 ]; then
		fg_fail "want the 2 XLF adds, got $n lines ($others others)"
	elif [ "$(fg_jfile "$tmp/xlf.json" '"%d %d" % (d["messages"], d["selected"])')" != "5 2" ]; then
		fg_fail "summary: $(cat "$tmp/xlf.json")"
	else
		fg_pass
	fi
else
	fg_fail "exit $?: $(head -1 "$tmp/xlf.err")"
fi

# --- the book at the end --------------------------------------------------------------------------------
fg_case replay_book_json
if "$FEEDGATE" replay "$D1/Multiple.Packets.pcap" --book META --depth 3 --json >"$tmp/book.json" 2>"$tmp/book.err"; then
	got=$(fg_jfile "$tmp/book.json" '"%d %d %d %d %d %d" % (d["book"]["stock_locate"], len(d["book"]["bids"]), len(d["book"]["asks"]), d["book"]["bids"][0]["price"], d["book"]["asks"][0]["price"], d["book"]["asks"][0]["shares"])')
	if [ "$got" != "6514 3 3 805200 3573300 100" ]; then
		fg_fail "got '$got'"
	else
		fg_pass
	fi
else
	fg_fail "exit $?: $(head -1 "$tmp/book.err")"
fi
fg_case replay_book_text
if "$FEEDGATE" replay "$D1/Multiple.Packets.pcap" --book META >"$tmp/book.txt" 2>&1 &&
	grep -q 'META (stock locate 6514)' "$tmp/book.txt" && grep -q '80.5200 |     357.3300' "$tmp/book.txt"; then
	fg_pass
else
	fg_fail "$(grep -A3 '^book' "$tmp/book.txt" | head -4)"
fi

# --- pcapng and BinaryFILE give the same messages --------------------------------------------------------
fg_case replay_pcapng_same_as_pcap
if ! command -v editcap >/dev/null; then
	fg_skip "editcap (wireshark-common) not installed"
else
	editcap -F pcapng "$D1/Multiple.Packets.pcap" "$tmp/mp.pcapng" 2>/dev/null
	if "$FEEDGATE" replay "$tmp/mp.pcapng" --decode "$tmp/ng.jsonl" --json >"$tmp/ng.json" 2>"$tmp/ng.err" &&
		cmp -s "$tmp/ng.jsonl" "$tmp/mp.jsonl" && [ "$(fg_jfile "$tmp/ng.json" 'd["format"]')" = pcapng ]; then
		fg_pass
	else
		fg_fail "pcapng decode differs or failed: $(head -1 "$tmp/ng.err")"
	fi
fi

fg_case replay_binaryfile
# The same 39 messages as NASDAQ BinaryFILE: u16 length + message, written from the pcap.
python3 - "$D1/Multiple.Packets.pcap" "$tmp/mp.bf" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
out = open(sys.argv[2], 'wb')
off = 24
while off + 16 <= len(d):
    cl = struct.unpack('<I', d[off + 8:off + 12])[0]
    fr = d[off + 16:off + 16 + cl]
    off += 16 + cl
    pl = fr[18 + 20 + 8:]                      # Ethernet+VLAN, IPv4 (no options), UDP
    cnt = struct.unpack('>H', pl[18:20])[0]
    q = 20
    for _ in range(cnt):
        l = struct.unpack('>H', pl[q:q + 2])[0]
        out.write(pl[q:q + 2 + l])
        q += 2 + l
EOF
if "$FEEDGATE" replay "$tmp/mp.bf" --decode "$tmp/bf.jsonl" --json >"$tmp/bf.json" 2>"$tmp/bf.err"; then
	# Same messages; BinaryFILE has no sequence numbers: positions 1..39 instead.
	sed -E 's/^\{("feed":"[^"]*",)?"seq":[0-9]+,//' "$tmp/mp.jsonl" | grep -v '"event":"gap"' >"$tmp/a"
	sed -E 's/^\{"seq":[0-9]+,//' "$tmp/bf.jsonl" >"$tmp/b"
	if [ "$(fg_jfile "$tmp/bf.json" '"%s %d %d" % (d["format"], d["messages"], d["decoded"])')" != "binaryfile 39 39" ]; then
		fg_fail "summary: $(head -c 300 "$tmp/bf.json")"
	elif ! cmp -s "$tmp/a" "$tmp/b"; then
		fg_fail "decoded messages differ from the pcap's"
	elif [[ $(tail -1 "$tmp/bf.jsonl") != '{"seq":39,'* ]]; then
		fg_fail "BinaryFILE positions: $(tail -1 "$tmp/bf.jsonl" | head -c 40)"
	else
		fg_pass
	fi
else
	fg_fail "exit $?: $(head -1 "$tmp/bf.err")"
fi

# --- two lines of one stream --------------------------------------------------------------------------------
fg_case replay_arbitrate_two_lines
# Line B: the same packets to 233.54.12.112, interleaved after line A's; with --arbitrate the
# copies from B are duplicates; without, B is a second feed with the same messages.
python3 - "$D1/Multiple.Packets.pcap" "$tmp/ab.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
out = [d[:24]]
off = 24
while off + 16 <= len(d):
    cl = struct.unpack('<I', d[off + 8:off + 12])[0]
    rec = d[off:off + 16 + cl]
    off += 16 + cl
    b = bytearray(rec)
    b[16 + 18 + 19] = 112                      # last byte of the IPv4 destination
    out += [rec, bytes(b)]
open(sys.argv[2], 'wb').write(b''.join(out))
PY
if "$FEEDGATE" replay "$tmp/ab.pcap" --arbitrate 233.54.12.111:26477=233.54.12.112:26477 --json >"$tmp/ab.json" 2>"$tmp/ab.err" &&
	"$FEEDGATE" replay "$tmp/ab.pcap" --json >"$tmp/ab2.json" 2>>"$tmp/ab.err"; then
	got=$(fg_jfile "$tmp/ab.json" '"%d %d %d %s" % (d["messages"], d["duplicates"], len(d["streams"]), d["streams"][0]["name"])')
	got2=$(fg_jfile "$tmp/ab2.json" '"%d %d %d" % (d["messages"], d["duplicates"], len(d["streams"]))')
	if [ "$got" != "39 39 1 233.54.12.111:26477=233.54.12.112:26477" ]; then
		fg_fail "arbitrated: '$got'"
	elif [ "$got2" != "78 0 2" ]; then
		fg_fail "not arbitrated: '$got2'"
	else
		fg_pass
	fi
else
	fg_fail "exit status: $(head -1 "$tmp/ab.err")"
fi

# --- truncated, bad and missing files ----------------------------------------------------------------------
fg_case replay_truncated_file
# A truncated capture fails (exit 1) as tcpdump and tshark have it, after its
# summary; --allow-truncated takes it (a capture still being written) with 0.
head -c 1000 "$D1/Multiple.Packets.pcap" >"$tmp/trunc.pcap"
"$FEEDGATE" replay "$tmp/trunc.pcap" --json >"$tmp/tr.json" 2>"$tmp/tr.err"
rc=$?
"$FEEDGATE" replay "$tmp/trunc.pcap" --json --allow-truncated >"$tmp/tr2.json" 2>"$tmp/tr2.err"
rc2=$?
if [ $rc -ne 1 ]; then
	fg_fail "exit $rc on a truncated capture, want 1"
elif [ "$(fg_jfile "$tmp/tr.json" '"%s %d" % (d["truncated"], d["messages"])')" != "True 1" ]; then
	fg_fail "summary: $(head -c 300 "$tmp/tr.json")"
elif [ "$(wc -l <"$tmp/tr.err")" -ne 1 ] || ! grep -q '^feedgate: replay: .*truncated.*--allow-truncated' "$tmp/tr.err"; then
	fg_fail "want one warning line naming --allow-truncated, got: $(cat "$tmp/tr.err")"
elif [ $rc2 -ne 0 ] || ! cmp -s "$tmp/tr.json" "$tmp/tr2.json"; then
	fg_fail "--allow-truncated: exit $rc2, or another summary"
else
	fg_pass
fi

fg_case replay_bad_file
printf 'this is not a capture, just some text\n' >"$tmp/bad.pcap"
"$FEEDGATE" replay "$tmp/bad.pcap" >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
if [ $rc -eq 0 ]; then
	fg_fail "exit 0 on a text file"
elif [ "$(wc -l <"$tmp/bad.err")" -ne 1 ] || ! grep -q "^feedgate: replay: $tmp/bad.pcap: not a pcap, pcapng or NASDAQ BinaryFILE" "$tmp/bad.err"; then
	fg_fail "stderr: $(cat "$tmp/bad.err")"
elif [ -s "$tmp/bad.out" ]; then
	fg_fail "stdout not empty"
else
	fg_pass
fi

fg_case replay_corrupt_pcap
# A record length no capture has, after one good record: the summary of the good part, then an error.
python3 - "$D1/Multiple.Packets.pcap" "$tmp/corrupt.pcap" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
first = 24 + 16 + struct.unpack('<I', d[32:36])[0]
d[first + 8:first + 12] = struct.pack('<I', 0x7fffffff)
open(sys.argv[2], 'wb').write(d)
EOF
"$FEEDGATE" replay "$tmp/corrupt.pcap" --json >"$tmp/co.json" 2>"$tmp/co.err"
rc=$?
if [ $rc -eq 0 ]; then
	fg_fail "exit 0 on a corrupt capture"
elif [ "$(wc -l <"$tmp/co.err")" -ne 1 ] || ! grep -q '^feedgate: replay: .*corrupt at byte 127' "$tmp/co.err"; then
	fg_fail "stderr: $(cat "$tmp/co.err")"
elif [ "$(fg_jfile "$tmp/co.json" 'd["messages"]')" != 1 ]; then
	fg_fail "summary: $(head -c 200 "$tmp/co.json")"
else
	fg_pass
fi

fg_case replay_missing_file
"$FEEDGATE" replay "$tmp/no-such-file.pcap" >"$tmp/miss.out" 2>"$tmp/miss.err"
rc=$?
if [ $rc -eq 0 ]; then
	fg_fail "exit 0 on a missing file"
elif [ "$(wc -l <"$tmp/miss.err")" -ne 1 ] || ! grep -q "^feedgate: replay: $tmp/no-such-file.pcap: No such file or directory" "$tmp/miss.err"; then
	fg_fail "stderr: $(cat "$tmp/miss.err")"
else
	fg_pass
fi

fg_case replay_usage_errors
bad=""
for args in "" "--json" "$D1/Multiple.Packets.pcap --depth 3" "$D1/Multiple.Packets.pcap --book TOOLONGSYM" \
	"$D1/Multiple.Packets.pcap --frobnicate" "$D1/Multiple.Packets.pcap --symbols AAPL --book MSFT" \
	"$D1/Multiple.Packets.pcap --symbols WAYTOOLONGSYMBOL" "$D1/Multiple.Packets.pcap --arbitrate 1.2.3.4"; do
	# shellcheck disable=SC2086
	"$FEEDGATE" replay $args >/dev/null 2>"$tmp/u.err"
	rc=$?
	if [ $rc -ne 2 ] || [ "$(wc -l <"$tmp/u.err")" -ne 1 ] || ! grep -q '^feedgate: ' "$tmp/u.err"; then
		bad="$bad [$args: rc=$rc $(head -1 "$tmp/u.err")]"
	fi
done
if [ -n "$bad" ]; then
	fg_fail "$bad"
else
	fg_pass
fi

# gen --itch-file: a BinaryFILE day replay takes whole; on a full disk nothing is
# left that claims to be a day; '-' writes standard output.
fg_case gen_itch_file
bad=""
if ! "$FEEDGATE" gen --itch-file "$tmp/day.bf" --count 200000 --seed 5 --symbols 100 --max-live 5000 2>"$tmp/gd.err"; then
	bad="$bad [gen failed: $(cat "$tmp/gd.err")]"
elif [ "$("$FEEDGATE" replay "$tmp/day.bf" --json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["format"], d["messages"], d["decoded"])')" != "binaryfile 200000 200000" ]; then
	bad="$bad [replay of the day: not 200000 BinaryFILE messages]"
fi
"$FEEDGATE" gen --itch-file - --count 1000 --seed 5 --symbols 100 --max-live 5000 2>/dev/null >"$tmp/day2.bf"
cmp -s "$tmp/day2.bf" <(head -c "$(stat -c %s "$tmp/day2.bf")" "$tmp/day.bf") || bad="$bad [stdout: not the same day's first messages]"
if mkdir -p "$tmp/full" && mount -t tmpfs -o size=64k fgday "$tmp/full" 2>/dev/null; then
	"$FEEDGATE" gen --itch-file "$tmp/full/day.bf" --count 100000 2>"$tmp/gf.err"
	rc=$?
	[ $rc -eq 1 ] || bad="$bad [full disk: exit $rc]"
	grep -q "No space left on device after .* messages; no file written" "$tmp/gf.err" || bad="$bad [full disk said: $(cat "$tmp/gf.err")]"
	[ -z "$(ls -A "$tmp/full")" ] || bad="$bad [left behind: $(ls "$tmp/full")]"
	umount "$tmp/full"
fi
"$FEEDGATE" gen --itch-file "$tmp/x.bf" --count 10 --rate 5 2>/dev/null
[ $? -eq 2 ] || bad="$bad [--rate with --itch-file not refused]"
# Not a regular file: written in place, never renamed over. A device of the test's own
# (the full device, 1:7: every write fails with ENOSPC) stays a device, and the failure
# is said; a FIFO gets the same bytes a file does; a symbolic link stays a link to a
# whole day; a directory is refused.
if mknod "$tmp/fulldev" c 1 7 2>/dev/null; then
	"$FEEDGATE" gen --itch-file "$tmp/fulldev" --count 100000 2>"$tmp/gdev.err"
	rc=$?
	[ $rc -eq 1 ] || bad="$bad [full device: exit $rc]"
	[ -c "$tmp/fulldev" ] || bad="$bad [full device replaced: $(ls -l "$tmp/fulldev")]"
	grep -q "No space left on device after 0 of 100000 messages; the output is cut short" \
		"$tmp/gdev.err" || bad="$bad [full device said: $(cat "$tmp/gdev.err")]"
	ls "$tmp"/fulldev.part-* >/dev/null 2>&1 && bad="$bad [full device: temporary file left]"
else
	echo "  (full device case skipped: mknod refused)"
fi
mkfifo "$tmp/day.fifo"
timeout 20 cat "$tmp/day.fifo" >"$tmp/fifo.out" &
catpid=$!
"$FEEDGATE" gen --itch-file "$tmp/day.fifo" --count 1000 --seed 5 --symbols 100 --max-live 5000 2>/dev/null ||
	bad="$bad [FIFO: gen failed]"
wait $catpid
[ -p "$tmp/day.fifo" ] || bad="$bad [FIFO replaced by a file]"
cmp -s "$tmp/fifo.out" "$tmp/day2.bf" || bad="$bad [FIFO: not the bytes of the same day]"
"$FEEDGATE" gen --itch-file "$tmp/linked.bf" --count 10 2>/dev/null
ln -s "$tmp/linked.bf" "$tmp/day.link"
"$FEEDGATE" gen --itch-file "$tmp/day.link" --count 1000 --seed 5 --symbols 100 --max-live 5000 2>/dev/null ||
	bad="$bad [link: gen failed]"
[ -L "$tmp/day.link" ] || bad="$bad [link replaced by a file]"
cmp -s "$tmp/linked.bf" "$tmp/day2.bf" || bad="$bad [link: its file is not the whole day]"
"$FEEDGATE" gen --itch-file "$tmp" --count 10 2>"$tmp/gdir.err"
rc=$?
{ [ $rc -eq 1 ] && grep -q "is a directory" "$tmp/gdir.err"; } || bad="$bad [directory: exit $rc, said: $(cat "$tmp/gdir.err")]"
if [ -n "$bad" ]; then
	fg_fail "$bad"
else
	fg_pass
fi

exit $FG_FAILED
