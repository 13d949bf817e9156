#!/bin/sh
# dns_fetch.sh - common/dns.c and common/fetch.c against the lab's real
# DNS (nsd) and HTTPS (nginx) servers. TAP: "ok - ..." / "not ok - ...".
#
# Builds tests/integration/netprobe.c with ev.c, dns.c, fetch.c, https.c,
# netfree.c, strv.c and log.c
# (under ASan and UBSan unless NETPROBE_CFLAGS says otherwise) and runs
# it inside the lab's network namespace. LAB_NAME defaults to mtlab-net.
set -u
cd "$(dirname "$0")/../.."
LAB_NAME=${LAB_NAME:-mtlab-net}
LAB_SRC=$PWD/tests/lab
. tests/lab/lib.sh
. tests/lib/tap.sh

TMP=$(mktemp -d /tmp/dns_fetch.XXXXXX)
NP=$TMP/netprobe
cleanup() {
	lab_down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

tap_diag() {	# the last probe's output
	[ -s "$TMP/out" ] && sed 's/^/#   /' "$TMP/out" | head -20
	return 0
}

# --- build ---------------------------------------------------------------
CFLAGS_NP=${NETPROBE_CFLAGS:--O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined}
if ! ${CC:-cc} -Icommon/include -Icommon -D_GNU_SOURCE -std=c11 -Wall \
    -Wextra -Werror -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
    -Wshadow -Wno-unused-parameter \
    $(pkg-config --cflags libunbound libcurl openssl) $CFLAGS_NP \
    -o "$NP" tests/integration/netprobe.c common/util/ev.c common/net/dns.c \
    common/net/fetch.c common/net/https.c common/net/netfree.c \
    common/util/strv.c \
    common/util/log.c \
    $(pkg-config --libs libunbound libcurl openssl) -lpthread \
    >"$TMP/build.log" 2>&1; then
	ok 1 "build netprobe"
	sed 's/^/#   /' "$TMP/build.log" | head -30
	exit 1
fi
ok 0 "build netprobe"

if ! lab_up >"$TMP/lab.log" 2>&1; then
	ok 1 "lab_up"
	sed 's/^/#   /' "$TMP/lab.log" | tail -30
	exit 1
fi
ok 0 "lab_up"
. "$LAB_DIR/env"
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

DNS_MS=1500
CONN_MS=1500
FETCH_MS=2000
probe() {	# ARGS...: netprobe in the lab, output in $TMP/out
	lab_exec "$NP" -f "$LAB_DNS" -a "$LAB_CA" -d "$DNS_MS" \
	    -c "$CONN_MS" -t "$FETCH_MS" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	cat "$TMP/err" >>"$TMP/out"
	cat "$TMP/out" >>"$TMP/all"
	return $rc
}
has() {		# PATTERN: a line of the output matches (grep -E)
	grep -Eq -- "$1" "$TMP/out"
}
line() {	# N: line N of the output
	sed -n "${1}p" "$TMP/out"
}
ms() {		# the ms= figure of the output
	sed -n 's/.*ms=\([0-9]*\).*/\1/p' "$TMP/out" | tail -1
}
between() {	# LOW HIGH: LOW <= ms <= HIGH
	m=$(ms)
	[ -n "$m" ] && [ "$m" -ge "$1" ] && [ "$m" -le "$2" ]
}
clean() {	# no sanitizer report in any output so far
	! grep -Eq 'Sanitizer|runtime error' "$TMP/all"
}
is() {		# A B: string equality
	[ "$1" = "$2" ]
}
ID=$LAB_POLICY_ID

# --- DNS: TXT -------------------------------------------------------------
probe txt _mta-sts.enforce.test
check "txt: single record" is "$(line 1 | cut -d' ' -f1)/$(line 2)" \
    "rc=OK/v=STSv1; id=$ID"
probe txt _mta-sts.multistring.test
check "txt: two strings joined without a space" \
    is "$(line 1 | cut -d' ' -f1)/$(line 2)" "rc=OK/v=STSv1; id=$ID"
probe txt _mta-sts.cname.test
check "txt: CNAME followed" is "$(line 1 | cut -d' ' -f1)/$(line 2)" \
    "rc=OK/v=STSv1; id=$ID"
probe txt _mta-sts.twosts.test
check "txt: every record of the RRset" has '^rc=OK .* n=2 '
probe txt _mta-sts.nopolicy.test
check "txt: NXDOMAIN is ENOTFOUND" has '^rc=ENOTFOUND '
probe txt mta-sts.enforce.test
check "txt: NODATA (name has only an A record) is ENOTFOUND" \
    has '^rc=ENOTFOUND '
lab_set_rr long.test TXT \
    "\"$(printf 'a%.0s' $(seq 255))\" \"$(printf 'b%.0s' $(seq 200))\" \"\" \"c\"" \
    >/dev/null
probe txt long.test
check "txt: 255-octet and empty strings joined" \
    is "$(line 2 | wc -c)" "$((255 + 200 + 1 + 1))"
probe txt example.org
check "txt: REFUSED upstream (SERVFAIL) is EDNS" has '^rc=EDNS '

# --- DNS: MX, A/AAAA, TLSA ------------------------------------------------
lab_set_rr sorted.test MX "30 C.mx.test." "10 b.MX.test." "20 a.mx.test." \
    "10 A.mx.test." >/dev/null
probe mx sorted.test
check "mx: sorted by preference, lower case, no trailing dot" \
    is "$(sed -n '2,5p' "$TMP/out" | tr '\n' ,)" \
    "10 a.mx.test,10 b.mx.test,20 a.mx.test,30 c.mx.test,"
lab_set_rr nullmx.test MX "0 ." >/dev/null
probe mx nullmx.test
check "mx: null MX (RFC 7505) is one record with host \"\"" \
    is "$(line 2)" "0 "
probe mx nopolicy-none.test
check "mx: NXDOMAIN is ENOTFOUND" has '^rc=ENOTFOUND '
probe addrs good.mx.test
check "addrs: A record" is "$(line 1 | cut -d' ' -f1)/$(line 2)" \
    "rc=OK/127.0.20.1"
lab_set_rr dual.test AAAA "2001:db8::25" >/dev/null
lab_set_rr dual.test A "192.0.2.25" "192.0.2.26" >/dev/null
probe addrs dual.test
check "addrs: IPv4 first, then IPv6" is "$(sed -n '2,4p' "$TMP/out" | \
    awk '{ printf "%s", index($0, ":") ? 6 : 4 }')" 446
check "addrs: every address" is "$(sed -n '2,4p' "$TMP/out" | sort | \
    tr '\n' ,)" "192.0.2.25,192.0.2.26,2001:db8::25,"
lab_set_rr v6only.test AAAA "2001:db8::1" >/dev/null
probe addrs v6only.test
check "addrs: IPv6 only" is "$(line 1 | cut -d' ' -f1)/$(line 2)" \
    "rc=OK/2001:db8::1"
probe addrs nothere.test
check "addrs: no such host is ENOTFOUND" has '^rc=ENOTFOUND '
lab_set_rr _25._tcp.good.mx.test TLSA \
    "3 1 1 0000000000000000000000000000000000000000000000000000000000000000" \
    >/dev/null
probe tlsa good.mx.test 25
check "tlsa: present, not DNSSEC-validated (secure=0)" \
    has '^rc=OK .* secure=0$'
probe tlsa good.mx.test 587
check "tlsa: absent is ENOTFOUND" has '^rc=ENOTFOUND '

# --- DNS: asynchronous ----------------------------------------------------
probe atxt _mta-sts.cname.test
check "async txt: CNAME followed, callback from ev, not reentrant" \
    is "$(line 1)/$(line 2)/$(line 3 | cut -d' ' -f1-2)" \
    "rc=OK n=1/v=STSv1; id=$ID/pending=0 reentrant=0"
probe amx sorted.test
check "async mx: sorted" is "$(sed -n '2,5p' "$TMP/out" | tr '\n' ,)" \
    "10 a.mx.test,10 b.mx.test,20 a.mx.test,30 c.mx.test,"
probe aaddrs dual.test
check "async addrs: A and AAAA" has '^rc=OK n=3$'
probe atxt _mta-sts.nopolicy.test
check "async txt: NXDOMAIN is ENOTFOUND" has '^rc=ENOTFOUND n=0$'

# --- DNS: nothing left behind ---------------------------------------------
probe threads
check "dns_free joins the resolver thread, forks nothing" \
    has '^rc=OK during=2 after=1 children=0$'
check "dns: no sanitizer report" clean

# --- fetch: good ----------------------------------------------------------
probe -v fetch enforce.test
check "fetch: 200 text/plain body" has '^version: STSv1'
check "fetch: status 200, fail 0" has '^rc=OK fail=0 status=200 '
probe fetch charset.test
check "fetch: text/plain; charset=utf-8 accepted" has '^rc=OK fail=0 '
probe fetch crlf.test
check "fetch: CRLF body" has '^rc=OK fail=0 '
probe fetch max.test
check "fetch: exactly 65536 bytes accepted" has '^rc=OK .* len=65536$'
check "fetch: sends our User-Agent and no-cache, asks the right host" \
    grep -Eq 'sni="mta-sts.enforce.test" host="mta-sts.enforce.test" "GET /.well-known/mta-sts.txt HTTP/[0-9.]+" 200 .*ua="mtasts/0.1".*cc="no-cache"' \
    "$LAB_DIR/logs/nginx-access.log"

# --- fetch: refused answers -----------------------------------------------
probe fetch http404.test
check "fetch: 404 is EHTTP" has '^rc=EFETCH fail=3 status=404 '
check "fetch: 404 says so" has '^err=HTTP status 404$'
probe fetch http500.test
check "fetch: 500 is EHTTP" has '^rc=EFETCH fail=3 status=500 '
probe fetch redirect.test
check "fetch: 301 is EHTTP, not followed" has '^rc=EFETCH fail=3 status=301 '
check "fetch: redirect refusal names the target" \
    has '^err=redirect \(301\) to https://www\.redirect\.test/\.well-known/mta-sts\.txt refused: RFC 8461 forbids redirects$'
check "fetch: the redirect target was never asked" \
    sh -c "! grep -q 'host=\"www.redirect.test\"' '$LAB_DIR/logs/nginx-access.log'"
probe fetch html.test
check "fetch: text/html is EHTTP" has '^rc=EFETCH fail=3 status=200 '
check "fetch: media type named" has '^err=media type text/html is not text/plain$'
probe fetch big.test
check "fetch: 65537 bytes is ETOOBIG" has '^rc=EFETCH fail=4 '

# --- fetch: TLS -----------------------------------------------------------
probe fetch certexpired.test
check "fetch: expired certificate is ETLS" \
    has '^err=certificate for mta-sts.certexpired.test is not valid: certificate has expired$'
check "fetch: expired: fail 2" has '^rc=EFETCH fail=2 '
probe fetch certself.test
check "fetch: self-signed certificate is ETLS" has '^rc=EFETCH fail=2 '
check "fetch: self-signed named" \
    has '^err=certificate for mta-sts.certself.test is not valid: self.signed'
probe fetch certname.test
check "fetch: wrong-name certificate is ETLS" has '^rc=EFETCH fail=2 '
check "fetch: wrong name named" \
    has "^err=certificate for mta-sts.certname.test is not valid: .*(name|subject)"
lab_exec "$NP" -f "$LAB_DNS" fetch enforce.test >"$TMP/out" 2>&1
check "fetch: a CA we do not trust is ETLS" has '^rc=EFETCH fail=2 '

# --- fetch: where and how long --------------------------------------------
probe -A 127.0.10.99 fetch enforce.test
check "fetch: nobody listening is ECONNECT" has '^rc=EFETCH fail=1 '
probe -A "$LAB_HTTPS_HANG" fetch enforce.test
check "fetch: uses the caller's address, not its own DNS (hang -> ETIMEOUT)" \
    has '^rc=EFETCH fail=5 '
check "fetch: hanging server bounded by connect_timeout" \
    between "$CONN_MS" $((CONN_MS + 700))
probe fetch slow.test
check "fetch: slow body is ETIMEOUT" has '^rc=EFETCH fail=5 '
check "fetch: slow body bounded by fetch_timeout" \
    between "$FETCH_MS" $((FETCH_MS + 700))
lab_exec env https_proxy=http://127.0.10.99:3128 \
    HTTPS_PROXY=http://127.0.10.99:3128 all_proxy=http://127.0.10.99:3128 \
    "$NP" -f "$LAB_DNS" -a "$LAB_CA" fetch enforce.test >"$TMP/out" 2>&1
check "fetch: proxy environment variables ignored" has '^rc=OK fail=0 '
probe -A "$LAB_HTTPS" fetch 'bad/domain.test'
check "fetch: a domain that is not a host name is EINVAL" has '^rc=EINVAL '
probe -A not-an-ip fetch enforce.test
check "fetch: an address that is not an IP literal is EINVAL" has '^rc=EINVAL '

# --- fetch: asynchronous --------------------------------------------------
probe afetch 60 enforce.test charset.test http404.test big.test \
    certexpired.test redirect.test
check "afetch: 60 in flight, all complete, none inside the start call" \
    has '^started=60 completed=60 reentrant=0 '
cnt() { grep -c "^done $1 $2$" "$TMP/out"; }
check "afetch: enforce.test 10x OK" is "$(cnt enforce.test \
    'rc=OK fail=0 status=200 len=[0-9]*')" 10
check "afetch: charset.test 10x OK" is "$(cnt charset.test \
    'rc=OK fail=0 status=200 len=[0-9]*')" 10
check "afetch: http404.test 10x EHTTP" is "$(cnt http404.test \
    'rc=EFETCH fail=3 status=404 len=0')" 10
check "afetch: big.test 10x ETOOBIG" is "$(cnt big.test \
    'rc=EFETCH fail=4 status=200 len=0')" 10
check "afetch: certexpired.test 10x ETLS" is "$(cnt certexpired.test \
    'rc=EFETCH fail=2 status=0 len=0')" 10
check "afetch: redirect.test 10x EHTTP" is "$(cnt redirect.test \
    'rc=EFETCH fail=3 status=301 len=0')" 10
check "afetch: same body as the synchronous fetch" \
    sh -c "grep -q '^done enforce.test rc=OK fail=0 status=200 len=$( \
    lab_exec "$NP" -f "$LAB_DNS" -a "$LAB_CA" fetch enforce.test | \
    sed -n 's/.*len=\([0-9]*\)$/\1/p')\$' '$TMP/out'"
probe afetch 4 slow.test enforce.test
check "afetch: slow ones time out, others succeed" \
    is "$(grep -c '^done slow.test rc=EFETCH fail=5 ' "$TMP/out")/$(grep -c \
    '^done enforce.test rc=OK ' "$TMP/out")" 2/2
check "afetch: timeouts bounded by fetch_timeout" \
    between "$FETCH_MS" $((FETCH_MS + 700))
probe abandon slow.test
check "fetch_free/dns_free with work in flight: no callback afterwards" \
    has '^started=12 pending_at_free=8 pending_after=8$'
check "fetch: no sanitizer report" clean

# --- DNS server silent, then stopped --------------------------------------
nsd_signal() {	# SIG: to every nsd process of this lab, by pid
	for p in $(ip netns pids "$LAB_NAME"); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in
		nsd*) kill "-$1" "$p" ;;
		esac
	done
}
nsd_signal STOP
probe txt _mta-sts.enforce.test
check "dns silent: sync txt is EDNS" has '^rc=EDNS '
check "dns silent: sync wait bounded by dns_timeout" \
    between "$DNS_MS" $((DNS_MS + 500))
probe addrs good.mx.test
check "dns silent: sync A+AAAA bounded by one dns_timeout" \
    between "$DNS_MS" $((DNS_MS + 500))
probe atxt _mta-sts.enforce.test
check "dns silent: async txt is EDNS after dns_timeout" \
    has '^rc=EDNS n=0$'
check "dns silent: async deadline" between "$DNS_MS" $((DNS_MS + 500))
probe threads
check "dns silent: thread joined after a cancelled query" \
    has '^rc=EDNS during=2 after=1 children=0$'
nsd_signal CONT
lab_dns_stop >/dev/null 2>&1
probe txt _mta-sts.enforce.test
check "dns stopped: txt is EDNS" has '^rc=EDNS '
check "dns stopped: within dns_timeout" between 0 $((DNS_MS + 500))
check "dns: no sanitizer report after timeouts" clean

tap_end
