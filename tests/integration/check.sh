#!/bin/bash
# check.sh - "mtasts check DOMAIN" against the lab's real DNS (nsd), HTTPS
# (nginx) and SMTP hosts: one lab domain per misconfiguration, each
# asserting the exact finding (step, status, key phrase) and the exit
# status, and one clean domain. TAP output. Needs root (network
# namespace); run from the repo root after "make".
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-check}
. tests/lab/lib.sh
MTASTS=${MTASTS:-$PWD/build/mtasts}
T=$(mktemp -d)
. tests/lib/tap.sh
trap 'lab_down >/dev/null 2>&1; rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/last.err" 5
	[ -s "$T/last.out" ] && head -60 "$T/last.out" | sed 's/^/#   /'
	return 0
}
chk() {	# DOMAIN [ARGS...]: check --json into $T/last.out, status in $rc
	lab_exec "$MTASTS" check -c "$LAB_CONF" --json --timeout 3 "$@" \
	    >"$T/last.out" 2>"$T/last.err"
	rc=$?
}
has() {	# STEP STATUS PHRASE [RESULT-TYPE]: a finding of the last check
	python3 - "$T/last.out" "$@" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
step, status, phrase = sys.argv[2:5]
rt = sys.argv[5] if len(sys.argv) > 5 else None
for f in doc["findings"]:
    if f["step"] == step and f["status"] == status and \
       phrase in f["message"] and (rt is None or f.get("result_type") == rt):
        sys.exit(0)
sys.exit(1)
EOF
}
count() {	# STATUS: how many findings of the last check have it
	python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["summary"][sys.argv[2]])' \
	    "$T/last.out" "$1"
}
case1() {	# DOMAIN EXIT STEP STATUS PHRASE [RESULT]: check and assert
	local d=$1 want=$2
	shift 2
	chk "$d"
	has "$@"
	ok $? "$d: $2 $1: $3${4:+ ($4)}"
	[ "$rc" -eq "$want" ]
	ok $? "$d: exit status $want (got $rc)"
}

if [ ! -x "$MTASTS" ]; then
	ok 1 "$MTASTS is missing: run make first"
	exit 1
fi
if ! lab_up >"$T/lab.log" 2>&1; then
	tap_show "$T/lab.log"
	ok 1 "the lab starts"
	exit 1
fi
. "$LAB_DIR/env"

# The clean domain: a policy with a week's max_age and a TLS-RPT record.
printf 'version: STSv1\nmode: enforce\nmx: good.mx.test\nmax_age: 604800\n' |
    lab_set_policy enforce-good.test -
lab_set_txt _smtp._tls.enforce-good.test \
    "v=TLSRPTv1; rua=mailto:tlsrpt@reports.test,https://reports.test/tlsrpt"
chk enforce-good.test
[ "$rc" -eq 0 ] && [ "$(count fail)" -eq 0 ] && [ "$(count warn)" -eq 0 ]
ok $? "enforce-good.test: clean, exit 0, no fail, no warn"
for f in "txt pass one STS record, id 20261125T1" \
    "policy-host pass HTTPS certificate valid for mta-sts.enforce-good.test" \
    "policy-fetch pass HTTP 200, text/plain" \
    "policy pass valid policy: mode enforce, max_age 604800" \
    "mx pass matches the policy pattern \"good.mx.test\"" \
    "mx-tls pass STARTTLS, TLSv1." \
    "tlsrpt pass valid TLS-RPT record with 2 rua" \
    "tlsrpt pass reports.test receives mail" \
    "tlsrpt pass reports.test resolves"; do
	set -- $f
	s=$1 st=$2
	shift 2
	has "$s" "$st" "$*"
	ok $? "enforce-good.test: $s $st: $*"
done
python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert d["domain"] == "enforce-good.test"
for f in d["findings"]:
    assert set(f) <= {"step","status","subject","message","evidence","fix","result_type"}
    assert f["status"] == "pass" or "fix" in f' "$T/last.out"
ok $? "enforce-good.test: --json is one object; every non-pass has a fix"
! has advice info "Google" && ! has advice pass "Google"
ok $? "enforce-good.test: no hosted-provider advice without such MX"
lab_exec "$MTASTS" check -c "$LAB_CONF" enforce-good.test >"$T/last.out" \
    2>"$T/last.err"
rc=$?
[ "$rc" -eq 0 ] && grep -q '^pass mx-tls .*good.mx.test 127.0.20.1:25' \
    "$T/last.out" && grep -q 'subject: CN=good.mx.test' "$T/last.out" &&
    grep -q '^enforce-good.test: .* 0 fail$' "$T/last.out"
ok $? "enforce-good.test: text output with evidence, exit 0"

# 1. _mta-sts TXT
case1 nopolicy.test 1 txt fail "no TXT record at _mta-sts.nopolicy.test"
has policy-host fail "mta-sts.nopolicy.test has no address"
ok $? "nopolicy.test: policy-host fail: has no address"
case1 twosts.test 1 txt fail "more than one STS record"
case1 badtxt.test 1 txt fail 'id "bad!" may hold only letters and digits'

# 2. the policy host and the policy file
case1 certexpired.test 1 policy-host fail "has expired" sts-webpki-invalid
case1 certname.test 1 policy-host fail \
    "does not name mta-sts.certname.test (names: wrong-name.elsewhere.test)" \
    sts-webpki-invalid
case1 certself.test 1 policy-host fail "self-signed" sts-webpki-invalid
case1 redirect.test 1 policy-fetch fail "redirect (301) to https://www.redirect.test/" \
    sts-policy-fetch-error
case1 html.test 1 policy-fetch fail "media type text/html is not text/plain"
case1 http404.test 1 policy-fetch fail "HTTP status 404"
case1 big.test 1 policy-fetch fail "larger than 65536 bytes" sts-policy-invalid
case1 nxhost.test 1 policy-host fail "mta-sts.nxhost.test has no address"
case1 badpolicy.test 1 policy fail \
    'line 3: expected ":" right after the field name "mx"' sts-policy-invalid

# every bad line of a policy, by its own line number
printf 'version STSv1\nmode: enforcing\nmx good.mx.test\nmax_age: 86400\nmx: *.mx.test\nfoo: bar\nmax_age: 5\n' |
    lab_set_policy dyn.test -
chk dyn.test
has policy fail 'line 1: expected ":" right after the field name "version"' &&
    has policy fail 'line 2: mode "enforcing"' &&
    has policy fail 'line 3: expected ":"' &&
    has policy warn 'line 6: unknown field "foo"' &&
    has policy warn 'line 7: duplicate max_age' &&
    [ "$(count fail)" -eq 3 ] && [ "$rc" -eq 1 ]
ok $? "dyn.test: a policy with three bad lines: each named by line, exit 1"

# 3. MX records against the patterns
case1 enforce-spoof.test 1 mx fail \
    "MX attacker.evil.test matches no mx pattern of the policy: senders refuse"
case1 testing-spoof.test 0 mx warn \
    "MX attacker.evil.test matches no mx pattern of the policy: senders would refuse it under enforce"

# 4. STARTTLS on each MX address
case1 enforce-nostarttls.test 1 mx-tls fail \
    "nostarttls.mx.test does not offer STARTTLS" starttls-not-supported
case1 enforce-expired.test 1 mx-tls fail \
    "certificate of expired.mx.test: has expired" certificate-expired
case1 enforce-selfsigned.test 1 mx-tls fail \
    "certificate of selfsigned.mx.test: self-signed, not trusted" \
    certificate-not-trusted
case1 enforce-wrongname.test 1 mx-tls fail \
    "does not name wrongname.mx.test (names: wrong-name.elsewhere.test)" \
    certificate-host-mismatch
case1 testing-expired.test 0 mx-tls warn \
    "has expired (notAfter 2020-02-01 00:00:00 UTC); senders would not deliver under enforce" \
    certificate-expired

# an MX certificate that expires in 5 days: pass, and a warning
cat >"$T/smtp14.py" <<'EOF'
import socket, ssl, sys
addr, cert, key, ready = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, 25))
s.listen(8)
open(ready, "w").close()
while True:
    c, _ = s.accept()
    try:
        f = c.makefile("rb", buffering=0)
        c.sendall(b"220 soon.mx.test ESMTP\r\n")
        f.readline()
        c.sendall(b"250-soon.mx.test\r\n250 STARTTLS\r\n")
        f.readline()
        c.sendall(b"220 go ahead\r\n")
        t = ctx.wrap_socket(c, server_side=True)
        t.recv(64)
        t.close()
    except Exception:
        c.close()
EOF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/soon.key" -subj /CN=soon.mx.test -out "$T/soon.csr" \
    2>/dev/null &&
    printf 'subjectAltName=DNS:soon.mx.test\n' >"$T/soon.ext" &&
    openssl x509 -req -in "$T/soon.csr" -CA "$LAB_CA" -CAkey "$LAB_CA_KEY" \
    -set_serial "0x$(date +%s)" -days 5 -extfile "$T/soon.ext" \
    -out "$T/soon.pem" 2>/dev/null &&
    lab_add_addr 127.0.20.8 && lab_set_rr soon.mx.test A 127.0.20.8 &&
    lab_set_rr dyn.test MX "10 soon.mx.test."
ok $? "a 5-day certificate from the lab CA for soon.mx.test"
printf 'version: STSv1\nmode: enforce\nmx: soon.mx.test\nmax_age: 604800\n' |
    lab_set_policy dyn.test -
lab_exec /usr/bin/python3 "$T/smtp14.py" 127.0.20.8 "$T/soon.pem" \
    "$T/soon.key" "$T/smtp14.ready" 2>"$T/smtp14.log" &
smtp14=$!
wait_for "the test SMTP server's ready file" 5 test -e "$T/smtp14.ready"
chk dyn.test
# made seconds ago for 5 days: 5 days when probed within the same second
has mx-tls pass "STARTTLS, TLSv1.3, certificate valid for soon.mx.test" &&
    { has mx-tls warn "certificate of soon.mx.test expires in 4 days" ||
      has mx-tls warn "certificate of soon.mx.test expires in 5 days"; } &&
    [ "$rc" -eq 0 ]
ok $? "dyn.test: an MX certificate expiring within 14 days: warn, exit 0"
kill "$smtp14" 2>/dev/null
wait "$smtp14" 2>/dev/null

# bounded waits, IPv6, the port option
lab_set_rr dyn2.test MX "10 hang.mx.test." "20 v6.mx.test."
lab_set_rr v6.mx.test AAAA ::1
t0=$(date +%s%3N)
lab_exec "$MTASTS" check -c "$LAB_CONF" --json --timeout 1 dyn2.test \
    >"$T/last.out" 2>"$T/last.err"
rc=$?
t1=$(date +%s%3N)
has mx-tls warn "no SMTP greeting reply within 1000 ms"
ok $? "dyn2.test: an MX that never greets: warn (testing) after --timeout 1"
[ $((t1 - t0)) -lt 4000 ]
ok $? "dyn2.test: the whole check took $((t1 - t0)) ms (< 4000)"
python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
assert any(f["subject"] == "v6.mx.test [::1]:25" and
    "Connection refused" in f["message"] for f in d["findings"])' \
    "$T/last.out"
ok $? "dyn2.test: the IPv6 address of an MX is probed ([::1]:25)"
chk enforce-good.test --mx-port 2525
has mx-tls fail "cannot connect to 127.0.20.1 port 2525" && [ "$rc" -eq 1 ]
ok $? "--mx-port 2525: the probe uses that port"

# 5. TLS-RPT
lab_set_txt _smtp._tls.enforce-good.test
case1 enforce-good.test 0 tlsrpt warn \
    "no TLS-RPT record at _smtp._tls.enforce-good.test"
lab_set_txt _smtp._tls.enforce-good.test "v=TLSRPTv1; rua=ftp://reports.test/x"
case1 enforce-good.test 1 tlsrpt fail "TLS-RPT record invalid"
lab_set_txt _smtp._tls.enforce-good.test \
    "v=TLSRPTv1; rua=mailto:r@nowhere.test,https://nohost.test/r,mailto:t@reports.test"
case1 enforce-good.test 1 tlsrpt fail \
    "rua mailto:r@nowhere.test: nowhere.test has no MX and no address"
has tlsrpt fail "rua https://nohost.test/r: nohost.test does not resolve"
ok $? "enforce-good.test: tlsrpt fail: an https rua whose host does not resolve"
has tlsrpt pass "rua mailto:t@reports.test: reports.test receives mail"
ok $? "enforce-good.test: tlsrpt pass: the good rua beside the bad ones"
[ "$(lab_reports_log | wc -l)" -eq 0 ]
ok $? "nothing was posted to any rua"

# 6. advice
chk testing.test
has advice info "mode testing: senders report failures but still deliver"
ok $? "testing.test: advice: testing before enforce"
chk enforce.test
has advice warn "max_age 86400 is short for enforce" && [ "$rc" -eq 0 ]
ok $? "enforce.test: advice warn: max_age of a day under enforce; exit 0"
printf 'version: STSv1\nmode: testing\nmx: good.mx.test\nmax_age: 604800\n' |
    lab_set_policy dyn2.test -
lab_set_rr dyn2.test MX "10 aspmx.l.google.com." "20 alt1.aspmx.l.google.com."
chk dyn2.test
has advice info "max_age 604800 while testing"
ok $? "dyn2.test: advice: a day while testing"
has advice info "Google Workspace's: list the patterns it publishes (mx: aspmx.l.google.com, mx: *.aspmx.l.google.com)"
ok $? "dyn2.test: advice: Google Workspace's patterns, when the MX show it"
! has advice info "Microsoft"
ok $? "dyn2.test: no Microsoft 365 advice for Google MX"
lab_set_rr dyn2.test MX "10 dyn2-test.mail.protection.outlook.com."
chk dyn2.test
has advice info "Microsoft 365's: list the patterns it publishes (mx: *.mail.protection.outlook.com)"
ok $? "dyn2.test: advice: Microsoft 365's pattern, when the MX show it"

# 7. usage
lab_exec "$MTASTS" check -c "$LAB_CONF" >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "no domain: exit 2"
lab_exec "$MTASTS" check -c "$LAB_CONF" --timeout 0 enforce.test \
    >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "--timeout 0: exit 2"
lab_exec "$MTASTS" check -c "$LAB_CONF" --mx-port 70000 enforce.test \
    >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "--mx-port 70000: exit 2"
lab_exec "$MTASTS" check -c "$LAB_CONF" 'bad..name' >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "a domain that is not a name: exit 2"

tap_end
