#!/bin/sh
# run.sh PHASE PROGRAM... - run test programs, count their results.
#
# A cmocka program is counted by its "[  PASSED  ]" and "[  FAILED  ]"
# lines; a script by its TAP lines ("ok - ...", "not ok - ..."). A
# program that exits non-zero without reporting a failure counts as one
# failure, and so does one that reports nothing at all: a test that ran
# no test is not a pass. With TALLY set, counts are added to that file;
# otherwise the last line is "N passed, N failed".
set -u
phase=$1; shift
logdir=${LOGDIR:-build/logs}
mkdir -p "$logdir"
passed=0 failed=0
for prog in "$@"; do
	name=$(basename "$prog")
	log="$logdir/$phase-$name.log"
	"$prog" >"$log" 2>&1 </dev/null
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | \
	    awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | \
	    awk '{s+=$1} END {print s+0}')
	tp=$(grep -c '^ok ' "$log")
	tf=$(grep -c '^not ok ' "$log")
	p=$((p + tp)); f=$((f + tf))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "$phase/$name: ran no test" >>"$log"
		f=1
	fi
	if [ "$f" -eq 0 ]; then
		printf '%-8s %-40s %4d passed\n' "$phase" "$name" "$p"
	else
		printf '%-8s %-40s %4d passed, %d FAILED (log: %s)\n' \
		    "$phase" "$name" "$p" "$f" "$log"
		grep -E '^\[  (FAILED|ERROR)|^not ok|ERROR|error:|Sanitizer|runtime error' \
		    "$log" | head -20 | sed 's/^/    /'
	fi
	passed=$((passed + p)); failed=$((failed + f))
done
if [ -n "${TALLY:-}" ]; then
	echo "$passed $failed" >>"$TALLY"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
