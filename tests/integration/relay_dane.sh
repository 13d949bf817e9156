#!/bin/bash
# relay_dane.sh - DANE before MTA-STS in mtasts-relay, behind Debian's
# real OpenSMTPD 6.8 with the shipped smtpd.conf lines
# (tests/e2e/opensmtpd/smtpd.sh).
# TAP output. Needs root; run from the repo root after "make".
#
# RFC 8461 section 2: a host with DNSSEC-validated TLSA records is
# verified by DANE (RFC 7672) and the MTA-STS mx patterns do not apply to
# it; a certificate that matches no TLSA record defers (tlsa-invalid); a
# TLSA record that does not validate gives no exemption. The lab runs
# with LAB_DNSSEC=1 (as exim_dane.sh): nsd also serves the signed zone
# dane.test. (tests/lab/labgen.py, DANE_DOMAINS), and the engine's
# trust_anchor is the zone's DS:
#   dane.test      MX mx.dane.test, TLSA 3 1 1 of good.mx.test's key
#   bad.dane.test  MX mx-bad.dane.test, TLSA 3 1 1 with a wrong hash
# both MX hosts are good.mx.test's address, both domains have an enforce
# policy whose only mx pattern is good.mx.test. test. stays unsigned.
# dnssec-invalid (a bogus TLSA RRset) has no lab zone: test_verdict
# covers the core's verdict on it.
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-relay-dane}
export LAB_DNSSEC=1
. tests/lab/lib.sh
SMTPD_REPO=$PWD
. tests/e2e/opensmtpd/smtpd.sh
. tests/lib/tap.sh
MTASTS=$PWD/build/mtasts
T=$(mktemp -d /tmp/relay-dane.XXXXXX)
chmod 755 "$T"
D=$T/smtpd
trap 'relay_stop; smtpd_stop "$D"; lab_down >/dev/null 2>&1
    [ -n "${RELAY_E2E_KEEP:-}" ] && mkdir -p "$RELAY_E2E_KEEP" &&
    cp -r "$T"/. "$RELAY_E2E_KEEP"/
    rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$D/relay.log" 6
	return 0
}
spki() {	# CERT: sha256 of its SubjectPublicKeyInfo (TLSA 3 1 1 data)
	openssl x509 -in "$1" -noout -pubkey |
	    openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}
conns() {	# HOST: connections HOST saw
	lab_smtp_conns "$1" | wc -l
}

smtpd_unpack; ok $? "OpenSMTPD unpacked under build/ (not installed)"
if ! lab_up 2>"$T/lab.err"; then
	ok 1 "lab is up with DNSSEC"
	tap_show "$T/lab.err"
	tap_end
	exit 1
fi
. "$LAB_DIR/env"
# the engine validates with the signed zone's DS (the lab's validating
# unbound's trust anchor too), readable by the filter's user
cp "$LAB_DIR/dns/dane.ds" "$T/dane.ds" && chmod 644 "$T/dane.ds"
export SMTPD_EXTRA_CONF="trust_anchor $T/dane.ds"
smtpd_case "$D" && relay_start "$D" && smtpd_start "$D"
ok $? "smtpd (shipped lines, filter-mtasts) and mtasts-relay start"

# ------------------------------------------ a. valid TLSA: DANE first
smtpd_send u@dane.test >"$T/out"
wait_for "delivery of u@dane.test" 30 \
    lab_smtp_delivered good.mx.test u@dane.test tls
ok $? "a. dane.test: delivered to good.mx.test over TLS through the relay"
relay_said "dane.test: MX host mx.dane.test .*certificate verified by DANE"
ok $? "a. dane.test: the relay verified mx.dane.test by DANE"
! relay_said "dane.test: refused MX host mx.dane.test"
ok $? "a. dane.test: no MTA-STS refusal of the host outside the patterns"

# ----------------------------- b. wrong TLSA hash: deferred, tlsa-invalid
smtpd_send u@bad.dane.test >"$T/out"
wait_for "smtpd's deferral of u@bad.dane.test" 30 tempfailed u@bad.dane.test
ok $? "b. bad.dane.test: smtpd deferred it (4xx from the relay)"
nowhere u@bad.dane.test && queued u@bad.dane.test &&
    [ "$(lab_smtp_count good.mx.test)" -eq 1 ]
ok $? "b. bad.dane.test: queued, delivered nowhere, no message data sent"
relay_said "bad.dane.test: MX host mx-bad.dane.test .*: tlsa-invalid"
ok $? "b. bad.dane.test: the relay names tlsa-invalid"

# --------- c. a TLSA record without DNSSEC: the MX restriction applies
crt=$(lab_cert attacker.evil.test | cut -d' ' -f1)
tlsa="3 1 1 $(spki "$crt")"
lab_set_rr _25._tcp.attacker.evil.test TLSA "$tlsa"
lab_dnssec_insecure _25._tcp.attacker.evil.test TLSA
ok $? "c. the unsigned TLSA record of attacker.evil.test resolves, without AD"
smtpd_send u@enforce-spoof.test >"$T/out"
wait_for "smtpd's deferral of u@enforce-spoof.test" 30 \
    tempfailed u@enforce-spoof.test
ok $? "c. unsigned TLSA: enforce-spoof.test deferred"
relay_said "enforce-spoof.test: refused MX host attacker.evil.test" &&
    [ "$(conns attacker.evil.test)" -eq 0 ] && nowhere u@enforce-spoof.test
ok $? "c. unsigned TLSA: MTA-STS refused attacker.evil.test, never contacted"
lab_set_rr _25._tcp.attacker.evil.test TLSA

# ---------------------------------------------------------------- TLS-RPT
# The results in the store (the signed zone publishes no _smtp._tls
# record, so no report is built for its domains).
TODAY=$(date -u +%F)
# report build first takes in what the relay spooled
lab_exec "$MTASTS" report build -c "$D/mtasts.conf" --day "$TODAY" \
    >"$T/build.out" 2>&1
ptype() {	# DOMAIN POLICY-TYPE RESULT: the store holds such a result
	python3 - "$D/mtasts/store.db" "$@" <<'PY'
import sqlite3, sys
db, dom, ptype, res = sys.argv[1:5]
c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
n = c.execute("SELECT sum(count) FROM tlsrpt WHERE domain = ? AND "
    "policy_type = ? AND result = ?", (dom, ptype, res)).fetchone()[0]
sys.exit(not n)
PY
}
ptype dane.test tlsa success
ok $? "TLS-RPT dane.test: policy-type tlsa, a successful session"
ptype bad.dane.test tlsa tlsa-invalid
ok $? "TLS-RPT bad.dane.test: policy-type tlsa, tlsa-invalid"
ptype enforce-spoof.test sts validation-failure
ok $? "TLS-RPT enforce-spoof.test: sts validation-failure (no DANE exemption)"
relay_stop
smtpd_stop "$D"
tap_end
