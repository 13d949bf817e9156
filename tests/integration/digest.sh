#!/bin/bash
# digest.sh - "mtasts report digest" over a fixed set of reports
# (tests/integration/data/digest/reports: Google's shape gzipped,
# Microsoft's in a Maildir message and again as a duplicate, quirks, an
# mbox of the previous period, a hostile report with markup and control
# characters) against golden files for the terminal and JSON, and the
# RFC 8460 example alone; then the HTML page in headless Chromium
# (digest_page.py, the DevTools protocol): no console error, no request
# leaves the page, the chart and tables hold the right numbers, the
# hostile markup is text. A canary page with a script and a remote
# image proves the harness sees both. No lab needed. TAP output; run
# from the repo root after "make".
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MTASTS=${MTASTS:-$PWD/$BUILD/mtasts}
D=tests/integration/data/digest
PY=/usr/bin/python3
T=$(mktemp -d)
. tests/lib/tap.sh
trap 'rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/diff" 30
}
period() {
	"$MTASTS" report digest --since 2026-11-22 --until 2026-11-23 "$@"
}
has() {	# KEY VALUE: a line of the page's facts
	grep -qxF "$1 $2" "$T/page"
}

if [ ! -x "$MTASTS" ]; then
	echo "not ok 1 - $MTASTS is missing: run make first"
	exit 1
fi

period "$D/reports" >"$T/out" 2>"$T/err"
rc=$?
diff -u "$D/digest.out" "$T/out" >"$T/diff"
ok $? "terminal digest matches the golden file"
cp "$T/err" "$T/diff"
ok "$rc" "the digest exits 0"
period --json "$D/reports" >"$T/json" 2>>"$T/err"
diff -u "$D/digest.out.json" "$T/json" >"$T/diff"
ok $? "JSON digest matches the golden file"
$PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/json" \
    >"$T/diff" 2>&1
ok $? "the JSON digest is JSON"
"$MTASTS" report digest tests/unit/data/tlsrpt/rfc8460-example.json \
    >"$T/out" 2>"$T/err"
diff -u "$D/rfc8460.out" "$T/out" >"$T/diff"
ok $? "the RFC 8460 example alone matches its golden file"
grep -q '^reports: 7 read, 1 duplicate' "$D/digest.out"
ok $? "the duplicate report-id is counted once"
! LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$D/digest.out"
ok $? "no control character reaches the terminal"
echo '{"not": "a report"}' >"$T/bad.json"
"$MTASTS" report digest "$T/bad.json" >"$T/out" 2>"$T/diff"
[ $? -eq 1 ] && grep -q 'not a report' "$T/diff"
ok $? "an input that is not a report: said, exit 1"

period --html "$T/page.html" "$D/reports" >"$T/out" 2>"$T/diff"
ok $? "the HTML page is written"
if ! command -v chromium >/dev/null || ! $PY -c 'import websockets' \
    2>/dev/null; then
	echo "not ok - chromium and python3-websockets are needed (make deps)"
	exit 1
fi
cat >"$T/canary.html" <<'EOC'
<!DOCTYPE html><html><body><img src="http://canary.example/x.png">
<script>console.error("canary")</script></body></html>
EOC
$PY tests/integration/digest_page.py "$T/canary.html" >"$T/page" 2>&1
cp "$T/page" "$T/diff"
grep -qE '^(request "http://canary.example/x.png"|failed |log error "Failed to load resource)' \
    "$T/page" && grep -q '^console error' "$T/page"
ok $? "the harness sees a page's requests and console errors"
$PY tests/integration/digest_page.py "$T/page.html" >"$T/page" 2>&1
cp "$T/page" "$T/diff"
has loaded 1
ok $? "Chromium loads the page"
! grep -qE '^(console|exception|request|failed|log error)' "$T/page"
ok $? "no console error and no request leaves the page"
has "dom ok" '["2026-11-22=7", "2026-11-23=488"]' &&
    has "dom fail" '["2026-11-22=3", "2026-11-23=9"]'
ok $? "the chart has each day's successes and failures"
grep -q '^dom by_result .*"certificate-expired|3"' "$T/page" &&
    grep -q '"starttls-not-supported|2"' "$T/page"
ok $? "the table by result type has the right counts"
grep -q '^dom by_org .*"Small Reporter|15|5", "Microsoft Corporation|70|4"' \
    "$T/page" && grep -q '"Google Inc.|412|0"' "$T/page"
ok $? "the table by sending organisation has the right counts"
grep -q '^dom failing_mx .*"certificate-expired|mx1.example.org|3"' "$T/page"
ok $? "the failing MX hosts are listed"
has "dom scripts" 0 && has "dom imgs" 0 && has "dom links" 0 &&
    grep -qF '<script>alert(1)</script>Evil\\r\\nInjected' "$T/page" &&
    grep -qF '<b>certificate-expired</b>\\x1b' "$T/page"
ok $? "the hostile report's markup is shown as text, controls escaped"
has "dom details" 4 && has "dom details_open" 0
ok $? "each report's raw JSON is one click away"
tap_end
