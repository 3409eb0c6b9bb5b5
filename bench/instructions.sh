#!/bin/sh
# instructions.sh: instructions per accessctl.Policy.Evaluate, counted by
# valgrind's callgrind, for the S, M and L workloads of BenchmarkEvaluate.
# Counts are steadier than times, but the runtime's own work inside the loop
# moves them too: run on a quiet machine, take the median of RUNS >= 5, and
# distrust a run some 90 instructions above the others (seen under load).
#
#   bench/instructions.sh [REV ...]     (default: the work tree)
#   BENCH=Effect bench/instructions.sh  (Policy.Effect, BenchmarkEffect)
#   OVERLAY=FILE bench/instructions.sh REV  (FILE copied into accessctl/ of
#                                        each REV first: a benchmark it lacks)
#
# For each revision (a git revision, or "." for the work tree) it builds the
# accessctl test binary, runs BenchmarkEvaluate/W under callgrind counting
# only inside the benchmark's loop, at 200,000 and 600,000 iterations, and
# prints (600k - 200k) / 400k: the loop's own cost per evaluation, request
# copy included. Principal tables hash under a random seed per table, so a
# figure moves by a few instructions between runs: it prints the median of
# RUNS runs (default 3). Compare revisions in one invocation. (Without
# asyncpreemptoff, callgrind asserts on the runtime's preemption signals;
# without GOGC=off, a garbage collection that overlaps the loop is counted
# in it, L by some 300 instructions per evaluation.)
set -eu
runs=${RUNS:-3}
bench=${BENCH:-Evaluate}
top=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'git -C "$top" worktree remove --force "$tmp/src" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
[ $# -gt 0 ] || set -- .

count() { # binary workload iterations -> instructions in the loop
	GOGC=off GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file="$tmp/out" \
		--toggle-collect="*Benchmark$bench.func1*" "$1" \
		-test.run '^$' -test.bench "^Benchmark$bench\$/^$2\$" -test.benchtime "${3}x" -test.count 1 >/dev/null 2>&1
	sed -n 's/^totals: *\([0-9]*\).*/\1/p; s/^summary: *\([0-9]*\).*/\1/p' "$tmp/out" | tail -1
}

printf '%-12s %6s %6s %6s\n' revision S M L
for rev in "$@"; do
	if [ "$rev" = . ]; then
		(cd "$top" && go test -c -o "$tmp/bin" ./accessctl)
	else
		git -C "$top" worktree add -q --detach "$tmp/src" "$rev"
		[ -z "${OVERLAY:-}" ] || cp "$OVERLAY" "$tmp/src/accessctl/"
		(cd "$tmp/src" && go test -c -o "$tmp/bin" ./accessctl)
		git -C "$top" worktree remove --force "$tmp/src"
	fi
	line=$(printf '%-12s' "$rev")
	for w in S M L; do
		vals=""
		i=0
		while [ $i -lt "$runs" ]; do
			a=$(count "$tmp/bin" $w 200000)
			b=$(count "$tmp/bin" $w 600000)
			vals="$vals $(( (b - a + 200000) / 400000 ))"
			i=$((i + 1))
		done
		med=$(printf '%s\n' $vals | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
		line="$line $(printf '%6s' "$med")"
	done
	echo "$line"
done
