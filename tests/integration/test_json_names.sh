#!/usr/bin/env bash
# Hostile names in every JSON output: an interface named with a quote and a
# backslash, a feed name with both (rule add --feed), a feed name with control
# bytes written by bpftool, and a --pcap path with a quote. Each JSON document
# must parse and give every name back exactly as it is.
#   rule_list_json   rule list --json: both feed names back, byte for byte
#   stats_json       stats --json parses, its interface is the hostile one
#   run_json         run --json --pcap --decode: the summary parses; iface,
#                    pcap file and feed names as they are; decode lines parse
#                    and name their feeds so
#   replay_json_file_name  replay --json of a file whose name has a newline and
#                    a 0xff byte: the summary parses and keeps both
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
fg_require_root
F=$FEEDGATE
for tool in bpftool python3 nsenter; do
	if ! command -v $tool >/dev/null; then
		echo "SKIPPED test_json_names: $tool not installed"
		exit 0
	fi
done
# A legal interface name (no '/', ':' or space, under 16 bytes) that breaks
# naive JSON: a quote and a backslash.
FG_IF_RX="q\"\\$FG_TAG"
T=$(mktemp -d /tmp/fg-names-$$.XXXXXX)
fg_lab_setup 1 || {
	echo "FAIL lab_setup: couldn't make the namespaces and veth pair"
	exit 1
}
trap 'fg_lab_teardown; rm -rf "$T"' EXIT
IF=$FG_IF_RX
PIN=/sys/fs/bpf/feedgate/$IF
rx() { fg_in_rx "$F" "$@"; }
NAME1='a"b\c'
PCAP="$T/cap\"ture.pcap"

ok=1
rx attach "$IF" --mode skb >/dev/null 2>"$T/attach.err" || ok=0
rx rule add "$IF" 239.1.1.1:5000 --feed "$NAME1" >/dev/null 2>>"$T/attach.err" || ok=0
# feed 2 through bpftool, its name with control bytes and a quote: x 0x01 " 0x7f
# key {family 2, pad, dport 5001 BE, addr 239.1.1.2}; value {rule_id 100 LE (u32),
# action 3 (redirect), plen 0, feed_id 100 LE (u16), src_addr[16], name[16]}
# shellcheck disable=SC2046
bpftool map update pinned "$PIN/feed_rules" \
	key hex 02 00 13 89 ef 01 01 02 $(printf '00 %.0s' $(seq 1 12)) \
	value hex 64 00 00 00 03 00 64 00 $(printf '00 %.0s' $(seq 1 16)) 78 01 22 7f $(printf '00 %.0s' $(seq 1 12)) \
	2>>"$T/attach.err" || ok=0
if [ $ok = 0 ]; then
	echo "FAIL setup: $(head -c 300 "$T/attach.err")"
	exit 1
fi

# check JSON_FILE PYTHON_EXPR...: each expression (d: the document) must be
# True; prints what failed
check() {
	python3 - "$@" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("not JSON: %s" % e)
    sys.exit(0)
for e in sys.argv[2:]:
    try:
        if eval(e) is not True:
            print("false: %s" % e)
    except Exception as x:
        print("%s: %r" % (e, x))
EOF
}
export IF NAME1 PCAP

fg_case rule_list_json
rx rule list "$IF" --json >"$T/rules.json" 2>"$T/rules.err"
bad=$(check "$T/rules.json" \
	"sorted(r.get('feed') or '' for r in d['rules']) == sorted([__import__('os').environ['NAME1'], 'x\x01\"\x7f'])")
[ -z "$bad" ] && fg_pass || fg_fail "$bad ($(head -c 300 "$T/rules.json"))"

fg_case stats_json
rx stats "$IF" --json >"$T/stats.json" 2>"$T/stats.err"
bad=$(check "$T/stats.json" "d['interface'] == __import__('os').environ['IF']")
[ -z "$bad" ] && fg_pass || fg_fail "$bad ($(head -c 300 "$T/stats.json"))"

fg_case run_json
if fg_run_start "$T/run.json" "$T/run.err" --poll wakeup --json --pcap "$PCAP"; then
	fg_in_tx "$F" gen --iface "$FG_IF_TX" --feeds 2 --count 400 --rate 4000 >"$T/gen.txt" 2>&1
	sleep 0.3
	fg_run_stop
	bad=$(check "$T/run.json" \
		"d['iface'] == __import__('os').environ['IF']" \
		"d['pcap']['file'] == __import__('os').environ['PCAP']" \
		"d['pcap']['written'] == 400" \
		"sorted(f['name'] for f in d['feeds']) == sorted([__import__('os').environ['NAME1'], 'x\x01\"\x7f'])" \
		"all(f['packets'] == 200 for f in d['feeds'])")
	[ "$FG_RUN_RC" = 0 ] || bad="$bad; run exited $FG_RUN_RC: $(tail -1 "$T/run.err")"
	[ -s "$PCAP" ] || bad="$bad; no capture file at the quoted path"
else
	bad="run did not start: $(head -c 300 "$T/run.err")"
fi
if [ -z "$bad" ]; then
	fg_pass "400 packets, names and path given back as they are"
else
	fg_fail "${bad#; }"
fi

# the pipeline's names: --decode lines per message, feeds named as in the rules
fg_case decode_json
if fg_run_start "$T/run2.json" "$T/run2.err" --poll wakeup --json --decode "$T/dec.jsonl"; then
	fg_in_tx "$F" gen --iface "$FG_IF_TX" --feeds 2 --count 200 --rate 4000 >/dev/null 2>&1
	sleep 0.3
	fg_run_stop
	bad=$(python3 - "$T/dec.jsonl" <<'EOF'
import json, os, sys
names = set()
n = 0
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError as e:
        print("line %d not JSON: %s" % (n + 1, e))
        break
    n += 1
    if "feed" in d:
        names.add(d["feed"])
want = {os.environ["NAME1"], 'x\x01"\x7f'}
if not n:
    print("no decode lines")
elif names != want:
    print("feeds %r, want %r" % (sorted(names), sorted(want)))
EOF
)
	[ "$FG_RUN_RC" = 0 ] || bad="$bad; run exited $FG_RUN_RC: $(tail -1 "$T/run2.err")"
else
	bad="run did not start: $(head -c 300 "$T/run2.err")"
fi
if [ -z "$bad" ]; then
	fg_pass "$(wc -l <"$T/dec.jsonl") lines"
else
	fg_fail "${bad#; }"
fi
# replay: a capture whose file name holds a newline and a 0xff byte
fg_case replay_json_file_name
CAP=$(printf '%s/odd\nname\377"x.pcap' "$T")
if "$F" gen --pcap "$CAP" --feeds 2 --count 100 >/dev/null 2>"$T/gen2.err"; then
	"$F" replay "$CAP" --json >"$T/replay.json" 2>"$T/replay.err"
	rc=$?
	# a byte that is not UTF-8 comes back as a lone surrogate (\udcff), the
	# way Python's surrogateescape reads file names: the name exactly
	bad=$(CAP="$CAP" python3 -c '
import json, os, sys
try:
    d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
except ValueError as e:
    print("not JSON: %s" % e)
    sys.exit(0)
got = d.get("file")
want = os.fsencode(os.environ["CAP"])
if not isinstance(got, str) or got.encode("utf-8", "surrogateescape") != want:
    print("file name %r, want %r" % (got, want))
' "$T/replay.json")
	[ $rc = 0 ] || bad="$bad; replay exited $rc: $(tail -1 "$T/replay.err")"
else
	bad="gen --pcap failed: $(tail -1 "$T/gen2.err")"
fi
[ -z "$bad" ] && fg_pass || fg_fail "${bad#; }"
exit ${FG_FAILED:-0}
