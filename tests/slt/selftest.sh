#!/usr/bin/env bash
# selftest.sh -- checks of the sqllogictest runner itself, on its sqlite
# backend: failures are detected and located, the expectation file catches
# regressions, stale entries and unlisted files, the exception list counts
# apart and is validated, --write-expect and --complete write what they
# should, CRLF scripts run.  Run by `make slt`.
#
#   bash tests/slt/selftest.sh path/to/slt
set -u

slt=${1:?usage: selftest.sh path/to/slt}
dir=tests/slt/selftest
mixed=$dir/mixed.test
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slt-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n_ok=0 n_bad=0

pass() { n_ok=$((n_ok + 1)); }
fail() { echo "selftest: FAIL: $*"; n_bad=$((n_bad + 1)); }

# run <expected status> <args...>: runs slt, output in $tmp/out, $tmp/err
run() {
	local want=$1 got
	shift
	"$slt" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		fail "slt $* exited $got, not $want"
		sed 's/^/    /' "$tmp/out" "$tmp/err" | head -20
		return 1
	fi
	pass
}

# has <file> <fixed string> <what>
has() {
	if grep -qF -- "$2" "$1"; then pass; else fail "$3: no '$2'"; fi
}

# Failures are counted and located, whatever the order of the records.
run 1 --engine sqlite --verbose "$mixed" &&
	has "$tmp/out" "$mixed: 18 passed, 10 failed, 4 skipped" "counts" &&
	has "$tmp/out" "18 passed, 10 failed" "total"
failing=$(grep -oE "^$mixed:[0-9]+:" "$tmp/err" | cut -d: -f2 | tr '\n' ' ')
want_failing="13 17 42 49 57 63 106 112 129 187 "
[ "$failing" = "$want_failing" ] && pass ||
	fail "failing lines '$failing', expected '$want_failing'"
has "$tmp/err" "value 2 is '2', '3' expected" "wrong value reported"
has "$tmp/err" "SELECT a FROM t WHERE a < 3 ORDER BY a" "SQL shown"

# A skipped record defines its label for the records that run.
run 1 --engine sqlite --verbose "$dir/labels.test" &&
	has "$tmp/out" "labels.test: 1 passed, 1 failed, 1 skipped" \
		"skipped label" &&
	has "$tmp/err" "labels.test:10: query failed: the result differs" \
		"skipped label"

# --write-expect writes the passing records as ranges, keeping the entries
# of other files.
printf 'other/file.test 1-5\n' >"$tmp/w.expect"
run 1 --engine sqlite --write-expect "$tmp/w.expect" "$mixed"
grep -v '^#' "$tmp/w.expect" | sort >"$tmp/w.got"
{ grep -v '^#' "$dir/mixed.expect"; echo 'other/file.test 1-5'; } | sort \
	>"$tmp/w.want"
cmp -s "$tmp/w.got" "$tmp/w.want" && pass ||
	fail "--write-expect wrote $(cat "$tmp/w.got")"

# --expect: the listed records pass, so the run passes; a record passing
# that the list does not name is reported, not fatal.
run 0 --engine sqlite --expect "$dir/mixed.expect" "$mixed" &&
	has "$tmp/out" "0 regressions, 0 records passing" "clean expect"
sed 's/,192$//' "$dir/mixed.expect" >"$tmp/fewer.expect"
run 0 --engine sqlite --expect "$tmp/fewer.expect" "$mixed" &&
	has "$tmp/out" "0 regressions, 1 record passing" "newly passing"

# A listed record that fails, or is skipped, is a regression.
sed 's/,192$/,192,42/' "$dir/mixed.expect" >"$tmp/more.expect"
run 1 --engine sqlite --expect "$tmp/more.expect" "$mixed" &&
	has "$tmp/err" "$mixed:42: regression" "regression located" &&
	has "$tmp/out" "1 regression," "regression counted"
sed 's/,192$/,192,136/' "$dir/mixed.expect" >"$tmp/skip.expect"
run 1 --engine sqlite --expect "$tmp/skip.expect" "$mixed" &&
	has "$tmp/err" "$mixed:136: regression: listed as passing in" \
		"skipped record" &&
	has "$tmp/err" "now skipped" "skipped record"

# An entry where no record starts is stale.
sed 's/,192$/,192,7/' "$dir/mixed.expect" >"$tmp/stale.expect"
run 1 --engine sqlite --expect "$tmp/stale.expect" "$mixed" &&
	has "$tmp/err" "$mixed:7: listed (7-7) but no record starts there" \
		"stale entry"

# A file the list does not name must pass whole.
printf 'other/file.test 1\n' >"$tmp/other.expect"
run 1 --engine sqlite --expect "$tmp/other.expect" "$mixed" &&
	has "$tmp/err" "does not list the file" "unlisted file"

# A malformed expectation file is a usage error.
printf 'tests/slt/selftest/mixed.test 9-6\n' >"$tmp/bad.expect"
run 2 --engine sqlite --expect "$tmp/bad.expect" "$mixed"

# The exception list: failures it names count as excepted; a listed record
# that passes is reported; entries need a section and a reason.
cat >"$tmp/exc" <<EOF
# comment
$mixed:42 docs/sql.md#types-and-conversions a deliberate difference
$mixed:49 docs/sql.md#types-and-conversions another one
$mixed:6 docs/sql.md#types-and-conversions this record passes
EOF
run 1 --engine sqlite --exceptions "$tmp/exc" "$mixed" &&
	has "$tmp/out" "$mixed: 18 passed, 8 failed, 4 skipped, 2 excepted" \
		"excepted counts" &&
	has "$tmp/err" "$mixed:6: listed as an exception but passes" \
		"passing exception"
printf '%s:42 a deliberate difference\n' "$mixed" >"$tmp/exc2"
run 2 --engine sqlite --exceptions "$tmp/exc2" "$mixed" &&
	has "$tmp/err" "docs/sql.md section" "exception without a section"
printf '%s:42 docs/sql.md#types\n' "$mixed" >"$tmp/exc3"
run 2 --engine sqlite --exceptions "$tmp/exc3" "$mixed" &&
	has "$tmp/err" "reason" "exception without a reason"
printf '%s:8 docs/sql.md#types-and-conversions no record here\n' "$mixed" >"$tmp/exc4"
run 1 --engine sqlite --exceptions "$tmp/exc4" "$mixed" &&
	has "$tmp/err" "$mixed:8: listed (8-8) but no record starts there" \
		"stale exception"

printf '%s:42 docs/sql.md#no-such-section a reason\n' "$mixed" >"$tmp/exc5"
run 2 --engine sqlite --exceptions "$tmp/exc5" "$mixed" &&
	has "$tmp/err" "docs/sql.md has no such section" "unknown section"

# --complete rewrites the results from the engine.
run 0 --engine sqlite --complete "$dir/complete.test" &&
	{ cmp -s "$tmp/out" "$dir/complete.out" && pass ||
		fail "--complete output differs from $dir/complete.out"; }

# Scripts with CRLF line ends run, and files run on a fresh database.
sed 's/$/\r/' "$dir/complete.out" >"$tmp/crlf.test"
run 0 --engine sqlite "$tmp/crlf.test" "$tmp/crlf.test" &&
	has "$tmp/out" "10 passed, 0 failed" "CRLF script, twice"
run 0 --engine sqlite --file "$tmp/crlf.test"
run 0 --engine sqlite --timing "$tmp/crlf.test" &&
	has "$tmp/out" "0 skipped (" "--timing" &&
	has "$tmp/out" "s; slowest record: line " "--timing"

# Bad usage.
run 2 --engine nosuch "$mixed"
run 2 --engine sqlite
run 2 --engine sqlite "$tmp/missing.test"

if [ "$n_bad" -gt 0 ]; then
	echo "selftest: $n_bad of $((n_ok + n_bad)) checks failed"
	exit 1
fi
echo "selftest: $n_ok checks passed"
