#!/usr/bin/env bash
# Runs inside the make test-kernel guest (started by tests/kernel/init, in a
# chroot onto the host's root under a throwaway overlay): checks that network
# namespaces and veth work, prints the guest kernel and the stamp mode
# feedgate's `auto` picks, then runs the cases of /run/fgk/cases.
#
# Full output goes to the console (ttyS0, build/kernel/console.log on the
# host). Results go to the second serial port, ttyS1, one "@@FGK ..." line
# each, which tests/kernel/run.sh reads:
#   @@FGK kernel VERSION            uname -r
#   @@FGK uptime SECONDS            when this script started
#   @@FGK info TEXT                 shown as is (stamp mode, notes)
#   @@FGK cunit NAME rc=RC secs=S passed=P failed=F skipped=S   (no counts: crashed)
#   @@FGK line NAME PASS|FAIL|SKIPPED TEXT              a script's case line
#   @@FGK script NAME rc=RC secs=S  a script ended
#   @@FGK missing NAME              nothing matches the case's path
#   @@FGK out NAME TEXT             the tail of a failing case's output
#   @@FGK done SECONDS              all cases ran (guest uptime)
set -u
. /run/fgk/env
export FEEDGATE=$FGK_BUILD/feedgate BUILD=$FGK_BUILD FG_SLOW
cd "$FGK_DIR" || exit 1
exec 3>/dev/ttyS1
emit() { printf '@@FGK %s\n' "$*" >&3; }
LOG=/tmp/fgk
mkdir -p "$LOG"

emit "kernel $(uname -r)"
emit "uptime $(cut -d' ' -f1 /proc/uptime)"

# The tail of a failing case's output, for the host to show.
emit_tail() { # NAME FILE
	local l
	tail -n 25 "$2" | while IFS= read -r l; do emit "out $1 $l"; done
}

for m in $FGK_PRELOAD; do
	busybox modprobe "$m" || emit "info modprobe $m failed"
done

# --- built-in case: namespaces and veth work (a UDP datagram across a pair) ---
guest_netns_veth() {
	local out rc
	out=$(
		set -e
		ip netns add fgkv1
		ip netns add fgkv2
		trap 'ip netns del fgkv1; ip netns del fgkv2' EXIT
		ip link add fgkv1a netns fgkv1 type veth peer name fgkv2a netns fgkv2
		ip -n fgkv1 addr add 10.198.0.1/24 dev fgkv1a
		ip -n fgkv2 addr add 10.198.0.2/24 dev fgkv2a
		ip -n fgkv1 link set fgkv1a up
		ip -n fgkv2 link set fgkv2a up
		nsenter --net=/run/netns/fgkv2 -- python3 -c '
import socket, subprocess, sys
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("10.198.0.2", 9999))
r.settimeout(20)
subprocess.run(["nsenter", "--net=/run/netns/fgkv1", "--", "python3", "-c",
    "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b\"fgk\", (\"10.198.0.2\", 9999))"],
    check=True)
d, a = r.recvfrom(64)
sys.exit(0 if d == b"fgk" and a[0] == "10.198.0.1" else "got %r from %r" % (d, a))'
	) 2>&1
	rc=$?
	echo "$out"
	if [ $rc -eq 0 ]; then
		emit "line guest PASS netns_veth: a UDP datagram crossed a veth pair between two namespaces"
	else
		emit "line guest FAIL netns_veth: rc=$rc: $(echo "$out" | tail -n 3 | tr '\n' '|')"
	fi
}
echo "=== guest/netns_veth"
guest_netns_veth

# --- the stamp mode feedgate's auto picks here (information, not a case) -------
stamp_probe() {
	local ns=fgkstamp out
	ip netns add $ns || return
	if ip -n $ns link add fgks0 type veth peer name fgks1 &&
		ip -n $ns link set fgks0 up && ip -n $ns link set fgks1 up; then
		out=$(nsenter --net=/run/netns/$ns -- "$FEEDGATE" attach fgks0 2>&1)
		echo "$out"
		echo "$out" | while IFS= read -r l; do emit "info stamp probe: $l"; done
		nsenter --net=/run/netns/$ns -- "$FEEDGATE" detach fgks0 >/dev/null 2>&1
	fi
	ip netns del $ns
}
echo "=== stamp probe: feedgate attach on a veth"
stamp_probe

# --- the cases ------------------------------------------------------------------
run_cunit() { # PATH
	local name out rc line secs
	name=${1#"$FGK_BUILD"/tests/}
	name=${name#build/tests/}
	out=$LOG/$(basename "$1").out
	echo "=== $name"
	SECONDS=0
	timeout -k 10 "$FGK_CASE_TIMEOUT" "$1" </dev/null >"$out" 2>&1
	rc=$?
	secs=$SECONDS
	cat "$out"
	line=$(grep '^RESULT ' "$out" | tail -n 1)
	if [ -n "$line" ]; then
		emit "cunit $name rc=$rc secs=$secs ${line#RESULT * }"
	else
		emit "cunit $name rc=$rc secs=$secs"
	fi
	case "$rc ${line:-none}" in
	"0 "*failed=0*) ;;
	*) emit_tail "$name" "$out" ;;
	esac
}

run_script() { # PATH
	local name out rc secs
	name=integration/$(basename "$1" .sh)
	out=$LOG/$(basename "$1").out
	echo "=== $name"
	SECONDS=0
	timeout -k 10 "$FGK_CASE_TIMEOUT" bash "$1" </dev/null 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	secs=$SECONDS
	grep -E '^ *(PASS|FAIL|SKIPPED)' "$out" | while IFS= read -r l; do
		emit "line $name ${l#"${l%%[! ]*}"}"
	done
	emit "script $name rc=$rc secs=$secs"
	if [ "$rc" -ne 0 ] || grep -qE '^ *FAIL' "$out"; then emit_tail "$name" "$out"; fi
}

while read -r -u 4 kind path _; do
	case $kind in '' | '#'*) continue ;; esac
	path=${path//\$BUILD/$FGK_BUILD}
	found=0
	for p in $path; do # a glob; unmatched, it stays as written
		[ -e "$p" ] || continue
		# a CUnit binary, not what lies beside it (dependency files, logs)
		[ "$kind" != cunit ] || [ -x "$p" ] || continue
		found=1
		case $kind in
		cunit) run_cunit "$p" ;;
		script) run_script "$p" ;;
		*) emit "info unknown case kind '$kind' for $p" ;;
		esac
	done
	[ $found -eq 1 ] || emit "missing $kind $path"
done 4</run/fgk/cases

emit "done $(cut -d' ' -f1 /proc/uptime)"
