#!/bin/bash
# opensmtpd_mtasts.sh - filter-mtasts in Debian's real OpenSMTPD 6.8 with
# the shipped smtpd.conf lines and mtasts-relay (tests/e2e/opensmtpd/
# smtpd.sh), relaying into the lab's SMTP hosts. TAP output. Needs root (network and mount
# namespaces); run from the repo root after "make". smtpd is restarted
# for every case (it keeps MX and route state in memory).
#
# The filter refuses nothing: it resolves the policy at RCPT TO and keeps
# the routing table of policy domains (enforce and testing) that smtpd
# hands to the relay; the relay enforces when the mail leaves (its own
# cases are in relay_smtpd.sh).
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-smtpd}
. tests/lab/lib.sh
SMTPD_REPO=$PWD
. tests/e2e/opensmtpd/smtpd.sh
T=$(mktemp -d /tmp/opensmtpd-e2e.XXXXXX)
chmod 755 "$T"
. tests/lib/tap.sh
D=
# OPENSMTPD_E2E_KEEP=DIR keeps every case's logs there.
trap 'relay_stop; [ -n "$D" ] && smtpd_stop "$D"; lab_down >/dev/null 2>&1
    [ -n "${OPENSMTPD_E2E_KEEP:-}" ] && mkdir -p "$OPENSMTPD_E2E_KEEP" &&
    cp -r "$T"/. "$OPENSMTPD_E2E_KEEP"/
    rm -rf "$T"' EXIT

tap_diag() {
	[ -n "$D" ] && tap_show "$D/smtpd.log" 8
	[ -n "$D" ] && tap_show "$D/relay.log" 4
	return 0
}

fresh() {	# CASE: a new smtpd and relay (and store, table)
	relay_stop
	[ -n "$D" ] && smtpd_stop "$D"
	D=$T/$1
	smtpd_case "$D" && relay_start "$D" && smtpd_start "$D"
}

in_table() {	# DOMAIN: the routing table file holds DOMAIN
	grep -qa "$1" "$D/mtasts/enforce.db"
}

# ---------------------------------------------------------------- setup

smtpd_unpack; ok $? "OpenSMTPD unpacked under build/ (not installed)"
[ -x "$FILTER" ]; ok $? "filter-mtasts is built ($FILTER)"
if ! lab_up 2>"$T/lab.err"; then
	ok 1 "lab is up"
	cat "$T/lab.err" | sed 's/^/#   /'
	tap_end
	exit 1
fi
. "$LAB_DIR/env"

# ---------------------------------------------------------------- enforce

fresh enforce-good; ok $? "smtpd starts with filter-mtasts and mtasts-relay"
smtpd_send user@enforce-good.test >"$T/out"
lab_smtp_wait user@enforce-good.test 20 >/dev/null
lab_smtp_delivered good.mx.test user@enforce-good.test tls
ok $? "enforce-good: delivered to good.mx.test over TLS"
filter_said "enforce-good.test: added to the routing table" &&
    relay_said "enforce-good.test: mode enforce" &&
    relay_said "enforce-good.test: MX host good.mx.test .*certificate verified"
ok $? "enforce-good: the first message already went through the relay (verified TLS)"

# The filter no longer refuses at RCPT TO: the spoofed MX set is the
# relay's business at delivery; the message is kept, never lost.
fresh enforce-spoof
smtpd_send user@enforce-spoof.test >"$T/out"
grep -q '250 2.0.0 .* Message accepted' "$T/out" &&
    ! grep -q '<\*\* *451' "$T/out"
ok $? "enforce-spoof: accepted at RCPT TO (no 451 from the filter)"
wait_for "smtpd's deferral" 30 tempfailed user@enforce-spoof.test &&
    nowhere user@enforce-spoof.test && queued user@enforce-spoof.test
ok $? "enforce-spoof: deferred at delivery, queued, the attacker got nothing"

# Two new enforce domains in one session: the table is written twice
# within the same second, and smtpd must see both writes (the filter
# gives each write a newer mtime, whole seconds being all smtpd compares).
fresh two-new
lab_smtp_clear
smtpd_send user@enforce-good.test --to \
    user@enforce-good.test,user@enforce-nostarttls.test >"$T/out"
# the relay takes one domain per transaction: the other gets 452 and
# waits for smtpd's retry, which a queue run starts at once (that 452
# is a TempFail too: wait for the relay's own try of the second domain)
second_tried() {
	schedule
	relay_said "enforce-nostarttls.test: mode enforce" &&
	    tempfailed user@enforce-nostarttls.test
}
wait_for "the relay's try of the second" 30 second_tried &&
    nowhere user@enforce-nostarttls.test
ok $? "two new enforce domains at once: the second goes through the relay too"
first_delivered() {
	schedule
	lab_smtp_delivered good.mx.test user@enforce-good.test tls
}
wait_for "delivery of user@enforce-good.test" 30 first_delivered
ok $? "two new enforce domains at once: the first is delivered over TLS"
lab_smtp_clear

# ---------------------------------------------------------------- testing

# Testing domains go to the relay too: only it can say what enforce
# would have refused, with the exact TLS-RPT type.
fresh testing
for c in good:good.mx.test spoof:attacker.evil.test \
    nostarttls:nostarttls.mx.test expired:expired.mx.test; do
	name=${c%%:*} host=${c#*:}
	smtpd_send "user@testing-$name.test" >"$T/out"
	lab_smtp_wait "user@testing-$name.test" 30 >/dev/null
	lab_smtp_delivered "$host" "user@testing-$name.test"
	ok $? "testing-$name: delivered to $host"
	filter_said "testing-$name.test: testing (.*): routed to mtasts-relay" &&
	    relay_said "testing-$name.test: mode testing"
	ok $? "testing-$name: routed to the relay"
done
relay_said "testing-spoof.test: testing: MX host attacker.evil.test: validation-failure: .*enforce would have deferred"
ok $? "testing-spoof: the relay logged the would-be refusal"

# ---------------------------------------------------------------- none

fresh none
for dom in none-good nopolicy-good; do
	smtpd_send "user@$dom.test" >"$T/out"
	lab_smtp_wait "user@$dom.test" 20 >/dev/null
	lab_smtp_delivered good.mx.test "user@$dom.test"
	ok $? "$dom: delivered"
	! relay_said "$dom.test" && ! in_table "$dom.test"
	ok $? "$dom: not in the table, not through the relay"
done

# ---------------------------------------------------------------- log-only

SMTPD_EXTRA_CONF="log_only yes" fresh log-only
smtpd_send user@enforce-spoof.test >"$T/out"
lab_smtp_wait user@enforce-spoof.test 30 >/dev/null
lab_smtp_delivered attacker.evil.test user@enforce-spoof.test
ok $? "log-only: enforce-spoof is delivered"
filter_said "enforce-spoof.test: enforce, log_only (.*): routed to mtasts-relay" &&
    relay_said "enforce-spoof.test: would have refused MX host attacker.evil.test"
ok $? "log-only: routed to the relay, which logs the would-be refusal"

# ---------------------------------------------------------------- refresh

fetches() {	# DOMAIN: the policy fetches the engine logged for DOMAIN
	grep -c "engine: $1: .*fetched policy" "$D/smtpd.log"
}
more_than() {	# N CMD: CMD prints a number greater than N
	[ "$($2)" -gt "$1" ]
}

SMTPD_REFRESH=1 fresh refresh
printf 'version: STSv1\nmode: testing\nmx: good.mx.test\nmax_age: 4\n' |
    lab_set_policy dyn2.test -
smtpd_send user@dyn.test >"$T/out"
smtpd_send user@dyn2.test >>"$T/out"
lab_smtp_wait user@dyn.test 30 >/dev/null
lab_smtp_delivered good.mx.test user@dyn.test tls &&
    filter_said "dyn.test: added to the routing table"
ok $? "refresh: enforce domain dyn.test routed and delivered over TLS"
# max_age 4: due after 2 s, the filter looks every second (-r 1)
wait_for "a second fetch of dyn2.test's policy" 10 more_than 1 "fetches dyn2.test"
ok $? "refresh: a policy past half its max_age is fetched again without mail"
printf 'version: STSv1\nmode: testing\nmx: good.mx.test\nmax_age: 86400\n' |
    lab_set_policy dyn.test - &&
    lab_set_txt _mta-sts.dyn.test "v=STSv1; id=20261125T2"
wait_for "dyn.test's refetch" 10 more_than 1 "fetches dyn.test"
passes_over() {	# a refresh pass that ended after the refetch
	[ "$(grep -c 'refresh: pass done' "$D/smtpd.log")" -gt "$1" ]
}
passes=$(grep -c 'refresh: pass done' "$D/smtpd.log")
wait_for "two more refresh passes" 10 passes_over $((passes + 1))
! filter_said "dyn.test: removed from the routing table" && in_table dyn.test
ok $? "refresh: a domain that went from enforce to testing stays in the table"
printf 'version: STSv1\nmode: none\nmax_age: 86400\n' |
    lab_set_policy dyn.test - &&
    lab_set_txt _mta-sts.dyn.test "v=STSv1; id=20261125T3"
wait_for "dyn.test's removal" 10 \
    filter_said "dyn.test: removed from the routing table"
ok $? "refresh: a domain whose policy went to mode none leaves the table"
smtpd_alive "$D"
ok $? "refresh: smtpd keeps running"

# ---------------------------------------------------------------- hang

# One domain whose policy host accepts TCP and never answers; 50 other
# sessions must complete while its RCPT waits for the fetch timeout.
fresh hang
smtpd_stop "$D"
sed -i -e 's/^connect_timeout .*/connect_timeout 20s/' \
    -e 's/^fetch_timeout .*/fetch_timeout 25s/' "$D/mtasts.conf"
relay_stop; relay_start "$D" && smtpd_start "$D"
smtpd_send user@hang.test >"$T/hang.out" &
hangpid=$!
# its RCPT is waiting: the filter's policy fetch is connected to the
# host that never answers
hang_connected() {
	lab_exec ss -Htn state established dst "$LAB_HTTPS_HANG:443" |
	    grep -q .
}
wait_for "a connection to the hung policy host" 10 hang_connected
t0=$(date +%s)
for b in 1 2 3 4 5; do
	pids=
	for i in 1 2 3 4 5 6 7 8 9 10; do
		case $((i % 3)) in
		0) r=user$b$i@enforce-good.test ;;
		1) r=user$b$i@none-good.test ;;
		*) r=user$b$i@nopolicy-good.test ;;
		esac
		smtpd_send "$r" >"$T/many.$b.$i" &
		pids="$pids $!"
	done
	wait $pids
done
t1=$(date +%s)
[ "$(cat "$T"/many.* | grep -c 'Message accepted for delivery')" -eq 50 ]
ok $? "hang: 50 other sessions accepted ($((t1 - t0)) s)"
kill -0 "$hangpid" 2>/dev/null && ! grep -q 'Message accepted' "$T/hang.out"
ok $? "hang: the hung domain's session is still waiting meanwhile"
wait "$hangpid"
grep -q 'Message accepted for delivery' "$T/hang.out"
ok $? "hang: the hung domain is answered after the fetch timeout (no policy)"
smtpd_alive "$D"
ok $? "hang: smtpd keeps running"

# ---------------------------------------------------------------- robustness

fresh bad-store
smtpd_stop "$D"
printf 'this is not an SQLite database\n%.0s' $(seq 1 200) \
    >"$D/mtasts/store.db"
rm -f "$D/mtasts/store.db-wal" "$D/mtasts/store.db-shm"
chown opensmtpd "$D/mtasts/store.db"
relay_stop; relay_start "$D" && smtpd_start "$D"
smtpd_send user@enforce-good.test >"$T/out"
lab_smtp_wait user@enforce-good.test 20 >/dev/null
lab_smtp_delivered good.mx.test user@enforce-good.test tls
ok $? "corrupt store: enforce-good still delivered over TLS"
smtpd_alive "$D"
ok $? "corrupt store: smtpd keeps running"

fresh no-store
smtpd_stop "$D"
sed -i "s|^store .*|store $D/missing/dir/store.db|" "$D/mtasts.conf"
relay_stop; relay_start "$D" && smtpd_start "$D"
smtpd_send user@enforce-expired.test >"$T/out"
wait_for "smtpd's deferral" 30 tempfailed user@enforce-expired.test &&
    nowhere user@enforce-expired.test
ok $? "missing store: enforce still enforced (deferred, not delivered)"
smtpd_alive "$D"
ok $? "missing store: smtpd keeps running"

# garbage on the filter's stdin (a pipe, as smtpd gives it)
{
	printf 'garbage\n|||\nfilter|0.7|x|smtp-in|rcpt-to|1|2|a@b\n'
	printf 'report|0.7|1.1|smtp-out|link-tls|zz\n'
	head -c 70000 /dev/zero | tr '\0' 'x'; printf '\n'
	printf 'filter|0.7|1.1|smtp-in|rcpt-to|00000000000000aa|0b|<u@1.2.3.4>\n'
	# stdin stays open until the filter has answered the last line
	wait_for "the filter's answer" 10 grep -q \
	    'filter-result|00000000000000aa|000000000000000b|proceed' \
	    "$T/garbage.out" >&2
} | lab_exec "$FILTER" -r 0 -c "$LAB_CONF" -t "$T/garbage.db" \
    >"$T/garbage.out" 2>"$T/garbage.err"
rc=$?
[ $rc -eq 0 ] && grep -q 'filter-result|00000000000000aa|000000000000000b|proceed' \
    "$T/garbage.out"
ok $? "garbage on stdin: logged and ignored, later lines answered, clean exit"
[ "$(grep -c 'ignored input line' "$T/garbage.err")" -ge 4 ]
ok $? "garbage on stdin: each bad line logged"

relay_stop
smtpd_stop "$D"
D=
tap_end
