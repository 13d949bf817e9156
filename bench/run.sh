#!/bin/bash
# bench/run.sh BUILD - figures for the resolution engine beside Debian's
# postfix-mta-sts-resolver, in one run, in the test lab with N enforce
# domains (tests/lab: lab_bulk_domains). See bench/README.md.
#
#   BENCH_N      domains (default 1000)
#   BENCH_REPS   repetitions of every figure; the table shows medians
#                (default 3)
#   BENCH_J      requests in flight for the concurrent cold figure (50)
#   BENCH_WARM_S seconds of each warm run against the peer (5)
#   BENCH_PEER_CACHE  the peer's cache backend: sqlite (default, like
#                ours) or internal (in memory)
#   LAB_NAME     the lab (default mtlab-bench)
#
# Prints figures, never pass/fail: exits 0 when everything could be
# measured, 1 when a figure is missing (setup failure, errors in answers).

cd "$(dirname "$0")/.." || exit 1
BUILD=${1:-build}
N=${BENCH_N:-1000}
REPS=${BENCH_REPS:-3}
J=${BENCH_J:-50}
WARM_S=${BENCH_WARM_S:-5}
PEER_CACHE=${BENCH_PEER_CACHE:-sqlite}
WARM_ROUNDS=20
PEER_PORT=8461
LAB_NAME=${LAB_NAME:-mtlab-bench}
OUT=$BUILD/bench/out
BIN=$BUILD/bench
PEER_PID=

. tests/lab/lib.sh

say() {
	echo "bench: $*" >&2
}

cleanup() {
	peer_stop
	lab_down >/dev/null 2>&1
}

need_peer() {
	if ! command -v mta-sts-daemon >/dev/null 2>&1; then
		say "installing the peer (postfix-mta-sts-resolver) from Debian"
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    --no-install-recommends -o DPkg::Lock::Timeout=300 \
		    postfix-mta-sts-resolver >"$OUT/apt.log" 2>&1 || {
			say "apt-get failed; see $OUT/apt.log"
			return 1
		}
	fi
}

peer_conf() {	# DBFILE: the daemon's YAML
	cat >"$OUT/peer.yml" <<EOF
host: 127.0.0.1
port: $PEER_PORT
reuse_port: true
shutdown_timeout: 1
cache_grace: 86400
cache:
$(if [ "$PEER_CACHE" = internal ]; then
	printf '  type: internal\n  options:\n    cache_size: 10000\n'
else
	printf '  type: sqlite\n  options:\n    filename: "%s"\n' "$1"
fi)
default_zone:
  strict_testing: false
  timeout: 4
EOF
}

peer_start() {	# a fresh daemon on an empty cache, in the lab
	rm -f "$OUT"/peer.db*
	peer_conf "$OUT/peer.db"
	# aiohttp uses Python's default SSL context: OpenSSL's default
	# verify paths, which SSL_CERT_FILE overrides. DNS (aiodns) and
	# getaddrinfo read /etc/netns/$LAB_NAME/resolv.conf: the lab DNS.
	# (ip netns exec, not the lab_exec function: $! must be its pid)
	ip netns exec "$LAB_NAME" env SSL_CERT_FILE="$LAB_CA" \
	    /usr/bin/mta-sts-daemon \
	    -c "$OUT/peer.yml" -v error >>"$OUT/peer.log" 2>&1 &
	PEER_PID=$!
	if ! lab__wait 100 lab__listening t 127.0.0.1 "$PEER_PORT"; then
		say "mta-sts-daemon did not start; see $OUT/peer.log"
		tail -5 "$OUT/peer.log" >&2
		return 1
	fi
}

peer_stop() {
	[ -n "$PEER_PID" ] || return 0
	kill -TERM "$PEER_PID" 2>/dev/null
	lab__wait 50 lab__not lab__running "$PEER_PID" ||
	    kill -KILL "$PEER_PID" 2>/dev/null
	wait "$PEER_PID" 2>/dev/null
	PEER_PID=
}

peer_mem() {	# key value lines for the daemon's memory
	local rss hwm
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PEER_PID/status")
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PEER_PID/status")
	echo "vmrss_kib $rss"
	echo "vmhwm_kib $hwm"
}

engine_conf() {	# our lab config on the bench's own store, long TXT check
	sed -e "s|^store .*|store $PWD/$OUT/engine.db|" \
	    -e 's|^check_interval .*|check_interval 1d|' "$LAB_CONF" \
	    >"$OUT/engine.conf"
}

ours() {	# REP MODE [ARG]: one bench_engine run, output kept
	local rep=$1
	shift
	lab_exec "$BIN/bench_engine" "$OUT/engine.conf" "$N" "$@" \
	    >"$OUT/ours-$1-$rep.txt" 2>>"$OUT/ours.err"
}

peer_cpu_ms() {	# CPU time (user + system, all threads) of the daemon
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' \
	    "/proc/$PEER_PID/stat"
}

peer() {	# REP NAME ARGS...: one bench_peer run, output kept, with the
	# daemon's CPU time during it
	local rep=$1 name=$2 c0 c1 rc
	shift 2
	c0=$(peer_cpu_ms)
	lab_exec "$BIN/bench_peer" 127.0.0.1 "$PEER_PORT" "$N" "$@" \
	    >"$OUT/peer-$name-$rep.txt" 2>>"$OUT/peer.err"
	rc=$?
	c1=$(peer_cpu_ms)
	echo "cpu_ms $(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
	    >>"$OUT/peer-$name-$rep.txt"
	return $rc
}

one_rep() {	# REP
	local r=$1
	say "repetition $r of $REPS"
	# ours: cold one at a time, cold J in flight, warm, each a new
	# process; the store is emptied before each cold run
	rm -f "$OUT"/engine.db*
	ours "$r" seq || return 1
	rm -f "$OUT"/engine.db*
	ours "$r" async "$J" || return 1
	ours "$r" warm "$WARM_ROUNDS" || return 1
	# the peer: a fresh daemon for each cold run
	peer_start || return 1
	peer "$r" seq seq || return 1
	peer_stop
	peer_start || return 1
	peer "$r" conc conc "$J" || return 1
	peer "$r" warm1 warm 1 "$WARM_S" || return 1
	peer "$r" warm16 warm 16 "$WARM_S" || return 1
	peer_mem >"$OUT/peer-mem-$r.txt"
	peer_stop
}

load_note() {
	echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores;" \
	    "busiest others:" $(ps -eo pcpu=,comm= --sort=-pcpu | head -4 |
	    awk '{ printf "%s %s%%; ", $2, $1 }')
}

main() {
	local r
	mkdir -p "$OUT" || exit 1
	rm -f "$OUT"/*.txt "$OUT"/*.err "$OUT"/*.log
	for b in bench_engine bench_peer bench_floor; do
		[ -x "$BIN/$b" ] || { say "no $BIN/$b (make bench)"; exit 1; }
	done
	need_peer || exit 1
	trap cleanup EXIT
	lab_up || exit 1
	say "adding $N bench domains to the lab (certificates are made" \
	    "once and kept in $LAB_DIR/ca/bulk)"
	lab_bulk_domains "$N" || exit 1
	engine_conf
	load_note >"$OUT/load-before.txt"
	for r in $(seq 1 "$REPS"); do
		if ! one_rep "$r"; then
			say "repetition $r failed; see $OUT/*.err"
			tail -5 "$OUT"/*.err >&2
			exit 1
		fi
	done
	load_note >"$OUT/load-after.txt"
	PEER_VERSION="$(dpkg-query -W -f='${Version}' \
	    postfix-mta-sts-resolver 2>/dev/null), $PEER_CACHE cache" \
	    "$LAB_PY" bench/table.py "$OUT" "$REPS" "$N" "$J"
	floors
}

# What this machine allows at best, with the same libraries and lab but
# none of our code (bench_floor.c): the cold figures cannot go below
# these, whatever the engine does.
floors() {
	local worker addr tls curl dns cc sc inflight
	worker=$(pgrep -P "$(cat "$LAB_DIR/nginx/nginx.pid")" | head -1)
	addr=$(lab_dig +short A mta-sts.b0001.bench.test)
	lab_exec "$BIN/bench_floor" tls "$LAB_CA" "$addr" "$N" "$worker" \
	    >"$OUT/floor-tls.txt" &&
	    lab_exec "$BIN/bench_floor" curl "$LAB_CA" "$addr" "$N" \
	    >"$OUT/floor-curl.txt" &&
	    lab_exec "$BIN/bench_floor" dns "$LAB_DNS" "$N" \
	    >"$OUT/floor-dns.txt" &&
	    "$BIN/bench_floor" mem "$LAB_CA" "$OUT/floor.db" \
	    >"$OUT/floor-mem.txt" || { say "a floor failed"; return 1; }
	rm -f "$OUT"/floor.db*
	v() { awk -v k="$2" '$1 == k { print $2 }' "$OUT/floor-$1.txt"; }
	tls=$(v tls tls_wall_p50_us)
	curl=$(v curl curl_wall_p50_us)
	dns=$(v dns dns_txt_then_a_p50_us)
	cc=$(v curl curl_client_cpu_us)
	sc=$(v tls tls_server_cpu_us)
	inflight=$(awk -v c="$cc" -v s="$sc" -v n="$N" -v k="$(nproc)" \
	    'BEGIN { printf "%.2f", (c + s) * n / 1e6 / k }')
	echo
	echo "Floors on this machine (bench_floor: the same lab and libraries,"
	echo "none of our code; 'tls' is OpenSSL with one SSL_CTX for all"
	echo "fetches, 'curl' is libcurl as fetch.c must use it):"
	awk '{ printf "  %-28s %s\n", $1, $2 }' "$OUT"/floor-tls.txt \
	    "$OUT"/floor-curl.txt "$OUT"/floor-dns.txt "$OUT"/floor-mem.txt
	ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }
	echo "  cold one at a time >= fetch + TXT and A:" \
	    "with libcurl $(ms $((curl + dns))), without $(ms $((tls + dns)))"
	echo "  cold $J in flight >= (client + server CPU) x $N over" \
	    "$(nproc) cores: with libcurl $inflight s, without" \
	    "$(v tls tls_inflight_floor_s) s"
	echo "  resident >= mem_setup_rss_kib (the libraries loaded and set up)"
}

main
