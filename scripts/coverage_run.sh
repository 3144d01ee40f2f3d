#!/usr/bin/env bash
# coverage_run.sh -- the test runs of a full `make coverage`
# (docs/testing.md, "Coverage"): every Check suite (each its own process),
# the rdb backend of the sqllogictest runner over tests/slt/*.test and the
# chosen shared-corpus files, the shell's batch scripts and the fuzz corpus
# replays, JOBS at a time (gcov merges the counts of processes that end
# together safely: it locks each .gcda file).  Slow jobs start first.
# Prints each job's time and status as it ends; exits 1 if any failed
# (with the end of its log), after all have run.  Logs: BUILD/covlogs/.
#
#   bash scripts/coverage_run.sh BUILD JOBS SUITES FUZZ_TARGETS [CORPUS...]
#
# BUILD is the coverage build folder (build/coverage), SUITES and
# FUZZ_TARGETS space-separated lists, CORPUS the sqllogictest files of the
# shared corpus to run (none: that job is left out).  RDB_TEST_SCALE and
# CK_DEFAULT_TIMEOUT come from the environment.  A sqllogictest record
# may fail (the runner's exit 1: make check judges results); a crash or a
# sanitizer report (exit 2 and above) fails the job.
set -uo pipefail

b=${1:?usage: coverage_run.sh BUILD JOBS SUITES FUZZ_TARGETS [CORPUS...]}
jobs=${2:?}
suites=${3:?}
targets=${4:?}
shift 4
corpus=("$@")
logs=$b/covlogs
rm -rf "$logs"
mkdir -p "$logs"

# The slowest jobs of earlier runs, started first so that the last ones
# to end are short (order of the 2026-11-21 measurement at scale 0.3).
slow="slt:corpus suite:btree suite:reliab suite:tblbuild suite:btree_fault
suite:kv suite:pager_fault suite:btcov suite:sorter suite:hashjoin
suite:hashgroup suite:grouptop suite:trigsp suite:btload suite:sqldiff
suite:schemaderive"

# One line per job: NAME<TAB>COMMAND.
{
	for s in $slow; do
		name=${s#*:}
		case $s in
		suite:*) [[ " $suites " == *" $name "* ]] &&
			printf 'suite_%s\tCK_RUN_SUITE=%s %s\n' "$name" "$name" \
				"$b/tests/check_rdb" ;;
		slt:corpus) [ "${#corpus[@]}" -gt 0 ] &&
			printf 'slt_corpus\t%s --engine rdb --exceptions %s %s' \
				"$b/slt" tests/slt/exceptions.txt "${corpus[*]}" &&
			printf ' || [ $? -eq 1 ]\n' ;;
		esac
	done
	for s in $suites; do
		[[ " $(echo $slow) " == *" suite:$s "* ]] && continue
		printf 'suite_%s\tCK_RUN_SUITE=%s %s\n' "$s" "$s" \
			"$b/tests/check_rdb"
	done
	printf 'slt_own\t%s --engine rdb --exceptions %s %s\n' "$b/slt" \
		tests/slt/exceptions.txt "$(echo tests/slt/*.test)"
	printf 'shell_scripts\tbash tests/shell/run.sh %s\n' "$b/bin/rdb"
	for t in $targets; do
		printf 'fuzz_%s\t%s fuzz/corpus/%s fuzz/crashes/%s\n' "$t" \
			"$b/fuzz/replay_$t" "$t" "$t"
	done
} > "$logs/jobs"

run_one() {
	local name=${1%%$'\t'*} cmd=${1#*$'\t'} t0 rc
	t0=$(date +%s)
	RDB_SHELL_BIN=$PWD/$b/bin/rdb bash -c "$cmd" > "$logs/$name.log" 2>&1
	rc=$?
	printf '%-24s %5d s  %s  %s\n' "$name" $(($(date +%s) - t0)) \
		"$([ $rc -eq 0 ] && echo ok || echo "FAILED ($rc)")" \
		"$(grep -E 'passed|failed|records' "$logs/$name.log" | tail -1)"
	[ $rc -eq 0 ] || touch "$logs/$name.failed"
}
export -f run_one
export b logs

t0=$(date +%s)
echo "== coverage runs: $(wc -l < "$logs/jobs") jobs, $jobs at a time," \
	"RDB_TEST_SCALE=${RDB_TEST_SCALE:-1}"
tr '\n' '\0' < "$logs/jobs" | xargs -0 -P "$jobs" -n 1 bash -c \
	'run_one "$1"' _
echo "== coverage runs: $(($(date +%s) - t0)) s"
status=0
for f in "$logs"/*.failed; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .failed)
	echo "== $name failed; the end of $logs/$name.log:"
	tail -20 "$logs/$name.log"
	status=1
done
exit $status
