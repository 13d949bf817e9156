#!/usr/bin/python3
# table.py OUT REPS N J - the figures of bench/run.sh as one table: the
# median over REPS repetitions of each figure, ours beside the peer's,
# the ratio (>1: ours is better) and our target. Figures, not tests.
import os
import statistics
import sys

out, reps, n, j = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def load(prefix):
    """{key: [value per repetition]} from OUT/PREFIX-REP.txt"""
    vals = {}
    for r in range(1, reps + 1):
        path = os.path.join(out, '%s-%d.txt' % (prefix, r))
        if not os.path.exists(path):
            continue
        for line in open(path):
            k, _, v = line.strip().partition(' ')
            try:
                vals.setdefault(k, []).append(float(v))
            except ValueError:
                pass
    return vals


runs = {p: load(p) for p in ('ours-seq', 'ours-async', 'ours-warm',
                              'peer-seq', 'peer-conc', 'peer-warm1',
                              'peer-warm16', 'peer-mem')}


def med(prefix, key, scale=1.0):
    v = runs[prefix].get(key)
    if not v:
        return None
    return statistics.median(v) * scale


def spread(prefix, key, scale=1.0):
    v = runs[prefix].get(key)
    if not v or len(v) < 2:
        return ''
    return '%s..%s' % (fmt(min(v) * scale), fmt(max(v) * scale))


def fmt(x):
    if x is None:
        return '-'
    if x >= 1000:
        return '{:,.0f}'.format(x)
    if x >= 100:
        return '%.0f' % x
    if x >= 10:
        return '%.1f' % x
    return '%.2f' % x


MS, S, MIB = 1.0, 1e-3, 1 / 1024.0
# figure, unit, ours (prefix, key, scale), peer (...), lower is better,
# target (value, text)
ROWS = [
    ('warm lookup p50', 'us', ('ours-warm', 'warm_p50_us', 1),
     ('peer-warm1', 'warm_1_p50_us', 1), True, (10, '< 10')),
    ('warm lookup p99', 'us', ('ours-warm', 'warm_p99_us', 1),
     ('peer-warm1', 'warm_1_p99_us', 1), True, None),
    ('warm lookups/s, 1 proc|conn', '/s', ('ours-warm', 'warm_per_s', 1),
     ('peer-warm1', 'warm_1_per_s', 1), False, None),
    ('warm lookups/s, 16 conns', '/s', None,
     ('peer-warm16', 'warm_16_per_s', 1), False, None),
    ('warm p50, 16 conns', 'us', None,
     ('peer-warm16', 'warm_16_p50_us', 1), True, None),
    ('cold 1 at a time, p50/domain', 'ms',
     ('ours-seq', 'cold_seq_p50_us', 1e-3),
     ('peer-seq', 'cold_seq_p50_us', 1e-3), True, (2, '< 2')),
    ('cold 1 at a time, p99/domain', 'ms',
     ('ours-seq', 'cold_seq_p99_us', 1e-3),
     ('peer-seq', 'cold_seq_p99_us', 1e-3), True, None),
    ('cold 1 at a time, total', 's',
     ('ours-seq', 'cold_seq_total_ms', S),
     ('peer-seq', 'cold_seq_total_ms', S), True, None),
    ('cold %s in flight, total' % j, 's',
     ('ours-async', 'cold_async_total_ms', S),
     ('peer-conc', 'cold_conc_total_ms', S), True, (0.6, '< 0.6')),
    ('cold %s in flight, p50/domain' % j, 'ms',
     ('ours-async', 'cold_async_p50_us', 1e-3),
     ('peer-conc', 'cold_conc_p50_us', 1e-3), True, None),
    ('cold 1 at a time, CPU/domain', 'ms',
     ('ours-seq', 'cpu_ms', 1.0 / int(n)),
     ('peer-seq', 'cpu_ms', 1.0 / int(n)), True, None),
    ('cold %s in flight, CPU/domain' % j, 'ms',
     ('ours-async', 'cpu_ms', 1.0 / int(n)),
     ('peer-conc', 'cpu_ms', 1.0 / int(n)), True, None),
    ('resident memory (VmRSS)', 'MiB',
     ('ours-async', 'vmrss_kib', MIB), ('peer-mem', 'vmrss_kib', MIB),
     True, (10, '< 10')),
    ('peak resident (VmHWM)', 'MiB',
     ('ours-async', 'vmhwm_kib', MIB), ('peer-mem', 'vmhwm_kib', MIB),
     True, None),
    ('resident, cache answers only', 'MiB',
     ('ours-warm', 'vmrss_kib', MIB), None, True, None),
]

print()
print('mtasts engine vs postfix-mta-sts-resolver %s, %s enforce domains, '
      'median of %d runs' % (os.environ.get('PEER_VERSION', ''), n, reps))
hdr = ('figure', 'unit', 'ours', 'peer', 'ratio', 'target', 'met',
       'ours min..max')
rows = []
for name, unit, o, p, lower, target in ROWS:
    ov = med(*o) if o else None
    pv = med(*p) if p else None
    ratio = '-'
    if ov and pv:
        ratio = '%.1fx' % (pv / ov if lower else ov / pv)
    met = '-'
    if target and ov is not None:
        met = 'yes' if ov < target[0] else 'no'
    rows.append((name, unit, fmt(ov), fmt(pv), ratio,
                 target[1] if target else '-', met,
                 spread(*o) if o else ''))
w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
line = '  '.join('%-*s' if i == 0 else '%*s' for i in range(len(hdr)))
for r in [hdr] + rows:
    print(line % tuple(x for pair in zip(w, r) for x in pair))
print()
print('ratio: how many times better ours is (peer/ours for times and '
      'memory, ours/peer for rates).')
print('ours warm: in-process mtasts_resolve(); the peer: over its '
      'socketmap TCP connection.')
print('resident: ours after the 1000 cold lookups in flight (resolver, '
      'libcurl and TLS set up); "cache answers only": the warm process, '
      'which never set up the network half.')
print('CPU/domain: user+system time of our process (all threads, start-up '
      'included) or of the peer daemon during the run, over %s; it moves '
      'less with the load than wall time.' % n)
errs = []
for p in runs:
    e = runs[p].get('errors')
    if e and max(e) > 0:
        errs.append('%s: %d' % (p, max(e)))
if errs:
    print('WRONG ANSWERS (see %s/*.err): %s' % (out, ', '.join(errs)))
for f in ('load-before.txt', 'load-after.txt'):
    path = os.path.join(out, f)
    if os.path.exists(path):
        print('%s %s' % (f[:-4].replace('-', ' '), open(path).read().strip()))
sys.exit(1 if errs else 0)
