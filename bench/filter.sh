#!/bin/bash
# bench/filter.sh BUILD - figures of filter-mtasts through the smtpd
# filter protocol (issue 5 item 4), in the test lab; see bench/FILTER.md.
# Needs BUILD/filter-mtasts and BUILD/bench/bench_filter (make all
# benches), root (the lab).
#
#   FBENCH_REPS  repetitions of every figure; the table shows medians (3)
#   FBENCH_N     distinct domains of the memory figure (100000)
#   FBENCH_SECS  seconds of each warm run (5)
#   FBENCH_RATE  requests/s of the stream beside the hung fetch (1000)
#   LAB_NAME     the lab (default mtlab-fbench)
#
# Prints figures, never pass/fail: exits 0 when everything could be
# measured, 1 when a figure is missing (setup failure, filter died, an
# answer missing or wrong).

cd "$(dirname "$0")/.." || exit 1
BUILD=${1:-build}
REPS=${FBENCH_REPS:-3}
N=${FBENCH_N:-100000}
SECS=${FBENCH_SECS:-5}
RATE=${FBENCH_RATE:-1000}
export LAB_NAME=${LAB_NAME:-mtlab-fbench}
OUT=$BUILD/bench/filter
BF=$PWD/$BUILD/bench/bench_filter
FILTER=$PWD/$BUILD/filter-mtasts
# the lab's domains: enforce (MX matches), testing, none; each answer is
# "proceed" (enforce puts the domain in the routing table first)
DOMAINS=enforce.test,testing.test,none.test,enforce-good.test
DOMAINS=$DOMAINS,testing-good.test,none-good.test
failed=0

. tests/lab/lib.sh

say() {
	echo "fbench: $*" >&2
}

for f in "$BF" "$FILTER"; do
	if [ ! -x "$f" ]; then
		say "$f is missing (make BUILD=$BUILD all benches)"
		exit 1
	fi
done
mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.err "$OUT"/*.smaps
trap 'lab_down >/dev/null 2>&1' EXIT
lab_up || exit 1
. "$LAB_DIR/env"

# The engine config of the lab with the store in OUT and the default
# check_interval (600 s) instead of the lab's 0, which re-reads the TXT id
# on every lookup: a warm cache is one that answers from the store.
sed -e "s|^store .*|store $PWD/$OUT/store.db|" -e '/^check_interval/d' \
    "$LAB_CONF" >"$OUT/mtasts.conf"

# The lab's nsd rate-limits answers (RRL, on by default in Debian's nsd:
# 200/s per source and answer), which the bench exceeds at once; the lab's
# TTL is 0 so that tests see changes at once. dns_ttl TTL restarts nsd
# without RRL and with that zone TTL (files under LAB_DIR only).
dns_ttl() {
	local c=$LAB_DIR/dns/nsd.conf
	if ! grep -q rrl-ratelimit "$c"; then
		awk '{ print } /^\trefuse-any:/ { print "\trrl-ratelimit: 0";
		    print "\trrl-whitelist-ratelimit: 0" }' "$c" >"$c.new" &&
		    mv "$c.new" "$c" || return 1
	fi
	sed -i "s/^\\\$TTL .*/\$TTL $1/" "$LAB_DIR/dns/test.zone"
	lab_dns_stop && lab_dns_start
}

# KIND REP ARGS...: one run with a fresh store and routing table
run() {
	local kind=$1 rep=$2
	shift 2
	rm -f "$OUT"/store.db* "$OUT/enforce.db"
	if ! lab_exec "$BF" -e "$OUT/$kind-$rep.err" "$@" -- "$FILTER" \
	    -r 0 -c "$OUT/mtasts.conf" -t "$OUT/enforce.db" \
	    >"$OUT/$kind-$rep.txt" 2>"$OUT/$kind-$rep.log"; then
		say "$kind run $rep failed:"
		tail -5 "$OUT/$kind-$rep.log" >&2
		failed=1
	fi
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "lab up; $REPS repetitions; load $load_before"

# (a0) every rcpt-to's MX lookup goes to nsd: the lab's TTL 0
dns_ttl 0 || exit 1
for r in $(seq 1 "$REPS"); do
	run warm0 "$r" -d "$SECS" -w 64 -D "$DOMAINS" warm
done
# (a) warm: policies in the store, MX answers in libunbound's cache
dns_ttl 300 || exit 1
for r in $(seq 1 "$REPS"); do
	say "repetition $r: warm"
	run warm "$r" -d "$SECS" -w 64 -D "$DOMAINS" warm
	run warm1 "$r" -d 2 -w 1 -D "$DOMAINS" warm
	say "repetition $r: hung fetch"
	run hang "$r" -d 8 -r "$RATE" -H hang.test,slow.test -D "$DOMAINS" hang
	say "repetition $r: $N distinct domains"
	run mem "$r" -N "$N" -w 100 -D enforce.test,testing.test,none.test \
	    -S "$OUT/mem-$r.smaps" mem
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Where the memory is, after the last memory run: Rss per mapping.
if [ -s "$OUT/mem-$REPS.smaps" ]; then
	awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6 == "" ? "[anon]" : $6;
	    sub(".*/", "", name) } /^Rss:/ { rss[name] += $2 }
	    END { for (n in rss) printf "%8d KiB  %s\n", rss[n], n }' \
	    "$OUT/mem-$REPS.smaps" | sort -rn | head -12 >"$OUT/smaps-top.txt"
fi

/usr/bin/python3 - "$OUT" "$REPS" "$N" "$RATE" <<'EOF'
import glob, os, statistics, sys
out, reps, n, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def vals(kind, key):
    v = []
    for f in sorted(glob.glob(os.path.join(out, kind + '-*.txt'))):
        d = dict(l.split(None, 1) for l in open(f) if ' ' in l)
        if key in d:
            v.append(float(d[key]))
    return v

rows = []
def row(fig, kind, key, scale, unit, target, ok):
    v = [x * scale for x in vals(kind, key)]
    if not v:
        rows.append((fig, 'missing', target, 'no'))
        return
    m = statistics.median(v)
    meas = '%.0f %s' % (m, unit) if m >= 100 else '%.1f %s' % (m, unit)
    if len(v) > 1:
        meas += ' (%.0f-%.0f)' % (min(v), max(v)) if m >= 100 else \
            ' (%.1f-%.1f)' % (min(v), max(v))
    rows.append((fig, meas, target, '-' if ok is None else
                 ('yes' if ok(m) else 'no')))

row('(a) warm rcpt-to decisions/s, 64 pipelined', 'warm', 'warm_rate',
    1, '/s', '>= 20000/s', lambda m: m >= 20000)
row('(a) same, per CPU-second of the filter', 'warm',
    'warm_rate_per_cpu_s', 1, '/s', '>= 20000/s', lambda m: m >= 20000)
row('(a) latency p50, 64 pipelined', 'warm', 'warm_p50_us', 1e-3, 'ms',
    '-', None)
row('(a) latency p99, 64 pipelined', 'warm', 'warm_p99_us', 1e-3, 'ms',
    '-', None)
row('(a) latency p50, one at a time', 'warm1', 'warm_p50_us', 1e-3, 'ms',
    '-', None)
row('(a) latency p99, one at a time', 'warm1', 'warm_p99_us', 1e-3, 'ms',
    '-', None)
row('(a0) decisions/s, MX not cached (TTL 0)', 'warm0', 'warm_rate', 1,
    '/s', '-', None)
row('(b) p50 beside hung fetches, %s/s' % rate, 'hang',
    'hang_during_p50_us', 1e-3, 'ms', '-', None)
row('(b) p99 beside hung fetches, %s/s' % rate, 'hang',
    'hang_during_p99_us', 1e-3, 'ms', '< 10 ms', lambda m: m < 10)
row('(b) p99 after they were answered', 'hang', 'hang_after_p99_us', 1e-3,
    'ms', '-', None)
row('(b) hang.test answered after', 'hang', 'hang_hang.test_answer_ms',
    1e-3, 's', 'connect_timeout 2 s', lambda m: 1.9 <= m <= 2.5)
row('(b) slow.test answered after', 'hang', 'hang_slow.test_answer_ms',
    1e-3, 's', 'fetch_timeout 4 s', lambda m: 3.9 <= m <= 4.5)
row('(c) VmRSS after %s distinct domains' % n, 'mem', 'mem_after_rss_kib',
    1 / 1024, 'MiB', '< 32 MiB', lambda m: m < 32)
row('(c) VmHWM after %s distinct domains' % n, 'mem', 'mem_after_hwm_kib',
    1 / 1024, 'MiB', '< 32 MiB', lambda m: m < 32)
row('(c) RssAnon (heap) after', 'mem', 'mem_after_anon_kib', 1 / 1024,
    'MiB', '-', None)
row('(c) VmRSS before (warm, 3 domains)', 'mem', 'mem_before_rss_kib',
    1 / 1024, 'MiB', '-', None)
row('(c) cold decisions/s (1 TXT query each)', 'mem', 'mem_rate', 1, '/s',
    '-', None)

w = [max(len(r[i]) for r in rows + [('figure', 'measured (min-max)',
     'target', 'met')]) for i in range(4)]
fmt = '| %%-%ds | %%-%ds | %%-%ds | %%-%ds |' % tuple(w)
print(fmt % ('figure', 'measured (min-max)', 'target', 'met'))
print('|' + '|'.join('-' * (x + 2) for x in w) + '|')
for r in rows:
    print(fmt % r)
print('\nmedians of %d runs' % reps)
EOF
echo "load average (1, 5, 15 min) before: $load_before; after: $load_after;" \
    "$(nproc) CPUs shared with other jobs"
if [ -s "$OUT/smaps-top.txt" ]; then
	echo "resident memory by mapping after the last memory run:"
	sed 's/^/    /' "$OUT/smaps-top.txt"
fi
for f in "$OUT"/*.txt; do
	case $f in *smaps-top.txt) continue ;; esac
	grep -q '^filter_exit 0$' "$f" || { say "$f: filter did not exit" \
	    "cleanly"; failed=1; }
	grep -q '^bad_lines 0$' "$f" || failed=1
done
exit $failed
