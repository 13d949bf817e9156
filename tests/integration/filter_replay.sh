#!/bin/bash
# filter_replay.sh - the real filter-mtasts, with real policies and MX
# records from the lab, fed smtpd's side of the filter protocol by
# tests/integration/filterdrive.py. TAP output. Needs root; run from the
# repo root after "make".
#
# - Enforce domains with 20 and 200 MX hosts that all match the policy's
#   pattern are accepted and routed (the count never stops where the log
#   text is cut), and the log text of the set is cut visibly.
# - The smtp-out stream that OpenSMTPD 7.6 (Debian 13) sends when "relay
#   tls" refuses the MX host's certificate is REPLAYED here, line for
#   line as 7.6.0p1 writes it (lka_filter.c, mta_session.c; protocol 0.7):
#   link-connect, protocol-server 220, protocol-client EHLO,
#   link-identify, 250-STARTTLS, protocol-client STARTTLS, protocol-server
#   220, link-disconnect, and no link-tls. The real 7.6 binary is not in
#   the harness yet; the real 6.8 cases are in opensmtpd_tlsrpt.sh. It
#   must be recorded as validation-failure, and so must 6.8's stream of
#   the same failure (protocol 0.6, with link-tls); EHLO without STARTTLS
#   stays starttls-not-supported.
# - What the filter says of an MX host outside the policy is the core's
#   verdict (mtasts_mx_verdict(), mtasts_session_verdict()): its sentence
#   in the log and in the recorded result, in clear as over TLS; an
#   enforce override without a policy requires TLS and refuses no host.
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-filter-replay}
. tests/lab/lib.sh
. tests/lib/tap.sh
FILTER=${FILTER:-$PWD/build/filter-mtasts}
T=$(mktemp -d /tmp/filter-replay.XXXXXX)
chmod 755 "$T"
trap 'lab_down >/dev/null 2>&1; rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/filter.log" 15
	tap_show "$T/drive.err" 10
}

[ -x "$FILTER" ]
ok $? "filter-mtasts is built ($FILTER)"
if ! lab_up 2>"$T/lab.err"; then
	ok 1 "lab is up"
	tap_show "$T/lab.err"
	tap_end
	exit 1
fi
. "$LAB_DIR/env"
sed "s|^store .*|store $T/store.db|" "$LAB_CONF" >"$T/mtasts.conf"

# MX sets whose host names are long enough that the old 400-byte text
# held only some of them: every host matches *.mx.test.
mxset() {	# N: "10 host-with-a-long-name-NNN.mx.test." ...
	local i
	for i in $(seq -w 1 "$1"); do
		printf '%s\n' "10 host-with-a-long-name-$i.mx.test."
	done
}
mapfile -t MX20 < <(mxset 20)
mapfile -t MX200 < <(mxset 200)
lab_set_rr enforce.test MX "${MX20[@]}" &&
    lab_set_rr enforce-secondgood.test MX "${MX200[@]}"
ok $? "enforce.test has 20 MX hosts, enforce-secondgood.test 200 (all *.mx.test)"
[ "$(lab_dig +short +tcp MX enforce-secondgood.test | wc -l)" -eq 200 ]
ok $? "the lab's DNS serves the 200 MX records"

# drive PYTHON [ARG...]: runs PYTHON (after PRE: f is a Filter speaking
# as smtpd $SMTPD) with ARGs in sys.argv[5:]
drive() {
	local py=$1
	shift
	PYTHONPATH=tests/integration python3 - "$LAB_NAME" "$FILTER" \
	    "$T" "${SMTPD:-7.6}" "$@" <<<"$py" 2>>"$T/drive.err"
}
PRE='import sys, filterdrive as fd
lab, filt, t, ver = sys.argv[1:5]
f = fd.Filter(["ip", "netns", "exec", lab, filt, "-v", "-r", "0", "-c",
    t + "/mtasts.conf", "-t", t + "/enforce.db"], t + "/filter.log", ver)
'
"$FILTER" -I -t "$T/enforce.db"

# ---------------------------------------------------------- many MX hosts
drive "$PRE"'
print(f.smtp_in(1, "user@enforce.test"))
print(f.smtp_in(2, "user@enforce-secondgood.test"))
sys.exit(f.close())' >"$T/many.out"
ok $? "filter ran and exited 0 on EOF"
[ "$(sed -n 1p "$T/many.out")" = proceed ]
ok $? "enforce.test, 20 matching MX hosts: RCPT TO proceeds"
[ "$(sed -n 2p "$T/many.out")" = proceed ]
ok $? "enforce-secondgood.test, 200 matching MX hosts: RCPT TO proceeds"
grep -q 'enforce.test: added to the routing table' "$T/filter.log" &&
    grep -q 'enforce-secondgood.test: added to the routing table' \
    "$T/filter.log"
ok $? "both are routed to the TLS action (in the routing table)"
! grep -q 'refused\|validation-failure\|match no pattern' "$T/filter.log"
ok $? "nothing refused, no validation-failure recorded"
grep -q 'enforce-secondgood.test: enforce (.*MX: host-with-a-long-name-001.mx.test, .*, \.\.\. and 1[0-9][0-9] more$' \
    "$T/filter.log"
ok $? "the log text of the 200 hosts is cut visibly (... and N more)"

# ------------------------------------------------- smtp-out: refused cert
# DOMAIN MXADDR SESSION: RCPT TO for DOMAIN, wait until the filter knows
# its MX address, replay SESSION (a filterdrive function) to MXADDR:25.
replay() {
	drive "$PRE"'
dom, addr, sess = sys.argv[5:8]
print(f.smtp_in(1, "user@" + dom))
f.wait_log("tlsrpt: %s: MX .* has 1 address" % dom)
f.smtp_out(0x7600, getattr(fd, sess)(addr + ":25"))
f.wait_log("tlsrpt: recorded .* for %s" % dom)
sys.exit(f.close())' "$1" "$2" "$3" >"$T/replay.out"
}

: >"$T/filter.log"
SMTPD=7.6 replay enforce-expired.test 127.0.20.3 session_76_refused_cert
[ "$(cat "$T/replay.out")" = proceed ]
ok $? "7.6 replay: enforce-expired.test accepted at RCPT TO"
grep -q 'tlsrpt: recorded sts validation-failure for enforce-expired.test (MX expired.mx.test \[127.0.20.3\]): TLS negotiation failed' \
    "$T/filter.log"
ok $? "7.6 replay: STARTTLS 220, no link-tls, no transaction: validation-failure"
! grep -q 'starttls-not-supported' "$T/filter.log"
ok $? "7.6 replay: not recorded as starttls-not-supported"

: >"$T/filter.log"
SMTPD=6.8 replay enforce-expired.test 127.0.20.3 session_68_refused_cert
grep -q 'tlsrpt: recorded sts validation-failure for enforce-expired.test (MX expired.mx.test \[127.0.20.3\]): TLS verification failed' \
    "$T/filter.log"
ok $? "6.8 stream (link-tls, then nothing): validation-failure"

: >"$T/filter.log"
SMTPD=7.6 replay enforce-nostarttls.test 127.0.20.2 session_nostarttls
grep -q 'tlsrpt: recorded sts starttls-not-supported for enforce-nostarttls.test (MX nostarttls.mx.test \[127.0.20.2\])' \
    "$T/filter.log"
ok $? "7.6 stream, EHLO without STARTTLS: starttls-not-supported"

# ------------------------------------------- the core's verdict on the MX
# A testing domain whose MX host matches none of the policy's patterns:
# the detail the filter logs and records is the core's sentence
# (mtasts_mx_verdict()), over TLS and in clear alike.
delivered() {	# DOMAIN MXADDR TLS(True|False)
	drive "$PRE"'
dom, addr, tls = sys.argv[5:8]
print(f.smtp_in(1, "user@" + dom))
f.wait_log("tlsrpt: %s: MX .* has 1 address" % dom)
f.smtp_out(0x7601, fd.session_delivered(addr + ":25", "user@" + dom,
    tls == "True"))
f.wait_log("tlsrpt: recorded .* for %s" % dom)
sys.exit(f.close())' "$1" "$2" "$3" >"$T/delivered.out"
}
OUTSIDE="MX host attacker.evil.test matches none of the policy's mx patterns (good.mx.test)"
: >"$T/filter.log"
delivered testing-spoof.test 127.0.20.6 True
[ "$(cat "$T/delivered.out")" = proceed ] &&
    grep -qF "testing-spoof.test: testing: 1 of 1 MX hosts match no pattern and would be refused under enforce; delivering; MX: attacker.evil.test (no match); $OUTSIDE" \
    "$T/filter.log"
ok $? "testing, MX outside the policy: accepted, the core's sentence logged"
grep -qF "tlsrpt: recorded sts validation-failure for testing-spoof.test (MX attacker.evil.test [127.0.20.6]): $OUTSIDE" \
    "$T/filter.log"
ok $? "testing, MX outside the policy, over TLS: validation-failure with the core's detail"
: >"$T/filter.log"
delivered testing-spoof.test 127.0.20.6 False
grep -qF "tlsrpt: recorded sts validation-failure for testing-spoof.test (MX attacker.evil.test [127.0.20.6]): $OUTSIDE" \
    "$T/filter.log"
ok $? "testing, MX outside the policy, in clear: validation-failure too (the core's rule)"
: >"$T/filter.log"
delivered testing-good.test 127.0.20.1 False
grep -q 'tlsrpt: recorded sts starttls-not-supported for testing-good.test (MX good.mx.test \[127.0.20.1\])$' \
    "$T/filter.log"
ok $? "testing, MX inside the policy, in clear: starttls-not-supported"

# An enforce override for a domain without a policy: the core requires
# TLS of every MX host; no pattern to match, none refused.
cp "$T/mtasts.conf" "$T/mtasts.conf.orig"
echo "override nopolicy-good.test enforce" >>"$T/mtasts.conf"
: >"$T/filter.log"
drive "$PRE"'
print(f.smtp_in(1, "user@nopolicy-good.test"))
sys.exit(f.close())' >"$T/override.out"
[ "$(cat "$T/override.out")" = proceed ] &&
    grep -q 'nopolicy-good.test: added to the routing table' "$T/filter.log" &&
    ! grep -q 'refused\|validation-failure' "$T/filter.log"
ok $? "enforce override without a policy: accepted and routed to the TLS action"
cp "$T/mtasts.conf.orig" "$T/mtasts.conf"

drive "$PRE"'
print("\n".join(f.registered)); sys.exit(f.close())' >"$T/reg.out"
grep -qx 'register|report|smtp-out|protocol-client' "$T/reg.out" &&
    grep -qx 'register|report|smtp-out|protocol-server' "$T/reg.out"
ok $? "the filter registers smtp-out protocol-client and protocol-server"

tap_end
