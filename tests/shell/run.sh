#!/usr/bin/env bash
# run.sh -- batch tests of the rdb shell: every tests/shell/NAME.sql is fed
# to `rdb ARGS` on standard input (ARGS from NAME.args, default none) in a
# fresh directory holding a copy of tests/shell/data/, and its standard
# output, standard error and exit status are compared with NAME.out and
# NAME.err (when present) and NAME.rc (default 0); a status of 128 or more
# (a crash) always fails; each line of NAME.errgrep
# (if present) must occur in standard error.  NAME.gen, if present, is a
# bash script whose output replaces NAME.sql as the input.  When NAME.sqlite3 exists
# and sqlite3 is installed, sqlite3 runs the same script with the same
# ARGS and its standard output must equal NAME.out as well.
#
#   bash tests/shell/run.sh path/to/rdb [NAME...]
set -uo pipefail

rdb=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
names=("$@")
if [ "${#names[@]}" -eq 0 ]; then
	for f in "$here"/*.sql "$here"/*.gen; do
		[ -e "$f" ] && names+=("$(basename "${f%.*}")")
	done
fi
have_sqlite3=0
command -v sqlite3 >/dev/null 2>&1 && have_sqlite3=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n_pass=0 n_fail=0 n_peer=0

fail() {
	echo "FAIL $1: $2"
	n_fail=$((n_fail + 1))
}

# run PROGRAM NAME: run PROGRAM on NAME.sql in a fresh directory; leave
# stdout, stderr and the status in $tmp/{out,err,rc}.
run() {
	local prog=$1 name=$2 args=()
	rm -rf "$tmp/work"
	mkdir -p "$tmp/work"
	cp -r "$here/data/." "$tmp/work/" 2>/dev/null
	if [ -f "$here/$name.args" ]; then
		eval "args=($(cat "$here/$name.args"))"
	fi
	local input="$here/$name.sql"
	if [ -f "$here/$name.gen" ]; then
		bash "$here/$name.gen" > "$tmp/input" || return 1
		input="$tmp/input"
	fi
	(cd "$tmp/work" && HOME="$tmp/work" timeout 60 "$prog" "${args[@]}" \
		< "$input" > "$tmp/out" 2> "$tmp/err")
	echo $? > "$tmp/rc"
}

for name in "${names[@]}"; do
	[ -f "$here/$name.sql" ] || [ -f "$here/$name.gen" ] ||
		{ fail "$name" "no $name.sql"; continue; }
	run "$rdb" "$name"
	ok=1
	if [ -f "$here/$name.out" ] && ! cmp -s "$tmp/out" "$here/$name.out"
	then
		fail "$name" "stdout differs (expected, got):"
		diff -a "$here/$name.out" "$tmp/out" | head -40
		ok=0
	fi
	if [ -f "$here/$name.err" ] && ! cmp -s "$tmp/err" "$here/$name.err"
	then
		fail "$name" "stderr differs (expected, got):"
		diff -a "$here/$name.err" "$tmp/err" | head -20
		ok=0
	fi
	if [ -f "$here/$name.errgrep" ]; then
		while IFS= read -r line; do
			if ! grep -qF -- "$line" "$tmp/err"; then
				fail "$name" "stderr lacks '$line'; it was:"
				head -10 "$tmp/err"
				ok=0
			fi
		done < "$here/$name.errgrep"
	fi
	if [ "$(cat "$tmp/rc")" -ge 128 ]; then
		fail "$name" "crashed or timed out (status $(cat "$tmp/rc"))"
		head -5 "$tmp/err"
		ok=0
	fi
	want_rc=0
	[ -f "$here/$name.rc" ] && want_rc=$(cat "$here/$name.rc")
	if [ "$(cat "$tmp/rc")" != "$want_rc" ]; then
		fail "$name" "exit status $(cat "$tmp/rc"), expected $want_rc"
		head -5 "$tmp/err"
		ok=0
	fi
	if [ -f "$here/$name.sqlite3" ] && [ "$have_sqlite3" = 1 ]; then
		run sqlite3 "$name"
		n_peer=$((n_peer + 1))
		if ! cmp -s "$tmp/out" "$here/$name.out"; then
			fail "$name" "sqlite3's stdout differs from $name.out:"
			diff -a "$here/$name.out" "$tmp/out" | head -20
			ok=0
		fi
	fi
	[ "$ok" = 1 ] && n_pass=$((n_pass + 1))
done
echo "shell scripts: $n_pass passed, $n_fail failed" \
	"($n_peer also run through sqlite3)"
[ "$n_fail" -eq 0 ]
