#!/bin/sh
# tap_selftest.sh - tests/lib/tap.sh itself: each helper run in a child
# shell, its TAP output and status checked. No lab, no root. TAP output.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/out"
}

child() {	# SCRIPT: run it in sh with tap.sh sourced; output in $T/out
	sh -c ". tests/lib/tap.sh; $1" >"$T/out" 2>&1
	crc=$?
}
out_is() {	# TEXT: the child's whole output
	[ "$(cat "$T/out")" = "$1" ]
}

child 'ok 0 a; ok 1 b; tap_end'
[ $crc -eq 1 ] && out_is 'ok 1 - a
not ok 2 - b
1..2
# 2 tests, 1 failed'
ok $? "ok STATUS DESC: numbered lines; tap_end plans, sums up, fails"

child 'tap_diag() { echo "# why"; }; ok 1 x; ok 0 y'
out_is 'not ok 1 - x
# why
ok 2 - y'
ok $? "tap_diag: called after a failed line only"

child 'check a true; check b false; check c not false; v=1
check d eval v=2; echo "v=$v"; tap_end'
[ $crc -eq 1 ] && out_is 'ok 1 - a
not ok 2 - b
ok 3 - c
ok 4 - d
v=2
1..4
# 4 tests, 1 failed'
ok $? "check DESC CMD: status of CMD, run in the calling shell; not negates"

child "TAP_CAPTURE=$T/cap; check a sh -c 'echo \"# kept\"; echo dropped'
check b sh -c 'echo shown; exit 1'"
out_is 'ok 1 - a
# kept
not ok 2 - b
#   shown'
ok $? "TAP_CAPTURE: a passing CMD's comments kept, a failing CMD's output shown"

touch "$T/there"
child "wait_for 'the file' 5 test -e $T/there && echo found"
out_is found
ok $? "wait_for: returns as soon as the evidence is there"

(sleep 0.3; touch "$T/later") &
child "wait_for 'the later file' 5 test -e $T/later && echo found"
wait
out_is found
ok $? "wait_for: polls until the evidence appears"

t0=$(date +%s%3N)
child "wait_for 'a file that never comes' 0.5 test -e $T/never"
el=$(($(date +%s%3N) - t0))
[ $crc -eq 1 ] &&
    out_is '# wait_for: a file that never comes: not seen within 0.5 s' &&
    [ $el -ge 500 ] && [ $el -lt 3000 ]
ok $? "wait_for: fails after its bound with a clear diagnostic (${el} ms)"

child '. tests/lib/tap.sh; ok 0 a; . tests/lib/tap.sh; ok 0 b'
out_is 'ok 1 - a
ok 2 - b'
ok $? "sourcing tap.sh again keeps the count"

tap_end
