#!/bin/bash
# fleet.sh - three engine "hosts" (three stores and configs) share one
# policy view and one TLS-RPT report through a real PostgreSQL server
# started here (tests/lib/pg.sh: initdb, TLS with a test CA, scram
# password auth, in the lab's network namespace), against the lab's
# real DNS (nsd) and HTTPS (nginx, whose access log counts fetches):
#   - a policy fetched on A is answered from the cache on B and C after
#     one sync, with no fetch from B or C;
#   - a refresh round for 100 due domains on all three hosts fetches
#     each domain once in the fleet (leases in PostgreSQL);
#   - results recorded on the three hosts give one report per domain and
#     day whose counts are the sums, built and sent by one host;
#   - PostgreSQL stopped: hosts keep answering from their caches and
#     recording, sync fails clearly; back: results moved, counts exact;
#   - a sync killed with SIGKILL after PostgreSQL committed a batch, or
#     after the cut: nothing lost or doubled. The kill lands there
#     through a test hook in the engine (MTASTS_TEST_SYNC_STOP stops the
#     process with SIGSTOP at that step; engine/sync.c);
#   - a wrong password, or no TLS where pg_hba.conf requires it: a clear
#     error, local operation unaffected.
# TAP output. Needs root; run from the repo root after "make".
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-fleet}
. tests/lab/lib.sh
BUILD=${BUILD:-build}
MTASTS=${MTASTS:-$PWD/$BUILD/mtasts}
T=$(mktemp -d /tmp/mtasts-fleet.XXXXXX)
chmod 0755 "$T"
PG_DIR=$T/pg
. tests/lib/pg.sh
. tests/lib/tap.sh
trap 'pg_stop >/dev/null 2>&1; lab_down >/dev/null 2>&1; rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/last.err" 8
	return 0
}
m() {	# HOST ARGS...: mtasts ARGS as HOST; $T/last.out, last.err, $rc
	local h=$1
	shift
	lab_exec "$MTASTS" "$1" -c "$T/$h.conf" "${@:2}" >"$T/last.out" \
	    2>"$T/last.err"
	rc=$?
}
rec() {	# HOST DOMAIN TYPE RESULT MX RIP SIP DETAIL COUNT
	local h=$1
	shift
	"$T/tlsrpt_record" "$T/$h.conf" "$@"
}
conf() {	# HOST [CONNINFO]
	{ grep -Ev '^(store|report_dir|sendmail|fleet) ' "$LAB_CONF"
	  cat <<EOC
store $T/$1.db
report_dir $T/$1.reports
report_submitter mx.sender.test
sendmail $T/sendmail
fleet ${2:-$(pg_conninfo)}
fleet_host host$1
EOC
	} >"$T/$1.conf"
}
nginx_mark() {
	wc -l <"$LAB_DIR/logs/nginx-access.log"
}
fetches_since() {	# LINE [DOMAIN-REGEX]: policy fetches after LINE
	tail -n +"$(($1 + 1))" "$LAB_DIR/logs/nginx-access.log" |
	    grep -o 'host="mta-sts\.[^"]*"' | grep -Ec "${2:-.}"
}
sessions() {	# DOMAIN: the fleet's sum of sessions of today for DOMAIN
	pg_sql "SELECT coalesce(sum(count), 0) FROM fleet_tlsrpt
	    WHERE domain = '$1' AND day = $DAY"
}
json() {	# FILE.json.gz PYTHON-EXPR on r (the report)
	python3 -c 'import gzip,json,sys
r = json.load(gzip.open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}
stopped() {	# PID: stopped (the test hook raised SIGSTOP)
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]
}
wait_stopped() {	# PID: bounded wait (30 s)
	local i
	for i in $(seq 600); do
		stopped "$1" && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

if [ ! -x "$MTASTS" ]; then
	echo "not ok 1 - $MTASTS is missing: run make first"
	exit 1
fi
if ! ${CC:-cc} -Icommon/include -D_GNU_SOURCE -std=c11 -Wall -Wextra \
    -Werror -o "$T/tlsrpt_record" tests/integration/tlsrpt_record.c \
    "$BUILD/libmtasts.a" $(pkg-config --libs libunbound libcurl sqlite3 \
    libidn2 jansson openssl zlib libpq) -lpthread 2>"$T/last.err"; then
	ok 1 "build the recording helper"
	exit 1
fi
if ! lab_up >"$T/lab.log" 2>&1; then
	cat "$T/lab.log"
	echo "not ok 1 - the lab starts"
	exit 1
fi
. "$LAB_DIR/env"
if ! pg_init >"$T/pg.log" 2>&1; then
	sed 's/^/# /' "$T/pg.log"
	echo "not ok 1 - PostgreSQL starts (initdb, TLS, scram)"
	exit 1
fi
cat >"$T/sendmail" <<EOS
#!/bin/sh
cat >"$T/sent.\$\$.eml"
echo "\$@" >>"$T/sendmail.log"
EOS
chmod +x "$T/sendmail"
for h in A B C; do conf $h; done
DAY=$(($(date -u +%s) / 86400))
TODAY=$(date -u +%F)

# 1. Every host syncs; the schema is made once, at version 1.
fails=0
for h in A B C; do
	m $h sync || fails=1
	[ $rc -eq 0 ] || fails=1
done
ok $fails "three hosts sync with an empty fleet"
[ "$(pg_sql 'SELECT version FROM fleet_schema')" = 1 ]
ok $? "PostgreSQL schema version 1, in fleet_schema"

# 2. One host fetches, every host answers from its cache.
mark=$(nginx_mark)
m A query enforce.test
ok $rc "host A resolves enforce.test"
[ "$(fetches_since "$mark" 'enforce\.test')" -eq 1 ]
ok $? "host A fetched the policy once"
m A sync && m B sync && m C sync
ok $rc "A, B and C sync"
mark=$(nginx_mark)
fails=0
for h in B C; do
	m $h query --json enforce.test
	grep -q '"source": *"cache"' "$T/last.out" ||
	    { fails=1; cp "$T/last.out" "$T/last.err"; }
done
ok $fails "B and C answer enforce.test from their caches after one sync"
[ "$(fetches_since "$mark")" -eq 0 ]
ok $? "no policy fetch from B or C"

# 3. 100 due domains, refreshed on all three hosts at once: one fetch
# each in the fleet.
if ! lab_bulk_domains 100 >"$T/bulk.log" 2>&1; then
	cp "$T/bulk.log" "$T/last.err"
	ok 1 "the lab serves 100 more domains"
else
	fails=0
	# nginx reloads gracefully: old workers may still answer with the
	# lab's first certificate for a moment; wait for each new one
	for d in $(seq -f 'b%04g.bench.test' 1 100); do
		lab__wait 100 lab__bulk_served "$d" || fails=1
	done
	for d in $(seq -f 'b%04g.bench.test' 1 100); do
		lab_exec "$MTASTS" query -c "$T/A.conf" "$d" >/dev/null \
		    2>>"$T/last.err" || fails=1
	done
	cnt=$(sqlite3 "$T/A.db" "SELECT count(*) FROM policies WHERE
	    domain LIKE '%.bench.test' AND text IS NOT NULL")
	[ "$fails" -eq 0 ] && [ "$cnt" -eq 100 ]
	ok $? "host A caches 100 domains ($cnt)"
	m A sync && m B sync && m C sync
	cnt=$(sqlite3 "$T/C.db" "SELECT count(*) FROM policies WHERE domain LIKE '%.bench.test'")
	[ $rc -eq 0 ] && [ "$cnt" -eq 100 ]
	ok $? "after one sync C caches them too ($cnt)"
	# past half their max_age on every host: a refresh fetches them.
	# The extra minute matters: a policy fetched in the current second
	# would otherwise be exactly at half its max_age, not past it
	for h in A B C; do
		sqlite3 -cmd '.timeout 5000' "$T/$h.db" "UPDATE policies SET
		    fetched = fetched - (expires - fetched) - 60, checked = 0
		    WHERE domain LIKE '%.bench.test'"
	done
	mark=$(nginx_mark)
	for h in A B C; do
		lab_exec "$MTASTS" refresh -v -c "$T/$h.conf" \
		    >"$T/refresh.$h" 2>&1 &
	done
	wait
	cnt=$(fetches_since "$mark" 'bench\.test')
	uq=$(tail -n +"$((mark + 1))" "$LAB_DIR/logs/nginx-access.log" |
	    grep -o 'host="mta-sts\.b[0-9]*\.bench\.test"' | sort -u | wc -l)
	[ "$cnt" -eq 100 ] && [ "$uq" -eq 100 ]
	st=$?
	for h in A B C; do echo "$h: $(tail -n 1 "$T/refresh.$h")"; done >"$T/last.err"
	grep -h "failed\|timed out" "$T"/refresh.[ABC] | head -3 >>"$T/last.err"
	ok $st "a refresh round on three hosts fetched each of 100 domains once ($cnt fetches, $uq domains)"
	m B sync
	cnt=$(sqlite3 "$T/B.db" "SELECT count(*) FROM policies WHERE domain
	    LIKE '%.bench.test' AND fetched > strftime('%s','now') - 600")
	[ "$cnt" -eq 100 ]
	ok $? "after a sync B has the refreshed policies ($cnt)"
fi

# 4. Results on three hosts, one report with the sums, sent once.
D=enforce-good.test
m A query $D
rec A $D sts success good.mx.test 127.0.20.1 127.0.30.1 - 5 &&
rec B $D sts success good.mx.test 127.0.20.1 127.0.30.2 - 2 &&
rec B $D sts certificate-expired good.mx.test 127.0.20.1 127.0.30.2 \
    X509_V_ERR_CERT_HAS_EXPIRED 3 &&
rec C $D sts success good.mx.test 127.0.20.1 127.0.30.3 - 1 &&
rec C $D sts starttls-not-supported good.mx.test 127.0.20.1 127.0.30.3 \
    - 4
ok $? "results recorded on A, B and C"
m A sync && m B sync && m C sync
[ "$(sessions $D)" -eq 15 ]
ok $? "the fleet's sums hold every session once ($(sessions $D))"
for h in A B C; do
	lab_exec "$MTASTS" report build -c "$T/$h.conf" --day "$TODAY" \
	    >"$T/build.$h" 2>&1 &
done
wait
R=$(ls "$T"/[ABC].reports/*"!$D!"*.json.gz 2>/dev/null)
[ "$(echo "$R" | grep -c .)" -eq 1 ]
ok $? "one report for $D in the whole fleet"
[ -n "$R" ] &&
[ "$(json "$R" 'r["policies"][0]["summary"]["total-successful-session-count"]')" = 8 ] &&
[ "$(json "$R" 'r["policies"][0]["summary"]["total-failure-session-count"]')" = 7 ]
ok $? "its counts are the sums of the three hosts (8 successes, 7 failures)"
[ -n "$R" ] &&
[ "$(json "$R" 'sorted(d["sending-mta-ip"] for d in r["policies"][0]["failure-details"])')" = "['127.0.30.2', '127.0.30.3']" ]
ok $? "the failure details name each host's sending IP"
for h in A B C; do
	lab_exec "$MTASTS" report send -c "$T/$h.conf" >/dev/null 2>&1
done
[ "$(grep -c "tlsrpt@reports.test" "$T/sendmail.log" 2>/dev/null)" -eq 1 ]
ok $? "the report is mailed once in the fleet"

# 5. PostgreSQL stopped in the middle.
pg_stop
m B query --json enforce.test
[ $rc -eq 0 ] && grep -q '"source": *"cache"' "$T/last.out"
ok $? "PostgreSQL down: B still answers from its cache"
rec A $D sts success good.mx.test 127.0.20.1 127.0.30.1 - 6 &&
rec B $D sts success good.mx.test 127.0.20.1 127.0.30.2 - 1
ok $? "PostgreSQL down: A and B still record results"
m A sync
[ $rc -eq 1 ] && grep -q 'cannot connect to PostgreSQL' "$T/last.err"
ok $? "PostgreSQL down: sync fails and says why"
m A sync
m A fleet status
grep -q 'waiting here: 1 batches (6 sessions)' "$T/last.out"
ok $? "fleet status shows what waits on A ($(grep waiting "$T/last.out"))"
pg_start
m A sync && m B sync
[ $rc -eq 0 ] && [ "$(sessions $D)" -eq 22 ]
ok $? "PostgreSQL back: the waiting results are moved, counts exact ($(sessions $D))"
m A fleet status
[ $rc -eq 0 ] && grep -q 'hostA \[this host\]' "$T/last.out" &&
    grep -q 'hostC' "$T/last.out" &&
    grep -q 'waiting here: 0 batches' "$T/last.out"
ok $? "fleet status: hosts seen, last sync, nothing waiting"

# 6. A sync killed with SIGKILL between PostgreSQL's commit and the
# local drop of the batch, then one killed after the cut.
for stop in pushed cut; do
	before=$(sessions $D)
	rec C $D sts success good.mx.test 127.0.20.1 127.0.30.3 - 7
	# ip execs mtasts: $! is the sync itself
	MTASTS_TEST_SYNC_STOP=$stop ip netns exec "$LAB_NAME" "$MTASTS" sync \
	    -c "$T/C.conf" >/dev/null 2>"$T/last.err" &
	pid=$!
	if wait_stopped "$pid"; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		m C sync
		[ $rc -eq 0 ] && [ "$(sessions $D)" -eq $((before + 7)) ]
		ok $? "a sync killed after '$stop': counted once ($before + 7 = $(sessions $D))"
	else
		ps -o pid,stat,comm -p "$pid" >>"$T/last.err" 2>&1
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		ok 1 "a sync killed after '$stop' (the hook did not stop it)"
	fi
done

# 7. Wrong password, no TLS: a clear error, local operation unaffected.
conf W "$(pg_conninfo wrong-password)"
sed -i "s#^store .*#store $T/B.db#" "$T/W.conf"
m W sync
[ $rc -eq 1 ] && grep -q 'password authentication failed' "$T/last.err"
ok $? "a wrong password: sync fails and says so"
m W query --json enforce.test
[ $rc -eq 0 ] && grep -q '"source": *"cache"' "$T/last.out"
ok $? "a wrong password: the cache still answers"
conf N "$(pg_conninfo "$PG_PASS" disable)"
sed -i "s#^store .*#store $T/B.db#" "$T/N.conf"
m N sync
[ $rc -eq 1 ] && grep -q 'no encryption' "$T/last.err"
ok $? "no TLS where the server requires it: sync fails and says so"
rec N $D sts success good.mx.test 127.0.20.1 127.0.30.2 - 1
ok $? "no TLS: results are still recorded"

tap_end
