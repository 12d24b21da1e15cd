#!/usr/bin/env bash
# Runs build/bench/bench_pipeline (bench/pipeline.mk) and puts its Markdown between
# <!-- pipeline:begin --> and <!-- pipeline:end --> in bench/RESULTS.md, creating
# the file or the section if absent; the other sections are left as they are.
#   bench/bench_pipeline.sh [--quick] [other bench_pipeline options]
# Environment: BENCH_PIPELINE (the binary), RESULTS (the file to update).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${BENCH_PIPELINE:-$here/../build/bench/bench_pipeline}
results=${RESULTS:-$here/RESULTS.md}

if [ ! -x "$bin" ]; then
	echo "feedgate: bench_pipeline.sh: $bin not built; run 'make bench-pipeline'" >&2
	exit 1
fi
section=$(mktemp /tmp/fg-bench-pipeline.XXXXXX)
trap 'rm -f "$section"' EXIT
"$bin" --out "$section" "$@"
python3 "$here/fgbench.py" splice pipeline "$section" "$results"
cat "$section"
echo "feedgate: bench_pipeline.sh: updated the pipeline section of $results" >&2
