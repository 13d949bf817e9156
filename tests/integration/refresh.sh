#!/bin/bash
# refresh.sh - one proactive refresh rule: "mtasts refresh" (cron) and
# the filter's refresh pass (filter-mtasts -r) touch exactly the same
# domains of a store that holds one domain in each state, against the
# lab's real DNS (nsd) and HTTPS (nginx): the same policy fetches in
# nginx's log, the same TXT id checks in the store, the same domains
# named due by the engine. TAP output. Needs root (network namespace);
# run from the repo root after "make".
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-refresh}
. tests/lab/lib.sh
MTASTS=${MTASTS:-$PWD/build/mtasts}
FILTER=${FILTER:-$PWD/build/filter-mtasts}
T=$(mktemp -d /tmp/mtasts-refresh.XXXXXX)
. tests/lib/tap.sh
fpid=
trap 'exec 3>&- 2>/dev/null; [ -n "$fpid" ] && kill "$fpid" 2>/dev/null
    lab_down >/dev/null 2>&1; rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/last.err" 8
	return 0
}

conf() {	# NAME: a config for the lab with its own store NAME.db
	{ grep -Ev '^(store|check_interval|retry_interval) ' "$LAB_CONF"
	    echo "store $T/$1.db"
	    echo "check_interval 600"
	    echo "retry_interval 300"; } >"$T/$1.conf"
}
sql() {	# DB SQL
	sqlite3 -cmd '.timeout 5000' "$T/$1.db" "$2"
}
nginx_lines() {
	wc -l <"$LAB_DIR/logs/nginx-access.log"
}
fetched_since() {	# LINE: domains whose policy nginx served after LINE
	tail -n +"$(($1 + 1))" "$LAB_DIR/logs/nginx-access.log" |
	    grep -o 'host="mta-sts\.[^"]*"' | sed 's/^host="mta-sts\.//;s/"$//' |
	    sort -u | tr '\n' ' '
}
checked() {	# DB: "domain checked" per row
	sql "$1" "SELECT domain, checked FROM policies ORDER BY domain"
}
changed() {	# DB: the domains whose TXT id check time moved
	checked seed >"$T/seed.checked"
	checked "$1" >"$T/$1.checked"
	diff "$T/seed.checked" "$T/$1.checked" | sed -n 's/^> \([^|]*\)|.*/\1/p' |
	    sort -u | tr '\n' ' '
}
said_due() {	# FILE: the domains the engine named due for a refresh
	grep -oE '[a-z0-9-]+(\.[a-z0-9-]+)+: refresh: ' "$1" | sed 's/: refresh: $//' |
	    sort -u | tr '\n' ' '
}

for bin in "$MTASTS" "$FILTER"; do
	if [ ! -x "$bin" ]; then
		ok 1 "$bin is missing: run make first"
		exit 1
	fi
done
if ! command -v sqlite3 >/dev/null; then
	ok 1 "sqlite3 (the command) is needed to age the store"
	exit 1
fi
if ! lab_up >"$T/lab.log" 2>&1; then
	tap_show "$T/lab.log"
	ok 1 "the lab starts"
	exit 1
fi

# ---------------------------------------------------------------- the store
#
# One domain per state, cached from the lab, then aged (times from now):
#   enforce.test      fresh: fetched and checked a minute ago     not due
#   testing.test      TXT id checked 700 s ago (> check_interval)  due: check
#   none.test         checked 10 s ago, past half its max_age      due: fetch
#   multistring.test  expired an hour ago                          not due
#   max.test          checked 700 s ago, the id in DNS is newer    due: fetch
#   cname.test        checked 700 s ago, the id in DNS is newer,
#                     but its fetch failed 60 s ago (back-off)     due: check
#   http404.test      only a failed fetch, no policy               not due
conf seed
rc=0
for d in enforce.test testing.test none.test multistring.test max.test \
    cname.test http404.test; do
	lab_exec "$MTASTS" query -c "$T/seed.conf" "$d" >/dev/null \
	    2>>"$T/last.err" || rc=1
done
now=$(date +%s)
sql seed "
UPDATE policies SET fetched=$now-60, expires=$now+86400, checked=$now-60
    WHERE domain='enforce.test';
UPDATE policies SET fetched=$now-700, expires=$now+86400, checked=$now-700
    WHERE domain='testing.test';
UPDATE policies SET fetched=$now-50000, expires=$now+36400, checked=$now-10
    WHERE domain='none.test';
UPDATE policies SET fetched=$now-90000, expires=$now-3600, checked=$now-4000
    WHERE domain='multistring.test';
UPDATE policies SET id='old1', fetched=$now-700, expires=$now+86400,
    checked=$now-700 WHERE domain='max.test';
UPDATE policies SET id='old2', fetched=$now-700, expires=$now+86400,
    checked=$now-700, failed=$now-60, failed_id='$LAB_POLICY_ID'
    WHERE domain='cname.test';
UPDATE policies SET checked=$now-700, failed=$now-700
    WHERE domain='http404.test';
PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null 2>>"$T/last.err" || rc=1
[ $rc -eq 0 ] &&
    [ "$(sql seed "SELECT count(*) FROM policies WHERE text IS NOT NULL")" = 6 ] &&
    [ "$(sql seed "SELECT count(*) FROM policies WHERE text IS NULL AND
        domain='http404.test'")" = 1 ]
ok $? "a store with a domain in each state (fresh, check due, half max_age, expired, new id, back-off, failure only)"
for run in cli filter; do
	conf "$run"
	cp "$T/seed.db" "$T/$run.db"
done

# ---------------------------------------------------------------- mtasts refresh

before=$(nginx_lines)
lab_exec "$MTASTS" refresh -v -c "$T/cli.conf" >"$T/cli.out" 2>"$T/cli.err"
cli_rc=$?
cli_fetched=$(fetched_since "$before")
cli_changed=$(changed cli)
cli_due=$(said_due "$T/cli.err")
cp "$T/cli.err" "$T/last.err"
# cname.test's refresh gives no fresh policy (its new id is in back-off)
[ $cli_rc -eq 1 ] && grep -q '^3 domains refreshed, 1 failed' "$T/cli.out"
ok $? "mtasts refresh: 4 due, 1 without a fresh policy: $(cat "$T/cli.out")"

# ---------------------------------------------------------------- filter pass

"$FILTER" -I -t "$T/filter-table.db" 2>>"$T/last.err"
mkfifo "$T/filter.in"
before=$(nginx_lines)
lab_exec "$FILTER" -v -r 1 -c "$T/filter.conf" -t "$T/filter-table.db" \
    <"$T/filter.in" >"$T/filter.out" 2>"$T/filter.err" &
fpid=$!
exec 3>"$T/filter.in"
wait_for "the filter's refresh pass" 30 \
    grep -q 'refresh: pass done' "$T/filter.err"
pass=$?
exec 3>&-	# EOF on its stdin: the filter exits
wait_for "the filter's exit" 10 not kill -0 "$fpid" 2>/dev/null
! kill -0 "$fpid" 2>/dev/null && wait "$fpid"
frc=$?
fpid=
filter_fetched=$(fetched_since "$before")
filter_changed=$(changed filter)
filter_due=$(said_due "$T/filter.err")
cp "$T/filter.err" "$T/last.err"
[ $pass -eq 0 ] && [ $frc -eq 0 ]
ok $? "filter-mtasts -r 1: a refresh pass ran and the filter exited cleanly: $(grep -o 'refresh: pass done.*' "$T/filter.err" | head -1)"

# ---------------------------------------------------------------- the same set

expect_fetched="max.test none.test "
expect_changed="max.test none.test testing.test "
expect_due="cname.test max.test none.test testing.test "

[ "$cli_fetched" = "$expect_fetched" ]
ok $? "mtasts refresh fetched [$cli_fetched], expected [$expect_fetched]"
[ "$filter_fetched" = "$expect_fetched" ]
ok $? "the filter's pass fetched [$filter_fetched], expected [$expect_fetched]"
[ "$cli_changed" = "$expect_changed" ] && [ "$filter_changed" = "$cli_changed" ]
ok $? "both checked the same TXT ids: mtasts refresh [$cli_changed], filter [$filter_changed]"
[ "$cli_due" = "$expect_due" ] && [ "$filter_due" = "$cli_due" ]
ok $? "both named the same domains due: mtasts refresh [$cli_due], filter [$filter_due]"
[ "$(sql filter "SELECT expires > $now FROM policies WHERE domain='none.test'")" = 1 ] &&
    [ "$(sql filter "SELECT id FROM policies WHERE domain='max.test'")" = "$LAB_POLICY_ID" ] &&
    [ "$(sql filter "SELECT checked FROM policies WHERE domain='multistring.test'")" = \
    "$(sql seed "SELECT checked FROM policies WHERE domain='multistring.test'")" ]
ok $? "the filter's pass: half-life and new id refetched, the expired policy left alone"

tap_end
