#!/bin/bash
# Micro-benchmarks natively and inside runsc-lite, side by side.
#
#   bench/run.sh [RUNSC_LITE]        (default: bin/runsc-lite; `make bench` builds it)
#
# Environment:
#   PLATFORM   --platform for the sandbox (default seccomptrap, the default platform)
#   REPS       runs per benchmark; the median is reported (default 5)
#   STARTUPS   runs of the start-up benchmark (default 20)
#   ONLY       which groups to run, any of: syscalls seqio net startup
#              (default all; `ONLY=net bench/run.sh` runs the TCP ones only)
#   QUICK=1    a quick pass: REPS and STARTUPS default to 3 and 5, tcp_stream
#              moves 256M and tcp_rr makes 2000 connections
#   NET_BYTES  bytes tcp_stream moves per run (default 2G; K/M/G suffixes)
#   NET_RR_OPS connections tcp_rr makes per run (default 20000)
#   NET_TIMEOUT seconds one network run may take before it counts as failed
#              (default 300), so that a hung network stack cannot hang the run
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
quick=${QUICK:-0}
[ "$quick" = 0 ] || quick=1
reps=${REPS:-$((quick ? 3 : 5))}
startups=${STARTUPS:-$((quick ? 5 : 20))}
only=${ONLY:-syscalls seqio net startup}
net_bytes=${NET_BYTES:-$([ "$quick" = 1 ] && echo 256M || echo 2G)}
net_rr_ops=${NET_RR_OPS:-$((quick ? 2000 : 20000))}
net_timeout=${NET_TIMEOUT:-300}
for g in $only; do
	case $g in syscalls | seqio | net | startup) ;; *) echo "bench: ONLY: no group '$g' (syscalls seqio net startup)" >&2; exit 2 ;; esac
done
out=$here/out
[ -x "$runsc" ] || { echo "bench: $runsc not found; run 'make build' first" >&2; exit 1; }
command -v gcc >/dev/null || { echo "bench: gcc is required (apt-get install gcc libc6-dev)" >&2; exit 1; }

mkdir -p "$out"
for name in getppid clock_gettime openread stat btrue seqio tcp_rr tcp_stream; do
	gcc -O2 -static -Wall -o "$out/$name" "$here/src/$name.c"
done

sandbox=("$runsc" do --platform="$platform" --)
# Scratch files of openread/stat: the host /tmp natively; the sandbox's
# overlay of it inside.
export BENCH_DIR=/tmp

# want GROUP: whether ONLY selects GROUP.
want() { case " $only " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

vol="" scratch=$(mktemp -d)
trap 'rm -rf "$scratch" ${vol:+"$vol"}' EXIT

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

# ratio BASE X [DIGITS]: X/BASE as "1.2x", or "-" if either failed.
ratio() {
	case "$1$2" in *FAIL*) echo "-" ;; *) awk -v n="$1" -v s="$2" -v d="${3:-1}" 'BEGIN {if (n > 0) printf "%.*fx\n", d, s / n; else print "-"}' ;; esac
}

row() { printf '%-22s %12s %12s %8s  %s\n' "$@"; }

# fmt rounds a figure to 3 significant digits for the table.
fmt() { case "$1" in FAIL) echo FAIL ;; *) awk -v v="$1" 'BEGIN {printf(v >= 100 ? "%.0f\n" : v >= 10 ? "%.1f\n" : "%.2f\n", v)}' ;; esac; }

# errline FILE: the line of a failed run's stderr that says why: a Go
# panic or fatal error of the sentry (its stack follows it), else the last
# non-blank line.
errline() {
	local l
	l=$(grep -m 1 -E '^(panic|fatal error): ' "$1") && { echo "sentry $l" | cut -c1-200; return; }
	grep -v '^[[:space:]]*$' "$1" | tail -n 1 | cut -c1-200
}

# measure_net BIN [PREFIX...]: "MEDIAN MIN MAX" over $reps runs of
# PREFIX BIN, or "FAIL WHY" with WHY from the first failed run (its exit
# status and errline, or its timeout). Each run is bounded by $net_timeout.
measure_net() {
	local bin=$1 vals="" line rc why
	shift
	for ((i = 0; i < reps; i++)); do
		rc=0
		timeout -k 5 "$net_timeout" "$@" "$bin" </dev/null >"$scratch/out" 2>"$scratch/err" || rc=$?
		line=$(grep -E '^[A-Za-z_]+: [0-9.]+ ' "$scratch/out" | tail -n 1) || true
		if [ "$rc" != 0 ] || [ -z "$line" ]; then
			case $rc in
			124 | 137) why="timed out after ${net_timeout}s (NET_TIMEOUT)" ;;
			*) why="exit $rc: $(errline "$scratch/err")" ;;
			esac
			case $why in
			*"Address family not supported"*) why="$why (EAFNOSUPPORT: no AF_INET sockets, i.e. no IP networking, in the sandbox yet)" ;;
			esac
			echo "FAIL $why"
			return
		fi
		vals="$vals $(echo "$line" | awk '{print $2}')"
	done
	printf '%s\n' $vals | sort -g | awk '{v[NR]=$1} END {m = NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; print m, v[1], v[NR]}'
}

# netrow LABEL UNIT DIR TARGET BIN [ENV...]: one network benchmark natively
# and in the sandbox, with the spread (min..max) of each side's runs and a
# check against TARGET, the sandbox/native cost ratio to stay under (for
# DIR=up, a higher-is-better figure, the ratio is native/sandbox, as for seqio).
netrow() {
	local label=$1 unit=$2 dir=$3 target=$4 bin=$5 n s nv sv r note verdict
	shift 5
	n=$(measure_net "$bin" env "$@")
	s=$(measure_net "$bin" env "$@" "${sandbox[@]}")
	nv=${n%% *} sv=${s%% *}
	if [ "$dir" = up ]; then r=$(ratio "$sv" "$nv" 2); else r=$(ratio "$nv" "$sv" 2); fi
	note="$unit"
	[ "$dir" = up ] && note="$note (ratio native/sandbox)"
	case $r in
	-) verdict="" ;;
	*) verdict=$(awk -v r="${r%x}" -v t="$target" 'BEGIN {print (r <= t) ? "met" : "MISSED"}') ;;
	esac
	note="$note; target <=${target}x${verdict:+ $verdict}"
	case $n in FAIL*) ;; *) note="$note; spread native $(echo "$n" | awk '{print $2 ".." $3}')" ;; esac
	case $s in FAIL*) ;; *) note="$note, sandbox $(echo "$s" | awk '{print $2 ".." $3}')" ;; esac
	row "$label" "$(fmt "$nv")" "$(fmt "$sv")" "$r" "$note"
	record "$label" "$unit" "$([ "$dir" = up ] && echo high || echo low)" "$nv" "$sv"
	case $n in FAIL*) echo "    ^ native run failed: ${n#FAIL }" ;; esac
	case $s in FAIL*) echo "    ^ sandbox run failed: ${s#FAIL }" ;; esac
}

# record NAME UNIT low|high NATIVE SANDBOX: the figures also go to
# $results, for bench/plot's chart (FAIL is left out).
results=$out/run-$platform.tsv
printf '# bench/run.sh on %s, runsc-lite %s, %d CPUs, median of %d\n' "$platform" "$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc)" "$reps" >"$results"
record() {
	[ "$4" = FAIL ] || printf '%s\t%s\t%s\tnative\t%s\n' "$1" "$2" "$3" "$4" >>"$results"
	[ "$5" = FAIL ] || printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$platform" "$5" >>"$results"
}
echo "# runsc-lite $(git -C "$here" describe --always --dirty 2>/dev/null || echo '?'), platform $platform, $(nproc) CPUs, median of $reps (start-up: $startups)"
row benchmark native sandbox ratio unit
if want syscalls; then
# name, binary, op count for both sides.
for spec in "getppid getppid 100000" "clock_gettime clock_gettime 2000000" "open+read+close openread 20000" "stat stat 20000"; do
	set -- $spec
	n=$(measure "$out/$2" "$3")
	s=$(measure "$out/$2" "$3" "${sandbox[@]}")
	row "$1" "$(fmt "$n")" "$(fmt "$s")" "$(ratio "$n" "$s")" ns/op
	record "$1" ns/op low "$n" "$s"
done
fi
if want seqio; then
# Issue 4: 64 MiB sequential write and read on the sandbox's tmpfs (its
# /tmp overlay; natively the host /tmp) and on a --volume bind mount of a
# host directory (natively that directory itself).
vol=$(mktemp -d)
for mode in write read; do
	n=$(measure "$out/seqio" 1 env BENCH_MODE=$mode)
	s=$(measure "$out/seqio" 1 env BENCH_MODE=$mode "${sandbox[@]}")
	row "seq $mode 64M tmpfs" "$(fmt "$n")" "$(fmt "$s")" "$(ratio "$s" "$n")" "MiB/s (ratio native/sandbox)"
	record "seq $mode 64M tmpfs" MiB/s high "$n" "$s"
	n=$(measure "$out/seqio" 1 env BENCH_MODE=$mode BENCH_DIR="$vol")
	s=$(measure "$out/seqio" 1 env BENCH_MODE=$mode BENCH_DIR=/vol "$runsc" do --platform="$platform" --volume "$vol:/vol" --)
	row "seq $mode 64M volume" "$(fmt "$n")" "$(fmt "$s")" "$(ratio "$s" "$n")" "MiB/s (ratio native/sandbox)"
	record "seq $mode 64M volume" MiB/s high "$n" "$s"
done
fi
if want net; then
# TCP over 127.0.0.1, client and server in one program (a forked server).
# tcp_rr: connect + 1 byte each way + close; tcp_stream: $net_bytes over one
# connection in 128 KiB writes and reads. Targets (issue: netstack): tcp_rr
# at most 3x native, tcp_stream at least native throughput.
netrow "tcp_rr 127.0.0.1" us/op down 3 "$out/tcp_rr" BENCH_OPS="$net_rr_ops"
netrow "tcp_stream $net_bytes" GB/s up 1 "$out/tcp_stream" BENCH_BYTES="$net_bytes" BENCH_OPS=
fi
if want startup; then
n=$(startup "$out/btrue")
s=$(startup "${sandbox[@]}" "$out/btrue")
row "start-up static true" "$(fmt "$n")" "$(fmt "$s")" "$(ratio "$n" "$s")" ms
record "start-up static true" ms low "$n" "$s"
n=$(startup /bin/true)
s=$(startup "${sandbox[@]}" /bin/true)
row "start-up /bin/true" "$(fmt "$n")" "$(fmt "$s")" "$(ratio "$n" "$s")" ms
record "start-up /bin/true" ms low "$n" "$s"
fi
