#!/bin/bash
# exim_dane.sh - DANE before MTA-STS with the real Exim 4.96 (TAP).
#
# RFC 8461 section 2: a host with DNSSEC-validated TLSA records is left
# to DANE (Exim's hosts_try_dane), and the MTA-STS mx pattern check does
# not apply to it. The lab runs with LAB_DNSSEC=1: nsd also serves the
# signed zone dane.test., and Exim resolves through a validating unbound
# (the namespace's resolv.conf, options trust-ad). In dane.test. (see
# tests/lab/labgen.py, DANE_DOMAINS):
#   dane.test      MX mx.dane.test, TLSA 3 1 1 of good.mx.test's key
#   bad.dane.test  MX mx-bad.dane.test, TLSA 3 1 1 with a wrong hash
# both MX hosts are good.mx.test's address, and both domains have an
# enforce policy whose only mx pattern is good.mx.test: their MX hosts
# are outside it. test. stays unsigned.
#
# BUILD selects the build folder holding mtasts.so (default build).
# LAB_NAME defaults to mtlab-dane.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export LAB_NAME=${LAB_NAME:-mtlab-dane}
export LAB_DNSSEC=1
LAB_SRC=$REPO/tests/lab
. "$LAB_SRC/lib.sh" || exit 1
. "$REPO/tests/e2e/exim/lib.sh" || exit 1
. "$REPO/tests/lib/tap.sh" || exit 1
tap_diag() { exim_tap_diag; }
trap exim_finish EXIT

mkdir -p "$REPO/${BUILD:-build}"
if ! lab_up >"$REPO/${BUILD:-build}/exim-dane-lab-up.log" 2>&1; then
	ok 1 "lab up with DNSSEC (see ${BUILD:-build}/exim-dane-lab-up.log)"
	exit 1
fi
. "$LAB_DIR/env"
ok 0 "lab up: unbound validates dane.test. (AD), test. is insecure"
if ! exim_setup; then
	ok 1 "exim setup"
	exit 1
fi
ok 0 "exim 4.96 unpacked and configured with the shipped snippets"
check "namespace resolv.conf: the validating resolver, options trust-ad" \
    grep -qx "options timeout:2 attempts:2 trust-ad" \
    "/etc/netns/$LAB_NAME/resolv.conf"

# Is nothing at any host for RCPT, and RCPT still queued?
held() {
	[ -z "$(lab_smtp_where "$1")" ] && exim_queued "$1"
}
# Was RCPT delivered to HOST (over TLS when the third word is tls) and
# nothing is left in the queue for it?
went() {
	lab_smtp_delivered "$2" "$1" ${3:-} && not exim_queued "$1"
}
conns() {	# HOST: connections HOST saw
	lab_smtp_conns "$1" | wc -l
}
spki() {	# CERT: sha256 of its SubjectPublicKeyInfo (TLSA 3 1 1 data)
	openssl x509 -in "$1" -noout -pubkey |
	    openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}

G="\[$LAB_SMTP_GOOD\]"		# good.mx.test's address, as in Exim's log
DANE_FIRST="DANE TLSA found; DANE takes precedence over the enforce policy"
OUTSIDE="matches none of the enforce policy's mx patterns"

# ------------------------------------------ a. valid TLSA: DANE first
exim_reset
exim_send u@dane.test
exim_runq
check "a. dane.test: delivered to good.mx.test over TLS" \
    went u@dane.test good.mx.test tls
check "a. dane.test: Exim verified mx.dane.test by DANE (CV=dane)" \
    exim_log_has "=> u@dane.test R=mtasts_dnslookup T=mtasts_smtp \
H=mx.dane.test $G X=TLS[^ ]* CV=dane "
check "a. dane.test: mtasts.so logged that DANE takes precedence" \
    exim_log_has "mtasts: dane.test MX host mx.dane.test $G: $DANE_FIRST"
check "a. dane.test: no MTA-STS refusal" \
    not exim_log_has "refused MX host mx.dane.test"

# -------------------- b. the same without the DANE exemption: refused
exim_write_conf "MTASTS_DANE = no"
exim_reset
exim_send u@dane.test
exim_runq
check "b. MTASTS_DANE = no: dane.test deferred, nothing delivered" \
    held u@dane.test
check "b. MTASTS_DANE = no: refused at tcp:connect, outside the policy" \
    exim_log_has "mtasts: refused MX host mx.dane.test $G: dane.test: $OUTSIDE"
check "b. MTASTS_DANE = no: good.mx.test saw no connection" \
    test "$(conns good.mx.test)" -eq 0
check "b. MTASTS_DANE = no: no DANE exemption logged" \
    not exim_log_has "DANE takes precedence"
exim_write_conf

# ----------------------------- c. wrong TLSA hash: Exim's DANE defers
exim_reset
exim_send u@bad.dane.test
exim_runq
check "c. bad.dane.test: deferred, delivered nowhere (not in clear)" \
    held u@bad.dane.test
check "c. bad.dane.test: left to DANE (the MX is outside the policy)" \
    exim_log_has "mtasts: bad.dane.test MX host mx-bad.dane.test $G: \
$DANE_FIRST"
check "c. bad.dane.test: Exim's DANE verification failed" \
    exim_log_has "DANE attempt failed; TLS connection to mx-bad.dane.test $G: \
\(certificate verification failed\)"
check "c. bad.dane.test: no message data reached good.mx.test" \
    test "$(lab_smtp_count good.mx.test)" -eq 0
check "c. bad.dane.test: deferred, not retried without verification" \
    eval 'exim_log_has "== u@bad.dane.test R=mtasts_dnslookup .* defer" &&
    not exim_log_has "=> u@bad.dane.test"'

# --------- d. a TLSA record without DNSSEC: the MX restriction applies
# enforce-spoof.test (test., unsigned): MX attacker.evil.test, outside
# the policy; the attacker publishes a TLSA record that matches its own
# valid certificate, but it cannot be validated.
crt=$(lab_cert attacker.evil.test | cut -d' ' -f1)
tlsa="3 1 1 $(spki "$crt")"
lab_set_rr _25._tcp.attacker.evil.test TLSA "$tlsa"
check "d. the unsigned TLSA record resolves, without the AD bit" \
    eval 'lab_dnssec_insecure _25._tcp.attacker.evil.test TLSA &&
    test "$(lab_rdig +short _25._tcp.attacker.evil.test TLSA | tr -d " " |
    tr A-F a-f)" = "$(echo "$tlsa" | tr -d " ")"'
exim_reset
exim_send u@enforce-spoof.test
exim_runq
check "d. unsigned TLSA: enforce-spoof.test deferred, nothing delivered" \
    held u@enforce-spoof.test
check "d. unsigned TLSA: MTA-STS refused attacker.evil.test" \
    exim_log_has "mtasts: refused MX host attacker.evil.test \
\[$LAB_SMTP_ATTACKER\]: enforce-spoof.test: $OUTSIDE"
check "d. unsigned TLSA: attacker.evil.test saw no connection" \
    test "$(conns attacker.evil.test)" -eq 0
check "d. unsigned TLSA: no DANE exemption logged" \
    not exim_log_has "DANE takes precedence"
lab_set_rr _25._tcp.attacker.evil.test TLSA

check "no panic log" test -z "$(exim_paniclog)"

tap_end
