#!/bin/bash
# The platforms side by side: each benchmark natively, on ptrace, on
# seccomptrap without syscall patching (every syscall a host trap) and on
# seccomptrap as it runs by default (hot syscall sites patched), in one run,
# so that the ratios compare like with like on a noisy machine.
#
#   bench/platforms.sh [RUNSC_LITE]     (default: bin/runsc-lite)
#
# Environment: REPS (runs per benchmark, median reported; default 5),
# STARTUPS (runs of the start-up benchmark; default 20), RUN_TIMEOUT (seconds
# one benchmark run may take before it counts as failed; default 300).
# A failed cell reads FAIL, with the reason under the row.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runsc=$(realpath "${1:-$here/../bin/runsc-lite}")
reps=${REPS:-5}
startups=${STARTUPS:-20}
run_timeout=${RUN_TIMEOUT:-300}
out=$here/out
[ -x "$runsc" ] || { echo "bench: $runsc not found; run 'make build' first" >&2; exit 1; }

mkdir -p "$out"
for name in getppid openread pipe_pingpong forkexec tcp_rr btrue; do
	gcc -O2 -static -Wall -o "$out/$name" "$here/src/$name.c"
done
export BENCH_DIR=/tmp BENCH_TRUE=$out/btrue
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) exit 1; if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# errline FILE: the line of a failed run's stderr that says why: a Go
# panic or fatal error of the sentry (its stack follows it), else the last
# non-blank line.
errline() {
	local l
	l=$(grep -m 1 -E '^(panic|fatal error): ' "$1") && { echo "sentry $l" | cut -c1-200; return; }
	grep -v '^[[:space:]]*$' "$1" | tail -n 1 | cut -c1-200
}

# measure BIN OPS [PREFIX...]: median value over $reps runs, or FAIL, with
# "WHERE<tab>why" (WHERE: the caller's column, why: the failed run's last
# stderr line or its timeout) appended to $scratch/why.
measure() {
	local bin=$1 ops=$2 vals="" line rc why
	shift 2
	for ((i = 0; i < reps; i++)); do
		rc=0
		BENCH_OPS=$ops timeout -k 5 "$run_timeout" "$@" "$bin" </dev/null >"$scratch/out" 2>"$scratch/err" || rc=$?
		if ! line=$(grep -E '^[A-Za-z_]+: [0-9.]+ ' "$scratch/out") || [ "$rc" != 0 ]; then
			case $rc in
			124 | 137) why="timed out after ${run_timeout}s (RUN_TIMEOUT)" ;;
			*) why="exit $rc: $(errline "$scratch/err")" ;;
			esac
			case $why in
			*"Address family not supported"*) why="$why (EAFNOSUPPORT: no IP networking in the sandbox yet)" ;;
			esac
			printf '%s\t%s\n' "$(echo "${where:-?}" | sed 's/^nopatch$/sct-trap/')" "$why" >>"$scratch/why"
			echo FAIL
			return
		fi
		vals="$vals $(echo "$line" | awk '{print $2}')"
	done
	printf '%s\n' $vals | median
}

# startup CMD...: median wall time of one run in ms (bash's clock).
startup() {
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

# The figures also go to $out/platforms.tsv, for bench/plot's chart.
results=$out/platforms.tsv
printf '# bench/platforms.sh, runsc-lite %s, %d CPUs, median of %d\n' "$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc)" "$reps" >"$results"
printf '# runsc-lite %s, %d CPUs, median of %d (start-up: %d)\n' "$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc)" "$reps" "$startups"
printf '%-16s %9s %10s %7s %11s %7s %11s %7s  %s\n' benchmark native ptrace ratio sct-trap ratio seccomptrap ratio unit
row() {
	local label=$1 unit=$2 n p t s
	shift 2
	: >"$scratch/why"
	n=$("$@" native)
	p=$("$@" ptrace)
	t=$("$@" nopatch)
	s=$("$@" seccomptrap)
	printf '%-16s %9s %10s %7s %11s %7s %11s %7s  %s\n' "$label" "$n" "$p" "$(ratio "$n" "$p")" "$t" "$(ratio "$n" "$t")" \
		"$s" "$(ratio "$n" "$s")" "$unit"
	local col v
	for col in native:$n ptrace:$p sct-trap:$t seccomptrap:$s; do
		v=${col#*:}
		[ "$v" = FAIL ] || printf '%s\t%s\tlow\t%s\t%s\n' "$label" "$unit" "${col%%:*}" "$v" >>"$results"
	done
	# Why the FAIL cells failed, one line per distinct reason.
	awk -F '\t' '{if (!($2 in at)) {k[++m] = $2; at[$2] = $1} else at[$2] = at[$2] ", " $1}
		END {for (i = 1; i <= m; i++) printf "    ^ %s failed: %s\n", at[k[i]], k[i]}' "$scratch/why"
}
# bench NAME OPS SANDBOX_OPS WHERE: one benchmark on one side. The sandbox
# runs fewer ops so that a slow platform still finishes quickly.
bench() {
	local name=$1 ops=$2 sops=$3 where=$4
	case $where in
	native) measure "$out/$name" "$ops" ;;
	nopatch) measure "$out/$name" "$sops" "$runsc" --syscall-patching=false do --platform=seccomptrap -- ;;
	*) measure "$out/$name" "$sops" "$runsc" do --platform="$where" -- ;;
	esac
}
boot() {
	case $1 in
	native) startup "$out/btrue" ;;
	nopatch) startup "$runsc" --syscall-patching=false do --platform=seccomptrap -- /bin/true ;;
	*) startup "$runsc" do --platform="$1" -- /bin/true ;;
	esac
}
row getppid ns/op bench getppid 2000000 100000
row open+read+close ns/op bench openread 200000 20000
row pipe-pingpong ns/op bench pipe_pingpong 50000 5000
row fork+exec+wait us/op bench forkexec 2000 100
row tcp-rr us/op bench tcp_rr 20000 2000
row "start-up true" ms boot
