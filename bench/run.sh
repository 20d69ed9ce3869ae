#!/bin/bash
# Micro-benchmarks natively and inside runsc-lite, side by side.
#
#   bench/run.sh [RUNSC_LITE]        (default: bin/runsc-lite; `make bench` builds it)
#
# Environment:
#   PLATFORM   --platform for the sandbox (default seccomptrap, the default platform)
#   REPS       runs per benchmark; the median is reported (default 5)
#   STARTUPS   runs of the start-up benchmark (default 20)
#
# The C programs in bench/src (from the project's shared bench suite) each
# print "NAME: VALUE UNIT". Both sides run the same static binaries with
# the same op counts, so the ratio compares like with like. Op counts are
# small enough for the sandbox to finish in seconds; native figures from
# so few ops are a little noisy, so treat ratios under 1.5x as noise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runsc=$(realpath "${1:-$here/../bin/runsc-lite}")
platform=${PLATFORM:-seccomptrap}
reps=${REPS:-5}
startups=${STARTUPS:-20}
out=$here/out
[ -x "$runsc" ] || { echo "bench: $runsc not found; run 'make build' first" >&2; exit 1; }
command -v gcc >/dev/null || { echo "bench: gcc is required (apt-get install gcc libc6-dev)" >&2; exit 1; }

mkdir -p "$out"
for name in getppid openread stat btrue seqio; do
	gcc -O2 -static -Wall -o "$out/$name" "$here/src/$name.c"
done

sandbox=("$runsc" do --platform="$platform" --)
# Scratch files of openread/stat: the host /tmp natively; the sandbox's
# overlay of it inside.
export BENCH_DIR=/tmp

median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) exit 1; if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# measure BIN OPS [PREFIX...]: median VALUE over $reps runs of PREFIX BIN,
# or FAIL.
measure() {
	local bin=$1 ops=$2 vals="" line
	shift 2
	for ((i = 0; i < reps; i++)); do
		if ! line=$(BENCH_OPS=$ops "$@" "$bin" </dev/null 2>/dev/null | grep -E '^[A-Za-z_]+: [0-9.]+ '); then
			echo FAIL
			return
		fi
		vals="$vals $(echo "$line" | awk '{print $2}')"
	done
	printf '%s\n' $vals | median
}

# startup CMD...: median wall time of one run, in ms.
startup() {
	if command -v hyperfine >/dev/null; then
		local json
		json=$(mktemp)
		if hyperfine -N -w 2 -r "$startups" --export-json "$json" "$*" >/dev/null 2>&1; then
			awk -F: '/"median"/ {gsub(/[ ,]/, "", $2); printf "%.2f\n", $2 * 1000; exit}' "$json"
		else
			echo FAIL
		fi
		rm -f "$json"
		return
	fi
	# No hyperfine: time each run with bash's microsecond clock, which
	# costs no extra process.
	local vals="" t0 t1
	for ((i = 0; i < startups; i++)); do
		t0=$EPOCHREALTIME
		"$@" >/dev/null 2>&1 </dev/null || { echo FAIL; return; }
		t1=$EPOCHREALTIME
		vals="$vals $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) * 1000}')"
	done
	printf '%s\n' $vals | median
}

ratio() {
	case "$1$2" in *FAIL*) echo "-" ;; *) awk -v n="$1" -v s="$2" 'BEGIN {if (n > 0) printf "%.1fx", s / n; else print "-"}' ;; esac
}

row() { printf '%-22s %12s %12s %8s  %s\n' "$@"; }

# fmt rounds a figure to 3 significant digits for the table.
fmt() { case "$1" in FAIL) echo FAIL ;; *) awk -v v="$1" 'BEGIN {printf(v >= 100 ? "%.0f\n" : v >= 10 ? "%.1f\n" : "%.2f\n", v)}' ;; esac; }

echo "# runsc-lite $(git -C "$here" describe --always --dirty 2>/dev/null || echo '?'), platform $platform, $(nproc) CPUs, median of $reps (start-up: $startups)"
row benchmark native sandbox ratio unit
# name, binary, op count for both sides.
for spec in "getppid getppid 100000" "open+read+close openread 20000" "stat stat 20000"; do
	set -- $spec
	n=$(measure "$out/$2" "$3")
	s=$(measure "$out/$2" "$3" "${sandbox[@]}")
	row "$1" "$(fmt "$n")" "$(fmt "$s")" "$(ratio "$n" "$s")" ns/op
done
# Issue 4: 64 MiB sequential write and read on the sandbox's tmpfs (its
# /tmp overlay; natively the host /tmp) and on a --volume bind mount of a
# host directory (natively that directory itself).
vol=$(mktemp -d)
trap 'rm -rf "$vol"' EXIT
for mode in write read; do
	n=$(measure "$out/seqio" 1 env BENCH_MODE=$mode)
	s=$(measure "$out/seqio" 1 env BENCH_MODE=$mode "${sandbox[@]}")
	row "seq $mode 64M tmpfs" "$(fmt "$n")" "$(fmt "$s")" "$(ratio "$s" "$n")" "MiB/s (ratio native/sandbox)"
	n=$(measure "$out/seqio" 1 env BENCH_MODE=$mode BENCH_DIR="$vol")
	s=$(measure "$out/seqio" 1 env BENCH_MODE=$mode BENCH_DIR=/vol "$runsc" do --platform="$platform" --volume "$vol:/vol" --)
	row "seq $mode 64M volume" "$(fmt "$n")" "$(fmt "$s")" "$(ratio "$s" "$n")" "MiB/s (ratio native/sandbox)"
done
n=$(startup "$out/btrue")
s=$(startup "${sandbox[@]}" "$out/btrue")
row "start-up static true" "$(fmt "$n")" "$(fmt "$s")" "$(ratio "$n" "$s")" ms
n=$(startup /bin/true)
s=$(startup "${sandbox[@]}" /bin/true)
row "start-up /bin/true" "$(fmt "$n")" "$(fmt "$s")" "$(ratio "$n" "$s")" ms
