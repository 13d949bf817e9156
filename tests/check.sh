#!/bin/sh
# check.sh - what "make check" runs: unit tests, the same under ASan and
# UBSan, the lab integration tests, a short fuzz pass, the Debian
# packages of this release built and tested as installed
# (tests/deb/install.sh), then the same suite on the other Debian release
# (bookworm on trixie, trixie on bookworm) in a chroot of it (make
# check-release) and that release's packages. Ends with one line "N
# passed, N failed" and fails when anything failed.
#
# CHECK_OTHER_RELEASE: the release of that last phase (default: the other
# one; "no": none, as inside that chroot, which also skips the packages
# phase: the package tests make their own chroots from the machine).
set -u
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
TALLY=$(mktemp); export TALLY
trap 'rm -f "$TALLY"' EXIT
status=0

phase() {
	echo "== $1"
}
built() {	# PHASE TARGET... : count a build failure as a failure
	ph=$1; shift
	if ! $MAKE -s "$@" >build/logs/build-$ph.log 2>&1; then
		echo "$ph: build failed (build/logs/build-$ph.log)"
		tail -20 build/logs/build-$ph.log
		echo "0 1" >>"$TALLY"
		status=1
		return 1
	fi
}
mkdir -p build/logs

phase "unit tests"
if built unit all tests; then
	tests/run.sh unit build/tests/test_* || status=1
fi

phase "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
SAN="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
if built asan BUILD=build/asan CFLAGS="$SAN" LDFLAGS="-fsanitize=address,undefined" tests; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    tests/run.sh asan build/asan/tests/test_* || status=1
fi

phase "integration tests in the lab"
if ls tests/integration/*.sh >/dev/null 2>&1; then
	tests/run.sh lab tests/integration/*.sh || status=1
fi

phase "fuzzing (${FUZZ_SECONDS:-10} s per target)"
if built fuzzers fuzzers; then
	TALLY=$TALLY tests/fuzz/run.sh build/fuzz "${FUZZ_SECONDS:-10}" || status=1
fi

# R: tests/deb/install.sh R (make deb R, then the packages installed in a
# clean chroot of R, Exim in the lab), counted in the tally; its time.
deb_phase() {
	local r=$1 t0
	t0=$(date +%s)
	DEB_RELEASE=$r tests/run.sh "deb-$r" tests/deb/install.sh || status=1
	echo "deb-$r: phase took $(($(date +%s) - t0)) s"
}

if [ "${CHECK_OTHER_RELEASE:-}" != no ]; then
	phase "Debian packages (make deb, tests/deb/install.sh)"
	deb_phase "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
fi

other_release() {	# the release whose suite runs in a chroot, or nothing
	case ${CHECK_OTHER_RELEASE:-} in
	no) return ;;
	?*) echo "$CHECK_OTHER_RELEASE"; return ;;
	esac
	case $(. /etc/os-release && echo "${VERSION_CODENAME:-}") in
	bookworm) echo trixie ;;
	trixie) echo bookworm ;;
	esac
}

# R: make check-release R, its lines shown with "R: " before them; its
# closing "N passed, N failed" is added to the tally (none: one failure).
release_phase() {
	local r=$1 log=build/logs/release-$1.log t0 line
	t0=$(date +%s)
	$MAKE -s check-release R="$r" 2>&1 | tee "$log" | sed "s/^/$r: /"
	# its closing line, wherever make's own error lines leave it
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
	echo "$r: phase took $(($(date +%s) - t0)) s (log: $log)"
	if [ -z "$line" ]; then
		echo "$r: the suite did not run to its end"
		echo "0 1" >>"$TALLY"
		status=1
		return
	fi
	echo "$line" | awk '{print $1, $3}' >>"$TALLY"
	echo "$line" | grep -q ' 0 failed$' || status=1
}

other=$(other_release)
if [ -n "$other" ]; then
	phase "Debian $other in a chroot (tests/lib/chroot.sh)"
	release_phase "$other"
	phase "Debian $other packages (make deb R=$other, tests/deb/install.sh)"
	deb_phase "$other"
fi

awk '{p+=$1; f+=$2} END {printf "%d passed, %d failed\n", p, f}' "$TALLY"
exit $status
