#!/bin/bash
# tlsrpt_sendmail.sh - "mtasts report send" against a sendmail that hangs:
# one that reads the message and never exits (its child in the same
# process group too), one that never reads its standard input (with a
# report larger than a socket buffer, so that writing blocks). Each run
# must end within sendmail_timeout, say why, exit 1, kill the process
# group and leave the report pending; a later run with a working
# sendmail delivers it. No network: the report and its state file are
# written here, the rua is a mailto:. TAP output. Run from the repo
# root after "make".
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MTASTS=${MTASTS:-$PWD/$BUILD/mtasts}
T=$(mktemp -d)
. tests/lib/tap.sh
trap 'kill_left; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

tap_diag() {
	tap_show "$T/last.out" 4
	tap_show "$T/last.err" 8
}
kill_left() {	# whatever a hung sendmail left behind, by its recorded pid
	for f in "$T"/*.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	return 0
}
alive() {	# PIDFILE: is that process still running (not a zombie)?
	[ -s "$1" ] || return 1
	st=$(ps -o stat= -p "$(cat "$1")" 2>/dev/null) || return 1
	case $st in Z*|'') return 1 ;; esac
	return 0
}
gone() {	# PIDFILE...: each process ends within 5 s (SIGKILL is not instant)
	for f in "$@"; do
		wait_for "the end of pid $(cat "$f")" 5 not alive "$f" || return 1
	done
}
# send [ARGS...]: report send, bounded by timeout(1) so that a hang fails
# the check instead of the suite; status $rc, seconds taken $secs
send() {
	t0=$(date +%s)
	timeout 60 "$MTASTS" report send -c "$CONF" "$@" >"$T/last.out" \
	    2>"$T/last.err"
	rc=$?
	secs=$(($(date +%s) - t0))
}

if [ ! -x "$MTASTS" ]; then
	ok 1 "$MTASTS is missing: run make first"
	exit 1
fi

# Three stand-in sendmails. "hang" reads the message, starts a child that
# sleeps and sleeps itself; "deaf" never reads and sleeps; "good" keeps
# the message. Each records its pids for the checks.
cat >"$T/hang" <<EOS
#!/bin/sh
echo \$\$ >"$T/hang.pid"
cat >"$T/hang.eml"
sleep 3600 &
echo \$! >"$T/hangchild.pid"
exec sleep 3600
EOS
cat >"$T/deaf" <<EOS
#!/bin/sh
echo \$\$ >"$T/deaf.pid"
exec sleep 3600
EOS
cat >"$T/good" <<EOS
#!/bin/sh
printf '%s\n' "\$@" >"$T/good.args"
cat >"$T/good.eml"
EOS
chmod +x "$T/hang" "$T/deaf" "$T/good"

mkdir "$T/reports"
conf() {	# SENDMAIL: the configuration, with a 1 s bound
	cat >"$T/mtasts.conf" <<EOC
store none
report_dir $T/reports
report_submitter mx.sender.test
sendmail $T/$1
sendmail_timeout 1s
EOC
}
CONF=$T/mtasts.conf
NOW=$(date +%s)
DAY=$(( (NOW / 86400 - 1) * 86400 ))
BASE="mx.sender.test!hung.test!$DAY!$((DAY + 86399))"
S=$T/reports/$BASE.state
# A report of 1 MiB that does not compress: more than any socket buffer.
head -c 1048576 /dev/urandom >"$T/reports/$BASE.json.gz"
cat >"$S" <<EOS
mtasts-report-state 1
domain hung.test
report-id $DAY.hung@mx.sender.test
day $DAY
built $NOW
rua pending 0 0 mailto:tlsrpt@reports.test
EOS

# 1. A sendmail that takes the message and never exits.
conf hang
send
[ "$rc" -eq 1 ] && [ "$secs" -lt 15 ]
ok $? "hung sendmail: send returns within the bound, exit 1 ($secs s, rc $rc)"
grep -q 'hang did not exit within 1000ms (sendmail_timeout): killed' \
    "$T/last.err"
ok $? "hung sendmail: the reason on stderr"
grep -q '^0 delivered, 0 given up, 1 pending' "$T/last.out" &&
    grep -q '^rua pending 1 [0-9]* mailto:tlsrpt@reports.test$' "$S"
ok $? "hung sendmail: the report stays pending, one try counted"
[ -s "$T/hangchild.pid" ] && gone "$T/hang.pid" "$T/hangchild.pid"
ok $? "hung sendmail: it and its child (process group) are killed"

# 2. A sendmail that never reads its standard input.
conf deaf
send --now
[ "$rc" -eq 1 ] && [ "$secs" -lt 15 ]
ok $? "deaf sendmail: send returns within the bound, exit 1 ($secs s, rc $rc)"
grep -q 'deaf did not read the message within 1000ms (sendmail_timeout): killed' \
    "$T/last.err"
ok $? "deaf sendmail: the reason on stderr"
grep -q '^rua pending 2 [0-9]* mailto:' "$S"
ok $? "deaf sendmail: still pending, two tries counted"
[ -s "$T/deaf.pid" ] && gone "$T/deaf.pid"
ok $? "deaf sendmail: killed"

# 3. A working sendmail delivers the report on a later run.
conf good
send --now
[ "$rc" -eq 0 ] && grep -q '^1 delivered, 0 given up, 0 pending' "$T/last.out"
ok $? "working sendmail: the pending report is delivered"
grep -q '^rua sent 2 [0-9]* mailto:tlsrpt@reports.test$' "$S" &&
    [ "$(tail -1 "$T/good.args")" = tlsrpt@reports.test ] &&
    grep -q "^Subject: Report Domain: hung.test Submitter: mx.sender.test" \
    "$T/good.eml" && [ "$(wc -c <"$T/good.eml")" -gt 1048576 ]
ok $? "working sendmail: state sent, the whole message read"

tap_end
