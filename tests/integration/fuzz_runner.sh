#!/bin/bash
# fuzz_runner.sh - tests/fuzz/run.sh never passes without fuzzing: no
# target built, a target missing, or a target that exits 0 without
# running is a failure. TAP output; needs no lab.
#
# The "targets" here are stand-in scripts, not libFuzzer programs: a
# real target cannot be made to go missing or to exit 0 without running.
set -u
cd "$(dirname "$0")/../.."
T=$(mktemp -d /tmp/mtasts-fuzzrun.XXXXXX)
. tests/lib/tap.sh
trap 'rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/out"
}

runner() {	# DIR: run.sh on DIR, 1 second per target; output in $T/out
	# TALLY unset: make check's tally is for real tests, not these
	TALLY= LOGDIR=$T/logs tests/fuzz/run.sh "$1" 1 >"$T/out" 2>&1
}

fake() {	# DIR NAME BODY: a stand-in target
	printf '#!/bin/sh\n%s\n' "$3" >"$1/$2"
	chmod +x "$1/$2"
}

names=$(for s in tests/fuzz/fuzz_*.c; do basename "$s" .c; done)
[ -n "$names" ]
ok $? "there are fuzz targets: $(echo $names)"

mkdir "$T/empty"
runner "$T/empty"
[ $? -ne 0 ] && grep -q 'not built' "$T/out"
ok $? "no target built: run.sh fails and says so"

runner "$T/nonexistent"
[ $? -ne 0 ]
ok $? "a folder that does not exist: run.sh fails"

mkdir "$T/all"
for t in $names; do
	fake "$T/all" "$t" 'echo "Done 42 runs in 1 second(s)"'
done
runner "$T/all"
[ $? -eq 0 ] && grep -q '0 failed' "$T/out"
ok $? "every target built and run: run.sh passes"

first=$(echo $names | cut -d' ' -f1)
rm "$T/all/$first"
runner "$T/all"
[ $? -ne 0 ] && grep -q "$first .*FAILED (not built" "$T/out"
ok $? "one target missing ($first): run.sh fails and names it"

fake "$T/all" "$first" 'exit 0'
runner "$T/all"
[ $? -ne 0 ] && grep -q "$first .*did not run" "$T/out"
ok $? "one target exits 0 without running: counted as failed"

fake "$T/all" "$first" 'echo "==1==ERROR: AddressSanitizer: heap-use-after-free"; exit 1'
runner "$T/all"
[ $? -ne 0 ] && grep -q 'AddressSanitizer' "$T/out"
ok $? "one target finds a bug: run.sh fails and shows the report"

tap_end
