#!/bin/bash
# metrics.sh - "mtasts metrics" on a store filled through the engine in
# the lab: policies fetched for real (nsd, nginx with the test CA), a
# fetch that fails (HTTP 404), results recorded under each answer as
# the adapters record them; then "promtool check metrics" (Debian's
# prometheus package) on the output and on the --textfile file, the
# counters equal to what was done, and the Grafana dashboard in
# etc/grafana/ using only names the command prints. TAP output.
# Needs root (network namespace); run from the repo root after "make".
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-metrics}
. tests/lab/lib.sh
BUILD=${BUILD:-build}
MTASTS=${MTASTS:-$PWD/$BUILD/mtasts}
T=$(mktemp -d)
. tests/lib/tap.sh
trap 'lab_down >/dev/null 2>&1; rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/last.err" 12
}
rec() {	# DOMAIN RESULT COUNT, inside the lab
	lab_exec "$T/metrics_record" "$CONF" "$@" 2>>"$T/last.err"
}
val() {	# SERIES: its value in $T/m.prom
	awk -v s="$1" '$1 == s { print $2 }' "$T/m.prom"
}
is() {	# SERIES VALUE DESCRIPTION
	v=$(val "$1")
	[ "$v" = "$2" ]
	ok $? "$3 ($1 = ${v:-missing}, want $2)"
}

if [ ! -x "$MTASTS" ]; then
	echo "not ok 1 - $MTASTS is missing: run make first"
	exit 1
fi
if ! command -v promtool >/dev/null; then
	echo "not ok 1 - promtool is missing (Debian's prometheus: make deps)"
	exit 1
fi
if ! ${CC:-cc} -Icommon/include -D_GNU_SOURCE -std=c11 -Wall -Wextra \
    -Werror -o "$T/metrics_record" tests/integration/metrics_record.c \
    "$BUILD/libmtasts.a" $(pkg-config --libs libunbound libcurl sqlite3 \
    libidn2 jansson openssl zlib) -lpthread 2>"$T/last.err"; then
	ok 1 "build the recording helper"
	exit 1
fi
if ! lab_up >"$T/lab.log" 2>&1; then
	cat "$T/lab.log"
	echo "not ok 1 - the lab starts"
	exit 1
fi
. "$LAB_DIR/env"
CONF=$T/mtasts.conf
{ grep -v '^store ' "$LAB_CONF"; echo "store $T/store.db"; } >"$CONF"

rec enforce.test success 5 && rec enforce.test certificate-expired 2 &&
    rec testing.test starttls-not-supported 3 && rec none.test success 1 &&
    rec http404.test success 4
ok $? "policies resolved and results recorded through the engine"

lab_exec "$MTASTS" metrics -c "$CONF" >"$T/m.prom" 2>"$T/last.err"
ok $? "mtasts metrics runs"
promtool check metrics <"$T/m.prom" >"$T/last.err" 2>&1
ok $? "promtool check metrics accepts the output"
is 'mtasts_sessions_total{policy_type="sts",mode="enforce",result="success"}' 5 \
    "enforce successes"
is 'mtasts_sessions_total{policy_type="sts",mode="enforce",result="certificate-expired"}' 2 \
    "enforce failures"
is 'mtasts_deferrals_total{reason="certificate-expired"}' 2 \
    "enforce failures are deferrals"
is 'mtasts_sessions_total{policy_type="sts",mode="testing",result="starttls-not-supported"}' 3 \
    "testing failures"
is 'mtasts_deferrals_total{reason="starttls-not-supported"}' "" \
    "testing refuses nothing"
is 'mtasts_sessions_total{policy_type="no-policy-found",mode="none",result="success"}' 4 \
    "no policy (the fetch failed)"
is 'mtasts_policy_fetches_total{result="success"}' 3 \
    "three policies fetched"
is 'mtasts_policy_fetches_total{result="sts-policy-fetch-error"}' 1 \
    "one fetch failed"
is 'mtasts_policies_cached{mode="enforce"}' 1 "an enforce policy cached"
is 'mtasts_policies_cached{mode="testing"}' 1 "a testing policy cached"
is 'mtasts_policies_cached{mode="none"}' 1 "a none policy cached"
is 'mtasts_store_errors' 0 "no store error"
is 'mtasts_spool_backlog_lines' 16 "the spool held every result before"

rec enforce.test success 1
lab_exec "$MTASTS" metrics -c "$CONF" --top 1 --textfile "$T/tf.prom" \
    >"$T/out" 2>"$T/last.err"
ok $? "mtasts metrics --textfile writes"
cp "$T/tf.prom" "$T/m.prom"
promtool check metrics <"$T/m.prom" >"$T/last.err" 2>&1
ok $? "promtool check metrics accepts the textfile"
[ ! -s "$T/out" ] && [ -z "$(ls "$T" | grep '\.tmp\.')" ]
ok $? "nothing on stdout, no temporary file left"
is 'mtasts_sessions_total{policy_type="sts",mode="enforce",result="success"}' 6 \
    "counters only go up"
is 'mtasts_spool_backlog_lines' 1 "the backlog was one line"
[ "$(grep -c '^mtasts_domain_sessions_total{domain="[a-z]' "$T/m.prom")" \
    -eq 4 ]
ok $? "--top 1: one domain and \"other\" (two outcomes each)"

for dash in etc/grafana/*.json; do
	python3 - "$dash" "$T/m.prom" >"$T/last.err" 2>&1 <<'EOP'
import json, re, sys
dash = json.load(open(sys.argv[1]))
names = set(re.findall(r'^# TYPE (\S+)', open(sys.argv[2]).read(), re.M))
exprs = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ('expr', 'query') and isinstance(v, str):
                exprs.append(v)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(dash)
used = set()
for e in exprs:
    used |= set(re.findall(r'\bmtasts_[a-z_]+', e))
bad = sorted(u for u in used if u not in names)
print('exprs', len(exprs), 'names', sorted(used), 'unknown', bad)
sys.exit(1 if bad or not exprs else 0)
EOP
	ok $? "$dash is JSON and uses only names mtasts metrics prints"
done
tap_end
