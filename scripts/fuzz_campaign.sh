#!/usr/bin/env bash
# fuzz_campaign.sh -- one long libFuzzer campaign, unattended
# (docs/testing.md, "Fuzzing"): runs `make fuzz FUZZ_TARGETS=TARGET
# FUZZ_RUNS=RUNS` (clang, ASan, UBSan, the flags of `make fuzz`) at nice
# 19, so it yields to everything else on the machine, and appends a
# summary to LOG: the date, the commit, the target, the exit status and
# libFuzzer's final statistics (executions, executions per second, peak
# memory, corpus size and coverage).  The whole output is kept in
# LOG.TARGET.out.  Exit status: make's (0 when RUNS executions ran with no
# report; an input that crashed is in fuzz/crashes/TARGET/).
#
#   bash scripts/fuzz_campaign.sh TARGET RUNS [LOG]
#
# TARGET is one of fuzz/fz_*.c (sql, file, wal, kv, csv, args); LOG
# defaults to build/fuzz/campaign.log.  Run one campaign at a time on a
# small machine: every target is single-threaded.  Example, in the
# background: nohup bash scripts/fuzz_campaign.sh sql 10000000 &
set -uo pipefail

target=${1:?usage: fuzz_campaign.sh TARGET RUNS [LOG]}
runs=${2:?usage: fuzz_campaign.sh TARGET RUNS [LOG]}
log=${3:-build/fuzz/campaign.log}
cd "$(dirname "$0")/.."
if [ ! -f "fuzz/fz_$target.c" ]; then
	echo "fuzz_campaign.sh: no target '$target' (fuzz/fz_$target.c)" >&2
	exit 2
fi
case $runs in
''|*[!0-9]*) echo "fuzz_campaign.sh: RUNS must be a number" >&2; exit 2;;
esac
mkdir -p "$(dirname "$log")"
out=$log.$target.out
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
nice -n 19 make --no-print-directory fuzz FUZZ_TARGETS="$target" \
	FUZZ_RUNS="$runs" >"$out" 2>&1
rc=$?
{
	echo "== $start .. $(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	     "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
	     "target $target runs $runs exit $rc"
	grep -E '^(stat::|#[0-9]+[[:space:]]+DONE)' "$out"
	grep -E '^(==[0-9]+==ERROR|SUMMARY:|artifact_prefix|Test unit written)' \
		"$out" | head -n 5
} >>"$log"
tail -n 12 "$log"
exit $rc
