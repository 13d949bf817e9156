#!/bin/bash
# opensmtpd_mtasts.sh - filter-mtasts in Debian's real OpenSMTPD 6.8,
# relaying into the lab's SMTP hosts. TAP output. Needs root (network and
# mount namespaces); run from the repo root after "make". smtpd is
# restarted for every case (it keeps MX and route state in memory).
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
# OPENSMTPD_E2E_KEEP=DIR keeps every case's smtpd.log there.
trap '[ -n "$D" ] && smtpd_stop "$D"; lab_down >/dev/null 2>&1
    [ -n "${OPENSMTPD_E2E_KEEP:-}" ] && mkdir -p "$OPENSMTPD_E2E_KEEP" &&
    cp -r "$T"/. "$OPENSMTPD_E2E_KEEP"/
    rm -rf "$T"' EXIT

tap_diag() {
	[ -n "$D" ] && tap_show "$D/smtpd.log" 8
	return 0
}

fresh() {	# CASE [FILTER-ARGS...]: a new smtpd (and store, table)
	[ -n "$D" ] && smtpd_stop "$D"
	D=$T/$1
	shift
	smtpd_case "$D" "$@" && smtpd_start "$D"
}

# DOMAIN: wait until smtpd has tried (and failed) to relay to DOMAIN
tried_and_failed() {
	wait_for "smtpd's failed relay to $1" 20 \
	    grep -q "No valid route for .*relay:$1," "$D/smtpd.log"
}

queued() {	# RCPT: is a message for RCPT still in smtpd's queue?
	smtpd_ctl "$D" show queue 2>/dev/null | grep -q "|$1|"
}

nowhere() {	# RCPT: no lab SMTP host got mail for RCPT
	[ -z "$(lab_smtp_where "$1")" ]
}

filter_said() {	# REGEX: the filter logged a line matching REGEX
	grep -q "filter-mtasts: .*$1" "$D/smtpd.log"
}

# smtpd logged the end of the client's session: a refused message is
# then known never to have been queued
session_over() {
	wait_for "smtpd's end of the session" 10 \
	    grep -q 'smtp disconnect' "$D/smtpd.log"
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

fresh enforce-good; ok $? "smtpd starts with filter-mtasts"
smtpd_send user@enforce-good.test >"$T/out"
lab_smtp_wait user@enforce-good.test 20 >/dev/null
lab_smtp_delivered good.mx.test user@enforce-good.test tls
ok $? "enforce-good: delivered to good.mx.test over TLS"
grep -q 'relay:enforce-good.test,smtp+tls' "$D/smtpd.log" ||
    grep -q 'mta connecting address=smtp+tls://' "$D/smtpd.log"
ok $? "enforce-good: the first message already took the TLS-required action"
# OpenSMTPD 6.8 logs server-cert-check result="success", 7.6 this:
grep -Eq 'server-cert-check result="success"|mta cert-check result="valid"' \
    "$D/smtpd.log"
ok $? "enforce-good: certificate verified by smtpd"

fresh enforce-spoof
smtpd_send user@enforce-spoof.test >"$T/out"
grep -q '<\*\* *451 4.7.5 MTA-STS: no MX host of enforce-spoof.test' "$T/out"
ok $? "enforce-spoof: RCPT refused with 451 4.7.5 and a reason"
session_over && nowhere user@enforce-spoof.test &&
    not queued user@enforce-spoof.test
ok $? "enforce-spoof: nothing delivered (attacker got nothing)"

for c in nostarttls expired selfsigned wrongname; do
	fresh "enforce-$c"
	smtpd_send "user@enforce-$c.test" >"$T/out"
	grep -q '250 2.0.0 .* Message accepted' "$T/out"
	ok $? "enforce-$c: accepted at RCPT (its MX matches the policy)"
	tried_and_failed "enforce-$c.test"
	ok $? "enforce-$c: smtpd tried with mandatory TLS and deferred"
	grep -q "relay:enforce-$c.test,smtp+tls" "$D/smtpd.log"
	ok $? "enforce-$c: first message routed through the TLS action"
	nowhere "user@enforce-$c.test"
	ok $? "enforce-$c: not delivered anywhere (never in clear)"
	queued "user@enforce-$c.test"
	ok $? "enforce-$c: still queued for a retry"
done

# A queued message keeps the action chosen at RCPT TO: with the domain
# gone from the table, a retry still requires TLS (never in clear). The
# retry must be seen to happen: smtpd logs one "mta delivery ...
# TempFail" per attempt and names the action's relay ("smtp+tls").
rcpt=user@enforce-wrongname.test
attempts() {	# attempts smtpd logged for $rcpt
	grep -c "mta delivery evpid=.* to=<$rcpt> .*result=\"TempFail\"" \
	    "$D/smtpd.log"
}
tls_routes() {	# attempts routed through the TLS action
	grep -c 'No valid route for .*relay:enforce-wrongname.test,smtp+tls,' \
	    "$D/smtpd.log"
}
pending() {	# the envelope is back in the queue, not in flight
	smtpd_ctl "$D" show queue 2>/dev/null | grep "|$rcpt|" |
	    grep -q '|pending|'
}
more_than() {	# N CMD: CMD prints a number greater than N
	[ "$($2)" -gt "$1" ]
}
wait_for "the envelope back in the queue" 30 pending
ok $? "retry: the first attempt is over, the envelope is pending in the queue"
tries=$(attempts) routes=$(tls_routes)
tbl=$D/mtasts/enforce.db
rm -f "$tbl" && "$FILTER" -I -t "$tbl" 2>"$T/retry.err" &&
    touch -d '+2 seconds' "$tbl" && chown opensmtpd "$tbl"
ok $? "retry: the routing table is emptied (enforce-wrongname.test removed)"
smtpd_ctl "$D" schedule all >"$T/schedule.out" 2>&1 &&
    grep -q '^1 envelope scheduled' "$T/schedule.out"
ok $? "retry: smtpctl schedule all: $(head -1 "$T/schedule.out")"
wait_for "a new attempt" 30 more_than "$tries" attempts
ok $? "retry: smtpd made a new attempt ($tries attempts before, $(attempts) now)"
[ "$(tls_routes)" -gt "$routes" ]
ok $? "retry: the new attempt went through the TLS action ($(tls_routes) TLS routes)"
nowhere "$rcpt" && queued "$rcpt"
ok $? "retry: not delivered anywhere, still queued"

fresh enforce-secondgood
smtpd_send user@enforce-secondgood.test >"$T/out"
lab_smtp_wait user@enforce-secondgood.test 30 >/dev/null
lab_smtp_delivered good.mx.test user@enforce-secondgood.test tls
ok $? "enforce-secondgood: delivered to the good second MX over TLS"
! lab_smtp_delivered nostarttls.mx.test user@enforce-secondgood.test
ok $? "enforce-secondgood: the first MX (no STARTTLS) got nothing"

# Two new enforce domains in one session: the table is written twice
# within the same second, and smtpd must see both writes (the filter
# gives each write a newer mtime, whole seconds being all smtpd compares).
fresh two-new
lab_smtp_clear
smtpd_send user@enforce-good.test --to \
    user@enforce-good.test,user@enforce-nostarttls.test >"$T/out"
tried_and_failed enforce-nostarttls.test
grep -q "relay:enforce-nostarttls.test,smtp+tls" "$D/smtpd.log" &&
    nowhere user@enforce-nostarttls.test
ok $? "two new enforce domains at once: the second is routed through TLS too"
lab_smtp_wait user@enforce-good.test 20 >/dev/null
lab_smtp_delivered good.mx.test user@enforce-good.test tls
ok $? "two new enforce domains at once: the first is delivered over TLS"
lab_smtp_clear

# ---------------------------------------------------------------- testing

for c in good:good.mx.test spoof:attacker.evil.test \
    nostarttls:nostarttls.mx.test expired:expired.mx.test \
    selfsigned:selfsigned.mx.test wrongname:wrongname.mx.test; do
	name=${c%%:*} host=${c#*:}
	fresh "testing-$name"
	smtpd_send "user@testing-$name.test" >"$T/out"
	lab_smtp_wait "user@testing-$name.test" 30 >/dev/null
	lab_smtp_delivered "$host" "user@testing-$name.test"
	ok $? "testing-$name: delivered to $host"
	filter_said "testing-$name.test: testing"
	ok $? "testing-$name: the filter logged the testing policy"
	if [ "$name" = spoof ]; then
		filter_said "testing-spoof.test: testing: 1 of 1 MX hosts match no pattern and would be refused"
		ok $? "testing-spoof: the would-be refusal is logged"
	fi
	! grep -q "relay:testing-$name.test,smtp+tls" "$D/smtpd.log"
	ok $? "testing-$name: not routed through the TLS action"
done

# ---------------------------------------------------------------- none

for dom in none-good nopolicy-good; do
	fresh "$dom"
	smtpd_send "user@$dom.test" >"$T/out"
	lab_smtp_wait "user@$dom.test" 20 >/dev/null
	lab_smtp_delivered good.mx.test "user@$dom.test"
	ok $? "$dom: delivered"
	! grep -q "relay:$dom.test,smtp+tls" "$D/smtpd.log"
	ok $? "$dom: not routed through the TLS action"
done

# ---------------------------------------------------------------- log-only

SMTPD_EXTRA_CONF="log_only yes" fresh log-only
smtpd_send user@enforce-spoof.test >"$T/out"
lab_smtp_wait user@enforce-spoof.test 20 >/dev/null
lab_smtp_delivered attacker.evil.test user@enforce-spoof.test
ok $? "log-only: enforce-spoof is delivered"
filter_said "enforce-spoof.test: log-only: would refuse"
ok $? "log-only: the would-be refusal is logged"

# ---------------------------------------------------------------- mixed MX

# An MX set where one host matches the policy and another (an attacker
# with a valid certificate for its own name, preferred) does not: smtpd's
# "relay tls" would use the attacker, so the filter refuses by default.
lab_set_rr dyn.test MX "10 attacker.evil.test." "20 good.mx.test."
fresh mixed
smtpd_send user@dyn.test >"$T/out"
grep -q '<\*\* *451 4.7.5 MTA-STS: 1 of 2 MX hosts of dyn.test match no pattern' "$T/out"
ok $? "mixed MX set: refused with 451 4.7.5 (smtpd cannot exclude a host)"
session_over && nowhere user@dyn.test && not queued user@dyn.test
ok $? "mixed MX set: nothing delivered (attacker got nothing)"
fresh mixed-allowed -M
smtpd_send user@dyn.test >"$T/out"
lab_smtp_wait user@dyn.test 20 >/dev/null
filter_said "dyn.test: enforce: 1 of 2 MX hosts match no pattern; accepted because of -M"
ok $? "mixed MX set with -M: accepted, the risk is logged"
lab_smtp_delivered attacker.evil.test user@dyn.test tls
ok $? "mixed MX set with -M: smtpd delivers to the non-matching MX (the documented 6.8 gap)"
lab_smtp_clear
lab_set_rr dyn.test MX "10 good.mx.test."

# ---------------------------------------------------------------- refresh

fetches() {	# DOMAIN: the policy fetches the engine logged for DOMAIN
	grep -c "engine: $1: .*fetched policy" "$D/smtpd.log"
}

SMTPD_REFRESH=1 fresh refresh
printf 'version: STSv1\nmode: testing\nmx: good.mx.test\nmax_age: 4\n' |
    lab_set_policy dyn2.test -
smtpd_send user@dyn.test >"$T/out"
smtpd_send user@dyn2.test >>"$T/out"
lab_smtp_wait user@dyn.test 20 >/dev/null
lab_smtp_delivered good.mx.test user@dyn.test tls &&
    filter_said "dyn.test: added to the routing table"
ok $? "refresh: enforce domain dyn.test routed and delivered over TLS"
# max_age 4: due after 2 s, the filter looks every second (-r 1)
wait_for "a second fetch of dyn2.test's policy" 10 more_than 1 "fetches dyn2.test"
ok $? "refresh: a policy past half its max_age is fetched again without mail"
printf 'version: STSv1\nmode: testing\nmx: good.mx.test\nmax_age: 86400\n' |
    lab_set_policy dyn.test - &&
    lab_set_txt _mta-sts.dyn.test "v=STSv1; id=20261125T2"
wait_for "dyn.test's removal" 10 \
    filter_said "dyn.test: removed from the routing table"
ok $? "refresh: a domain that left enforce mode leaves the routing table"
smtpd_alive "$D"
ok $? "refresh: smtpd keeps running"

# ---------------------------------------------------------------- hang

# One domain whose policy host accepts TCP and never answers; 50 other
# sessions must complete while its RCPT waits for the fetch timeout.
fresh hang
smtpd_stop "$D"
sed -i -e 's/^connect_timeout .*/connect_timeout 20s/' \
    -e 's/^fetch_timeout .*/fetch_timeout 25s/' "$D/mtasts.conf"
smtpd_start "$D"
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
smtpd_start "$D"
smtpd_send user@enforce-good.test >"$T/out"
lab_smtp_wait user@enforce-good.test 20 >/dev/null
lab_smtp_delivered good.mx.test user@enforce-good.test tls
ok $? "corrupt store: enforce-good still delivered over TLS"
smtpd_alive "$D"
ok $? "corrupt store: smtpd keeps running"

fresh no-store
smtpd_stop "$D"
sed -i "s|^store .*|store $D/missing/dir/store.db|" "$D/mtasts.conf"
smtpd_start "$D"
smtpd_send user@enforce-expired.test >"$T/out"
tried_and_failed enforce-expired.test && nowhere user@enforce-expired.test
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

smtpd_stop "$D"
D=
tap_end
