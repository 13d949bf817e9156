#!/bin/bash
# fleet.sh - figures of fleet sync (mtasts sync) against a real
# PostgreSQL (tests/lib/pg.sh: TLS, scram, in the lab's namespace):
#   sync_results_rows_per_s / sync_results_sessions_per_s
#                      one "mtasts sync" moving RESULT_ROWS counter rows
#                      (SESSIONS sessions) of one host into PostgreSQL
#   sync_pull_policies_per_s
#                      one "mtasts sync" of an empty host taking N
#                      policies from the fleet
#   warm_p50_us_sync_off / warm_p50_us_sync_on
#                      bench_engine's warm lookup over N cached domains
#                      on CPU 0, alone, then with fleet set and a sync of
#                      the same store every second on CPU 1, twice each
#                      (the delivery path never waits on PostgreSQL: the
#                      figures should agree)
# Usage: bench/fleet.sh [BUILD] (N=200 domains, RESULT_ROWS=20000).
# Prints "key value" lines; a figure, not a test.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${N:-200}
RESULT_ROWS=${RESULT_ROWS:-20000}
export LAB_NAME=${LAB_NAME:-mtlab-bfleet}
. tests/lab/lib.sh
MTASTS=$PWD/$BUILD/mtasts
ENGINE=$PWD/$BUILD/bench/bench_engine
T=$(mktemp -d /tmp/mtasts-bfleet.XXXXXX)
chmod 0755 "$T"
PG_DIR=$T/pg
. tests/lib/pg.sh
loop=
trap '[ -n "$loop" ] && kill "$loop" 2>/dev/null; pg_stop >/dev/null 2>&1
    lab_down >/dev/null 2>&1; rm -rf "$T"' EXIT

die() {
	echo "bench/fleet.sh: $*" >&2
	exit 1
}
ms() {
	date +%s%N | cut -c1-13
}
conf() {	# HOST [fleet: yes|no]
	{ grep -Ev '^(store|fleet) ' "$LAB_CONF"
	  echo "store $T/$1.db"
	  [ "${2:-yes}" = yes ] && echo "fleet $(pg_conninfo)"
	  echo "fleet_host host$1"; } >"$T/$1.conf"
}

[ -x "$MTASTS" ] && [ -x "$ENGINE" ] || die "make all benches first"
lab_up >"$T/lab.log" 2>&1 || die "the lab does not start"
pg_init >"$T/pg.log" 2>&1 || die "PostgreSQL does not start"
lab_bulk_domains "$N" >"$T/bulk.log" 2>&1 || die "no bulk domains"
conf A; conf B; conf O no
lab_exec "$ENGINE" "$T/A.conf" "$N" seq >/dev/null ||
    die "cold lookups failed"
lab_exec "$MTASTS" sync -c "$T/A.conf" >/dev/null || die "sync failed"

# results: RESULT_ROWS distinct keys, 3 sessions each, then one sync
sqlite3 "$T/A.db" "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL
    SELECT i + 1 FROM k WHERE i < $RESULT_ROWS)
    INSERT INTO tlsrpt (day, domain, policy_type, result, mx, receiving_ip,
    sending_ip, detail, count) SELECT strftime('%s','now') / 86400,
    'b' || printf('%04d', i % $N + 1) || '.bench.test', 'sts', 'success',
    'mx.bench.test', '127.0.20.1', '10.' || (i / 65536) || '.' ||
    (i / 256 % 256) || '.' || (i % 256), '', 3 FROM k" ||
    die "cannot fill the counters"
t0=$(ms)
lab_exec "$MTASTS" sync -c "$T/A.conf" >/dev/null || die "sync failed"
t1=$(ms)
echo "sync_results_rows_per_s $((RESULT_ROWS * 1000 / (t1 - t0 + 1)))"
echo "sync_results_sessions_per_s $((RESULT_ROWS * 3000 / (t1 - t0 + 1)))"

# pull: an empty host takes the fleet's N policies
t0=$(ms)
lab_exec "$MTASTS" sync -c "$T/B.conf" >/dev/null || die "sync failed"
t1=$(ms)
echo "sync_pull_policies_per_s $((N * 1000 / (t1 - t0 + 1)))"

# warm lookups, sync off then on, on the same store. The lookups run on
# CPU 0 and the synchroniser on CPU 1, once a second (the timer's period
# is a minute): what is measured is whether a lookup waits on a sync, not
# whether two processes share one core. Off and on alternate twice.
cp "$T/A.db" "$T/O.db"
cp "$T/O.conf" "$T/O-off.conf"
p50() {
	lab_exec taskset -c 0 "$ENGINE" "$1" "$N" warm 20 | awk '$1 == "p50_us" ||
	    $1 == "warm_p50_us" { print $2; exit }'
}
cat >"$T/rec" <<EOR
#!/bin/sh
sqlite3 -cmd '.timeout 2000' "$T/O.db" "UPDATE tlsrpt SET count = count + 1"
EOR
chmod +x "$T/rec"
sed -i "s#^fleet_host .*#fleet_host hostO#" "$T/O.conf"
echo "fleet $(pg_conninfo)" >>"$T/O.conf"
off="" on=""
for round in 1 2; do
	off="$off $(p50 "$T/O-off.conf")"
	( while :; do lab_exec taskset -c 1 "$MTASTS" sync -c "$T/O.conf" \
	    >/dev/null 2>&1; "$T/rec" 2>/dev/null; sleep 1; done ) &
	loop=$!
	on="$on $(p50 "$T/O.conf")"
	kill "$loop" 2>/dev/null
	wait "$loop" 2>/dev/null
	loop=
done
echo "warm_p50_us_sync_off$off"
echo "warm_p50_us_sync_on$on"
