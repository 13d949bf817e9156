#!/bin/bash
# resolve_dnssec.sh - the engine's DNSSEC validation (trust_anchor)
# against the lab with LAB_DNSSEC=1: nsd serves the signed zone
# dane.test. beside the unsigned test. (see tests/lab/README.md). The
# engine asks nsd directly (forwarder) and validates itself with
# libunbound. TAP output. Needs root; run from the repo root after make.
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-rdnssec}
export LAB_DNSSEC=1
. tests/lab/lib.sh
MTASTS=${MTASTS:-$PWD/build/mtasts}
T=$(mktemp -d)
. tests/lib/tap.sh
. tests/lib/query.sh
trap 'lab_down >/dev/null 2>&1; rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/last.err" 5
	tap_show "$T/last.json"
}
conf() {	# NAME [LINE...]: a config for the lab, its own empty store
	CONF=$T/$1.conf
	rm -f "$T/$1".db*
	{ grep -v '^store ' "$LAB_CONF"; echo "store $T/$1.db";
	    shift; printf '%s\n' "$@"; } >"$CONF"
}

if [ ! -x "$MTASTS" ]; then
	ok 1 "$MTASTS is missing: run make first"
	exit 1
fi
if ! lab_up >"$T/lab.log" 2>&1; then
	tap_show "$T/lab.log"
	ok 1 "the lab starts with DNSSEC"
	exit 1
fi
# the zone's DS, the lab's validating unbound's trust anchor too
cp "$LAB_DIR/dns/dane.ds" "$T/good.ds"
grep -q ' DS ' "$T/good.ds"
ok $? "the signed zone's DS: $(cat "$T/good.ds" | cut -c1-40)..."
# the same key tag and algorithm, another digest: every signature under
# dane.test. is then bogus
awk '{ d = $NF; $NF = (substr(d, 1, 1) == "0" ? "1" : "0") substr(d, 2);
    print }' "$T/good.ds" >"$T/bad.ds"

conf good "trust_anchor $T/good.ds"
q dane.test
is mode enforce && is source network
ok $? "trust anchor: the signed domain's policy validates and is fetched"
q enforce-good.test
is mode enforce && is source network
ok $? "trust anchor: an unsigned domain outside it still works (insecure)"

conf bad "trust_anchor $T/bad.ds"
q dane.test
is mode none && is temperror true
ok $? "wrong trust anchor: bogus answers are not used (no policy, temporary)"
grep -q 'DNSSEC bogus' "$T/last.err"
ok $? "wrong trust anchor: the log says DNSSEC bogus"
[ "$(grep -c 'host="mta-sts.dane.test"' \
    "$LAB_DIR/logs/nginx-access.log")" -eq 1 ]
ok $? "wrong trust anchor: no policy fetch after a bogus answer"

# the cache filled through the good anchor, now with the wrong one: the
# bogus TXT answer is a failed check, the cached policy still rules
{ grep -v '^trust_anchor ' "$T/good.conf"; echo "trust_anchor $T/bad.ds"; } \
    >"$T/cached.conf"
CONF=$T/cached.conf
q dane.test
is mode enforce && is source "stale cache"
ok $? "wrong trust anchor, policy cached: the cached policy rules ($(field \
    source))"

conf none
q dane.test
is mode enforce && is source network
ok $? "no trust anchor: no validation, the signed domain works too"
grep -q 'DNSSEC' "$T/last.err"
[ $? -ne 0 ]
ok $? "no trust anchor: nothing about DNSSEC in the log"

tap_end
