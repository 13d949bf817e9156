#!/bin/sh
# run.sh DIR SECONDS - run every libFuzzer target in DIR for SECONDS with
# its seed corpus (tests/fuzz/corpus/NAME); a crash, leak or sanitizer
# report fails the target. Counts go to $TALLY when set.
set -u
dir=$1 secs=$2
logdir=${LOGDIR:-build/logs}
mkdir -p "$logdir"
passed=0 failed=0
for t in "$dir"/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	seeds=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
	if "$t" -max_total_time="$secs" -max_len=70000 -timeout=10 \
	    -artifact_prefix="$logdir/$name-" "$work" \
	    >"$logdir/fuzz-$name.log" 2>&1; then
		printf '%-8s %-40s clean, %s\n' fuzz "$name" \
		    "$(grep -o 'Done [0-9]* runs' "$logdir/fuzz-$name.log" | tail -1)"
		passed=$((passed + 1))
	else
		printf '%-8s %-40s FAILED (log: %s)\n' fuzz "$name" \
		    "$logdir/fuzz-$name.log"
		grep -E 'ERROR|SUMMARY' "$logdir/fuzz-$name.log" | head -5
		failed=$((failed + 1))
	fi
	rm -rf "$work"
done
if [ -n "${TALLY:-}" ]; then
	echo "$passed $failed" >>"$TALLY"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
