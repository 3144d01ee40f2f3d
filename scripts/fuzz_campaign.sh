#!/usr/bin/env bash
# fuzz_campaign.sh -- one long libFuzzer campaign, unattended and
# resumable (docs/testing.md, "Fuzzing").
#
#   bash scripts/fuzz_campaign.sh TARGET RUNS [LOG]
#   bash scripts/fuzz_campaign.sh --total [LOG]
#
# Runs `make fuzz FUZZ_TARGETS=TARGET FUZZ_RUNS=N` (clang, ASan, UBSan,
# the flags of `make fuzz`) at nice 19, so it yields to everything else
# on the machine, and appends a summary of each run to LOG (a path from
# the caller's directory; by default the tree's build/fuzz/campaign.log):
# the dates, the commit, the code it fuzzed, the target, the executions
# asked for, the exit status and libFuzzer's final statistics
# (executions, executions per second, peak memory, corpus size and
# coverage).  The whole output of the latest run is in LOG.TARGET.out.
#
# With CHUNK=N in the environment the campaign runs in chunks of N
# executions until the chunks LOG holds for TARGET and this code, each
# ended with exit 0, add up to RUNS; a second call with the same
# arguments goes on where the first stopped.  A chunk that was killed
# (the machine stopped, a session ended) wrote no summary and does not
# count.  Every chunk starts from the corpus the earlier ones grew
# (build/fuzz/corpus/TARGET), as libFuzzer's own -fork mode restarts its
# workers on a shared corpus.  "This code" is the last commit that
# changed src/, include/, fuzz/ or the Makefile: a commit of docs or
# tests alone does not restart a campaign.
#
# --total prints, per target and code, the executions of the chunks and
# runs that ended with exit 0, the number of them, the first start, the
# last end and the number of runs that ended otherwise.
#
# Exit status: make's (0 when RUNS executions ran with no report; an
# input that crashed is in fuzz/crashes/TARGET/), 2 on bad arguments.
# Every target is single-threaded: on a 2-core machine run at most two
# campaigns at once.  Example, in the background:
#   CHUNK=500000 nohup bash scripts/fuzz_campaign.sh sql 10000000 &
set -uo pipefail
here=$PWD
cd "$(dirname "$0")/.." || exit 2

# logpath [LOG]: LOG as named from the caller's directory, else the
# default in the tree's build/.
logpath() {
	case ${1:-} in
	'') echo build/fuzz/campaign.log;;
	/*) echo "$1";;
	*) echo "$here/$1";;
	esac
}

# total LOG [TARGET CODE]: the summary of LOG; with TARGET and CODE only
# the executions of their runs that ended with exit 0.
total() {
	awk -v want_t="${2:-}" -v want_c="${3:-}" '
	/^== / {
		t = ""; c = ""; rc = ""
		for (i = 2; i <= NF; i++) {
			if ($i == "commit" && c == "") c = $(i + 1)
			if ($i == "code") c = $(i + 1)
			if ($i == "target") t = $(i + 1)
			if ($i == "exit") rc = $(i + 1)
		}
		k = t " " c
		if (!(k in first)) { first[k] = $2; order[++n] = k }
		last[k] = $4
		if (rc == "0") runs[k]++; else bad[k]++
		next
	}
	/^stat::number_of_executed_units:/ && rc == "0" { execs[k] += $2 }
	END {
		if (want_t != "") { print execs[want_t " " want_c] + 0; exit }
		for (i = 1; i <= n; i++) {
			k = order[i]; split(k, p, " ")
			printf "%s code %s: %d executions in %d runs with exit 0" \
			       " (%s .. %s), %d other runs\n", p[1], p[2], \
			       execs[k], runs[k], first[k], last[k], bad[k]
		}
	}' "$1"
}

if [ "${1:-}" = --total ]; then
	log=$(logpath "${2:-}")
	[ -f "$log" ] || { echo "fuzz_campaign.sh: no log '$log'" >&2; exit 2; }
	total "$log"
	exit 0
fi

target=${1:?usage: fuzz_campaign.sh TARGET RUNS [LOG] | --total [LOG]}
runs=${2:?usage: fuzz_campaign.sh TARGET RUNS [LOG] | --total [LOG]}
log=$(logpath "${3:-}")
chunk=${CHUNK:-}
if [ ! -f "fuzz/fz_$target.c" ]; then
	echo "fuzz_campaign.sh: no target '$target' (fuzz/fz_$target.c)" >&2
	exit 2
fi
case $runs$chunk in
''|*[!0-9]*) echo "fuzz_campaign.sh: RUNS and CHUNK must be numbers" >&2
	exit 2;;
esac
mkdir -p "$(dirname "$log")"
touch "$log"
out=$log.$target.out
commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
code=$(git log -1 --format=%h -- src include fuzz Makefile 2>/dev/null)
code=${code:-$commit}

# run N: one run of N executions, its summary appended to LOG.
run() {
	local start rc
	start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	nice -n 19 make --no-print-directory fuzz FUZZ_TARGETS="$target" \
		FUZZ_RUNS="$1" >"$out" 2>&1
	rc=$?
	{
		echo "== $start .. $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		     "commit $commit code $code target $target runs $1 exit $rc"
		grep -E '^(stat::|#[0-9]+[[:space:]]+DONE)' "$out"
		grep -E '^(==[0-9]+==ERROR|SUMMARY:|artifact_prefix|Test unit written)' \
			"$out" | head -n 5
	} >>"$log"
	return $rc
}

if [ -z "$chunk" ]; then
	run "$runs"
	rc=$?
	tail -n 12 "$log"
	exit $rc
fi
while :; do
	done_runs=$(total "$log" "$target" "$code")
	if [ "$done_runs" -ge "$runs" ]; then
		echo "fuzz_campaign.sh: $target code $code: $done_runs executions" \
		     "with exit 0 (goal $runs)"
		exit 0
	fi
	left=$((runs - done_runs))
	run $((left < chunk ? left : chunk))
	rc=$?
	if [ $rc -ne 0 ]; then
		tail -n 12 "$log"
		exit $rc
	fi
done
