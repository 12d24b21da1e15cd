# shellcheck shell=bash
# Sourced by the benchmark scripts that measure on the veth lab (bench_ab,
# bench_compare, bench_e2e, soak): tests/lib.sh (the lab, fg_run_start, ...)
# with FEEDGATE defaulting to this tree's build, and
#   die MSG...        "NAME: MSG" on stderr and exit 1 (NAME: the script's)
#   log MSG...        "  MSG" on stderr: progress
#   fgb_require_lab   root, $FEEDGATE built, python3; or die
# Set FG_TAG before sourcing it to give the lab's names another tag.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export FEEDGATE=${FEEDGATE:-$root/build/feedgate}
# shellcheck source=../tests/lib.sh
. "$root/tests/lib.sh"
FGB_NAME=$(basename "$0" .sh)

die() {
	echo "$FGB_NAME: $*" >&2
	exit 1
}
log() { echo "  $*" >&2; }

fgb_require_lab() {
	[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, XDP)"
	[ -x "$FEEDGATE" ] || die "$FEEDGATE not built (make)"
	command -v python3 >/dev/null || die "python3 missing (make deps)"
}
