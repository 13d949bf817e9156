#!/bin/bash
# filter_replay.sh - the real filter-mtasts, with real policies from the
# lab, fed smtpd's side of the filter protocol by
# tests/integration/filterdrive.py. TAP output. Needs root; run from the
# repo root after "make".
#
# - The filter refuses no recipient: enforce (even with its MX set
#   outside the policy), testing, none, no policy all proceed; enforce
#   and testing domains (log_only too, and an enforce override) are put
#   in the routing table, the others are not (mtasts-relay decides at
#   delivery).
# - smtp-out reports (as 6.8 and 7.6 send them, replayed line for line)
#   record TLS-RPT results only for domains without a policy
#   (no-policy-found: success over TLS, starttls-not-supported in clear);
#   a session to a policy domain is the relay's to record and is not
#   recorded here, nor is report mail.
# - -M is gone; the filter registers only the smtp-out events it reads.
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-filter-replay}
. tests/lab/lib.sh
. tests/lib/tap.sh
FILTER=${FILTER:-$PWD/build/filter-mtasts}
T=$(mktemp -d /tmp/filter-replay.XXXXXX)
chmod 755 "$T"
trap 'lab_down >/dev/null 2>&1; rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/filter.log" 15
	tap_show "$T/drive.err" 10
}

[ -x "$FILTER" ]
ok $? "filter-mtasts is built ($FILTER)"
if ! lab_up 2>"$T/lab.err"; then
	ok 1 "lab is up"
	tap_show "$T/lab.err"
	tap_end
	exit 1
fi
. "$LAB_DIR/env"
sed "s|^store .*|store $T/store.db|" "$LAB_CONF" >"$T/mtasts.conf"

# drive PYTHON [ARG...]: runs PYTHON (after PRE: f is a Filter speaking
# as smtpd $SMTPD) with ARGs in sys.argv[5:]
drive() {
	local py=$1
	shift
	PYTHONPATH=tests/integration python3 - "$LAB_NAME" "$FILTER" \
	    "$T" "${SMTPD:-7.6}" "$@" <<<"$py" 2>>"$T/drive.err"
}
PRE='import sys, filterdrive as fd
lab, filt, t, ver = sys.argv[1:5]
f = fd.Filter(["ip", "netns", "exec", lab, filt, "-v", "-r", "0", "-c",
    t + "/mtasts.conf", "-t", t + "/enforce.db"], t + "/filter.log", ver)
'
"$FILTER" -I -t "$T/enforce.db"

# ------------------------------------------------------- RCPT TO: routing
drive "$PRE"'
for i, d in enumerate(["enforce-good.test", "enforce-spoof.test",
        "testing-spoof.test", "none-good.test", "nopolicy-good.test"]):
    print(f.smtp_in(i + 1, "user@" + d))
sys.exit(f.close())' >"$T/rcpt.out"
ok $? "filter ran and exited 0 on EOF"
[ "$(sort -u "$T/rcpt.out")" = proceed ] && [ "$(wc -l <"$T/rcpt.out")" -eq 5 ]
ok $? "every recipient proceeds: enforce (good and spoofed MX), testing, none, no policy"
! grep -q 'refused\|451\|match no pattern' "$T/filter.log"
ok $? "nothing refused, no MX check at RCPT TO"
grep -q 'enforce-good.test: added to the routing table' "$T/filter.log" &&
    grep -q 'enforce-spoof.test: added to the routing table' "$T/filter.log" &&
    grep -q 'testing-spoof.test: added to the routing table' "$T/filter.log"
ok $? "enforce and testing domains are in the routing table (to the relay)"
! grep -q 'none-good.test: added\|nopolicy-good.test: added' "$T/filter.log"
ok $? "none and no-policy domains are not"

# ------------------------------------------------------------ smtp-out
# DOMAIN SESSION [ARGS]: replay SESSION (a filterdrive function) of a
# delivery to DOMAIN, wait for the filter's word on it.
replay() {
	drive "$PRE"'
dom, sess, addr = sys.argv[5:8]
fn = getattr(fd, sess)
lines = fn(addr + ":25", "user@" + dom, *[a == "True" for a in
    sys.argv[8:]]) if sess == "session_delivered" else fn(addr + ":25")
f.smtp_out(0x7600, lines)
f.wait_log("tlsrpt: .*%s" % dom)
sys.exit(f.close())' "$@" >"$T/replay.out"
}

: >"$T/filter.log"
replay nopolicy-good.test session_delivered 127.0.20.1 True
grep -q 'tlsrpt: recorded no-policy-found success for nopolicy-good.test (\[127.0.20.1\])' \
    "$T/filter.log"
ok $? "no policy, delivered over TLS: no-policy-found success"
: >"$T/filter.log"
replay nopolicy-good.test session_delivered 127.0.20.1 False
grep -q 'tlsrpt: recorded no-policy-found starttls-not-supported for nopolicy-good.test' \
    "$T/filter.log"
ok $? "no policy, delivered in clear: no-policy-found starttls-not-supported"
: >"$T/filter.log"
replay testing-spoof.test session_delivered 127.0.20.6 True
grep -q 'tlsrpt: testing-spoof.test: policy in force (testing) but relayed by smtpd, not by mtasts-relay.*not recorded' \
    "$T/filter.log" && ! grep -q 'tlsrpt: recorded' "$T/filter.log"
ok $? "a policy domain's smtp-out session: not recorded (the relay records it)"
: >"$T/filter.log"
SMTPD=7.6 drive "$PRE"'
f.smtp_out(0x7602, fd.session_76_refused_cert("127.0.20.3:25"))
f.smtp_out(0x7603, fd.session_delivered("127.0.20.1:25",
    "user@nopolicy-good.test"))
f.wait_log("tlsrpt: recorded .* for nopolicy-good.test")
sys.exit(f.close())' >/dev/null
[ "$(grep -c 'tlsrpt: recorded' "$T/filter.log")" -eq 1 ]
ok $? "a session without a transaction records nothing (no guessing by MX address)"

# An enforce override for a domain without a policy: routed too.
cp "$T/mtasts.conf" "$T/mtasts.conf.orig"
echo "override nopolicy-good.test enforce" >>"$T/mtasts.conf"
: >"$T/filter.log"
drive "$PRE"'
print(f.smtp_in(1, "user@nopolicy-good.test"))
sys.exit(f.close())' >"$T/override.out"
[ "$(cat "$T/override.out")" = proceed ] &&
    grep -q 'nopolicy-good.test: added to the routing table' "$T/filter.log"
ok $? "enforce override without a policy: accepted and routed to the relay"
cp "$T/mtasts.conf.orig" "$T/mtasts.conf"

drive "$PRE"'
print("\n".join(f.registered)); sys.exit(f.close())' >"$T/reg.out"
grep -qx 'register|report|smtp-out|link-tls' "$T/reg.out" &&
    grep -qx 'register|filter|smtp-in|rcpt-to' "$T/reg.out" &&
    ! grep -q 'protocol-client\|protocol-server' "$T/reg.out"
ok $? "the filter registers rcpt-to and the smtp-out events it reads, no more"
timeout 10 "$FILTER" -M -r 0 -c "$T/mtasts.conf" -t "$T/x.db" </dev/null >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "-M is gone (usage error)"

tap_end
