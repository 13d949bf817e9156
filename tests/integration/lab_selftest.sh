#!/bin/sh
# lab_selftest.sh - TAP: the test lab (tests/lab) serves what
# tests/lab/domains.txt and README.md promise, checked with real clients
# (dig, getent, libunbound, curl, openssl s_client, swaks), and lab_down
# leaves nothing behind. Runs its own labs (mtlab-self, mtlab-self2) and
# takes them down on exit, whatever happens.
set -u
LAB_NAME=${LAB_SELFTEST_NAME:-mtlab-self}
unset LAB_DIR
LAB_SRC=$(cd "$(dirname "$0")/../lab" && pwd)
. "$LAB_SRC/lib.sh" || exit 1
. "$LAB_SRC/../lib/tap.sh" || exit 1
DOMAINS=$LAB_SRC/domains.txt
OUT=$(mktemp -d)
TAP_CAPTURE=$OUT/check TAP_TIMING=1	# a check's output, shown when it fails
LAB2_NAME=${LAB_NAME}2
LAB2_DIR=$(dirname "$LAB_DIR")/$LAB2_NAME

cleanup() {
	lab_down >/dev/null 2>&1
	(LAB_NAME=$LAB2_NAME; LAB_DIR=$LAB2_DIR; lab_down) >/dev/null 2>&1
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {	# MESSAGE: explain a failed check; false (for "cond || fail")
	echo "$*"
	return 1
}
say() {		# MESSAGE: explain a failed check; true (for "cond && say")
	echo "$*"
}

# ---------------------------------------------------------------- up

up_twice() {
	lab_up || return 1
	echo "# lab_up took $LAB_UP_MS ms (first, CA cache may be cold)"
	lab_up || return 1
	echo "# lab_up took $LAB_UP_MS ms (again, restarting a running lab)"
	lab_status
}
if up_twice >"$OUT/up" 2>&1; then
	grep '^#' "$OUT/up"
	ok 0 "lab_up brings the lab up, twice in a row (idempotent)"
else
	ok 1 "lab_up brings the lab up"
	sed 's/^/#   /' "$OUT/up"
	tap_end
	exit 1
fi
. "$LAB_DIR/env"

conf_has() {
	local k
	for k in "store $LAB_DIR/store.db" "forwarder $LAB_DNS" \
	    "ca_file $LAB_DIR/ca/ca.pem" "dns_timeout 2s" \
	    "connect_timeout 2s" "fetch_timeout 4s" "check_interval 0"; do
		grep -qx "$k" "$LAB_DIR/mtasts.conf" || fail "no line: $k"
	done
	[ -f "$LAB_CA" ] && [ -n "$LAB_SMTP_GOOD" ] || fail "env incomplete"
}
check "mtasts.conf and env are written with the expected keys" conf_has

resolv() {
	grep -qx "nameserver $LAB_DNS" "/etc/netns/$LAB_NAME/resolv.conf" &&
	    lab_exec grep -qx "nameserver $LAB_DNS" /etc/resolv.conf
}
check "the namespace's /etc/resolv.conf points at the lab DNS" resolv

# ---------------------------------------------------------------- DNS

txt_of() {	# NAME: TXT records, one per line, as dig prints them
	lab_dig +short "$1" TXT | grep -v '\.$'
}

ans() {	# NAME TYPE: RDATA of NAME/TYPE in the batch answers ($OUT/ans)
	awk -v n="$1." -v t="$2" '$1 == n && $4 == t {
	    $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }' "$OUT/ans" | sort
}

dns_domain() {	# DOMAIN TXT HTTP MX
	local d=$1 txt=$2 http=$3 mx=$4 want got
	got=$(ans "_mta-sts.$d" TXT)
	case $txt in
	ok)	want="\"v=STSv1; id=$LAB_POLICY_ID\"" ;;
	none)	want="" ;;
	two)	want=$(printf '"v=STSv1; id=%s"\n"v=STSv1; id=20261125T2"' \
		    "$LAB_POLICY_ID") ;;
	bad)	want='"v=STSv1; id=bad!"' ;;
	split)	want='"v=STSv1; id=2026" "1125T1"' ;;
	cname)	want="\"v=STSv1; id=$LAB_POLICY_ID\""
		[ "$(ans "_mta-sts.$d" CNAME)" = \
		    _mta-sts.target.elsewhere.test. ] ||
		    fail "$d: no CNAME" || return 1
		got=$(ans _mta-sts.target.elsewhere.test TXT) ;;
	mixed)	want=$(printf '"v=STSv1; id=%s"\n"v=spf1 -all"' \
		    "$LAB_POLICY_ID") ;;
	esac
	want=$(echo "$want" | sort)
	[ "$got" = "$want" ] || fail "$d TXT: got [$got] want [$want]" ||
	    return 1
	want=$(echo "$mx" | tr ',' '\n' | sed 's/:/ /; s/$/./' | sort)
	got=$(ans "$d" MX)
	[ "$got" = "$want" ] || fail "$d MX: got [$got] want [$want]" ||
	    return 1
	got=$(ans "mta-sts.$d" A)
	case $http in
	none|nxhost) want="" ;;
	hang)	want=$LAB_HTTPS_HANG ;;
	*)	want=$LAB_HTTPS ;;
	esac
	[ "$got" = "$want" ] || fail "mta-sts.$d A: got [$got] want [$want]"
}

dns_all() {	# one dig process asks every question, then compare
	local d g m t h mx p e bad=0
	grep -v '^#' "$DOMAINS" | awk 'NF {
	    print "_mta-sts." $1 " TXT"; print $1 " MX"; print "mta-sts." $1 " A"
	}' >"$OUT/q"
	lab_dig +noall +answer -f "$OUT/q" >"$OUT/ans" || return 1
	while read -r d g m t h mx p e; do
		dns_domain "$d" "$t" "$h" "$mx" || bad=1
	done <<EOF
$(grep -v '^#' "$DOMAINS" | grep .)
EOF
	return $bad
}
check "nsd serves _mta-sts TXT, MX and mta-sts A of every domain in domains.txt" dns_all

smtp_names() {
	local h ip
	for h in $LAB_SMTP_HOSTS; do
		ip=$(lab_exec getent ahostsv4 "$h" | awk 'NR == 1 { print $1 }')
		[ -n "$ip" ] || fail "libc cannot resolve $h" || return 1
	done
	[ "$(lab_exec getent ahostsv4 good.mx.test | awk 'NR==1{print $1}')" \
	    = "$LAB_SMTP_GOOD" ] || fail "good.mx.test is not $LAB_SMTP_GOOD"
}
check "libc (getent) resolves lab names through the namespace's resolv.conf" smtp_names

nx() {
	lab_dig nothere.test A | grep -q 'status: NXDOMAIN'
}
check "a name not in the zone is NXDOMAIN, answered authoritatively" nx

UBQ=$LAB_DIR/bin/ubq
mkdir -p "$LAB_DIR/bin"
if cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$UBQ" \
    "$LAB_SRC/ubq.c" -lunbound >"$OUT/cc" 2>&1; then
	ub_sys() {
		lab_exec "$UBQ" _mta-sts.multistring.test TXT >"$OUT/ub" &&
		    grep -qx "v=STSv1; id=$LAB_POLICY_ID" "$OUT/ub" ||
		    { cat "$OUT/ub"; return 1; }
	}
	check "libunbound (resolv.conf) gets the split TXT, joined without a space" ub_sys
	ub_fwd() {
		lab_exec "$UBQ" -f "$LAB_DNS" _mta-sts.cname.test TXT >"$OUT/ub" &&
		    grep -qx "v=STSv1; id=$LAB_POLICY_ID" "$OUT/ub" ||
		    { cat "$OUT/ub"; return 1; }
	}
	check "libunbound (forwarder) follows the _mta-sts CNAME to its TXT" ub_fwd
else
	# a check that could not run is a failure, never a pass
	ok 1 "could not run: libunbound checks: cannot build ubq ($(head -1 "$OUT/cc"))"
	ok 1 "could not run: libunbound checks"
fi

# ---------------------------------------------------------------- HTTPS

URL_PATH=/.well-known/mta-sts.txt
fetch() {	# DOMAIN [CURL ARGS]: sets rc, code, type, size; body in $OUT/body
	local d=$1
	shift
	lab_curl -o "$OUT/body" -w '%{http_code}|%{content_type}|%{size_download}' \
	    "$@" "https://mta-sts.$d$URL_PATH" >"$OUT/w" 2>"$OUT/err"
	rc=$?
	code=$(cut -d'|' -f1 "$OUT/w")
	type=$(cut -d'|' -f2 "$OUT/w")
	size=$(cut -d'|' -f3 "$OUT/w")
}

want() {	# WHAT GOT WANT
	[ "$2" = "$3" ] || fail "$1: got [$2] want [$3]; $(cat "$OUT/err")"
}

valid_body() {	# MODE
	head -1 "$OUT/body" | grep -qx 'version: STSv1' &&
	    grep -q "^mode: $1" "$OUT/body" || fail "body: $(head -3 "$OUT/body")"
}

http_domain() {	# DOMAIN MODE HTTP
	local d=$1 m=$2 h=$3
	[ "$m" = - ] && m=enforce
	case $h in
	ok|badpolicy|crlf)
		fetch "$d"
		want "$d code" "$rc $code $type" "0 200 text/plain" || return 1
		if [ "$h" = badpolicy ]; then
			grep -q '^mx good' "$OUT/body" || fail "no syntax error"
		elif [ "$h" = crlf ]; then
			grep -q "$(printf '\r')\$" "$OUT/body" || fail "no CRLF"
		else
			valid_body "$m"
		fi ;;
	charset)
		fetch "$d"
		want "$d" "$rc $code $type" \
		    "0 200 text/plain; charset=utf-8" && valid_body "$m" ;;
	html)	fetch "$d"
		want "$d" "$rc $code $type" "0 200 text/html" &&
		    valid_body "$m" ;;
	big)	fetch "$d"
		want "$d" "$rc $code $type $size" "0 200 text/plain 65537" &&
		    valid_body "$m" ;;
	max)	fetch "$d"
		want "$d" "$rc $code $type $size" "0 200 text/plain 65536" &&
		    valid_body "$m" ;;
	404)	fetch "$d"
		want "$d" "$rc $code" "0 404" ;;
	500)	fetch "$d"
		want "$d" "$rc $code" "0 500" ;;
	redirect)
		fetch "$d" -D "$OUT/hdr"
		want "$d" "$rc $code" "0 301" || return 1
		grep -qi "^location: https://www.$d$URL_PATH" "$OUT/hdr" ||
		    fail "no Location" || return 1
		fetch "$d" -L
		want "$d -L" "$rc $code $type" "0 200 text/plain" &&
		    valid_body "$m" ;;
	slow)	fetch "$d" -m 2
		want "$d" "$rc $code" "28 200" || return 1
		[ "$size" -lt 1000 ] || fail "slow body arrived whole" ;;
	hang)	fetch "$d" -m 1
		want "$d" "$rc $code" "28 000" ;;
	expired|self|wrongname)
		fetch "$d"
		want "$d" "$rc" 60 || return 1
		case $h in
		expired) grep -q 'certificate has expired' "$OUT/err" ;;
		self)	grep -q 'self-signed certificate' "$OUT/err" ;;
		wrongname) grep -q 'no alternative certificate subject name' \
			    "$OUT/err" ;;
		esac || fail "$d: wrong error: $(cat "$OUT/err")" || return 1
		fetch "$d" -k
		want "$d -k" "$rc $code" "0 200" && valid_body "$m" ;;
	none|nxhost)
		fetch "$d"
		want "$d" "$rc" 6 ;;
	*)	fail "$d: unknown http kind $h" ;;
	esac
}

http_all() {
	local d g m t h mx p e bad=0
	while read -r d g m t h mx p e; do
		http_domain "$d" "$m" "$h" || bad=1
	done <<EOF
$(grep -v '^#' "$DOMAINS" | grep .)
EOF
	return $bad
}
check "nginx serves every mta-sts host as domains.txt says (status, type, size, cert errors)" http_all

policy_dyn() {
	printf 'version: STSv1\nmode: testing\nmx: dyn.mx.test\nmax_age: 60\n' |
	    lab_set_policy dyn.test - || return 1
	fetch dyn.test
	want "new policy" "$code" 200 || return 1
	grep -qx 'mx: dyn.mx.test' "$OUT/body" || fail "old body served" ||
	    return 1
	lab_del_policy dyn.test
	fetch dyn.test
	want "deleted policy" "$code" 404
}
check "lab_set_policy / lab_del_policy change what mta-sts.dyn.test serves at once" policy_dyn

http_stop_start() {
	lab_http_stop || return 1
	fetch enforce.test
	want "http stopped" "$rc" 7 || return 1
	lab_http_start || return 1
	fetch enforce.test
	want "http started" "$rc $code" "0 200"
}
check "lab_http_stop refuses connections, lab_http_start serves again" http_stop_start

# ---------------------------------------------------------------- DNS changes

txt_change() {
	lab_set_txt _mta-sts.dyn.test "v=STSv1; id=changed1" || return 1
	want "dig" "$(txt_of _mta-sts.dyn.test)" '"v=STSv1; id=changed1"' ||
	    return 1
	if [ -x "$UBQ" ]; then
		lab_exec "$UBQ" _mta-sts.dyn.test TXT >"$OUT/ub"
		grep -qx 'v=STSv1; id=changed1' "$OUT/ub" ||
		    fail "libunbound sees: $(cat "$OUT/ub")" || return 1
	fi
	lab_set_txt _mta-sts.dyn.test '"v=STSv1; " "id=changed2"' \
	    "v=other" || return 1
	want "two" "$(txt_of _mta-sts.dyn.test | sort | tr '\n' '|')" \
	    '"v=STSv1; " "id=changed2"|"v=other"|' || return 1
	lab_set_txt _mta-sts.dyn.test || return 1
	lab_dig _mta-sts.dyn.test TXT | grep -q 'status: NXDOMAIN' ||
	    fail "TXT not deleted" || return 1
	lab_set_rr dyn.test MX "10 attacker.evil.test." || return 1
	want "MX" "$(lab_dig +short dyn.test MX)" "10 attacker.evil.test."
}
check "lab_set_txt / lab_set_rr replace and delete RRsets, visible at once" txt_change

dns_stop_start() {
	lab_dns_stop || return 1
	lab_dig +short +retry=0 +time=1 enforce.test MX >"$OUT/d" 2>&1 &&
	    say "DNS still answers: $(cat "$OUT/d")" && return 1
	lab_exec getent hosts good.mx.test && say "libc still resolves" &&
	    return 1
	lab_dns_start || return 1
	want "after restart" "$(lab_dig +short dyn.test MX)" \
	    "10 attacker.evil.test."
}
check "lab_dns_stop stops answers, lab_dns_start serves the current zone" dns_stop_start

# ---------------------------------------------------------------- SMTP

s_client() {	# HOST [ARGS]: STARTTLS handshake, output in $OUT/s
	local h=$1
	shift
	echo QUIT | lab_exec timeout 5 openssl s_client -starttls smtp \
	    -connect "$h:25" -CAfile "$LAB_CA" -verify_hostname "$h" \
	    "$@" >"$OUT/s" 2>&1
}

subject_is() {	# NAME (OpenSSL 3.0 prints "CN = NAME", 3.5 "CN=NAME")
	grep -Eq "subject= ?CN ?= ?$1\$" "$OUT/s" ||
	    fail "certificate is not for $1: $(grep subject= "$OUT/s")"
}

tls_hosts() {
	s_client good.mx.test -verify_return_error ||
	    fail "good: $(tail -3 "$OUT/s")" || return 1
	subject_is good.mx.test || return 1
	s_client attacker.evil.test -verify_return_error ||
	    fail "attacker: $(tail -3 "$OUT/s")" || return 1
	subject_is attacker.evil.test || return 1
	s_client expired.mx.test
	grep -q 'verify error:num=10:certificate has expired' "$OUT/s" ||
	    fail "expired: $(grep -i verify "$OUT/s")" || return 1
	subject_is expired.mx.test || return 1
	s_client selfsigned.mx.test
	grep -q 'verify error:num=18:self-signed certificate' "$OUT/s" ||
	    fail "selfsigned: $(grep -i verify "$OUT/s")" || return 1
	subject_is selfsigned.mx.test || return 1
	s_client wrongname.mx.test
	grep -q 'verify error:num=62:hostname mismatch' "$OUT/s" ||
	    fail "wrongname: $(grep -i verify "$OUT/s")" || return 1
	subject_is wrong-name.elsewhere.test
}
check "STARTTLS hosts present the expected certificates (good, attacker valid; expired, self-signed, wrong name fail)" tls_hosts

ehlo() {	# HOST: the EHLO answer
	lab_exec swaks --server "$1" --quit-after EHLO --timeout 5 2>&1
}
starttls_offer() {
	local h
	for h in good.mx.test expired.mx.test selfsigned.mx.test \
	    wrongname.mx.test attacker.evil.test; do
		ehlo "$h" | grep -q '250[- ]STARTTLS' ||
		    fail "$h does not offer STARTTLS" || return 1
	done
	ehlo nostarttls.mx.test >"$OUT/e"
	grep -q '250 ' "$OUT/e" || fail "no EHLO answer: $(cat "$OUT/e")" ||
	    return 1
	grep -q STARTTLS "$OUT/e" && say "nostarttls offers STARTTLS" &&
	    return 1
	return 0
}
check "every TLS host offers STARTTLS in EHLO, nostarttls.mx.test does not" starttls_offer

tls_min() {
	s_client good.mx.test -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' &&
	    say "TLS 1.1 accepted: $(grep Protocol "$OUT/s")" && return 1
	s_client good.mx.test -tls1_2 -verify_return_error ||
	    fail "TLS 1.2 refused: $(tail -3 "$OUT/s")"
}
check "STARTTLS refuses TLS 1.1 and accepts TLS 1.2" tls_min

hang_smtp() {
	lab_exec timeout 2 swaks --server hang.mx.test --quit-after CONNECT \
	    --timeout 1 >"$OUT/h" 2>&1 && say "hang host answered" && return 1
	grep -q '220' "$OUT/h" && say "hang host sent a banner" && return 1
	return 0
}
check "hang.mx.test accepts TCP and never greets" hang_smtp

deliver_tls() {
	local r=selftest@enforce-good.test
	lab_smtp_clear
	lab_exec swaks --server good.mx.test --from sender@client1.test \
	    --to "$r" --header "Subject: lab selftest" --tls --tls-verify \
	    --tls-ca-path "$LAB_CA" --timeout 5 >"$OUT/sw" 2>&1 ||
	    fail "swaks: $(tail -5 "$OUT/sw")" || return 1
	lab_smtp_delivered good.mx.test "$r" tls ||
	    fail "not recorded: $(lab_smtp_log good.mx.test)" || return 1
	want "count" "$(lab_smtp_count good.mx.test | tr -d ' ')" 1 || return 1
	grep -q '^Subject: lab selftest' "$(lab_smtp_messages good.mx.test)" ||
	    fail "message file lacks the subject" || return 1
	lab_smtp_log good.mx.test | grep -q \
	    '"mail_from":"sender@client1.test".*"tls":true,"tls_version":"TLSv1\.[23]"' ||
	    fail "log: $(lab_smtp_log good.mx.test)" || return 1
	want "where" "$(lab_smtp_wait "$r" 1 | cut -d' ' -f1)" good.mx.test
}
check "swaks delivers to good.mx.test over verified TLS; message, sender, TLS version recorded" deliver_tls

deliver_plain() {
	local r=plain@nopolicy-good.test
	lab_exec swaks --server nostarttls.mx.test --from s@client1.test \
	    --to "$r" --timeout 5 >"$OUT/sw" 2>&1 ||
	    fail "swaks: $(tail -5 "$OUT/sw")" || return 1
	lab_smtp_delivered nostarttls.mx.test "$r" || fail "not stored" ||
	    return 1
	lab_smtp_delivered nostarttls.mx.test "$r" tls &&
	    say "recorded as TLS" && return 1
	return 0
}
check "mail to nostarttls.mx.test is stored and recorded as plain" deliver_plain

refused_tls() {
	lab_exec swaks --server expired.mx.test --to x@enforce-expired.test \
	    --tls --tls-verify --tls-ca-path "$LAB_CA" --timeout 5 \
	    >"$OUT/sw" 2>&1 && say "swaks accepted an expired cert" && return 1
	want "messages" "$(lab_smtp_count expired.mx.test | tr -d ' ')" 0 ||
	    return 1
	# swaks 2020 refuses the cert inside the TLS handshake ("tls":
	# false); swaks 2023+ after it, then quits ("tls":true)
	lab_smtp_conns expired.mx.test | tail -1 |
	    grep -q '"messages":0,.*"starttls":true,"time"' ||
	    fail "conn log: $(lab_smtp_conns expired.mx.test)"
}
check "a client refusing expired.mx.test's cert leaves a connection record and no message" refused_tls

reports() {
	printf 'report' | gzip >"$OUT/r.gz"
	lab_curl -o /dev/null -w '%{http_code}' -H \
	    'Content-Type: application/tlsrpt+gzip' --data-binary @"$OUT/r.gz" \
	    https://reports.test/tlsrpt >"$OUT/code" 2>&1 || return 1
	want "code" "$(cat "$OUT/code")" 200 || return 1
	lab_reports_log | grep -q '"content_type":"application/tlsrpt+gzip".*"method":"POST","path":"/tlsrpt"' ||
	    fail "log: $(lab_reports_log)"
}
check "the TLS-RPT receiver at https://reports.test stores a POSTed report" reports

# ---------------------------------------------------------------- two labs

second_lab() {
	LAB_SRC=$LAB_SRC LAB_NAME=$LAB2_NAME LAB_DIR=$LAB2_DIR sh -c \
	    '. "$LAB_SRC/lib.sh" && lab_up' || return 1
	ip netns exec "$LAB2_NAME" dig +short @"$LAB_DNS" good.mx.test A |
	    grep -qx "$LAB_SMTP_GOOD" || fail "second lab DNS" || return 1
	lab_dig +short good.mx.test A | grep -qx "$LAB_SMTP_GOOD" ||
	    fail "first lab DNS broke" || return 1
	fetch enforce.test
	want "first lab https" "$code" 200 || return 1
	LAB_SRC=$LAB_SRC LAB_NAME=$LAB2_NAME LAB_DIR=$LAB2_DIR sh -c \
	    '. "$LAB_SRC/lib.sh" && lab_down' || return 1
	fetch enforce.test
	want "first lab after second down" "$code" 200
}
check "a second lab runs beside the first; taking it down leaves the first alone" second_lab

# ---------------------------------------------------------------- down

down_clean() {
	local pids p
	pids=$(ip netns pids "$LAB_NAME")
	[ -n "$pids" ] || fail "no process in the lab before lab_down" ||
	    return 1
	lab_down >"$OUT/down" 2>&1 || fail "$(cat "$OUT/down")" || return 1
	echo "# lab_down took $LAB_DOWN_MS ms"
	ip netns list | awk '{print $1}' | grep -qx "$LAB_NAME" &&
	    say "namespace $LAB_NAME still there" && return 1
	[ -e "/etc/netns/$LAB_NAME" ] && say "/etc/netns/$LAB_NAME left" &&
	    return 1
	for p in $pids; do
		lab__running "$p" && say "pid $p ($(cat /proc/$p/comm)) left" &&
		    return 1
	done
	return 0
}
if down_clean >"$OUT/dc" 2>&1; then
	grep '^#' "$OUT/dc"
	ok 0 "lab_down stops every process and removes the namespace and /etc/netns entry"
else
	ok 1 "lab_down leaves nothing"
	sed 's/^/#   /' "$OUT/dc"
fi

tap_end
