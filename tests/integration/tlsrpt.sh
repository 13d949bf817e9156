#!/bin/bash
# tlsrpt.sh - TLS-RPT end to end in the lab: results recorded as the
# adapters record them, "mtasts report build" against the lab's real DNS
# (_smtp._tls records), "mtasts report send" to the lab's HTTPS report
# receiver and, through a stand-in sendmail that hands the message to the
# lab's SMTP host with swaks, to its mailbox; retries, giving up, a
# malformed rua, and "mtasts report show" on what arrived. TAP output.
# Needs root (network namespace); run from the repo root after "make".
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-tlsrpt}
. tests/lab/lib.sh
BUILD=${BUILD:-build}
MTASTS=${MTASTS:-$PWD/$BUILD/mtasts}
T=$(mktemp -d)
. tests/lib/tap.sh
trap 'lab_down >/dev/null 2>&1; rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/last.err" 8
}
m() {	# mtasts ARGS... inside the lab; output in $T/last.out, status $rc
	lab_exec "$MTASTS" "$@" >"$T/last.out" 2>"$T/last.err"
	rc=$?
}
rec() {	# DOMAIN TYPE RESULT MX RIP SIP DETAIL COUNT
	"$T/tlsrpt_record" "$CONF" "$@"
}
json() {	# FILE.json.gz PYTHON-EXPR on r (the report): prints the value
	python3 -c 'import gzip,json,sys
r = json.load(gzip.open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

if [ ! -x "$MTASTS" ]; then
	ok 1 "$MTASTS is missing: run make first"
	exit 1
fi
if ! ${CC:-cc} -Icommon/include -D_GNU_SOURCE -std=c11 -Wall -Wextra \
    -Werror -o "$T/tlsrpt_record" tests/integration/tlsrpt_record.c \
    "$BUILD/libmtasts.a" $(pkg-config --libs libunbound libcurl sqlite3 \
    libidn2 jansson openssl zlib) -lpthread 2>"$T/last.err"; then
	ok 1 "build the recording helper"
	exit 1
fi
if ! lab_up >"$T/lab.log" 2>&1; then
	tap_show "$T/lab.log"
	ok 1 "the lab starts"
	exit 1
fi
. "$LAB_DIR/env"

# The stand-in sendmail: keeps its arguments and the message, then hands
# the message to good.mx.test (the MX of reports.test) with swaks. A
# file "fail" next to it makes it fail as a broken MTA would (EX_TEMPFAIL).
mkdir -p "$T/mail"
cat >"$T/sendmail" <<EOS
#!/bin/sh
[ -e "$T/fail" ] && exit 75
k=\$(ls "$T/mail" | grep -c '\.eml\$')
f="$T/mail/\$k"
printf '%s\n' "\$@" >"\$f.args"
cat >"\$f.eml"
from=""; to=""
while [ \$# -gt 0 ]; do
	case \$1 in -f) from=\$2; shift ;; --) to=\$2; shift ;; esac
	shift
done
swaks --server $LAB_SMTP_GOOD --from "\$from" --to "\$to" \
    --data @"\$f.eml" >"\$f.swaks" 2>&1
EOS
chmod +x "$T/sendmail"
CONF=$T/mtasts.conf
{ grep -v '^store ' "$LAB_CONF"; cat <<EOC; } >"$CONF"
store $T/store.db
report_dir $T/reports
report_org mtasts lab
report_contact postmaster@sender.test
report_submitter mx.sender.test
sendmail $T/sendmail
EOC
TODAY=$(date -u +%F)
DAY0=$(date -u -d "$TODAY" +%s)
BASE="mx.sender.test!enforce-good.test!$DAY0!$((DAY0 + 86399))"

# 1. A day of results: the policy is cached first (the report takes its
# policy string from the cache), then the adapters' calls.
m query -c "$CONF" enforce-good.test
ok $rc "enforce-good.test policy cached"
rec enforce-good.test sts success good.mx.test 127.0.20.1 127.0.30.1 - 5 &&
rec enforce-good.test sts success good.mx.test 127.0.20.1 127.0.30.2 - 2 &&
rec enforce-good.test sts certificate-expired good.mx.test 127.0.20.1 \
    127.0.30.1 X509_V_ERR_CERT_HAS_EXPIRED 3 &&
rec enforce-good.test sts starttls-not-supported good.mx.test 127.0.20.1 \
    127.0.30.1 - 1 &&
rec enforce-good.test no-policy-found success good.mx.test 127.0.20.1 \
    127.0.30.1 - 4 &&
rec enforce.test sts success good.mx.test 127.0.20.1 127.0.30.1 - 9
ok $? "results recorded"

# 2. Build: one report, for the domain with a TLS-RPT record only.
m report build -v -c "$CONF" --day "$TODAY"
[ $rc -eq 0 ] && grep -q '^1 reports built' "$T/last.out"
ok $? "build: one report ($(head -1 "$T/last.out"))"
grep -q 'enforce.test: no TLS-RPT record' "$T/last.err"
ok $? "a domain without _smtp._tls record gets no report, logged"
R=$T/reports/$BASE.json.gz
[ -f "$R" ] && [ -f "$T/reports/$BASE.state" ]
ok $? "file name submitter!domain!begin!end.json.gz, begin $DAY0"
[ "$(ls "$T/reports" | grep -c json.gz)" -eq 1 ]
ok $? "no report for domains without traffic (enforce-secondgood.test)"
[ "$(json "$R" 'r["date-range"]["start-datetime"]')" = "${TODAY}T00:00:00Z" ] &&
[ "$(json "$R" 'r["date-range"]["end-datetime"]')" = "${TODAY}T23:59:59Z" ]
ok $? "date-range covers the UTC day"
[ "$(json "$R" 'r["organization-name"], r["contact-info"]')" = \
    "('mtasts lab', 'postmaster@sender.test')" ]
ok $? "organization-name and contact-info from mtasts.conf"
P0='r["policies"][0]'
[ "$(json "$R" "len(r['policies'])")" = 2 ] &&
[ "$(json "$R" "$P0['policy']['policy-type']")" = no-policy-found ] &&
[ "$(json "$R" "$P0['summary']['total-successful-session-count']")" = 4 ]
ok $? "no-policy-found sessions in a policy of their own: 4"
P1='r["policies"][1]'
[ "$(json "$R" "$P1['summary']")" = \
    "{'total-successful-session-count': 7, 'total-failure-session-count': 4}" ]
ok $? "sts summary: 7 successful, 4 failed, exactly as recorded"
[ "$(json "$R" "sorted((d['result-type'], d['failed-session-count'], d.get('failure-reason-code')) for d in $P1['failure-details'])")" = \
    "[('certificate-expired', 3, 'X509_V_ERR_CERT_HAS_EXPIRED'), ('starttls-not-supported', 1, None)]" ]
ok $? "failure details with counts and reason codes"
[ "$(json "$R" "$P1['failure-details'][0]['receiving-mx-hostname'], $P1['failure-details'][0]['sending-mta-ip'], $P1['failure-details'][0]['receiving-ip']")" = \
    "('good.mx.test', '127.0.30.1', '127.0.20.1')" ]
ok $? "receiving-mx-hostname, sending-mta-ip, receiving-ip"
[ "$(json "$R" "$P1['policy']['mx-host'], $P1['policy']['policy-string'][0], $P1['policy']['policy-domain']")" = \
    "(['good.mx.test'], 'version: STSv1', 'enforce-good.test')" ]
ok $? "policy-string and mx-host from the cached policy"
m report build -c "$CONF" --day "$TODAY"
grep -q '^0 reports built' "$T/last.out"
ok $? "building again changes nothing"

# 3. Send: https POST to reports.test, mail through sendmail.
m report send -v -c "$CONF"
[ $rc -eq 0 ] && grep -q '^2 delivered, 0 given up, 0 pending' "$T/last.out"
ok $? "send: $(head -1 "$T/last.out")"
lab_reports_log >"$T/posts"
python3 -c 'import json,sys
p = [json.loads(l) for l in open(sys.argv[1])][-1]
sys.exit(not (p["method"] == "POST" and p["path"] == "/tlsrpt" and
    p["content_type"] == "application/tlsrpt+gzip" and
    p["sni"] == "reports.test"))' "$T/posts"
ok $? "POSTed to https://reports.test/tlsrpt as application/tlsrpt+gzip"
body=$(python3 -c 'import json,sys
print([json.loads(l) for l in open(sys.argv[1])][-1]["file"])' "$T/posts")
cmp -s "$body" "$R"
ok $? "the POSTed body is the report file"
A=$T/mail/0.args E=$T/mail/0.eml
[ "$(tr '\n' ' ' <"$A")" = "-oi -f tlsrpt-noreply@mx.sender.test -- tlsrpt@reports.test " ]
ok $? "sendmail -oi -f tlsrpt-noreply@SUBMITTER -- RUA"
RID=$(json "$R" 'r["report-id"]')
grep -q "^Subject: Report Domain: enforce-good.test Submitter: mx.sender.test Report-ID: <$RID>" "$E"
ok $? "subject as RFC 8460 5.3 (Report-ID <$RID>)"
grep -q '^TLS-Report-Domain: enforce-good.test' "$E" &&
grep -q '^TLS-Report-Submitter: mx.sender.test' "$E"
ok $? "TLS-Report-Domain and TLS-Report-Submitter headers"
grep -q '^Content-Type: multipart/report; report-type="tlsrpt";' "$E" &&
grep -q '^Content-Type: application/tlsrpt+gzip' "$E" &&
grep -q "filename=\"$BASE.json.gz\"" "$E"
ok $? "multipart/report; report-type=tlsrpt with the gzip attached"
python3 - "$E" "$R" <<'PY'
import email, sys
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'))
parts = [p for p in msg.walk() if p.get_content_type() == 'application/tlsrpt+gzip']
sys.exit(0 if len(parts) == 1 and parts[0].get_payload(decode=True) == open(sys.argv[2], 'rb').read() else 1)
PY
ok $? "the attachment decodes to the report file"
lab_smtp_where tlsrpt@reports.test | grep -q good.mx.test
ok $? "the lab SMTP host received the report mail"
got=$(lab_smtp_messages good.mx.test | tail -1)
m report show "$got"
grep -q 'sessions: 11 (7 successful, 4 failed)' "$T/last.out" &&
grep -q 'certificate-expired  *3' "$T/last.out"
ok $? "report show on the received message: the same counts"
m report show --json "$body"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(r["policies"][1]["summary"]["total-failure-session-count"] != 4)' "$T/last.out"
ok $? "report show --json on the POSTed gzip"
m report send -c "$CONF"
grep -q '^0 delivered, 0 given up, 0 pending' "$T/last.out"
ok $? "sending again delivers nothing twice"

# 4. Retries: receiver down and sendmail failing; back-off; then --now.
rec testing-expired.test sts certificate-expired expired.mx.test \
    127.0.20.4 127.0.30.1 - 2
m report build -c "$CONF" --day "$TODAY"
S=$T/reports/mx.sender.test!testing-expired.test!$DAY0!$((DAY0 + 86399)).state
lab_smtp_stop
touch "$T/fail"
m report send -c "$CONF"
[ $rc -eq 1 ] && grep -q '^0 delivered, 0 given up, 2 pending' "$T/last.out" &&
[ "$(grep -c '^rua pending 1 ' "$S")" = 2 ]
ok $? "failed deliveries stay pending, one try each"
m report send -c "$CONF"
[ "$(grep -c '^rua pending 1 ' "$S")" = 2 ]
ok $? "no retry before the back-off"
lab_smtp_start
rm -f "$T/fail"
m report send --now -c "$CONF"
grep -q '^2 delivered' "$T/last.out" && [ "$(grep -c '^rua sent 1 ' "$S")" = 2 ]
ok $? "retried and delivered once the receivers are back"

# 5. Give up after 24 hours; a malformed rua is skipped.
rec testing-wrongname.test sts certificate-host-mismatch wrongname.mx.test \
    - - - 1
m report build -c "$CONF" --day "$TODAY"
S=$T/reports/mx.sender.test!testing-wrongname.test!$DAY0!$((DAY0 + 86399)).state
lab_smtp_stop
touch "$T/fail"
m report send -c "$CONF"
lab_smtp_start
rm -f "$T/fail"
sed -i "s/^built .*/built $(($(date +%s) - 90000))/" "$S"
echo "rua pending 0 0 ftp://reports.test/tlsrpt" >>"$S"
m report send -v -c "$CONF"
[ "$(grep -c '^rua expired ' "$S")" = 3 ] && grep -q 'given up' "$T/last.err"
ok $? "not delivered within 24 hours: given up, logged"

# 6. A malformed rua is logged and skipped.
rec testing-selfsigned.test sts certificate-not-trusted selfsigned.mx.test \
    - - - 1
m report build -c "$CONF" --day "$TODAY"
S=$T/reports/mx.sender.test!testing-selfsigned.test!$DAY0!$((DAY0 + 86399)).state
echo "rua pending 0 0 ftp://reports.test/tlsrpt" >>"$S"
echo "rua pending 0 0 mailto:a,b@reports.test" >>"$S"
m report send -v -c "$CONF"
grep -q '^rua bad 0 0 ftp:' "$S" && grep -q '^rua bad 0 0 mailto:a,b' "$S" &&
grep -q 'malformed rua ftp:' "$T/last.err" && grep -q '^rua sent ' "$S"
ok $? "a malformed rua is logged and skipped, the others served"

# 7. A TLS-RPT record that does not parse: no report.
lab_set_txt _smtp._tls.testing-nostarttls.test 'v=TLSRPTv1; rua=ftp://x'
rec testing-nostarttls.test sts starttls-not-supported nostarttls.mx.test \
    - - - 1
m report build -v -c "$CONF" --day "$TODAY"
grep -q 'testing-nostarttls.test: TLS-RPT record .* is not valid' "$T/last.err" &&
! ls "$T/reports" | grep -q testing-nostarttls
ok $? "an invalid _smtp._tls record: no report, logged"

tap_end
