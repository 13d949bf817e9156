#!/usr/bin/env python3
# metrics_reports.py METRICS.prom REPORT.json.gz... - do "mtasts
# metrics" counters equal what the TLS-RPT reports built from the same
# store say the run did? Used by the end-to-end scripts (exim_e2e.sh,
# opensmtpd_tlsrpt.sh) after "mtasts report build".
#
# From the reports: each policy's successful sessions and each failure
# detail's count, keyed by (policy type, mode, result type); the mode is
# the policy-string's "mode:" line (no policy: none). A failure under an
# enforce policy is a deferral, by result type. These must equal, series
# for series, mtasts_sessions_total{policy_type,mode,result} and
# mtasts_deferrals_total{reason}: nothing missing, nothing more. A
# policy whose details do not add up to its failure count is an error.
# Prints the two tables as "# " lines; exit 0 equal, 1 not.
import gzip
import json
import re
import sys

SERIES = re.compile(r'^([a-z_]+)\{(.*)\} ([0-9]+)$')
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def metrics(path):
    sessions, deferrals = {}, {}
    for line in open(path):
        m = SERIES.match(line.strip())
        if m is None:
            continue
        labels = dict(LABEL.findall(m.group(2)))
        n = int(m.group(3))
        if n == 0:  # a series at 0 is one the run did not make
            continue
        if m.group(1) == "mtasts_sessions_total":
            key = (labels.get("policy_type"), labels.get("mode"),
                   labels.get("result"))
            sessions[key] = sessions.get(key, 0) + n
        elif m.group(1) == "mtasts_deferrals_total":
            key = labels.get("reason")
            deferrals[key] = deferrals.get(key, 0) + n
    return sessions, deferrals


def mode_of(policy):
    if policy["policy-type"] != "sts":
        return "none"
    for line in policy.get("policy-string", []):
        k, _, v = line.partition(":")
        if k.strip() == "mode":
            return v.strip()
    return "unknown"


def add(table, key, n):
    if n:
        table[key] = table.get(key, 0) + n


def reports(paths):
    sessions, deferrals, bad = {}, {}, []
    for path in paths:
        for p in json.load(gzip.open(path))["policies"]:
            ptype = p["policy"]["policy-type"]
            mode = mode_of(p["policy"])
            s = p["summary"]
            add(sessions, (ptype, mode, "success"),
                s["total-successful-session-count"])
            failed = 0
            for d in p.get("failure-details", []):
                n = d["failed-session-count"]
                failed += n
                add(sessions, (ptype, mode, d["result-type"]), n)
                if mode == "enforce":
                    add(deferrals, d["result-type"], n)
            if failed != s["total-failure-session-count"]:
                bad.append(p["policy"]["policy-domain"])
    return sessions, deferrals, bad


def show(name, got, want):
    for k in sorted(set(got) | set(want), key=str):
        mark = "" if got.get(k) == want.get(k) else "   <-- differs"
        print("# %s %s: metrics %s, reports %s%s" % (name, k, got.get(k),
              want.get(k), mark))


def main():
    got_s, got_d = metrics(sys.argv[1])
    want_s, want_d, bad = reports(sys.argv[2:])
    show("sessions", got_s, want_s)
    show("deferrals", got_d, want_d)
    for d in bad:
        print("# %s: failure details do not add up" % d)
    return 0 if (got_s == want_s and got_d == want_d and not bad and
                 len(sys.argv) > 2) else 1


if __name__ == "__main__":
    sys.exit(main())
