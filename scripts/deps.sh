#!/usr/bin/env bash
# deps.sh -- make sure the Debian packages that rdb's build, tests and
# benchmarks need are installed, and install the missing ones.
#
#   bash scripts/deps.sh [--sanitizers] [--coverage] [--fuzz]
#
# Silent and fast (one dpkg-query) when everything is present; `make`,
# `make check` and `make bench` call it every time.  As root it runs
# apt-get; otherwise it uses sudo, or prints the command to run and fails.
# --sanitizers also checks the ASan/UBSan/TSan runtimes of gcc (and of
# clang, if clang is installed).  --coverage also installs gcovr (make
# coverage), --fuzz clang (make fuzz; libFuzzer comes with clang's
# runtime, see --sanitizers).  Off Debian (no dpkg) it only checks
# with pkg-config and asks you to install what is missing.
set -euo pipefail

PACKAGES=(gcc make libc6-dev pkg-config check libxxhash-dev libzstd-dev sqlite3
	libedit-dev libsqlite3-dev liblmdb-dev libmd-dev)
PC_MODULES=(libxxhash libzstd check libedit sqlite3 lmdb libmd)
TOOLS=(cc make pkg-config sqlite3)

sanitizers=0
optional=()
for arg in "$@"; do
	case $arg in
	--sanitizers) sanitizers=1 ;;
	--coverage) optional+=(gcovr) ;;
	--fuzz) optional+=(clang) ;;
	-h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "deps.sh: unknown option '$arg'" >&2; exit 2 ;;
	esac
done

say() { echo "deps.sh: $*" >&2; }

# Print the packages of "$@" that dpkg does not report as installed.
missing_packages() {
	local installed
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' \
		"$@" 2>/dev/null | awk '$2 == "ii" { print $1 }') || true
	local p
	for p in "$@"; do
		grep -qxF "$p" <<<"$installed" || echo "$p"
	done
}

# apt-get install "$@", as root, through sudo, or not at all.
install_packages() {
	local cmd=(apt-get install -y --no-install-recommends "$@")
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null 2>&1; then
			say "missing packages: $*"
			say "run as root:"
			echo "  apt-get update && DEBIAN_FRONTEND=noninteractive" \
				"${cmd[*]}" >&2
			exit 1
		fi
		sudo=(sudo)
	fi
	say "installing: $*"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
		>/dev/null
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "${cmd[@]}" \
		-q </dev/null
}

# Install whichever of "$@" is missing, then insist that all are there.
ensure_packages() {
	local missing
	[ "$#" -eq 0 ] && return 0
	missing=$(missing_packages "$@")
	[ -z "$missing" ] && return 0
	# shellcheck disable=SC2086
	install_packages $missing
	missing=$(missing_packages "$@")
	if [ -n "$missing" ]; then
		# shellcheck disable=SC2086
		say "still missing after apt-get:" $missing
		exit 1
	fi
}

# Without dpkg we cannot install anything; just report what is missing.
check_without_dpkg() {
	local t missing=()
	for t in "${TOOLS[@]}"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	if command -v pkg-config >/dev/null 2>&1; then
		for t in "${PC_MODULES[@]}"; do
			pkg-config --exists "$t" || missing+=("$t (pkg-config)")
		done
	fi
	if [ "${#missing[@]}" -gt 0 ]; then
		say "not a Debian system (no dpkg-query); please install: ${missing[*]}"
		exit 1
	fi
}

# The packages that provide the sanitizer runtimes of the installed
# compilers, if any runtime is missing.  gcc's come with libgcc-<N>-dev,
# clang's with libclang-rt-<N>-dev.
sanitizer_packages() {
	local lib p ver
	for lib in libasan.so libubsan.so libtsan.so; do
		p=$(gcc -print-file-name="$lib")
		if [ "$p" = "$lib" ] || [ ! -e "$(readlink -f "$p")" ]; then
			ver=$(gcc -dumpversion)
			echo "libgcc-${ver%%.*}-dev"
			break
		fi
	done
	command -v clang >/dev/null 2>&1 || return 0
	for lib in asan ubsan_standalone tsan; do
		p=$(clang -print-file-name="libclang_rt.$lib-$(uname -m).a")
		if [ ! -e "$p" ]; then
			ver=$(clang -dumpversion)
			echo "libclang-rt-${ver%%.*}-dev"
			break
		fi
	done
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	check_without_dpkg
	exit 0
fi
ensure_packages "${PACKAGES[@]}" "${optional[@]}"
if [ "$sanitizers" -eq 1 ]; then
	# shellcheck disable=SC2046
	ensure_packages $(sanitizer_packages)
fi
