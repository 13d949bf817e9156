#!/bin/bash
# filter_leak.sh - the real filter-mtasts, built with AddressSanitizer
# and LeakSanitizer (build/asan), driven through thousands of sessions by
# tests/integration/filterdrive.py with real policies from the lab: RCPT
# TO in every mode (enforce, testing, none, no policy, an MX set outside
# the enforce policy: all proceed, policy domains go to the table),
# report mail, smtp-out report sequences of smtpd 6.8 and 7.6
# (deliveries to policy and no-policy domains, refused certificates, no
# STARTTLS), then EOF on stdin with lookups still in flight, as when
# smtpd exits. Any leak or
# sanitizer report fails. TAP output. Needs root; run from the repo root.
#
# FILTER_LEAK_ROUNDS (default 300) rounds of 10 sessions each.
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-filter-leak}
. tests/lab/lib.sh
. tests/lib/tap.sh
MAKE=${MAKE:-make}
ABUILD=${ABUILD:-build/asan}
SAN="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
FILTER=$PWD/$ABUILD/filter-mtasts
ROUNDS=${FILTER_LEAK_ROUNDS:-300}
T=$(mktemp -d /tmp/filter-leak.XXXXXX)
chmod 755 "$T"
trap 'lab_down >/dev/null 2>&1; rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/build.log" 10
	grep -A12 'Sanitizer\|runtime error' "$T/filter.log" 2>/dev/null |
	    head -40 | sed 's/^/#   /'
	tap_show "$T/drive.err" 10
}

$MAKE -s BUILD="$ABUILD" CFLAGS="$SAN" LDFLAGS="-fsanitize=address,undefined" \
    "$ABUILD/filter-mtasts" >"$T/build.log" 2>&1
ok $? "filter-mtasts built with ASan, LSan and UBSan ($ABUILD)"
if ! lab_up 2>"$T/lab.err"; then
	ok 1 "lab is up"
	tap_show "$T/lab.err"
	tap_end
	exit 1
fi
. "$LAB_DIR/env"
# policies stay fresh in the cache for the whole run (the lab checks
# the TXT id on every lookup), so that a second filter answers them at
# once from the store
sed -e "s|^store .*|store $T/store.db|" \
    -e "s|^check_interval .*|check_interval 3600|" "$LAB_CONF" \
    >"$T/mtasts.conf"
"$FILTER" -I -t "$T/enforce.db"

PYTHONPATH=tests/integration \
ASAN_OPTIONS=detect_leaks=1:exitcode=23:abort_on_error=0 \
LSAN_OPTIONS=exitcode=23 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
python3 - "$LAB_NAME" "$FILTER" "$T" "$ROUNDS" >"$T/drive.out" \
    2>"$T/drive.err" <<'PY'
import sys, filterdrive as fd
lab, filt, t, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
argv = ["ip", "netns", "exec", lab, filt, "-v", "-r", "0", "-c",
        t + "/mtasts.conf", "-t", t + "/enforce.db"]
f = fd.Filter(argv, t + "/filter.log", "7.6")
want = {"enforce-good.test": "proceed", "testing-good.test": "proceed",
        "none-good.test": "proceed", "nopolicy-good.test": "proceed",
        "testing-spoof.test": "proceed", "enforce-spoof.test": "proceed"}
# the first answers (policies fetched)
for d in want:
    f.smtp_in(1, "user@" + d)
bad = 0
sid = 0x100
for r in range(rounds):
    for d, w in want.items():
        sid += 1
        res = f.smtp_in(sid, "<user%d@%s>" % (r, d))
        if res is None or not res.startswith(w):
            bad += 1
            print("round %d %s: %r" % (r, d, res))
    sid += 1
    f.smtp_in(sid, "user@enforce-spoof.test",
              sender="tlsrpt-noreply@mx.sender.test")
    version = "6.8" if r % 2 else "7.6"
    f.proto = fd.VERSIONS[version][1]
    f.smtp_out(sid, fd.session_delivered("127.0.20.1:25",
               "user@enforce-good.test", msgid=sid))
    f.smtp_out(sid + 1, fd.session_76_refused_cert("127.0.20.3:25"))
    f.smtp_out(sid + 2, fd.session_68_refused_cert("127.0.20.3:25"))
    f.smtp_out(sid + 3, fd.session_nostarttls("127.0.20.2:25"))
    f.smtp_out(sid + 4, fd.session_nostarttls("127.0.20.9:25"))
    f.smtp_out(sid + 5, fd.session_delivered("127.0.20.2:25",
               "user@nopolicy-good.test", tls=False, msgid=sid))
    sid += 6
# every result recorded: 1 per round (nopolicy-good, no-policy-found);
# the policy domain's session is the relay's (not recorded, said so),
# sessions without a transaction record nothing
n = f.wait_log("tlsrpt: recorded ", rounds, 300)
m = f.wait_log("tlsrpt: enforce-good.test: policy in force", rounds, 60)
print("recorded %d of %d, left to the relay %d" % (n, rounds, m))
print("bad %d" % bad)
print("exit %d" % f.close(120))
PY
ok $? "driver ran ($ROUNDS rounds of 10 sessions)"

# EOF with work in flight, as when smtpd exits: the lab's DNS is stopped
# (SIGSTOP: queries go unanswered), and a new filter gets RCPT TO for
# domains whose policies it finds in the store (then waits for their MX
# sets), for domains it must look up (their TXT), and an smtp-out
# session that never ends; then its stdin closes.
nsd_signal() {	# SIG: to every nsd process of this lab, by pid
	local p
	for p in $(ip netns pids "$LAB_NAME"); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in
		nsd*) kill "-$1" "$p" ;;
		esac
	done
}
nsd_signal STOP
PYTHONPATH=tests/integration \
ASAN_OPTIONS=detect_leaks=1:exitcode=23:abort_on_error=0 \
LSAN_OPTIONS=exitcode=23 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
python3 - "$LAB_NAME" "$FILTER" "$T" >"$T/eof.out" 2>>"$T/drive.err" <<'PY'
import sys, filterdrive as fd
lab, filt, t = sys.argv[1:4]
argv = ["ip", "netns", "exec", lab, filt, "-v", "-r", "0", "-c",
        t + "/mtasts.conf", "-t", t + "/enforce.db"]
f = fd.Filter(argv, t + "/filter2.log", "7.6")
f.smtp_out(1, fd.session_delivered("127.0.20.1:25", "user@x.test")[:3])
for i, d in enumerate(("enforce-good.test", "testing-good.test",
                       "enforce-spoof.test", "enforce-expired.test",
                       "enforce-selfsigned.test", "testing-expired.test")):
    f.token += 1
    f.send("filter|0.7|%s|smtp-in|rcpt-to|%016x|%016x|user@%s" % (
        f.stamp(), 2 + i, f.token, d))
print("exit %d" % f.close(120))
PY
ok $? "second filter ran"
nsd_signal CONT
cat "$T/filter2.log" >>"$T/filter.log"
grep -q '^exit 0$' "$T/eof.out"
ok $? "EOF with lookups in flight: exit status 0 ($(cat "$T/eof.out"))"
grep -q 'enforce-good.test: enforce (cache' "$T/filter2.log" &&
    grep -q 'testing-good.test: testing (cache' "$T/filter2.log"
ok $? "cached policies answered at once from the store, DNS stopped"
[ "$(grep -c 'enforce-selfsigned.test: policy lookup cancelled' "$T/filter2.log")" = 1 ] &&
    [ "$(grep -c 'testing-expired.test: policy lookup cancelled' "$T/filter2.log")" = 1 ]
ok $? "policy lookups in flight at EOF: answered once (cancelled)"
grep -q '^bad 0$' "$T/drive.out"
ok $? "every RCPT TO answered as its mode wants ($(grep -c '^round' "$T/drive.out") wrong)"
grep -q "^recorded $ROUNDS of $ROUNDS, left to the relay $ROUNDS$" "$T/drive.out"
ok $? "TLS-RPT: $(grep '^recorded' "$T/drive.out") results"
grep -q 'smtpd closed the pipe; exiting' "$T/filter.log"
ok $? "EOF on stdin: the filter shut down"
grep -q '^exit 0$' "$T/drive.out"
ok $? "exit status 0 ($(grep '^exit' "$T/drive.out"))"
! grep -q 'LeakSanitizer\|AddressSanitizer\|runtime error' "$T/filter.log"
ok $? "no leak and no sanitizer report"

tap_end
