#!/bin/sh
# check.sh - what "make check" runs: unit tests, the same under ASan and
# UBSan, the lab integration tests, then a short fuzz pass. Ends with one
# line "N passed, N failed" and fails when anything failed.
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

awk '{p+=$1; f+=$2} END {printf "%d passed, %d failed\n", p, f}' "$TALLY"
exit $status
