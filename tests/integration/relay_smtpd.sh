#!/bin/bash
# relay_smtpd.sh - mtasts-relay behind Debian's real OpenSMTPD 6.8 in the
# lab, with the SHIPPED smtpd.conf lines (tests/e2e/opensmtpd/smtpd.sh): filter-mtasts
# keeps the routing table of policy domains, smtpd relays them to the
# relay on 127.0.0.1:10026, the relay delivers them under MTA-STS when
# they leave. TAP output.
# Needs root; run from the repo root after "make".
#   RELAY=build/asan/mtasts-relay runs the relay built with sanitizers
#   (a leak or error report in its log fails the last check).
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-relay}
. tests/lab/lib.sh
SMTPD_REPO=$PWD
. tests/e2e/opensmtpd/smtpd.sh
. tests/lib/tap.sh
MTASTS=$PWD/build/mtasts
T=$(mktemp -d /tmp/relay-e2e.XXXXXX)
chmod 755 "$T"
D=$T/smtpd
RPID= PEERS=
trap 'relay_stop; smtpd_stop "$D"; for p in $PEERS; do kill $p 2>/dev/null; done
    lab_down >/dev/null 2>&1
    [ -n "${RELAY_E2E_KEEP:-}" ] && mkdir -p "$RELAY_E2E_KEEP" &&
    cp -r "$T"/. "$RELAY_E2E_KEEP"/
    rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$D/relay.log" 6
	tap_show "$D/smtpd.log" 4
	return 0
}


delivered_tls() {	# HOST RCPT
	lab_smtp_delivered "$1" "$2" tls
}
local_sendmail() {	# RCPT: submit through smtpd's sendmail (local socket)
	printf 'Subject: local to %s\n\nfrom cron\n' "$1" |
	    nsenter -t "$(cat "$D/smtpd.pid")" -m -n -r \
	    "$SMTPD_ROOT/usr/sbin/sendmail" -f cron@sender.test "$1"
}

# ---------------------------------------------------------------- setup

smtpd_unpack; ok $? "OpenSMTPD unpacked under build/ (not installed)"
[ -x "$RELAY" ]; ok $? "mtasts-relay is built ($RELAY)"
if ! lab_up 2>"$T/lab.err"; then
	ok 1 "lab is up"
	tap_show "$T/lab.err"
	tap_end
	exit 1
fi
. "$LAB_DIR/env"
smtpd_case "$D" && relay_start "$D" && smtpd_start "$D"
ok $? "smtpd (shipped smtpd.conf lines, filter-mtasts) and mtasts-relay start"

# ---------------------------------------------------------------- enforce

smtpd_send user@enforce-good.test >"$T/out"
wait_for "delivered_tls" 30 delivered_tls good.mx.test user@enforce-good.test
ok $? "enforce-good: delivered to good.mx.test over TLS through the relay"
relay_said "enforce-good.test: MX host good.mx.test .*certificate verified" &&
    lab_smtp_log good.mx.test | grep 'user@enforce-good.test' |
    grep -q '"sni": *"good.mx.test"'
ok $? "enforce-good: certificate verified by the relay, SNI good.mx.test"
filter_said "enforce-good.test: added to the routing table" &&
    filter_said "enforce-good.test: enforce (.*): routed to mtasts-relay" &&
    relay_said "enforce-good.test: mode enforce"
ok $? "enforce-good: the filter put the new domain in the table; its first message went through the relay"

smtpd_send user@nopolicy-good.test >"$T/out"
wait_for "lab_smtp_delivered" 30 lab_smtp_delivered good.mx.test user@nopolicy-good.test &&
    ! relay_said "nopolicy-good.test" &&
    ! grep -q "nopolicy-good.test" "$D/mtasts/enforce.db"
ok $? "nopolicy-good: delivered by smtpd itself, not through the relay, not in the table"

# local submission, spoofed MX: queued, deferred, never at the attacker
local_sendmail user@enforce-spoof.test
ok $? "enforce-spoof: smtpd's sendmail accepts the message (exit 0)"
wait_for "tempfailed" 30 tempfailed user@enforce-spoof.test
ok $? "enforce-spoof: smtpd deferred it (TempFail from the relay)"
grep -q "enforce-spoof.test.*451 4.7.5 MTA-STS: no MX host of enforce-spoof.test could be used: attacker.evil.test: not contacted" \
    "$D/smtpd.log" || relay_said "enforce-spoof.test: refused MX host attacker.evil.test"
ok $? "enforce-spoof: 4.7.5 names the host and why"
nowhere user@enforce-spoof.test && queued user@enforce-spoof.test &&
    [ "$(lab_smtp_conns attacker.evil.test | wc -l)" -eq 0 ]
ok $? "enforce-spoof: still queued; the attacker was never contacted"
lab_set_rr enforce-spoof.test MX "10 good.mx.test." && schedule
wait_for "delivered_tls" 30 delivered_tls good.mx.test user@enforce-spoof.test
ok $? "enforce-spoof: MX fixed, a queue run delivers it over verified TLS"

# MX answer changes after smtpd accepted: attacker with a valid certificate
lab_set_rr dyn.test MX "10 attacker.evil.test."
smtpd_send user@dyn.test >"$T/out"
grep -q '250 2.0.0 .* Message accepted' "$T/out" &&
    wait_for "tempfailed" 30 tempfailed user@dyn.test && nowhere user@dyn.test
ok $? "MX changed to the attacker: accepted by smtpd, refused at delivery"

# mixed MX set: attacker preferred, good host second
lab_set_rr dyn.test MX "10 attacker.evil.test." "20 good.mx.test."
schedule
wait_for "delivered_tls" 30 delivered_tls good.mx.test user@dyn.test
ok $? "mixed MX set: delivered to the matching host only"
! lab_smtp_delivered attacker.evil.test user@dyn.test
ok $? "mixed MX set: the attacker got nothing"

for c in nostarttls:starttls-not-supported expired:certificate-expired \
    selfsigned:certificate-not-trusted wrongname:certificate-host-mismatch; do
	name=${c%%:*} type=${c#*:}
	smtpd_send "user@enforce-$name.test" >"$T/out"
	wait_for "tempfailed" 30 tempfailed "user@enforce-$name.test" &&
	    nowhere "user@enforce-$name.test" &&
	    queued "user@enforce-$name.test"
	ok $? "enforce-$name: deferred, queued, delivered nowhere"
	relay_said "enforce-$name.test: MX host $name.mx.test .*: $type"
	ok $? "enforce-$name: the relay names $type"
	smtpd_send "user@testing-$name.test" >"$T/out"
	wait_for "lab_smtp_delivered" 30 lab_smtp_delivered "$name.mx.test" \
	    "user@testing-$name.test"
	ok $? "testing-$name: delivered to $name.mx.test"
done

smtpd_send user@enforce-secondgood.test >"$T/out"
wait_for "delivered_tls" 30 delivered_tls good.mx.test user@enforce-secondgood.test &&
    ! lab_smtp_delivered nostarttls.mx.test user@enforce-secondgood.test
ok $? "enforce-secondgood: first MX (no STARTTLS) skipped, second over TLS"

# ---------------------------------------------------------------- session

lab_smtp_clear
smtpd_send user@enforce-good.test --to user@enforce-good.test,user@testing-good.test >"$T/out"
wait_for "grep" 30 grep -q "452 4.5.3 one recipient domain per transaction" \
    "$D/smtpd.log"
ok $? "two domains in one message: one got 452 4.5.3 (smtpd retries it)"
schedule
wait_for "delivered_tls" 30 delivered_tls good.mx.test user@enforce-good.test &&
    wait_for "lab_smtp_delivered" 30 lab_smtp_delivered good.mx.test user@testing-good.test &&
    [ "$(lab_smtp_log good.mx.test | grep -c '"rcpt_tos": *\["user@[a-z]*-good.test"\]')" -eq 2 ]
ok $? "two domains: both delivered, each in a transaction of its own"

lab_exec swaks --server 127.0.0.1:10026 --local-interface 127.0.30.1 \
    --to user@enforce-good.test --quit-after CONNECT >"$T/out" 2>&1
grep -q '554 5.7.1' "$T/out" && relay_said "refused client 127.0.30.1"
ok $? "a client outside -a is refused (554 5.7.1)"

# 8BITMIME and dot-stuffing through smtpd (6.8 does not take SMTPUTF8
# itself), then SMTPUTF8 straight to the relay
smtp_py() {	# SERVER PORT FROM RCPT OPTIONS: one message by smtplib
	lab_exec /usr/bin/python3 - "$@" <<'PY'
import smtplib, sys
srv, port, frm, rcpt, opts = sys.argv[1:6]
body = ('Subject: caf\u00e9\r\n\r\nna\u00efve 8bit line\r\n'
        '.leading dot\r\n..two dots\r\n.\r\nend\r\n').encode('utf-8')
s = smtplib.SMTP(srv, int(port))
s.ehlo('client.test')
s.sendmail(frm, [rcpt], body, mail_options=opts.split())
s.quit()
PY
}
smtp_py "$SMTPD_ADDR" 25 sender@client.test user8@enforce-good.test \
    BODY=8BITMIME >"$T/py.out" 2>&1
ok $? "8BITMIME message accepted by smtpd"
wait_for "delivered_tls" 30 delivered_tls good.mx.test user8@enforce-good.test
ok $? "8BITMIME message delivered over TLS"
f=$(lab_smtp_where user8@enforce-good.test | awk '{print $3}' | head -1)
[ -n "$f" ] && grep -q '^\.leading dot' "$f" && grep -q '^\.\.two dots' "$f" &&
    grep -q '^\.\s*$' "$f" && grep -q 'na.*ve 8bit line' "$f"
ok $? "dot-stuffed lines and 8-bit text arrive unchanged"
! smtp_py 127.0.0.1 10026 "sénder@client.test" "üser@enforce-good.test" \
    "SMTPUTF8 BODY=8BITMIME" >"$T/py.out" 2>&1 &&
    grep -q "553, b'5.6.7 the MX host does not support SMTPUTF8'" "$T/py.out"
ok $? "SMTPUTF8 to an MX without it: refused with 553 5.6.7, not downgraded"

# ---------------------------------------------------------------- faults

lab_add_addr 127.0.20.50 127.0.20.51
lab_exec tests/integration/relay_peer.py big 127.0.20.50 25 "$T/peer.log" >/dev/null 2>&1 &
PEERS="$PEERS $!"
lab_exec tests/integration/relay_peer.py drop 127.0.20.51 25 "$T/peer.log" >/dev/null 2>&1 &
PEERS="$PEERS $!"
lab_set_rr big.peer.test A 127.0.20.50 && lab_set_rr drop.peer.test A 127.0.20.51

# dyn2.test is testing mode: a plain peer is fine there
lab_set_rr dyn2.test MX "10 drop.peer.test."
smtpd_send user@dyn2.test >"$T/out"
wait_for "tempfailed" 30 tempfailed user@dyn2.test && queued user@dyn2.test &&
    grep -q '^drop ' "$T/peer.log"
ok $? "MX drops the connection after DATA: smtpd keeps the message"

lab_set_rr dyn2.test MX "10 big.peer.test."
smtp_py 127.0.0.1 10026 "sénder@client.test" "üser@dyn2.test" \
    "SMTPUTF8 BODY=8BITMIME" >"$T/py.out" 2>&1 &&
    [ "$(grep -c '^big ' "$T/peer.log")" -ge 1 ]
ok $? "SMTPUTF8 to an MX with it: the relay passes the MX's 250 on"
head -c 37500000 /dev/urandom | base64 -w 76 >"$T/big.txt"
hwm0=$(awk '/VmHWM/ {print $2}' /proc/$RPID/status)
smtpd_send user2@dyn2.test --body @"$T/big.txt" --timeout 600 >"$T/big.out"
wait_for "grep" 120 grep -q '^big [0-9]\{8,\} ' "$T/peer.log"
ok $? "a 50 MB message is delivered through the relay"
hwm=$(awk '/VmHWM/ {print $2}' /proc/$RPID/status)
echo "# relay VmHWM ${hwm0} kB before, ${hwm} kB after the 50 MB message"
[ "$hwm" -lt $((hwm0 + 16384)) ]
ok $? "relay resident size stays bounded (VmHWM grew by $((hwm - hwm0)) kB)"

# ---------------------------------------------------------------- relay down

relay_stop
smtpd_send user@enforce-good.test --header "Subject: while down" >"$T/out"
grep -q '250 2.0.0 .* Message accepted' "$T/out"
ok $? "relay stopped: smtpd still accepts the message"
wait_for "grep" 30 grep -q "mta delivery .*to=<user@enforce-good.test>.*TempFail" \
    "$D/smtpd.log" || wait_for "grep" 30 grep -q "Connection refused" "$D/smtpd.log"
sleep 1
queued user@enforce-good.test
ok $? "relay stopped: smtpd defers and keeps the message"
lab_smtp_clear good.mx.test
relay_start "$D" && schedule
ok $? "relay restarted"
wait_for "delivered_tls" 60 delivered_tls good.mx.test user@enforce-good.test ||
    { smtpd_stop "$D"; smtpd_start "$D"; schedule
      wait_for "delivered_tls" 60 delivered_tls good.mx.test user@enforce-good.test; }
ok $? "relay back: the deferred message is delivered"

# ---------------------------------------------------------------- TLS-RPT

TODAY=$(date -u +%F)
DAY0=$(date -u -d "$TODAY" +%s)
lab_exec "$MTASTS" report build -c "$D/mtasts.conf" --day "$TODAY" \
    >"$T/build.out" 2>&1
rtype() {	# DOMAIN TYPE: its report names TYPE
	zcat "$D/reports/$SMTPD_SUBMITTER!$1!$DAY0!$((DAY0 + 86399)).json.gz" \
	    2>/dev/null | grep -q "\"result-type\": \"$2\""
}
for c in nostarttls:starttls-not-supported expired:certificate-expired \
    selfsigned:certificate-not-trusted wrongname:certificate-host-mismatch \
    spoof:validation-failure; do
	name=${c%%:*} type=${c#*:}
	rtype "enforce-$name.test" "$type"
	ok $? "TLS-RPT enforce-$name: $type"
	[ "$name" = spoof ] && continue
	rtype "testing-$name.test" "$type"
	ok $? "TLS-RPT testing-$name (delivered): $type"
done

relay_stop
! grep -q "Sanitizer" "$D/relay.log"
ok $? "the relay exits cleanly (no sanitizer report)"
tap_end
