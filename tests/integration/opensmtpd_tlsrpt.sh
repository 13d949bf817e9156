#!/bin/bash
# opensmtpd_tlsrpt.sh - TLS-RPT with filter-mtasts in Debian's real
# OpenSMTPD 6.8: deliveries with known outcomes to enforce and testing
# domains that publish a _smtp._tls record, the results the filter records
# from smtpd's smtp-out reports, "mtasts report build" and "send" to the
# lab's HTTPS receiver, and report mail that is not held for MTA-STS.
# TAP output. Needs root; run from the repo root after "make".
#
# Retries are kept out of the counts: smtpd is stopped once every
# message has had its first attempt, and the lab's SMTP hosts' connection
# logs must show exactly the sessions the report counts.
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-smtpd-rpt}
. tests/lab/lib.sh
SMTPD_REPO=$PWD
. tests/e2e/opensmtpd/smtpd.sh
MTASTS=${MTASTS:-$(dirname "$FILTER")/mtasts}
T=$(mktemp -d /tmp/opensmtpd-tlsrpt.XXXXXX)
chmod 755 "$T"
. tests/lib/tap.sh
D=
trap '[ -n "$D" ] && smtpd_stop "$D"; lab_down >/dev/null 2>&1
    [ -n "${OPENSMTPD_E2E_KEEP:-}" ] && mkdir -p "$OPENSMTPD_E2E_KEEP" &&
    cp -r "$T"/. "$OPENSMTPD_E2E_KEEP"/
    rm -rf "$T"' EXIT

tap_diag() {
	[ -n "$D" ] && [ -s "$D/smtpd.log" ] &&
	    grep 'filter-mtasts.*tlsrpt' "$D/smtpd.log" | tail -12 |
	    sed 's/^/#   /'
	return 0
}

tried_and_failed() {	# DOMAIN: smtpd tried (and failed) to relay to it
	wait_for "smtpd's failed relay to $1" 20 \
	    grep -q "No valid route for .*relay:$1," "$D/smtpd.log"
}

has_records() {	# N REGEX: the filter logged at least N records matching
	[ "$(grep -c "filter-mtasts: info: tlsrpt: recorded $2" \
	    "$D/smtpd.log")" -ge "$1" ]
}

recorded() {	# N REGEX: wait until the filter logged N records matching
	wait_for "$1 tlsrpt record(s) of '$2'" 10 has_records "$@"
}

conns() {	# HOST: connections the lab host saw
	lab_smtp_conns "$1" | wc -l
}

json() {	# FILE.json.gz PYTHON-EXPR on r (the report): prints the value
	python3 -c 'import gzip,json,sys
r = json.load(gzip.open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

smtpd_unpack; ok $? "OpenSMTPD unpacked under build/ (not installed)"
[ -x "$FILTER" ] && [ -x "$MTASTS" ]
ok $? "filter-mtasts and mtasts are built"
if ! lab_up 2>"$T/lab.err"; then
	ok 1 "lab is up"
	sed 's/^/#   /' "$T/lab.err"
	tap_end
	exit 1
fi
. "$LAB_DIR/env"

DOMS="enforce-good enforce-nostarttls enforce-expired enforce-spoof
    testing-good testing-nostarttls testing-spoof nopolicy-good"
for d in $DOMS; do
	lab_set_txt "_smtp._tls.$d.test" \
	    "v=TLSRPTv1; rua=https://reports.test/opensmtpd/$d" || break
done
ok $? "_smtp._tls records with an https rua published"

D=$T/tlsrpt
smtpd_case "$D" && smtpd_start "$D"
ok $? "smtpd starts with filter-mtasts"

# Each message alone, its attempt over before the next one starts, so
# that one smtp-out session is one delivery attempt.
for d in enforce-good testing-good testing-nostarttls testing-spoof \
    nopolicy-good; do
	smtpd_send "user@$d.test" >"$T/out.$d"
	lab_smtp_wait "user@$d.test" 30 >/dev/null
done
lab_smtp_delivered good.mx.test user@enforce-good.test tls &&
    lab_smtp_delivered good.mx.test user@testing-good.test tls &&
    lab_smtp_delivered nostarttls.mx.test user@testing-nostarttls.test &&
    lab_smtp_delivered attacker.evil.test user@testing-spoof.test tls &&
    lab_smtp_delivered good.mx.test user@nopolicy-good.test tls
ok $? "enforce-good, testing-good, testing-nostarttls, testing-spoof, nopolicy-good delivered"
smtpd_send user@enforce-nostarttls.test >"$T/out.enforce-nostarttls"
smtpd_send user@enforce-expired.test >"$T/out.enforce-expired"
recorded 1 'sts starttls-not-supported for enforce-nostarttls.test' &&
    tried_and_failed enforce-expired.test &&
    [ -z "$(lab_smtp_where user@enforce-nostarttls.test)" ] &&
    [ -z "$(lab_smtp_where user@enforce-expired.test)" ]
ok $? "enforce-nostarttls, enforce-expired: tried with mandatory TLS, not delivered"
smtpd_send user@enforce-spoof.test >"$T/out.enforce-spoof"
grep -q '<\*\* *451 4.7.5 MTA-STS: no MX host of enforce-spoof.test' \
    "$T/out.enforce-spoof"
ok $? "enforce-spoof: refused at RCPT TO (451 4.7.5)"

# Report mail to the enforce domain with the bad MX: not held by our
# rules (the filter proceeds, smtpd.conf routes it to the plain relay)
# and not recorded.
smtpd_send user@enforce-spoof.test --from "tlsrpt-noreply@$SMTPD_SUBMITTER" \
    >"$T/out.report"
grep -q '250 2.0.0 .* Message accepted' "$T/out.report"
ok $? "report mail to enforce-spoof.test: accepted, not held"
lab_smtp_wait user@enforce-spoof.test 30 >/dev/null
lab_smtp_delivered attacker.evil.test user@enforce-spoof.test
ok $? "report mail to enforce-spoof.test: relayed despite the policy (RFC 8460 3)"
grep -q "report mail (sender tlsrpt-noreply@): not held" "$D/smtpd.log"
ok $? "report mail: the filter logged that it does not hold it"

# smtpd retries a host without STARTTLS every few seconds: pause its
# deliveries, wait until the filter has recorded every session the lab's
# hosts saw, then stop it. Counts are exact: one result per session.
smtpd_ctl "$D" pause mta >/dev/null 2>&1
ok $? "smtpctl pause mta (no more attempts)"
sessions() {	# HOST: sessions the lab host saw that carried no message
	lab_smtp_conns "$1" | grep -c '"messages":0'
}
nrec() {
	grep -c 'filter-mtasts: info: tlsrpt: recorded' "$D/smtpd.log"
}
# smtpd keeps an idle session open for a while before QUIT: wait until
# every session the lab saw end has been recorded (7 + the failed ones).
all_recorded() {
	NOTLS=$(sessions nostarttls.mx.test)
	[ "$(nrec)" -eq $((7 + NOTLS)) ] && [ "$(conns good.mx.test)" -eq 3 ] &&
	    grep -q 'tlsrpt: report mail via .*: not recorded' "$D/smtpd.log"
}
wait_for "a record for every session the lab saw end" 90 all_recorded
NOTLS=$(sessions nostarttls.mx.test)
smtpd_stop "$D"
grep 'tlsrpt: recorded' "$D/smtpd.log" | sed 's/^.*tlsrpt: /# /'
[ "$NOTLS" -ge 1 ] && [ "$(sessions expired.mx.test)" -eq 1 ] &&
    [ "$(conns good.mx.test)" -eq 3 ] && [ "$(conns attacker.evil.test)" -eq 2 ]
ok $? "the lab saw the sessions: good 3, attacker 2 (one is the report mail), expired 1, nostarttls $NOTLS failed"
[ "$(nrec)" -eq $((7 + NOTLS)) ] &&
    grep -q 'tlsrpt: report mail via 127.0.20.6:25: not recorded' "$D/smtpd.log"
ok $? "$((7 + NOTLS)) results recorded: one per session, none for the report mail"

TODAY=$(date -u +%F)
DAY0=$(date -u -d "$TODAY" +%s)
lab_exec "$MTASTS" report build -v -c "$D/mtasts.conf" --day "$TODAY" \
    >"$T/build.out" 2>"$T/build.err"
grep -q '^8 reports built' "$T/build.out"
ok $? "mtasts report build: $(head -1 "$T/build.out")"
R() {	# DOMAIN: the report file
	echo "$D/reports/$SMTPD_SUBMITTER!$1.test!$DAY0!$((DAY0 + 86399)).json.gz"
}
# DOMAIN: "success failure [(result, count, mx, ip, detail)...]" of its
# sts policy
summary() {
	json "$(R "$1")" '(lambda p: "%d %d %s" % (
    p["summary"]["total-successful-session-count"],
    p["summary"]["total-failure-session-count"],
    sorted((d["result-type"], d["failed-session-count"],
        d.get("receiving-mx-hostname"), d.get("receiving-ip"),
        d.get("additional-information", d.get("failure-reason-code")))
        for d in p.get("failure-details", []))))(
    [p for p in r["policies"] if p["policy"]["policy-type"] == "sts"][0])'
}
report_is() {	# DOMAIN EXPECTED
	local got
	got=$(summary "$1" 2>&1)
	[ "$got" = "$2" ] && return 0
	echo "# $1: got: $got" >&2
	echo "# $1: want: $2" >&2
	return 1
}
report_is enforce-good "1 0 []"
ok $? "enforce-good: 1 successful session, 0 failed"
report_is testing-good "1 0 []"
ok $? "testing-good: 1 successful session, 0 failed"
report_is enforce-nostarttls "0 $NOTLS [('starttls-not-supported', $NOTLS, 'nostarttls.mx.test', '127.0.20.2', None)]"
ok $? "enforce-nostarttls: $NOTLS starttls-not-supported at nostarttls.mx.test (one per session)"
report_is testing-nostarttls "0 1 [('starttls-not-supported', 1, 'nostarttls.mx.test', '127.0.20.2', None)]"
ok $? "testing-nostarttls: delivered in clear, 1 starttls-not-supported"
# smtpd 6.8 reports link-tls before refusing the certificate, 7.6 none
# (README, OpenSMTPD TLS-RPT limits): the filter says which it saw
case $(smtpd_version) in
6.*) EXPIRED='TLS verification failed (smtpd gave up after the TLS handshake and does not report why)' ;;
*) EXPIRED='TLS negotiation failed (the MX host accepted STARTTLS, then smtpd gave up before any transaction and does not report why)' ;;
esac
report_is enforce-expired "0 1 [('validation-failure', 1, 'expired.mx.test', '127.0.20.3', '$EXPIRED')]"
ok $? "enforce-expired: 1 validation-failure (certificate refused; the detail smtpd $(smtpd_version) allows)"
report_is enforce-spoof "0 1 [('validation-failure', 1, 'attacker.evil.test', None, \"MX host attacker.evil.test matches none of the policy's mx patterns (good.mx.test); refused at RCPT TO\")]"
ok $? "enforce-spoof: 1 validation-failure naming the host and the patterns"
report_is testing-spoof "0 1 [('validation-failure', 1, 'attacker.evil.test', '127.0.20.6', \"MX host attacker.evil.test matches none of the policy's mx patterns (good.mx.test)\")]"
ok $? "testing-spoof: 1 validation-failure (MX outside the testing policy)"
[ "$(json "$(R enforce-good)" 'len(r["policies"])')" = 1 ] &&
    [ "$(json "$(R enforce-good)" 'r["policies"][0]["policy"]["mx-host"]')" = "['good.mx.test']" ]
ok $? "enforce-good: one sts policy with the cached policy's mx patterns"
[ "$(json "$(R nopolicy-good)" '[(p["policy"]["policy-type"], p["summary"]["total-successful-session-count"], p["summary"]["total-failure-session-count"]) for p in r["policies"]]')" = \
    "[('no-policy-found', 1, 0)]" ]
ok $? "nopolicy-good: no-policy-found, 1 successful session"

lab_exec "$MTASTS" report send -v -c "$D/mtasts.conf" >"$T/send.out" \
    2>"$T/send.err"
grep -q '^8 delivered, 0 given up, 0 pending' "$T/send.out"
ok $? "mtasts report send: $(head -1 "$T/send.out")"
lab_reports_log >"$T/posts"
python3 - "$T/posts" "$(R enforce-nostarttls)" <<'PY'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
paths = sorted(p["path"] for p in posts)
want = sorted("/opensmtpd/%s" % d for d in ("enforce-good",
    "enforce-nostarttls", "enforce-expired", "enforce-spoof",
    "testing-good", "testing-nostarttls", "testing-spoof",
    "nopolicy-good"))
one = [p for p in posts if p["path"] == "/opensmtpd/enforce-nostarttls"]
sys.exit(not (paths == want and len(one) == 1 and
    one[0]["content_type"] == "application/tlsrpt+gzip" and
    open(one[0]["file"], "rb").read() == open(sys.argv[2], "rb").read()))
PY
ok $? "the lab's receiver got each report once, at its domain's rua"

# ---------------------------------------------------------------- DKIM
# Report mail through smtpd with Debian's filter-dkimsign chained after
# filter-mtasts on the listener: signed, not held, not recorded, relayed.
DKIMSIGN=$(smtpd_unpack_dkimsign)
ok $? "filter-dkimsign unpacked ($DKIMSIGN)"
D=$T/dkim
smtpd_case "$D"
openssl genrsa -out "$D/dkim.key" 2048 2>/dev/null &&
    chown opensmtpd "$D/dkim.key" && chmod 600 "$D/dkim.key"
sed -i "s|^listen on .*|filter \"dkimsign\" proc-exec \"$DKIMSIGN -d $SMTPD_SUBMITTER -s tlsrpt -c relaxed/relaxed -k $D/dkim.key\"\\
filter \"submit\" chain { \"mtasts\", \"dkimsign\" }\\
listen on $SMTPD_ADDR filter \"submit\"|" "$D/smtpd.conf"
# the stand-in sendmail submits to smtpd's listener, as smtpctl would
cat >"$T/sendmail" <<EOS
#!/bin/sh
cat >"$D/report.eml"
from=""; to=""
while [ \$# -gt 0 ]; do
	case \$1 in -f) from=\$2; shift ;; --) to=\$2; shift ;; esac
	shift
done
swaks --server $SMTPD_ADDR --from "\$from" --to "\$to" --helo mx.sender.test \\
    --data @"$D/report.eml" >"$D/sendmail.out" 2>&1
EOS
chmod +x "$T/sendmail"
echo "sendmail $T/sendmail" >>"$D/mtasts.conf"
lab_set_txt _smtp._tls.testing-good.test \
    "v=TLSRPTv1; rua=mailto:tlsrpt@reports.test"
lab_smtp_clear
smtpd_start "$D"
ok $? "smtpd starts with the filter chain mtasts, dkimsign"
smtpd_send user@testing-good.test >"$T/out.dkim"
lab_smtp_wait user@testing-good.test 30 >/dev/null
recorded 1 'sts success for testing-good.test'
ok $? "testing-good delivered and recorded"
lab_exec "$MTASTS" report build -c "$D/mtasts.conf" --day "$TODAY" \
    >"$T/build2.out" 2>&1 &&
    lab_exec "$MTASTS" report send -c "$D/mtasts.conf" >"$T/send2.out" 2>&1
grep -q '^1 delivered' "$T/send2.out" &&
    grep -q '250 2.0.0 .* Message accepted' "$D/sendmail.out"
ok $? "mtasts report send: the report mail is accepted by smtpd"
lab_smtp_wait tlsrpt@reports.test 30 >/dev/null
M=$(lab_smtp_where tlsrpt@reports.test | awk '{ print $3 }' | tail -1)
sig=$(sed -n '/^DKIM-Signature:/,/^[^ 	]/p' "$M" | sed '$d' | tr -d ' \t\n')
[ -n "$M" ] && case $sig in *"d=$SMTPD_SUBMITTER;"*) true ;; *) false ;; esac &&
    case $sig in *"s=tlsrpt;"*) true ;; *) false ;; esac
ok $? "the report mail arrived at reports.test's MX, signed d=$SMTPD_SUBMITTER s=tlsrpt"
openssl rsa -in "$D/dkim.key" -pubout -outform der 2>/dev/null |
    base64 -w0 >"$D/dkim.pub"
/usr/bin/python3 - "$M" "$D/dkim.pub" <<'PY'
import sys, dkim
key = b"v=DKIM1; k=rsa; p=" + open(sys.argv[2], "rb").read().strip()
def dns(name, timeout=5):
    return key if name == b"tlsrpt._domainkey.mx.sender.test." else None
sys.exit(0 if dkim.verify(open(sys.argv[1], "rb").read(), dnsfunc=dns) else 1)
PY
ok $? "the DKIM signature verifies (python3-dkim)"
lab_exec "$MTASTS" report show "$M" >"$T/show.out" 2>&1 &&
    grep -q 'sessions: 1 (1 successful, 0 failed)' "$T/show.out"
ok $? "mtasts report show on the received mail: 1 successful session"
# the filter's word on the report mail's session: after it, nothing more
wait_for "the filter's line on the report mail's session" 10 \
    grep -q 'tlsrpt: report mail via .*: not recorded' "$D/smtpd.log"
[ "$(nrec)" -eq 1 ] && ! grep -q 'recorded .* for reports.test' "$D/smtpd.log"
ok $? "no result recorded for the report mail's own delivery"
smtpd_stop "$D"

D=
tap_end
