# lib.sh - the mtasts test lab, as shell functions. Source it (POSIX sh,
# dash or bash) after setting LAB_NAME / LAB_DIR if the defaults do not
# suit; see tests/lab/README.md.
#
#   LAB_NAME  network namespace name (default mtlab); two labs with
#             different names run side by side
#   LAB_RUN   the checkout's run folder, which the MTAs' users
#             (Debian-exim, opensmtpd) can reach whatever the checkout's
#             path (a clone under a mode 0700 home): default
#             /var/tmp/mtasts-run/NAME-HASH, from the checkout's path;
#             lab_run_mkdir makes it (0755 parents), reused across runs;
#             "make clean" removes it, and folders of checkouts that no
#             longer exist are removed when another one is made
#   LAB_DIR   where everything generated lives (default
#             $LAB_RUN/lab/$LAB_NAME); LAB_DIR/ca keeps the test CA and
#             certificates between runs, the rest is rewritten by lab_up
#   LAB_SRC   this folder (found by itself from bash, or from $0 when the
#             sourcing script is under tests/; set it otherwise)
#   LAB_DNSSEC  1: lab_up also serves the DNSSEC-signed zone dane.test.
#             and runs a validating unbound on $LAB_RESOLVER, which the
#             namespace's resolv.conf names (with options trust-ad);
#             lab_up checks that it validates. Needs unbound, ldnsutils.
#
# Every function returns 0 on success and non-zero with a message on
# stderr otherwise; none exits the caller.

LAB_NAME=${LAB_NAME:-mtlab}
LAB_PY=${LAB_PY:-/usr/bin/python3}	# Debian's python, with aiosmtpd

lab__find_src() {
	local d
	[ -n "${LAB_SRC:-}" ] && return 0
	if [ -n "${BASH_VERSION:-}" ]; then
		eval 'd=$(dirname "${BASH_SOURCE[0]}")'
		if [ -f "$d/lib.sh" ]; then
			LAB_SRC=$(cd "$d" && pwd)
			return 0
		fi
	fi
	for d in "$(dirname "$0")" "$(dirname "$0")/../lab" \
	    "$(dirname "$0")/tests/lab" "$PWD/tests/lab"; do
		if [ -f "$d/lib.sh" ] && [ -f "$d/labgen.py" ]; then
			LAB_SRC=$(cd "$d" && pwd)
			return 0
		fi
	done
	echo "lab: cannot find tests/lab; set LAB_SRC" >&2
	return 1
}
lab__find_src
LAB_REPO=$(cd "$LAB_SRC/../.." && pwd)
LAB_RUN_TOP=/var/tmp/mtasts-run
LAB_RUN=${LAB_RUN:-$LAB_RUN_TOP/$(basename "$LAB_REPO" | tr -c 'A-Za-z0-9._\n-' _)-$(printf '%s' "$LAB_REPO" | sha256sum | cut -c1-12)}
LAB_DIR=${LAB_DIR:-$LAB_RUN/lab/$LAB_NAME}
case $LAB_DIR in
/*) ;;
*) LAB_DIR=$PWD/$LAB_DIR ;;
esac

# Fixed addresses (inside the namespace; the same in every lab). The full
# list is in $LAB_DIR/env after lab_up.
LAB_DNS=127.0.10.53
LAB_RESOLVER=127.0.10.54	# LAB_DNSSEC=1 only: the validating unbound
LAB_HTTPS=127.0.10.1
LAB_CA=$LAB_DIR/ca/ca.pem
LAB_CONF=$LAB_DIR/mtasts.conf

lab__msg() {
	echo "lab[$LAB_NAME]: $*" >&2
}

# ---------------------------------------------------------------- run folder
# What the MTAs' users must reach (the lab's CA and config, the unpacked
# MTAs, their spools and logs, the filter they exec) lives in LAB_RUN, not
# in the checkout: a checkout may sit under a folder only root can enter.

lab__run_safe() {	# DIR: a real folder of ours, 0755, nobody else writes
	local st
	[ -d "$1" ] && [ ! -L "$1" ] || return 1
	st=$(stat -c '%u %a' "$1") || return 1
	[ "${st%% *}" = "$(id -u)" ] || return 1
	chmod 0755 "$1"
}

lab__run_one() {	# DIR: make DIR (parent exists) or check the one there
	mkdir -m 0755 "$1" 2>/dev/null
	if ! lab__run_safe "$1"; then
		lab__msg "$1 is not a folder of $(id -un) (remove it, or set" \
		    "LAB_RUN to a folder the MTA users can reach)"
		return 1
	fi
}

lab__run_prune() {	# remove run folders whose checkout is gone
	local d repo
	for d in "$LAB_RUN_TOP"/*/; do
		[ -f "$d/checkout" ] || continue
		repo=$(cat "$d/checkout" 2>/dev/null) || continue
		[ -n "$repo" ] && [ ! -e "$repo/tests/lab/lib.sh" ] &&
		    rm -rf "${d:?}"
	done
	return 0
}

lab_run_mkdir() {	# [SUB...]: make LAB_RUN (and LAB_RUN/SUB), 0755
	local s
	case $LAB_RUN in
	"$LAB_RUN_TOP"/*)
		if [ ! -d "$LAB_RUN" ]; then
			lab__run_one "$LAB_RUN_TOP" || return 1
			lab__run_prune
		fi ;;
	esac
	lab__run_one "$LAB_RUN" || return 1
	[ -f "$LAB_RUN/checkout" ] ||
	    echo "$LAB_REPO" >"$LAB_RUN/checkout" || return 1
	for s in "$@"; do
		mkdir -p -m 0755 "$LAB_RUN/$s" || return 1
	done
}

lab_run_clean() {	# remove LAB_RUN, unless a lab in it is up
	local d up=
	[ -d "$LAB_RUN" ] || return 0
	for d in "$LAB_RUN"/lab/*/; do
		[ -d "$d" ] || continue
		if lab__alive "$d/labd.pid" || lab__alive "$d/dns/nsd.pid" ||
		    lab__alive "$d/nginx/nginx.pid"; then
			up="$up $(basename "$d")"
		fi
	done
	if [ -n "$up" ]; then
		lab__msg "labs still up in $LAB_RUN:$up (LAB_NAME=NAME" \
		    "tests/lab/lab.sh down); not removed"
		return 1
	fi
	rm -rf "${LAB_RUN:?}"
}

lab_run_file() {	# FILE DIR: copy FILE into DIR (in LAB_RUN); print it
	local to=$2/$(basename "$1")
	cmp -s "$1" "$to" 2>/dev/null && { echo "$to"; return 0; }
	install -m 0755 "$1" "$to.tmp" && mv -f "$to.tmp" "$to" || return 1
	echo "$to"
}

lab_reaches() {	# USER PATH [r|w|x]: can USER reach PATH (default r)?
	setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups \
	    test -"${3:-r}" "$2" 2>/dev/null
}

lab__ms() {	# milliseconds since the epoch
	date +%s%3N
}

lab_exec() {	# CMD...: run CMD inside the lab's network namespace
	ip netns exec "$LAB_NAME" "$@"
}

lab__need_tools() {
	local t missing=""
	for t in ip ss nsd nsd-control nginx openssl dig "$LAB_PY"; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		lab__msg "missing:$missing (make deps;" \
		    "dig is in bind9-dnsutils)"
		return 1
	fi
	if lab__dnssec; then
		for t in unbound ldns-keygen ldns-signzone; do
			command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
		done
		if [ -n "$missing" ]; then
			lab__msg "LAB_DNSSEC=1 needs:$missing (apt-get install" \
			    "unbound ldnsutils)"
			return 1
		fi
	fi
	if [ "$(id -u)" -ne 0 ]; then
		lab__msg "the lab needs root (network namespaces)"
		return 1
	fi
}

lab__running() {	# PID: running (a zombie is not: PID 1 may reap late)
	local st
	st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" \
	    2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

lab__alive() {	# PIDFILE: is the process in it running?
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -n "$pid" ] && lab__running "$pid"
}

lab__listening() {	# t|u IP PORT
	lab_exec ss -Hln"$1" src "$2:$3" 2>/dev/null | grep -q .
}

lab__wait() {	# TENTHS CMD...: poll CMD every 50 ms for TENTHS/10 s
	local n=$(($1 * 2))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.05
		n=$((n - 1))
	done
	"$@"
}

lab__not() {
	! "$@"
}

lab__stop_pidfile() {	# PIDFILE NAME: TERM, wait 3 s, then KILL
	local pid
	[ -s "$1" ] || return 0
	pid=$(cat "$1" 2>/dev/null)
	if [ -n "$pid" ] && lab__running "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		if ! lab__wait 30 lab__not lab__running "$pid"; then
			lab__msg "$2 (pid $pid) ignored TERM; killing it"
			kill -KILL "$pid" 2>/dev/null
			lab__wait 10 lab__not lab__running "$pid"
		fi
	fi
	rm -f "$1"
}

lab__log_tail() {	# FILE: show the end of a server's log
	if [ -s "$1" ]; then
		echo "---- last lines of $1:" >&2
		tail -20 "$1" >&2
		echo "----" >&2
	fi
}

# ---------------------------------------------------------------- DNS

lab__soa_serial() {
	lab_exec dig +short +norec +time=1 +tries=1 @"$LAB_DNS" test. SOA \
	    2>/dev/null | awk 'NF >= 3 { print $3 }'
}

lab__serial_is() {
	[ "$(lab__soa_serial)" = "$1" ]
}

lab_dns_start() {	# start nsd; wait until it serves the current zone
	local want
	if ! lab__alive "$LAB_DIR/dns/nsd.pid"; then
		rm -f "$LAB_DIR/dns/nsd.pid" "$LAB_DIR/dns/nsd.ctl"
		if ! lab_exec nsd -c "$LAB_DIR/dns/nsd.conf" \
		    >>"$LAB_DIR/logs/nsd.out" 2>&1; then
			lab__msg "nsd failed to start"
			lab__log_tail "$LAB_DIR/logs/nsd.out"
			lab__log_tail "$LAB_DIR/logs/nsd.log"
			return 1
		fi
	fi
	want=$(cat "$LAB_DIR/dns/serial")
	if ! lab__wait 50 lab__serial_is "$want"; then
		lab__msg "nsd does not answer with zone serial $want" \
		    "on $LAB_DNS:53"
		lab__log_tail "$LAB_DIR/logs/nsd.out"
		lab__log_tail "$LAB_DIR/logs/nsd.log"
		return 1
	fi
}

lab_dns_stop() {	# stop nsd: the lab's DNS is down (queries refused)
	lab__stop_pidfile "$LAB_DIR/dns/nsd.pid" nsd
	lab__wait 30 lab__not lab__listening u "$LAB_DNS" 53
}

lab_set_rr() {	# NAME TYPE [RDATA...]: replace or delete an RRset
	local serial
	serial=$("$LAB_PY" "$LAB_SRC/labgen.py" set-rr "$LAB_DIR" "$@") ||
	    return 1
	lab__alive "$LAB_DIR/dns/nsd.pid" || return 0	# DNS stopped
	if ! nsd-control -c "$LAB_DIR/dns/nsd.conf" reload test. \
	    >/dev/null 2>"$LAB_DIR/logs/nsd-control.err"; then
		lab__msg "nsd-control reload failed"
		lab__log_tail "$LAB_DIR/logs/nsd-control.err"
		return 1
	fi
	if ! lab__wait 50 lab__serial_is "$serial"; then
		lab__msg "nsd did not load zone serial $serial (bad RDATA?)"
		lab__log_tail "$LAB_DIR/logs/nsd.log"
		return 1
	fi
}

lab_set_txt() {	# NAME [TEXT...]: replace (no TEXT: delete) NAME's TXT
	# Each TEXT is one record; text starting with " is zone-file syntax
	# for a record of several strings: '"v=STSv1; " "id=1"'.
	local name=$1
	shift
	lab_set_rr "$name" TXT "$@"
}

lab_dig() {	# dig ARGS... against the lab DNS, from inside the lab
	lab_exec dig +norec +time=2 +tries=1 @"$LAB_DNS" "$@"
}

# ---------------------------------------------------------------- DNSSEC
# LAB_DNSSEC=1 only: nsd also serves dane.test. (signed by labgen.py),
# and unbound on $LAB_RESOLVER validates it with its DS as trust anchor;
# test. stays unsigned (insecure: no AD bit).

lab__dnssec() {
	[ "${LAB_DNSSEC:-0}" = 1 ]
}

lab_resolver_start() {	# start the validating unbound (LAB_DNSSEC=1)
	local conf=$LAB_DIR/dns/unbound.conf
	if ! lab__alive "$LAB_DIR/dns/unbound.pid"; then
		rm -f "$LAB_DIR/dns/unbound.pid"
		if ! unbound-checkconf "$conf" >"$LAB_DIR/logs/unbound.out" \
		    2>&1 || ! lab_exec unbound -c "$conf" \
		    >>"$LAB_DIR/logs/unbound.out" 2>&1; then
			lab__msg "unbound failed to start"
			lab__log_tail "$LAB_DIR/logs/unbound.out"
			lab__log_tail "$LAB_DIR/logs/unbound.log"
			return 1
		fi
	fi
	if ! lab__wait 50 lab__listening u "$LAB_RESOLVER" 53; then
		lab__msg "unbound does not listen on $LAB_RESOLVER:53"
		lab__log_tail "$LAB_DIR/logs/unbound.log"
		return 1
	fi
}

lab_resolver_stop() {	# stop unbound (no-op without LAB_DNSSEC)
	lab__stop_pidfile "$LAB_DIR/dns/unbound.pid" unbound
}

lab_rdig() {	# dig ARGS... through the validating resolver, in the lab
	lab_exec dig +dnssec +time=2 +tries=1 @"$LAB_RESOLVER" "$@"
}

lab_dnssec_ad() {	# NAME TYPE: NOERROR, an answer, and the AD bit
	local out
	out=$(lab_rdig "$1" "$2" 2>&1)
	printf '%s\n' "$out" | grep -q 'status: NOERROR' &&
	    printf '%s\n' "$out" | grep -Eq 'ANSWER: [1-9]' &&
	    printf '%s\n' "$out" | grep -Eq '^;; flags:[a-z ]* ad[ ;]'
}

lab_dnssec_insecure() {	# NAME TYPE: NOERROR, an answer, no AD bit
	local out
	out=$(lab_rdig "$1" "$2" 2>&1)
	printf '%s\n' "$out" | grep -q 'status: NOERROR' &&
	    printf '%s\n' "$out" | grep -Eq 'ANSWER: [1-9]' &&
	    ! printf '%s\n' "$out" | grep -Eq '^;; flags:[a-z ]* ad[ ;]'
}

lab_dnssec_check() {	# does the resolver validate dane.test., not test.?
	local n
	for n in "_25._tcp.mx.$LAB_DANE_ZONE TLSA" "$LAB_DANE_ZONE MX" \
	    "mx.$LAB_DANE_ZONE A" "_25._tcp.mx-bad.$LAB_DANE_ZONE TLSA"; do
		if ! lab__wait 30 lab_dnssec_ad $n; then
			lab__msg "DNSSEC broken: no validated answer (AD) for" \
			    "$n through $LAB_RESOLVER"
			lab_rdig $n >&2
			lab__log_tail "$LAB_DIR/logs/unbound.log"
			return 1
		fi
	done
	if ! lab_dnssec_insecure good.mx.test A; then
		lab__msg "DNSSEC broken: the unsigned good.mx.test A is not" \
		    "an insecure answer through $LAB_RESOLVER"
		lab_rdig good.mx.test A >&2
		return 1
	fi
	if [ "$(lab_rdig +short _25._tcp.mx.$LAB_DANE_ZONE TLSA |
	    grep -v '^TLSA ' | tr -d ' ' | tr A-F a-f)" != \
	    "$(echo "$LAB_DANE_TLSA" | tr -d ' ')" ]; then
		lab__msg "DNSSEC broken: TLSA of mx.$LAB_DANE_ZONE is not" \
		    "$LAB_DANE_TLSA"
		return 1
	fi
}

# ---------------------------------------------------------------- HTTPS

lab_http_start() {	# start nginx (every mta-sts.* policy host)
	if ! lab__alive "$LAB_DIR/nginx/nginx.pid"; then
		if ! lab_exec nginx -c "$LAB_DIR/nginx.conf" -p "$LAB_DIR" \
		    -e "$LAB_DIR/logs/nginx-error.log" \
		    >>"$LAB_DIR/logs/nginx.out" 2>&1; then
			lab__msg "nginx failed to start"
			lab__log_tail "$LAB_DIR/logs/nginx.out"
			lab__log_tail "$LAB_DIR/logs/nginx-error.log"
			return 1
		fi
	fi
	if ! lab__wait 50 lab__listening t "$LAB_HTTPS" 443; then
		lab__msg "nginx does not listen on $LAB_HTTPS:443"
		lab__log_tail "$LAB_DIR/logs/nginx-error.log"
		return 1
	fi
}

lab_http_stop() {	# stop nginx: policy hosts refuse connections
	lab__stop_pidfile "$LAB_DIR/nginx/nginx.pid" nginx
	lab__wait 30 lab__not lab__listening t "$LAB_HTTPS" 443
}

lab_policy_file() {	# DOMAIN: the file served for mta-sts.DOMAIN
	echo "$LAB_DIR/www/$1/.well-known/mta-sts.txt"
}

lab_set_policy() {	# DOMAIN FILE|-: serve that body for mta-sts.DOMAIN
	local f
	f=$(lab_policy_file "$1")
	if [ ! -d "$(dirname "$f")" ]; then
		lab__msg "no policy host for $1 (see domains.txt)"
		return 1
	fi
	if [ "$2" = - ]; then
		cat >"$f.tmp" || return 1
	else
		cp "$2" "$f.tmp" || return 1
	fi
	mv -f "$f.tmp" "$f"
}

lab_del_policy() {	# DOMAIN: mta-sts.DOMAIN answers 404 from now on
	rm -f "$(lab_policy_file "$1")"
}

lab_curl() {	# curl ARGS... from inside the lab, trusting the test CA
	lab_exec curl -sS --cacert "$LAB_CA" "$@"
}

# ---------------------------------------------------------------- SMTP

lab_smtp_start() {	# start labd: SMTP hosts, hang listeners, reports
	lab__alive "$LAB_DIR/labd.pid" && return 0
	lab__smtp_spawn && lab__smtp_wait
}

lab__smtp_spawn() {	# start labd detached (no zombie left in our shell)
	rm -f "$LAB_DIR/labd.pid" "$LAB_DIR/labd.spawn"
	(
		lab_exec setsid "$LAB_PY" "$LAB_SRC/labd.py" \
		    "$LAB_DIR/labd.json" >>"$LAB_DIR/logs/labd.log" 2>&1 \
		    </dev/null &
		echo $! >"$LAB_DIR/labd.spawn"
	)
}

lab__labd_ready() {	# ready, or exited (stop polling then)
	lab__alive "$LAB_DIR/labd.pid" && return 0
	lab__alive "$LAB_DIR/labd.spawn" || return 0
	return 1
}

lab__smtp_wait() {	# wait until labd has bound every listener
	if ! lab__wait 100 lab__labd_ready ||
	    ! lab__alive "$LAB_DIR/labd.pid"; then
		lab__msg "labd (SMTP hosts) did not start"
		lab__log_tail "$LAB_DIR/logs/labd.log"
		lab__stop_pidfile "$LAB_DIR/labd.spawn" labd
		return 1
	fi
	rm -f "$LAB_DIR/labd.spawn"
}

lab_smtp_stop() {	# stop every SMTP host (and hang/report listeners)
	lab__stop_pidfile "$LAB_DIR/labd.pid" labd
}

lab_smtp_dir() {	# HOST: where HOST keeps its messages
	echo "$LAB_DIR/smtp/$1"
}

lab_smtp_messages() {	# HOST: message files HOST received, oldest first
	local d
	d=$(lab_smtp_dir "$1")
	[ -d "$d" ] || { lab__msg "no SMTP host $1"; return 1; }
	find "$d" -maxdepth 1 -name '*.eml' | sort
}

lab_smtp_count() {	# HOST: how many messages HOST received
	lab_smtp_messages "$1" | wc -l
}

lab_smtp_log() {	# HOST: one JSON line per message (see labd.py)
	cat "$(lab_smtp_dir "$1")/log.jsonl" 2>/dev/null
	return 0
}

lab_smtp_conns() {	# HOST: one JSON line per connection (see labd.py)
	cat "$(lab_smtp_dir "$1")/conn.jsonl" 2>/dev/null
	return 0
}

lab_smtp_clear() {	# [HOST...]: forget received mail (default: all)
	local h
	[ $# -gt 0 ] || set -- $(ls "$LAB_DIR/smtp" 2>/dev/null)
	for h in "$@"; do
		rm -f "$LAB_DIR/smtp/$h"/*.eml "$LAB_DIR/smtp/$h"/*.jsonl
	done
}

lab_smtp_where() {	# RCPT: "HOST TLSVERSION|plain FILE" per message
	"$LAB_PY" - "$LAB_DIR/smtp" "$1" <<'EOF'
import glob, json, os, sys
top, rcpt = sys.argv[1], sys.argv[2].lower()
for log in sorted(glob.glob(os.path.join(top, '*', 'log.jsonl'))):
    for line in open(log):
        m = json.loads(line)
        if rcpt in [r.lower() for r in m['rcpt_tos']]:
            print(m['host'], m['tls_version'] if m['tls'] else 'plain',
                  m['file'])
EOF
}

lab_smtp_delivered() {	# HOST RCPT [tls]: HOST got mail for RCPT (over TLS)
	lab_smtp_where "$2" | awk -v h="$1" -v t="${3:-}" '
	    $1 == h && (t != "tls" || $2 != "plain") { ok = 1 }
	    END { exit !ok }'
}

lab_smtp_wait() {	# RCPT [SECONDS]: wait for mail to RCPT; print where
	local n=$((${2:-10} * 10))
	while [ "$n" -gt 0 ]; do
		if [ -n "$(lab_smtp_where "$1")" ]; then
			lab_smtp_where "$1"
			return 0
		fi
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

lab_reports_log() {	# one JSON line per TLS-RPT POST (see labd.py)
	cat "$LAB_DIR/reports/log.jsonl" 2>/dev/null
	return 0
}

# ---------------------------------------------------------------- misc

lab_cert() {	# NAME [valid|expired|self|wrong]: print "CERT KEY"
	"$LAB_PY" "$LAB_SRC/labgen.py" cert "$LAB_DIR" "$@"
}

lab_add_addr() {	# IP...: more addresses on the lab's lo
	local a
	for a in "$@"; do
		ip -n "$LAB_NAME" addr replace "$a/32" dev lo || return 1
	done
}

lab_bulk_domains() {	# N: add N enforce domains bNNNN.bench.test (bench/)
	local serial last
	serial=$("$LAB_PY" "$LAB_SRC/labgen.py" bulk "$LAB_DIR" "$1") ||
	    return 1
	if ! nsd-control -c "$LAB_DIR/dns/nsd.conf" reload test. \
	    >/dev/null 2>"$LAB_DIR/logs/nsd-control.err" ||
	    ! lab__wait 100 lab__serial_is "$serial"; then
		lab__msg "nsd did not load zone serial $serial"
		lab__log_tail "$LAB_DIR/logs/nsd.log"
		return 1
	fi
	if ! lab_exec nginx -c "$LAB_DIR/nginx.conf" -p "$LAB_DIR" \
	    -e "$LAB_DIR/logs/nginx-error.log" -s reload \
	    >>"$LAB_DIR/logs/nginx.out" 2>&1; then
		lab__msg "nginx reload failed"
		lab__log_tail "$LAB_DIR/logs/nginx-error.log"
		return 1
	fi
	last=$(printf 'b%04d.bench.test' "$1")
	if ! lab__wait 100 lab__bulk_served "$last"; then
		lab__msg "nginx does not serve mta-sts.$last"
		lab__log_tail "$LAB_DIR/logs/nginx-error.log"
		return 1
	fi
}

lab__bulk_served() {	# DOMAIN: its policy host answers 200
	[ "$(lab_curl -o /dev/null -w '%{http_code}' \
	    "https://mta-sts.$1/.well-known/mta-sts.txt" 2>/dev/null)" = 200 ]
}

lab__ns_up() {
	local a
	if ! ip netns list | awk '{print $1}' | grep -qx "$LAB_NAME"; then
		ip netns add "$LAB_NAME" || return 1
	fi
	mkdir -p "/etc/netns/$LAB_NAME" || return 1
	if lab__dnssec; then
		# glibc >= 2.31 clears the AD bit unless told to trust it
		printf 'nameserver %s\noptions timeout:2 attempts:2 trust-ad\n' \
		    "$LAB_RESOLVER" >"/etc/netns/$LAB_NAME/resolv.conf" ||
		    return 1
	else
		printf 'nameserver %s\noptions timeout:2 attempts:2\n' \
		    "$LAB_DNS" >"/etc/netns/$LAB_NAME/resolv.conf" || return 1
	fi
	{
		echo "link set lo up"
		for a in $LAB_ADDRS; do
			echo "address replace $a/32 dev lo"
		done
	} | ip -n "$LAB_NAME" -batch - || return 1
}

lab_up() {	# (re)start the lab in its initial state
	local t0 dir
	t0=$(lab__ms)
	lab__need_tools || return 1
	lab_down >/dev/null 2>&1
	lab_run_mkdir lab || return 1
	mkdir -p -m 0755 "$LAB_DIR" || return 1
	for dir in smtp reports logs www dns nginx; do
		rm -rf "${LAB_DIR:?}/$dir"
	done
	rm -f "$LAB_DIR"/store.db*
	"$LAB_PY" "$LAB_SRC/labgen.py" gen "$LAB_DIR" "$LAB_NAME" \
	    $(lab__dnssec && echo dnssec) || {
		lab__msg "generating the lab failed"
		return 1
	}
	. "$LAB_DIR/env"
	lab__ns_up || { lab__msg "namespace setup failed"; return 1; }
	# labd imports aiosmtpd (slowest start): launch it first, wait last.
	lab__smtp_spawn || return 1
	lab_dns_start || return 1
	if lab__dnssec; then
		lab_resolver_start && lab_dnssec_check || return 1
	fi
	lab_http_start || return 1
	lab__smtp_wait || return 1
	LAB_UP_MS=$(($(lab__ms) - t0))
	lab__msg "up in ${LAB_UP_MS} ms ($LAB_DIR)"
}

lab_down() {	# stop everything, remove the namespace; keep LAB_DIR files
	local t0 pids left
	t0=$(lab__ms)
	lab__stop_pidfile "$LAB_DIR/labd.pid" labd
	lab__stop_pidfile "$LAB_DIR/labd.spawn" labd
	lab__stop_pidfile "$LAB_DIR/nginx/nginx.pid" nginx
	lab__stop_pidfile "$LAB_DIR/dns/nsd.pid" nsd
	lab_resolver_stop
	if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$LAB_NAME"
	then
		# Whatever else still runs in the namespace was started in it
		# (an MTA under test, a server's child): end it by pid.
		pids=$(ip netns pids "$LAB_NAME" 2>/dev/null)
		if [ -n "$pids" ]; then
			kill -TERM $pids 2>/dev/null
			lab__wait 30 lab__ns_empty
			left=$(ip netns pids "$LAB_NAME" 2>/dev/null)
			[ -n "$left" ] && kill -KILL $left 2>/dev/null
			lab__wait 20 lab__ns_empty
		fi
		ip netns del "$LAB_NAME" || return 1
	fi
	rm -rf "/etc/netns/$LAB_NAME"
	LAB_DOWN_MS=$(($(lab__ms) - t0))
	lab__msg "down in ${LAB_DOWN_MS} ms"
}

lab__ns_empty() {
	[ -z "$(ip netns pids "$LAB_NAME" 2>/dev/null)" ]
}

lab_status() {	# print what runs; 0 when everything is up
	local ok=0
	if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$LAB_NAME"
	then
		echo "namespace $LAB_NAME: present"
	else
		echo "namespace $LAB_NAME: absent"
		return 1
	fi
	lab__status_one "dns (nsd) $LAB_DNS:53" "$LAB_DIR/dns/nsd.pid" || ok=1
	if [ -f "$LAB_DIR/dns/unbound.conf" ]; then
		lab__status_one "resolver (unbound) $LAB_RESOLVER:53" \
		    "$LAB_DIR/dns/unbound.pid" || ok=1
	fi
	lab__status_one "https (nginx) $LAB_HTTPS:443" \
	    "$LAB_DIR/nginx/nginx.pid" || ok=1
	lab__status_one "smtp hosts (labd)" "$LAB_DIR/labd.pid" || ok=1
	echo "dir $LAB_DIR"
	return $ok
}

lab__status_one() {
	if lab__alive "$2"; then
		echo "$1: running, pid $(cat "$2")"
	else
		echo "$1: stopped"
		return 1
	fi
}
