#!/usr/bin/env bash
# Runs every libFuzzer target tests/fuzz/fuzz_*.c (built by `make fuzz-build`,
# tests/fuzz.mk) from its seed corpus tests/fuzz/corpus/<target>/ (and, for the
# capture readers, the real NASDAQ captures in tests/data/itch-real).
#   tests/fuzz/run.sh            each target for FUZZ_SECONDS (default 600 s)
#   tests/fuzz/run.sh --smoke    each target for 30 s (make test, CI)
#   tests/fuzz/run.sh [--smoke] fuzz_capfile ...   only these targets
# New inputs go to a temporary corpus (removed at exit), crash reproducers to
# tests/fuzz/crash-* (ignored by git). Exit status 1 if any target failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
secs=${FUZZ_SECONDS:-600}
only=()
for a in "$@"; do
	case $a in
	--smoke) secs=${FUZZ_SMOKE_SECONDS:-30} ;;
	-h | --help) sed -n '2,10p' "$0"; exit 0 ;;
	*) only+=("$a") ;;
	esac
done

if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
	echo "SKIPPED fuzz: ${FUZZ_CC:-clang} not installed"
	exit 0
fi
mkdir -p "$BUILD"
if [ -z "${FG_FUZZ_NOBUILD:-}" ]; then
	if ! make -C "$root" --no-print-directory -s BUILD="$BUILD" fuzz-build >"$BUILD/fuzz-build.log" 2>&1; then
		if grep -q "cannot find.*libclang_rt.fuzzer\|fuzzer.*No such file" "$BUILD/fuzz-build.log"; then
			echo "SKIPPED fuzz: libFuzzer runtime missing (libclang-rt-dev)"
			exit 0
		fi
		echo "FAIL fuzz: build failed (see $BUILD/fuzz-build.log)"
		tail -5 "$BUILD/fuzz-build.log"
		exit 1
	fi
fi

work=$(mktemp -d /tmp/fg-fuzz-$$.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
for src in "$here"/fuzz_*.c; do
	name=$(basename "$src" .c)
	if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $name "* ]]; then
		continue
	fi
	bin=$BUILD/fuzz/$name
	if [ ! -x "$bin" ]; then
		echo "FAIL $name: $bin not built"
		failed=1
		continue
	fi
	seeds=()
	[ -d "$here/corpus/$name" ] && seeds+=("$here/corpus/$name")
	if [ "$name" = fuzz_capfile ]; then
		for d in "$root"/tests/data/itch-real/*/; do
			[ -d "$d" ] && seeds+=("$d")
		done
	fi
	mkdir -p "$work/$name"
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$here/" "$work/$name" "${seeds[@]}" >"$work/$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
	if [ $rc -eq 0 ]; then
		echo "PASS $name: ${runs:-?} runs in ${secs}s, $(find "$work/$name" -type f | wc -l) new corpus inputs"
	else
		echo "FAIL $name: exit $rc"
		grep -E 'ERROR|SUMMARY|Test unit written' "$work/$name.log" | head -5
		failed=1
	fi
done
exit $failed
