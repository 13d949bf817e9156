#!/bin/bash
# resolve.sh - the RFC 8461 section 5 engine against the lab's real DNS
# (nsd) and HTTPS (nginx) servers, through "mtasts query" and friends.
# TAP output. Needs root (network namespace); run from the repo root
# after "make".
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-resolve}
. tests/lab/lib.sh
MTASTS=${MTASTS:-$PWD/build/mtasts}
T=$(mktemp -d)
. tests/lib/tap.sh
. tests/lib/query.sh
trap 'lab_down >/dev/null 2>&1; rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/last.err" 5
	tap_show "$T/last.json"
}
fetches() {	# DOMAIN: policy requests nginx saw for mta-sts.DOMAIN
	grep -c "host=\"mta-sts.$1\"" "$LAB_DIR/logs/nginx-access.log"
}
conf() {	# EXTRA-LINES: a config for the lab, with its own store
	CONF=$T/mtasts.conf
	{ grep -v '^store ' "$LAB_CONF"; echo "store $T/store.db"; \
	    printf '%s\n' "$@"; } >"$CONF"
}
now_ms() { date +%s%3N; }

if [ ! -x "$MTASTS" ]; then
	ok 1 "$MTASTS is missing: run make first"
	exit 1
fi
if ! lab_up >"$T/lab.log" 2>&1; then
	tap_show "$T/lab.log"
	ok 1 "the lab starts"
	exit 1
fi
conf

# 1. Every policy-group domain of the lab, cold cache: the outcome that
# domains.txt promises.
while read -r dom group mode txt http mx pat expect; do
	case $dom in '#'*|'') continue ;; esac
	[ "$group" = policy ] || continue
	case $dom in dyn*.test) continue ;; esac
	t0=$(now_ms)
	q "$dom"
	el=$(($(now_ms) - t0))
	case $expect in
	policy)
		is mode "$mode" && is source network && [ $rc -eq 0 ]
		ok $? "$dom ($txt, $http): policy mode $mode from the network"
		;;
	nopolicy)
		is mode none && is source none && is temperror false
		ok $? "$dom ($txt): no policy, not a temporary error"
		;;
	fetchfail)
		is mode none && is source none && [ -z "$(field id)" ]
		ok $? "$dom ($http): fetch fails, treated as no policy: $(field why)"
		;;
	esac
	case $http in slow|hang)
		# fetch_timeout 4s, connect 2s, dns 2s in the lab config
		[ "$el" -lt 9000 ]
		ok $? "$dom: a hung policy server costs a bounded wait (${el} ms)"
		;;
	esac
done <tests/lab/domains.txt

# 2. Specific reasons, so that a wrong rule cannot pass as "no policy"
# (a fresh store: the failures above would now be "not retried").
rm -f "$T"/store.db*
q http404.test;	field why | grep -q '404';		ok $? "404 named"
q redirect.test; field why | grep -qi 'redirect';	ok $? "redirect refused"
q html.test;	field why | grep -q 'text/html';	ok $? "text/html refused"
q big.test;	field why | grep -qiE '64 KiB|too large|65536'
ok $? "65537-byte body refused: $(field why)"
q certself.test; is temperror true;	ok $? "self-signed policy host: temporary failure"
q certname.test; field why | grep -qi 'certificate'
ok $? "wrong-name certificate named: $(field why)"
q badpolicy.test; field why | grep -q 'invalid';	ok $? "policy syntax error named"

# 3. Same id: answered from the cache, no second fetch.
q enforce.test
before=$(fetches enforce.test)
q enforce.test
is source cache && is mode enforce && [ "$(fetches enforce.test)" = "$before" ]
ok $? "same id: cached policy, no fetch (fetches: $before)"

# 4. A failed id is not fetched again within 5 minutes.
before=$(fetches http404.test)
q http404.test
[ "$(fetches http404.test)" = "$before" ] && field why | grep -q 'not retried'
ok $? "failed id not retried within retry_interval: $(field why)"

# 5. New id: fetched again, and the new policy rules.
printf 'version: STSv1\nmode: testing\nmx: good.mx.test\nmax_age: 86400\n' |
    lab_set_policy dyn.test -
q dyn.test
is mode testing && is source network && is id 20261125T1
ok $? "dyn.test cold: fetched"
printf 'version: STSv1\nmode: enforce\nmx: good.mx.test\nmax_age: 86400\n' |
    lab_set_policy dyn.test -
q dyn.test
is mode testing && is source cache
ok $? "policy changed but not its id: not fetched, old policy rules"
lab_set_txt _mta-sts.dyn.test "v=STSv1; id=2"
q dyn.test
is mode enforce && is source network && is id 2
ok $? "new id: fetched, new policy rules"

# 6. DNS down: the cached policy still rules; the wait is bounded.
lab_dns_stop
t0=$(now_ms)
q dyn.test
el=$(($(now_ms) - t0))
is mode enforce && is source "stale cache"
ok $? "DNS down: cached policy applies ($(field why))"
[ "$el" -lt 6000 ]
ok $? "DNS down: bounded wait (${el} ms)"
q enforce-good.test
is mode none && is temperror true
ok $? "DNS down, nothing cached: no policy, temporary"
lab_dns_start

# 6b. Garbage DNS answers (a MOCK server, tests/lab/garbagedns.py: no
# real server sends these): each reply broken in turn. Nothing is taken
# from them; the cached policy rules, a cold domain gets no policy
# (temporary), both within dns_timeout; the answers were really sent.
GCONF=$T/garbage.conf
{ grep -v '^forwarder \|^dns_timeout ' "$CONF"; echo "forwarder 127.0.10.55";
    echo "dns_timeout 1500ms"; } >"$GCONF"
lab_exec python3 tests/lab/garbagedns.py 127.0.10.55 53 20 "$T/garbage.count" &
gpid=$!
garbage_up() {	# the mock DNS server is bound
	lab_exec ss -Hlnu src 127.0.10.55:53 | grep -q .
}
wait_for "the garbage DNS server's socket" 5 garbage_up
SAVED_CONF=$CONF CONF=$GCONF
t0=$(now_ms)
q dyn.test
el=$(($(now_ms) - t0))
is mode enforce && is source "stale cache" && is id 2
ok $? "garbage DNS answers: cached policy applies ($(field why))"
[ "$el" -lt 3500 ]
ok $? "garbage DNS answers: bounded by dns_timeout (${el} ms)"
t0=$(now_ms)
q enforce-good.test
el=$(($(now_ms) - t0))
is mode none && is temperror true && [ "$el" -lt 3500 ]
ok $? "garbage DNS answers, nothing cached: no policy, temporary (${el} ms)"
[ "$(sort -u "$T/garbage.count" 2>/dev/null | wc -l)" -eq 5 ]
ok $? "garbage DNS answers: every kind was sent ($(wc -l <"$T/garbage.count" \
    2>/dev/null) replies)"
kill "$gpid" 2>/dev/null
wait "$gpid" 2>/dev/null
CONF=$SAVED_CONF

# 6c. No forwarder: the system's resolvers (the namespace's
# /etc/resolv.conf names the lab's DNS); resolv_conf FILE names others.
SCONF=$T/system.conf
grep -v '^forwarder ' "$CONF" >"$SCONF"
SAVED_CONF=$CONF CONF=$SCONF
q enforce-good.test
is mode enforce && is source network
ok $? "no forwarder: /etc/resolv.conf's resolver used ($(field source))"
printf 'nameserver 127.0.10.56\n' >"$T/resolv.conf"
echo "resolv_conf $T/resolv.conf" >>"$SCONF"
t0=$(now_ms)
q testing-good.test
el=$(($(now_ms) - t0))
is mode none && is temperror true && [ "$el" -lt 6000 ]
ok $? "resolv_conf FILE: its resolver (nobody there) used, bounded (${el} ms)"
CONF=$SAVED_CONF

# 7. TXT record removed: the cached policy applies until it expires.
lab_set_txt _mta-sts.dyn.test
q dyn.test
is mode enforce && is source "stale cache"
ok $? "TXT removed: cached policy still applies"

# 8. Expiry: a policy with max_age 2 stops applying after 2 s.
lab_set_txt _mta-sts.dyn2.test "v=STSv1; id=short"
printf 'version: STSv1\nmode: enforce\nmx: good.mx.test\nmax_age: 2\n' |
    lab_set_policy dyn2.test -
q dyn2.test
is mode enforce && is source network
ok $? "short-lived policy fetched"
lab_set_txt _mta-sts.dyn2.test
sleep 3		# time itself: max_age 2 s passing, in whole seconds
q dyn2.test
is mode none && is source none
ok $? "expired policy and no TXT: no policy"

# 9. Proactive refresh: past half its max_age, the same id is fetched
# again so the policy never lapses.
lab_set_txt _mta-sts.dyn2.test "v=STSv1; id=half"
printf 'version: STSv1\nmode: enforce\nmx: good.mx.test\nmax_age: 4\n' |
    lab_set_policy dyn2.test -
q dyn2.test
before=$(fetches dyn2.test)
sleep 3		# time itself: past half of max_age 4 s, short of expiry
q dyn2.test
is source network && [ "$(fetches dyn2.test)" -gt "$before" ]
ok $? "past half max_age: refetched with the same id"

# 10. MX verdicts under each mode.
q enforce.test --mx good.mx.test --mx attacker.evil.test
is mx/good.mx.test require-tls && is mx/attacker.evil.test refuse && [ $rc -eq 1 ]
ok $? "enforce: matching MX require-tls, other refused (exit 1)"
q testing.test --mx attacker.evil.test
is mx/attacker.evil.test report && [ $rc -eq 0 ]
ok $? "testing: non-matching MX reported, not refused"
q nopolicy.test --mx good.mx.test
is mx/good.mx.test plain
ok $? "no policy: plain delivery"

# 11. Overrides and log-only from the configuration.
conf "override testing.test enforce" "override enforce.test none" "log_only yes"
q testing.test --mx attacker.evil.test
is mode enforce && is log_only true && is mx/attacker.evil.test refuse
ok $? "override forces enforce; log_only is reported to the caller"
rm -f "$T"/store.db*
before=$(fetches enforce.test)
q enforce.test
is mode none && is source override && [ "$(fetches enforce.test)" = "$before" ]
ok $? "override none on a cold cache: no fetch at all"
conf

# 12. 20 processes resolve the same cold domain at once: one fetch.
before=$(fetches enforce-good.test)
for i in $(seq 20); do
	lab_exec "$MTASTS" query -c "$CONF" --json enforce-good.test \
	    >"$T/par.$i" 2>&1 &
done
wait
good=0
for i in $(seq 20); do
	grep -q '"mode":"enforce"' "$T/par.$i" && good=$((good + 1))
done
after=$(fetches enforce-good.test)
[ "$good" = 20 ]
ok $? "20 concurrent processes all answered enforce ($good/20)"
[ $((after - before)) = 1 ]
ok $? "20 concurrent processes: exactly one fetch ($((after - before)))"

# 13. Refresh and cache administration.
lab_set_txt _mta-sts.dyn.test "v=STSv1; id=2"
lab_exec "$MTASTS" refresh -c "$CONF" --all >"$T/last.err" 2>&1
ok $? "refresh --all succeeds: $(tail -1 "$T/last.err")"
lab_exec "$MTASTS" cache -c "$CONF" list >"$T/list" 2>&1 &&
    grep -q '^enforce-good.test *enforce' "$T/list"
ok $? "cache list shows enforce-good.test"
lab_exec "$MTASTS" cache -c "$CONF" show enforce-good.test >"$T/show" 2>&1 &&
    grep -q '^mx: good.mx.test' "$T/show"
ok $? "cache show prints the policy text"
lab_exec "$MTASTS" cache -c "$CONF" forget enforce-good.test &&
    ! lab_exec "$MTASTS" cache -c "$CONF" show enforce-good.test 2>/dev/null
ok $? "cache forget removes it"
lab_exec "$MTASTS" cache -c "$CONF" flush &&
    [ "$(lab_exec "$MTASTS" cache -c "$CONF" list | wc -l)" = 1 ]
ok $? "cache flush empties it"

# 14. A corrupt store: logged, the engine works uncached, no crash.
head -c 8192 /dev/urandom >"$T/store.db"
rm -f "$T/store.db-wal" "$T/store.db-shm"
q enforce.test
[ $rc -eq 0 ] && is mode enforce && is source network
ok $? "corrupt store: answered from the network"
grep -qi 'uncached' "$T/last.err"
ok $? "corrupt store: the log says so"

# 15. A store in a folder that does not exist.
conf
sed -i "s|^store .*|store $T/missing/dir/store.db|" "$CONF"
q enforce.test
[ $rc -eq 0 ] && is mode enforce
ok $? "store folder missing: still answers"

# 16. A broken configuration is an error that names the line.
printf 'store %s\nbogus_key 1\n' "$T/s.db" >"$T/bad.conf"
lab_exec "$MTASTS" query -c "$T/bad.conf" enforce.test >/dev/null 2>"$T/last.err"
[ $? -eq 2 ] && grep -q 'line 2: ' "$T/last.err"
ok $? "unknown config key: exit 2, line named"

tap_end
