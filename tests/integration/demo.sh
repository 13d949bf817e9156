#!/bin/bash
# demo.sh - "make demo" and the MTA tests from a checkout that only root
# can enter (issue 11, items 9 and 10). TAP output. Needs root; run from
# the repo root after "make".
#
# The checkout (tests/, etc/ and the built programs) is copied under a
# fresh mktemp -d folder (mode 0700, like /root). From that copy:
#  - the real Exim and OpenSMTPD deliver a message over verified TLS
#    (Debian-exim and opensmtpd must reach their binaries, logs, spools,
#    the .so, the filter and the lab's CA: all in the copy's run folder);
#  - the demo passes, and its headings name the versions the binaries
#    report;
#  - the demo runs OpenSMTPD with the shipped smtpd.conf lines: the
#    policy domains go through mtasts-relay, deferred ones are held in
#    smtpd's queue with the relay's answer;
#  - the demo fails, and says so, when Exim and smtpd cannot start
#    (EXIM_BIN and SMTPD_BIN pointed to /bin/false), when mtasts-relay
#    cannot start (RELAY=/bin/false), and when a case does not come out
#    as expected (mtasts.so replaced by a file that is not an object:
#    every Exim delivery defers; a relay run with log_only: enforce
#    domains leave).
set -u
cd "$(dirname "$0")/../.."
export LAB_NAME=${LAB_NAME:-mtlab-demo-test}
BUILD=${BUILD:-build}
SRC=$PWD
. tests/lib/tap.sh
TOP=$(mktemp -d /tmp/mtasts-0700.XXXXXX)
P=$TOP/checkout
RUN=
trap '[ -n "$RUN" ] && (. "$P/tests/lab/lib.sh" && lab_down &&
    lab_run_clean) >/dev/null 2>&1; rm -rf "$TOP"' EXIT

tap_diag() {
	[ -n "${OUT:-}" ] && tap_show "$OUT" 12
	return 0
}

# ---------------------------------------------------------------- the copy

mkdir -p "$P/$BUILD" && cp -a tests etc "$P"/ &&
    cp -a "$BUILD/mtasts" "$BUILD/mtasts.so" "$BUILD/mtasts-net.so" \
    "$BUILD/filter-mtasts" "$BUILD/mtasts-relay" "$P/$BUILD"/
ok $? "checkout copied under $TOP"
# the MTAs' .debs, downloaded once (the copy would fetch them again)
mkdir -p "$P/build/opensmtpd" &&
    { [ ! -d build/exim-debs ] || cp -a build/exim-debs "$P/build/"; } &&
    { [ ! -d build/opensmtpd/debs ] ||
    cp -a build/opensmtpd/debs "$P/build/opensmtpd/"; }
[ "$(stat -c %a "$TOP")" = 700 ]
ok $? "its parent folder is mode 0700"
for u in Debian-exim opensmtpd; do
	id "$u" >/dev/null 2>&1 || continue
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
	    test -x "$P/$BUILD" 2>/dev/null
	ok $((!$?)) "$u cannot enter the checkout"
done
RUN=$(LAB_SRC=$P/tests/lab sh "$P/tests/lab/lab.sh" run-dir)
case $RUN in
"$P"/*) false ;;
/*) true ;;
*) false ;;
esac
ok $? "the copy's run folder is outside it: $RUN"
[ "$RUN" != "$(sh tests/lab/lab.sh run-dir)" ]
ok $? "and not this checkout's"

# ---------------------------------------------------------------- MTAs
# In a subshell with the copy's harness: one message each, through the
# real MTA, must arrive over TLS.

OUT=$TOP/mta.log
(
	cd "$P" || exit 1
	. tests/lab/lib.sh || exit 1
	lab_up || exit 1
	. "$LAB_DIR/env"
	. tests/e2e/exim/lib.sh || exit 1
	exim_setup || exit 1
	exim_reset
	exim_send u-exim@enforce-good.test &&
	    exim_runq
	lab_smtp_delivered good.mx.test u-exim@enforce-good.test tls ||
	    { echo "exim did not deliver"; exim_log | tail -5; exim_paniclog;
	    exit 2; }
	SMTPD_REPO=$P FILTER=$P/$BUILD/filter-mtasts
	. tests/e2e/opensmtpd/smtpd.sh || exit 1
	d=$LAB_RUN/demo-test
	mkdir -p -m 0755 "$d"
	smtpd_unpack && smtpd_case "$d/case" && relay_start "$d/case" &&
	    smtpd_start "$d/case" ||
	    { tail -5 "$d/case/smtpd.log"; relay_stop; exit 3; }
	smtpd_send u-smtpd@enforce-good.test >/dev/null
	lab_smtp_wait u-smtpd@enforce-good.test 20 >/dev/null
	r=$?
	smtpd_stop "$d/case"
	relay_stop
	D=$d/case
	[ $r = 0 ] && ! via_relay u-smtpd@enforce-good.test &&
	    { echo "smtpd delivered without the relay"; exit 4; }
	[ $r = 0 ] || { echo "smtpd did not deliver"; tail -5 \
	    "$d/case/smtpd.log"; exit 4; }
	lab_smtp_delivered good.mx.test u-smtpd@enforce-good.test tls ||
	    exit 4
	rm -rf "$d"
	lab_down
) >"$OUT" 2>&1
r=$?
[ $r != 1 ]
ok $? "from the copy: lab, Exim and OpenSMTPD set up"
[ $r != 1 ] && [ $r != 2 ]
ok $? "from the copy: Exim delivered to good.mx.test over TLS"
[ $r = 0 ]
ok $? "from the copy: OpenSMTPD delivered to good.mx.test over TLS through mtasts-relay"

# ---------------------------------------------------------------- demo

demo() {	# OUTFILE [VAR=VALUE...]: run the copy's demo; its status
	local out=$1
	shift
	(cd "$P" && env BUILD="$BUILD" "$@" tests/demo.sh) 2>&1 |
	    sed 's/\x1b\[[0-9;]*m//g' >"$out"
	return "${PIPESTATUS[0]}"
}

OUT=$TOP/demo-good.out
demo "$OUT"
ok $? "make demo from the copy: exit 0"
tail -1 "$OUT" | grep -q '^demo: both MTAs ran; every case came out'
ok $? "it says every case came out as expected"
! grep -q '^  WRONG' "$OUT" && [ "$(grep -c '^  ok  ' "$OUT")" -ge 24 ]
ok $? "every row of both tables is marked ok"
ev=$("$RUN/exim-root/usr/sbin/exim4" -C /dev/null -bV 2>/dev/null |
    sed -n 's/^Exim version \([^ ]*\).*/\1/p')
[ -n "$ev" ] && grep -qx "== Exim $ev with mtasts.so" "$OUT"
ok $? "the Exim heading names the version exim -bV reports ($ev)"
sv=$("$RUN/opensmtpd/root/usr/sbin/smtpd" -h 2>&1 |
    sed -n 's/^version: OpenSMTPD //p')
[ -n "$sv" ] &&
    grep -qx "== OpenSMTPD $sv with filter-mtasts and mtasts-relay" "$OUT"
ok $? "the OpenSMTPD heading names the version smtpd -h reports ($sv) and the relay"
sed -n '/^== OpenSMTPD/,$p' "$OUT" >"$TOP/smtpd-part.out"
grep -q '^  ok    enforce-good.test  *delivered to good.mx.test (TLSv1\.[23]) by the relay' \
    "$TOP/smtpd-part.out" &&
    grep -q '^  ok    nopolicy-good.test  *delivered to good.mx.test .* by smtpd' \
    "$TOP/smtpd-part.out"
ok $? "OpenSMTPD: policy domains delivered by the relay, others by smtpd"
grep -A1 '^  ok    enforce-spoof.test  *held in smtpd.s queue' \
    "$TOP/smtpd-part.out" |
    grep -q "smtpd: TempFail; the relay answered: 451 4.7.5 MTA-STS"
ok $? "OpenSMTPD: enforce-spoof held in smtpd's queue, with the relay's 451 4.7.5"
! grep -q 'refused at RCPT TO' "$OUT"
ok $? "nothing is refused at RCPT TO"

OUT=$TOP/demo-nostart.out
demo "$OUT" EXIM_BIN=/bin/false SMTPD_BIN=/bin/false
[ $? != 0 ]
ok $? "MTAs that cannot start: the demo exits non-zero"
grep -q 'FAILED: Exim did not start' "$OUT"
ok $? "it says Exim did not start"
grep -q 'FAILED: OpenSMTPD did not start' "$OUT"
ok $? "it says OpenSMTPD did not start"
tail -1 "$OUT" | grep -q '^demo: FAILED: Exim did not start.*OpenSMTPD did not start'
ok $? "its last line names both"
! grep -q 'delivered to *$\|delivered to  ' "$OUT"
ok $? "no \"delivered to\" without a host"

OUT=$TOP/demo-norelay.out
demo "$OUT" RELAY=/bin/false
[ $? != 0 ]
ok $? "a relay that cannot start: the demo exits non-zero"
tail -1 "$OUT" | grep -q '^demo: FAILED: mtasts-relay did not start'
ok $? "its last line says mtasts-relay did not start"
! grep -q 'Exim: not as\|Exim did not start' "$OUT"
ok $? "Exim's cases still came out right"

# a relay that does not enforce: the real one, its config with log_only
cat >"$TOP/relay-logonly" <<EOS
#!/bin/sh
# mtasts-relay with log_only added to the config given by -c
a= c=
for x in "\$@"; do
	[ "\$a" = -c ] && { c=\$x.logonly; cp "\$x" "\$c" &&
	    echo 'log_only yes' >>"\$c" || exit 1; x=\$c; }
	set -- "\$@" "\$x"
	a=\$x
done
shift \$((\$# / 2))
exec "$P/$BUILD/mtasts-relay" "\$@"
EOS
chmod 755 "$TOP/relay-logonly"
OUT=$TOP/demo-logonly.out
demo "$OUT" RELAY="$TOP/relay-logonly"
[ $? != 0 ]
ok $? "a relay that does not enforce (log_only): the demo exits non-zero"
grep -q '^  WRONG enforce-spoof.test  *delivered to attacker.evil.test' "$OUT"
ok $? "the enforce-spoof row (delivered to the attacker) is marked WRONG"
grep -q '^  ok    enforce-good.test  *delivered to good.mx.test .* by the relay' \
    "$OUT"
ok $? "the enforce-good row (delivered, as wanted) is marked ok"
tail -1 "$OUT" | grep -q '^demo: FAILED: OpenSMTPD: not as RFC 8461 wants: enforce-spoof '
ok $? "its last line names the OpenSMTPD cases that went wrong"

OUT=$TOP/demo-badso.out
mkdir -p "$TOP/badso" && echo 'not an object' >"$TOP/badso/mtasts.so" &&
    cp "$P/$BUILD/mtasts-net.so" "$TOP/badso/"
demo "$OUT" EXIM_SO="$TOP/badso/mtasts.so"
[ $? != 0 ]
ok $? "Exim whose mtasts.so does not load: the demo exits non-zero"
grep -q '^  WRONG enforce-good.test  *deferred, still queued' "$OUT"
ok $? "the enforce-good row (deferred, not delivered) is marked WRONG"
grep -q '^  ok    enforce-spoof.test  *deferred' "$OUT"
ok $? "the enforce-spoof row (deferred, as wanted) is marked ok"
tail -1 "$OUT" | grep -q '^demo: FAILED: Exim: not as RFC 8461 wants: enforce-good '
ok $? "its last line names the Exim cases that went wrong"
! grep -q 'OpenSMTPD: not as' "$OUT"
ok $? "OpenSMTPD's cases still came out right"

tap_end
