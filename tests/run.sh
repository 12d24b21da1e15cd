#!/usr/bin/env bash
# Runs every test tier and prints one summary line:
#   feedgate tests: P passed, F failed, S skipped (unit U, prog R, integration I files)
# Tier 1: build/tests/unit/test_*   (CUnit)      Tier 2: build/tests/prog/test_*
# Tier 3: tests/integration/test_*.sh (PASS/FAIL/SKIPPED lines)
# Tier 4: tests/fuzz/run.sh --smoke when present.
# Usage: tests/run.sh [unit|prog|integration|fuzz]...  (default: all tiers)
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../build}
export FEEDGATE=${FEEDGATE:-$BUILD/feedgate}
tiers=${*:-unit prog integration fuzz}
pass=0 fail=0 skip=0 failed_names=""
# Each test's output, kept for reading after the run (replaced by the next run): in the build
# directory, which `make clean` removes, not in /tmp where it would outlive the run.
log=$BUILD/test-logs
rm -rf "$log" && mkdir -p "$log" || { echo "feedgate: tests/run.sh: cannot create $log" >&2; exit 2; }

count_cunit() { # $1 = output file, $2 = name
	local line p f s
	line=$(grep '^RESULT ' "$1" | tail -1)
	if [ -z "$line" ]; then
		fail=$((fail + 1)); failed_names="$failed_names $2(crashed)"; return
	fi
	p=$(sed -n 's/.*passed=\([0-9]*\).*/\1/p' <<<"$line")
	f=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$line")
	s=$(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' <<<"$line")
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	[ "$f" -gt 0 ] && failed_names="$failed_names $2"
}

run_bins() { # $1 = tier dir
	local b name
	for b in "$BUILD/tests/$1"/test_*; do
		[ -x "$b" ] || continue
		name=$(basename "$b")
		echo "=== $1/$name"
		"$b" >"$log/$name.out" 2>&1
		grep -E '^\s+Test: |SKIPPED|FAILED|RESULT|Assertion|^\s+[0-9]+\. ' "$log/$name.out" | sed 's/^/    /' | tail -60
		count_cunit "$log/$name.out" "$1/$name"
	done
}

run_scripts() {
	local s name out
	for s in "$here"/integration/test_*.sh; do
		[ -f "$s" ] || continue
		name=$(basename "$s" .sh)
		echo "=== integration/$name"
		out="$log/$name.out"
		timeout -k 10 600 bash "$s" >"$out" 2>&1
		rc=$?
		sed 's/^/    /' "$out" | grep -E 'PASS|FAIL|SKIPPED|feedgate:' | tail -80
		p=$(grep -cE '^(PASS|  PASS)' "$out"); f=$(grep -cE '^(FAIL|  FAIL)' "$out"); s2=$(grep -cE '^(SKIPPED|  SKIPPED)' "$out")
		pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s2))
		if [ "$f" -gt 0 ] || { [ $rc -ne 0 ] && [ "$f" -eq 0 ]; }; then
			[ "$f" -eq 0 ] && fail=$((fail + 1))
			failed_names="$failed_names integration/$name(rc=$rc)"
			tail -30 "$out" | sed 's/^/    | /'
		fi
	done
}

for t in $tiers; do
	case $t in
	unit | prog) run_bins "$t" ;;
	integration) run_scripts ;;
	fuzz)
		if [ -x "$here/fuzz/run.sh" ]; then
			echo "=== fuzz (smoke)"
			if "$here/fuzz/run.sh" --smoke >"$log/fuzz.out" 2>&1; then
				pass=$((pass + 1)); tail -5 "$log/fuzz.out" | sed 's/^/    /'
			else
				fail=$((fail + 1)); failed_names="$failed_names fuzz"; tail -30 "$log/fuzz.out" | sed 's/^/    | /'
			fi
		fi ;;
	*) echo "feedgate: tests/run.sh: unknown tier '$t' (unit, prog, integration, fuzz)" >&2; exit 2 ;;
	esac
done

echo
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "feedgate tests: $pass passed, $fail failed, $skip skipped (logs in $log)"
[ "$fail" -eq 0 ]
