#!/bin/sh
# run.sh DIR SECONDS - run every libFuzzer target in DIR for SECONDS with
# its seed corpus (tests/fuzz/corpus/NAME); a crash, leak or sanitizer
# report fails the target. Counts go to $TALLY when set.
#
# The targets expected are those with a source, tests/fuzz/fuzz_*.c: one
# that was not built (no executable DIR/fuzz_NAME), or that exited 0
# without libFuzzer's "Done N runs" line, counts as failed, never as
# passed. No target at all is a failure too.
set -u
dir=$1 secs=$2
src_dir=$(dirname "$0")
logdir=${LOGDIR:-build/logs}
mkdir -p "$logdir"
passed=0 failed=0

fail() {	# NAME WHY
	printf '%-8s %-40s FAILED (%s)\n' fuzz "$1" "$2"
	failed=$((failed + 1))
}

for src in "$src_dir"/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	t=$dir/$name
	if [ ! -x "$t" ]; then
		fail "$name" "not built: $t is missing"
		continue
	fi
	log=$logdir/fuzz-$name.log
	seeds=$src_dir/corpus/${name#fuzz_}
	work=$(mktemp -d)
	[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
	if "$t" -max_total_time="$secs" -max_len=70000 -timeout=10 \
	    -artifact_prefix="$logdir/$name-" "$work" >"$log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1)
		case $runs in
		"Done "[1-9]*)
			printf '%-8s %-40s clean, %s\n' fuzz "$name" "$runs"
			passed=$((passed + 1))
			;;
		*)
			fail "$name" "exited 0 but did not run; log: $log"
			;;
		esac
	else
		fail "$name" "log: $log"
		grep -E 'ERROR|SUMMARY' "$log" | head -5
	fi
	rm -rf "$work"
done
if [ $((passed + failed)) -eq 0 ]; then
	fail "(none)" "no fuzz target: no $src_dir/fuzz_*.c"
fi
if [ -n "${TALLY:-}" ]; then
	echo "$passed $failed" >>"$TALLY"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
