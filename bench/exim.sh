#!/bin/bash
# bench/exim.sh [BUILD] - what mtasts.so adds to one delivery attempt of
# the real Exim 4.96 (Debian's exim4-daemon-heavy, unpacked as the e2e
# tests do; never installed), warm cache. Figures, not tests.
#
# Each sample is a whole new exim process, "exim -C CONF -be" expanding
# one line STRING from its standard input (Exim 4.96 limits an argument
# to 256 bytes), as a delivery process is a new process: STRING is
# either plain text (the
# process alone) or the three calls a delivery to an enforce domain
# makes (exim_mode for the router, exim_tls twice for the transport's
# hosts_require_tls and tls_verify_hosts), which dlopen() mtasts.so, read
# mtasts.conf, open the store and read the domain's row. The two kinds
# alternate; the median of the differences within each pair is our cost
# in a fresh process (wall time, and the process's CPU time and minor
# page faults from wait4()), all on CPU 0 (on this VM the other core
# runs a new process up to a third slower at times). Then one process expands the calls 2000 times more than
# another: the difference over 2000 is the warm cost of a delivery's
# calls. bench_floor fresh gives the floor: SQLite's open and first
# SELECT alone in a new process, and the price of one page fault here.
#
# Environment: BENCH_EXIM_N (samples of each kind, 60), LAB_NAME
# (mtlab-eximbench).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${1:-build}
N=${BENCH_EXIM_N:-60}
export LAB_NAME=${LAB_NAME:-mtlab-eximbench}
export BUILD
LAB_SRC=$PWD/tests/lab
. "$LAB_SRC/lib.sh" || exit 1
. tests/e2e/exim/lib.sh || exit 1
OUT=$BUILD/bench/exim
DOMAIN=enforce-good.test

say() {
	echo "bench/exim: $*" >&2
}

cleanup() {
	lab_down >/dev/null 2>&1
}

main() {
	local so conf calls
	mkdir -p "$OUT" || exit 1
	[ -x "$BUILD/bench/bench_floor" ] || {
		say "no $BUILD/bench/bench_floor (make BUILD=$BUILD benches)"
		exit 1
	}
	trap cleanup EXIT
	lab_up >"$OUT/lab-up.log" 2>&1 || { say "lab up failed"; exit 1; }
	exim_setup || exit 1
	exim_store_reset || exit 1
	exim_engine_conf || exit 1
	so=$EXIM_DIR/mtasts.so
	conf=$EXIM_DIR/mtasts.conf
	# a warm call must be a pure cache answer: no TXT check during the run
	sed -i -e '/^check_interval /d' "$conf" &&
	    echo "check_interval 1d" >>"$conf" || exit 1
	calls="\${dlfunc{$so}{exim_mode}{$DOMAIN}{$conf}}"
	calls="$calls \${dlfunc{$so}{exim_tls}{$DOMAIN}{good.mx.test}{$conf}}"
	calls="$calls \${dlfunc{$so}{exim_tls}{$DOMAIN}{good.mx.test}{$conf}}"
	# the first call fetches the policy (the lab is up); then warm
	if ! echo "$calls" | lab_exec "$EXIM_BIN" -C "$EXIM_CONF" -be \
	    >"$OUT/first.txt" 2>&1 || ! grep -q '^> enforce \* \*$' \
	    "$OUT/first.txt"; then
		say "the first expansion did not say enforce: $(cat \
		    "$OUT/first.txt")"
		exit 1
	fi
	# one CPU for every sample: here the second core runs a new process
	# up to a third slower at times, which no difference of medians
	# survives
	taskset -c 0 "$LAB_PY" - "$EXIM_BIN" "$EXIM_CONF" "$calls" "$N" \
	    <<'EOF' || exit 1
import os, statistics, subprocess, sys, time
exim, conf, calls, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def sample(string):
    # wait4 through os.posix_spawn so the rusage is this child's alone
    r, w = os.pipe()
    ir, iw = os.pipe()
    os.write(iw, (string + '\n').encode())
    os.close(iw)
    t = time.monotonic()
    pid = os.posix_spawn(exim, [exim, '-C', conf, '-be'],
                         os.environ, file_actions=[
                             (os.POSIX_SPAWN_DUP2, ir, 0),
                             (os.POSIX_SPAWN_DUP2, w, 1),
                             (os.POSIX_SPAWN_DUP2, w, 2)])
    os.close(w)
    os.close(ir)
    out = b''
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        out += b
    os.close(r)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t
    if status != 0:
        sys.exit('exim failed: %r' % out)
    return wall * 1e6, (ru.ru_utime + ru.ru_stime) * 1e6, ru.ru_minflt, out

plain, ours = [], []
for i in range(n):
    plain.append(sample('plain'))
    s = sample(calls)
    if b'> enforce * *' not in s[3]:
        sys.exit('unexpected answer: %r' % s[3])
    ours.append(s)

def med(v, k):
    return statistics.median(x[k] for x in v)

print('exim -be, a new process each (n=%d each, medians):' % n)
print('  %-34s %9s %9s %7s' % ('', 'wall us', 'cpu us', 'faults'))
print('  %-34s %9.0f %9.0f %7.0f' % ('exim alone', med(plain, 0),
      med(plain, 1), med(plain, 2)))
print('  %-34s %9.0f %9.0f %7.0f' % ('exim + a delivery\'s 3 calls',
      med(ours, 0), med(ours, 1), med(ours, 2)))
# the cost: the median of the differences of each adjacent pair
def pmed(k):
    return statistics.median(o[k] - p[k] for o, p in zip(ours, plain))
d = pmed(0)
print('  %-34s %9.0f %9.0f %7.0f' % ('our cost (median of pair diffs)', d,
      pmed(1), pmed(2)))
print('fresh_cost_us %.0f (target < 1000: %s)' % (d, 'met' if d < 1000
      else 'MISSED'))

# warm: the same calls 2001 times in one process against once
lines = (calls + '\n') * 2001
def many(text):
    t = time.monotonic()
    p = subprocess.run([exim, '-C', conf, '-be'], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0 or p.stdout.count(b'> enforce * *') != \
            text.count('\n'):
        sys.exit('warm run failed: %r' % p.stdout[-300:])
    return (time.monotonic() - t) * 1e6
w = statistics.median(many(lines) - many(calls + '\n') for _ in range(5))
print('warm_cost_us %.1f per delivery (3 calls; target < 50: %s)' %
      (w / 2000, 'met' if w / 2000 < 50 else 'MISSED'))
EOF
	echo "floor, SQLite alone in a new process (no Exim, no mtasts.so):"
	"$BUILD/bench/bench_floor" fresh "$(exim_store)" "$DOMAIN" 30 |
	    sed 's/^/  /'
}

main
