#!/bin/bash
# opensmtpd_tlsrpt.sh - TLS-RPT with Debian's real OpenSMTPD 6.8, the
# shipped smtpd.conf lines, filter-mtasts and mtasts-relay
# (tests/e2e/opensmtpd/smtpd.sh): deliveries with known outcomes to enforce and testing
# domains that publish a _smtp._tls record (the relay records one result
# per attempt with the exact RFC 8460 type), a domain without a policy
# (the filter records no-policy-found from smtpd's smtp-out reports),
# "mtasts report build" and "send" to the lab's HTTPS receiver, and
# report mail that is not held for MTA-STS nor recorded.
# TAP output. Needs root; run from the repo root after "make".
#
# smtpd retries deferred mail: the counts of failed sessions are the
# attempts the relay logged (one record each), read after mta is paused.
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
trap 'relay_stop; [ -n "$D" ] && smtpd_stop "$D"; lab_down >/dev/null 2>&1
    [ -n "${OPENSMTPD_E2E_KEEP:-}" ] && mkdir -p "$OPENSMTPD_E2E_KEEP" &&
    cp -r "$T"/. "$OPENSMTPD_E2E_KEEP"/
    rm -rf "$T"' EXIT

tap_diag() {
	[ -n "$D" ] && tap_show "$D/relay.log" 6
	[ -n "$D" ] && [ -s "$D/smtpd.log" ] &&
	    grep 'filter-mtasts.*tlsrpt' "$D/smtpd.log" | tail -6 |
	    sed 's/^/#   /'
	return 0
}

attempts() {	# DOMAIN HOST TYPE: results the relay recorded
	grep -c "mtasts-relay: debug: $1: tlsrpt: MX host $2: $3 recorded" \
	    "$D/relay.log"
}

json() {	# FILE.json.gz PYTHON-EXPR on r (the report): prints the value
	python3 -c 'import gzip,json,sys
r = json.load(gzip.open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

smtpd_unpack; ok $? "OpenSMTPD unpacked under build/ (not installed)"
[ -x "$FILTER" ] && [ -x "$MTASTS" ] && [ -x "$RELAY" ]
ok $? "filter-mtasts, mtasts-relay and mtasts are built"
if ! lab_up 2>"$T/lab.err"; then
	ok 1 "lab is up"
	sed 's/^/#   /' "$T/lab.err"
	tap_end
	exit 1
fi
. "$LAB_DIR/env"

DOMS="enforce-good enforce-nostarttls enforce-expired enforce-spoof
    testing-good testing-nostarttls testing-spoof testing-wrongname
    nopolicy-good"
for d in $DOMS; do
	lab_set_txt "_smtp._tls.$d.test" \
	    "v=TLSRPTv1; rua=https://reports.test/opensmtpd/$d" || break
done
ok $? "_smtp._tls records with an https rua published"

D=$T/tlsrpt
smtpd_case "$D" && relay_start "$D" && smtpd_start "$D"
ok $? "smtpd (shipped lines, filter-mtasts) and mtasts-relay start"

for d in enforce-good testing-good testing-nostarttls testing-spoof \
    testing-wrongname nopolicy-good; do
	smtpd_send "user@$d.test" >"$T/out.$d"
	lab_smtp_wait "user@$d.test" 30 >/dev/null
done
lab_smtp_delivered good.mx.test user@enforce-good.test tls &&
    lab_smtp_delivered good.mx.test user@testing-good.test tls &&
    lab_smtp_delivered nostarttls.mx.test user@testing-nostarttls.test &&
    lab_smtp_delivered attacker.evil.test user@testing-spoof.test tls &&
    lab_smtp_delivered wrongname.mx.test user@testing-wrongname.test tls &&
    lab_smtp_delivered good.mx.test user@nopolicy-good.test tls
ok $? "enforce-good, testing-good, -nostarttls, -spoof, -wrongname, nopolicy-good delivered"
for d in enforce-nostarttls enforce-expired enforce-spoof; do
	smtpd_send "user@$d.test" >"$T/out.$d"
	grep -q '250 2.0.0 .* Message accepted' "$T/out.$d" &&
	    wait_for "smtpd's deferral of $d" 30 tempfailed "user@$d.test" &&
	    nowhere "user@$d.test"
	ok $? "$d: accepted, deferred at delivery, delivered nowhere"
done

# Report mail to the enforce domain with the bad MX: smtpd.conf's first
# rule sends it around the relay; not held, not recorded.
smtpd_send user@enforce-spoof.test --from "tlsrpt-noreply@$SMTPD_SUBMITTER" \
    >"$T/out.report"
grep -q '250 2.0.0 .* Message accepted' "$T/out.report"
ok $? "report mail to enforce-spoof.test: accepted, not held"
lab_smtp_wait user@enforce-spoof.test 30 >/dev/null
lab_smtp_delivered attacker.evil.test user@enforce-spoof.test
ok $? "report mail to enforce-spoof.test: relayed despite the policy (RFC 8460 3)"
grep -q "report mail (sender tlsrpt-noreply@): not held" "$D/smtpd.log" &&
    wait_for "the filter's word on the report mail's session" 30 \
    grep -q 'tlsrpt: report mail via .*: not recorded' "$D/smtpd.log"
ok $? "report mail: the filter neither holds nor records it"

smtpd_ctl "$D" pause mta >/dev/null 2>&1
ok $? "smtpctl pause mta (no more attempts)"
wait_for "the no-policy-found record" 30 \
    grep -q 'tlsrpt: recorded no-policy-found success for nopolicy-good.test' \
    "$D/smtpd.log"
ok $? "nopolicy-good: the filter recorded no-policy-found success"
relay_stop
smtpd_stop "$D"
NOTLS=$(attempts enforce-nostarttls.test nostarttls.mx.test starttls-not-supported)
EXP=$(attempts enforce-expired.test expired.mx.test certificate-expired)
SPOOF=$(attempts enforce-spoof.test attacker.evil.test validation-failure)
[ "$NOTLS" -ge 1 ] && [ "$EXP" -ge 1 ] && [ "$SPOOF" -ge 1 ]
ok $? "the relay recorded every attempt: nostarttls $NOTLS, expired $EXP, spoof $SPOOF"

TODAY=$(date -u +%F)
DAY0=$(date -u -d "$TODAY" +%s)
lab_exec "$MTASTS" report build -v -c "$D/mtasts.conf" --day "$TODAY" \
    >"$T/build.out" 2>"$T/build.err"
grep -q '^9 reports built' "$T/build.out"
ok $? "mtasts report build: $(head -1 "$T/build.out")"
R() {	# DOMAIN: the report file
	echo "$D/reports/$SMTPD_SUBMITTER!$1.test!$DAY0!$((DAY0 + 86399)).json.gz"
}
# DOMAIN [TYPE]: "success failure [(result, count, mx, ip)...]" of its
# policy of TYPE (sts)
summary() {
	json "$(R "$1")" '(lambda p: "%d %d %s" % (
    p["summary"]["total-successful-session-count"],
    p["summary"]["total-failure-session-count"],
    sorted((d["result-type"], d["failed-session-count"],
        d.get("receiving-mx-hostname"), d.get("receiving-ip"))
        for d in p.get("failure-details", []))))(
    [p for p in r["policies"] if p["policy"]["policy-type"] == "'"${2:-sts}"'"][0])'
}
report_is() {	# DOMAIN EXPECTED [TYPE]
	local got
	got=$(summary "$1" "${3:-sts}" 2>&1)
	[ "$got" = "$2" ] && return 0
	echo "# $1: got: $got" >&2
	echo "# $1: want: $2" >&2
	return 1
}
detail() {	# DOMAIN: the additional-information of its first failure
	json "$(R "$1")" '(lambda d: d.get("additional-information",
    d.get("failure-reason-code")))(r["policies"][0]["failure-details"][0])'
}
report_is enforce-good "1 0 []"
ok $? "enforce-good: 1 successful session, 0 failed"
report_is testing-good "1 0 []"
ok $? "testing-good: 1 successful session, 0 failed"
report_is enforce-nostarttls "0 $NOTLS [('starttls-not-supported', $NOTLS, 'nostarttls.mx.test', '127.0.20.2')]"
ok $? "enforce-nostarttls: $NOTLS starttls-not-supported (one per attempt)"
report_is testing-nostarttls "0 1 [('starttls-not-supported', 1, 'nostarttls.mx.test', '127.0.20.2')]"
ok $? "testing-nostarttls: delivered in clear, 1 starttls-not-supported"
report_is enforce-expired "0 $EXP [('certificate-expired', $EXP, 'expired.mx.test', '127.0.20.3')]"
ok $? "enforce-expired: $EXP certificate-expired (the exact type)"
summary testing-wrongname |
    grep -q "^0 1 \[('certificate-host-mismatch', 1, 'wrongname.mx.test', '127\."
ok $? "testing-wrongname: delivered, 1 certificate-host-mismatch recorded"
report_is enforce-spoof "0 $SPOOF [('validation-failure', $SPOOF, 'attacker.evil.test', None)]" &&
    [ "$(detail enforce-spoof)" = "MX host attacker.evil.test matches none of the policy's mx patterns (good.mx.test)" ]
ok $? "enforce-spoof: validation-failure naming the host and the patterns, never contacted"
summary testing-spoof | grep -q "^0 1 \[('validation-failure', 1, 'attacker.evil.test', '127.0.20.6')\]"
ok $? "testing-spoof: 1 validation-failure (MX outside the testing policy)"
[ "$(json "$(R enforce-good)" 'len(r["policies"])')" = 1 ] &&
    [ "$(json "$(R enforce-good)" 'r["policies"][0]["policy"]["mx-host"]')" = "['good.mx.test']" ]
ok $? "enforce-good: one sts policy with the cached policy's mx patterns"
[ "$(json "$(R nopolicy-good)" '[(p["policy"]["policy-type"], p["summary"]["total-successful-session-count"], p["summary"]["total-failure-session-count"]) for p in r["policies"]]')" = \
    "[('no-policy-found', 1, 0)]" ]
ok $? "nopolicy-good: no-policy-found, 1 successful session (from smtp-out)"

lab_exec "$MTASTS" report send -v -c "$D/mtasts.conf" >"$T/send.out" \
    2>"$T/send.err"
grep -q '^9 delivered, 0 given up, 0 pending' "$T/send.out"
ok $? "mtasts report send: $(head -1 "$T/send.out")"
lab_reports_log >"$T/posts"
python3 - "$T/posts" "$(R enforce-nostarttls)" <<'PY'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
paths = sorted(p["path"] for p in posts)
want = sorted("/opensmtpd/%s" % d for d in ("enforce-good",
    "enforce-nostarttls", "enforce-expired", "enforce-spoof",
    "testing-good", "testing-nostarttls", "testing-spoof",
    "testing-wrongname", "nopolicy-good"))
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
sed -i "s|^listen on $SMTPD_ADDR .*|filter \"dkimsign\" proc-exec \"$DKIMSIGN -d $SMTPD_SUBMITTER -s tlsrpt -c relaxed/relaxed -k $D/dkim.key\"\\
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
relay_start "$D" && smtpd_start "$D"
ok $? "smtpd starts with the filter chain mtasts, dkimsign"
smtpd_send user@testing-good.test >"$T/out.dkim"
lab_smtp_wait user@testing-good.test 30 >/dev/null
wait_for "the relay's record" 10 \
    relay_said "testing-good.test: tlsrpt: MX host good.mx.test: success recorded"
ok $? "testing-good delivered through the relay and recorded"
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
! grep -q 'recorded .* for reports.test' "$D/smtpd.log" &&
    ! relay_said "reports.test"
ok $? "no result recorded for the report mail's own delivery"
relay_stop
smtpd_stop "$D"


# ---------------------------------------------------------------- metrics
# "mtasts metrics" on the store the relay and the filter filled in the
# relay flow above ($T/tlsrpt): Prometheus accepts it, and
# mtasts_sessions_total and mtasts_deferrals_total equal, series for
# series, what that day's reports say (tests/lib/metrics_reports.py);
# every attempt the relay logged under enforce is one deferral.
M=$T/metrics.prom
lab_exec "$MTASTS" metrics -c "$T/tlsrpt/mtasts.conf" >"$M" 2>"$T/metrics.err"
ok $? "mtasts metrics on the store the OpenSMTPD relay flow filled"
chown -R opensmtpd:opensmtpd "$T/tlsrpt/mtasts"
promtool check metrics <"$M" >"$T/promtool.out" 2>&1
ok $? "promtool check metrics accepts it"
python3 tests/lib/metrics_reports.py "$M" "$T"/tlsrpt/reports/*.json.gz \
    >"$T/metrics-vs-reports" 2>&1
rc=$?
ok $rc "mtasts_sessions_total and mtasts_deferrals_total equal the reports"
[ $rc -eq 0 ] || sed 's/^/#   /' "$T/metrics-vs-reports"
prom() {	# SERIES: its value
	awk -v s="$1" '$1 == s { print $2 }' "$M"
}
[ "$(prom 'mtasts_sessions_total{policy_type="sts",mode="enforce",result="success"}')" = 1 ] &&
    [ "$(prom 'mtasts_deferrals_total{reason="starttls-not-supported"}')" = "$NOTLS" ] &&
    [ "$(prom 'mtasts_deferrals_total{reason="certificate-expired"}')" = "$EXP" ] &&
    [ "$(prom 'mtasts_deferrals_total{reason="validation-failure"}')" = "$SPOOF" ] &&
    [ "$(awk '/^mtasts_deferrals_total\{/ { n += $2 } END { print n + 0 }' "$M")" = \
    $((NOTLS + EXP + SPOOF)) ]
ok $? "metrics: enforce-good 1 success; deferrals = the relay's attempts ($NOTLS, $EXP, $SPOOF)"
[ "$(prom 'mtasts_sessions_total{policy_type="sts",mode="testing",result="success"}')" = 1 ] &&
    [ "$(prom 'mtasts_sessions_total{policy_type="sts",mode="testing",result="starttls-not-supported"}')" = 1 ] &&
    [ "$(prom 'mtasts_sessions_total{policy_type="no-policy-found",mode="none",result="success"}')" = 1 ] &&
    [ "$(prom mtasts_store_errors)" = 0 ]
ok $? "metrics: testing and no-policy sessions counted, no store error"

D=
tap_end
