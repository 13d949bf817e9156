#!/bin/bash
# bench/relay.sh [BUILD] - figures of mtasts-relay behind Debian's real
# smtpd 6.8 in the test lab (issue 13 item 4); see bench/README.md,
# "mtasts-relay". In one run, the same smtpd with the shipped smtpd.conf
# lines (tests/e2e/opensmtpd/smtpd.sh):
#   direct  the mtasts match line removed: smtpd delivers to the lab MX
#   relay   the shipped lines: smtpd -> mtasts-relay -> the lab MX
# and prints: messages per second (target: relay >= 80 % of direct),
# latency per message p50/p99 and what the relay adds, and the relay's
# resident size with 100 concurrent sessions (target < 32 MiB).
# Figures, not a test: exit 1 only when something could not be measured.
# Needs root (the lab) and "make" (BUILD/filter-mtasts, mtasts-relay).
#
#   RBENCH_N     messages of the throughput run (200)
#   RBENCH_LAT   messages of the latency run, one at a time (40)
#   RBENCH_CONC  concurrent relay sessions of the memory figure (100)
#   LAB_NAME     the lab (default mtlab-rbench)
cd "$(dirname "$0")/.." || exit 1
BUILD=${1:-build}
N=${RBENCH_N:-200}
LAT=${RBENCH_LAT:-40}
CONC=${RBENCH_CONC:-100}
export LAB_NAME=${LAB_NAME:-mtlab-rbench}
. tests/lab/lib.sh
SMTPD_REPO=$PWD
FILTER=$PWD/$BUILD/filter-mtasts
RELAY=$PWD/$BUILD/mtasts-relay
. tests/e2e/opensmtpd/smtpd.sh
OUT=$PWD/$BUILD/bench/relay
T=$(mktemp -d /tmp/relay-bench.XXXXXX)
chmod 755 "$T"
D=
DOMAIN=enforce-good.test MX=good.mx.test
trap 'relay_stop; [ -n "$D" ] && smtpd_stop "$D"; lab_down >/dev/null 2>&1
    rm -rf "$T"' EXIT
say() {
	echo "rbench: $*" >&2
}
die() {
	say "$*"
	exit 1
}

# MODE: smtpd (and, for relay, mtasts-relay) for one run
start() {
	relay_stop
	[ -n "$D" ] && smtpd_stop "$D"
	D=$T/$1
	smtpd_case "$D" || return 1
	if [ "$1" = direct ]; then
		sed -i '/for domain <mtasts_policy> action "mtasts"/d' \
		    "$D/smtpd.conf"
	else
		relay_start "$D" -T connect=5 || return 1
	fi
	smtpd_start "$D" || return 1
	# a first message: policy cached, table written, TLS session cache
	lab_smtp_clear "$MX"
	smtpd_send "warm@$DOMAIN" >/dev/null
	wait_for "the warm-up message" 30 mx_has_mail
}
mx_has_mail() {
	[ "$(lab_smtp_count "$MX")" -ge 1 ]
}

# MODE: throughput and latency, one line of figures in OUT/MODE.txt
measure() {
	lab_smtp_clear "$MX"
	PYTHONPATH=tests/integration python3 - "$LAB_NAME" "$SMTPD_ADDR" \
	    "$DOMAIN" "$(lab_smtp_dir "$MX")" "$N" "$LAT" \
	    "$SMTPD_ROOT/usr/sbin/smtpctl" "$(cat "$D/smtpd.pid")" \
	    >"$OUT/$1.txt" <<'PY'
import glob, os, smtplib, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
lab, addr, dom, mxdir, n, lat, smtpctl, pid = sys.argv[1:9]
n, lat = int(n), int(lat)
def ns(*cmd):
    return subprocess.run(["nsenter", "-t", pid, "-m", "-n", "-r"] + list(cmd),
                          stdout=subprocess.DEVNULL, check=True)
def count():
    return len(glob.glob(os.path.join(mxdir, "*.eml")))
body = "Subject: bench\r\n\r\n" + ("x" * 76 + "\r\n") * 26
def send(i):
    # inside the lab: smtplib in a child that joins the namespace
    subprocess.run(["ip", "netns", "exec", lab, "python3", "-c",
        "import smtplib,sys; s=smtplib.SMTP(sys.argv[1], 25);"
        "s.sendmail('b@client.test', [sys.argv[2]], sys.argv[3]);"
        "s.quit()", addr, "u%d@%s" % (i, dom), body], check=True)
# throughput: queue n with deliveries paused, then resume
ns(smtpctl, "pause", "mta")
with ThreadPoolExecutor(8) as ex:
    list(ex.map(send, range(n)))
base = count()
t0 = time.monotonic()
ns(smtpctl, "resume", "mta")
while count() < base + n:
    if time.monotonic() - t0 > 600:
        sys.exit("throughput: not all delivered")
    time.sleep(0.01)
rate = n / (time.monotonic() - t0)
# latency: one at a time, from smtpd's 250 to the file at the MX
lats = []
for i in range(lat):
    before = count()
    send(100000 + i)
    t = time.time()
    t1 = time.monotonic()
    while count() <= before:
        if time.monotonic() - t1 > 60:
            sys.exit("latency: not delivered")
        time.sleep(0.002)
    newest = max(glob.glob(os.path.join(mxdir, "*.eml")), key=os.path.getmtime)
    lats.append(max(0.0, os.path.getmtime(newest) - t))
lats.sort()
q = lambda p: lats[min(len(lats) - 1, int(p * len(lats)))]
print("%.1f %.1f %.1f" % (rate, q(0.5) * 1000, q(0.99) * 1000))
PY
}

# 100 sessions held open at the relay, each with its MX session (TLS,
# MAIL and RCPT accepted): the relay's VmRSS and VmHWM then
memory() {
	lab_exec python3 - "$CONC" "$DOMAIN" "/proc/$RPID/status" \
	    >"$OUT/memory.txt" <<'PY'
import socket, sys, time
conc, dom, status = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def rd(f):
    line = f.readline()
    while line[3:4] == b"-":
        line = f.readline()
    return line
socks = []
for i in range(conc):
    s = socket.create_connection(("127.0.0.1", 10026), 30)
    f = s.makefile("rb")
    rd(f)
    for cmd in (b"EHLO bench.test", b"MAIL FROM:<b@client.test>",
                ("RCPT TO:<m%d@%s>" % (i, dom)).encode()):
        s.sendall(cmd + b"\r\n")
        r = rd(f)
        if not r.startswith(b"25"):
            sys.exit("session %d: %r" % (i, r))
    socks.append((s, f))
mem = {}
for line in open(status):
    k, v = line.split(":", 1)
    if k in ("VmRSS", "VmHWM"):
        mem[k] = int(v.split()[0])
for s, f in socks:
    s.sendall(b"QUIT\r\n")
    s.close()
print("%d %d %d" % (conc, mem["VmRSS"], mem["VmHWM"]))
PY
}

mkdir -p "$OUT"
[ -x "$FILTER" ] && [ -x "$RELAY" ] || die "run make first ($BUILD)"
smtpd_unpack || die "cannot unpack OpenSMTPD"
lab_up >"$OUT/lab.log" 2>&1 || die "lab did not start ($OUT/lab.log)"
. "$LAB_DIR/env"
start direct || die "direct: smtpd did not start or deliver"
measure direct || die "direct: not measured"
start relay || die "relay: smtpd or the relay did not start or deliver"
measure relay || die "relay: not measured"
memory || die "memory: not measured (sessions refused?)"
relay_stop
smtpd_stop "$D"

read -r dr dp50 dp99 <"$OUT/direct.txt"
read -r rr rp50 rp99 <"$OUT/relay.txt"
read -r conc rss hwm <"$OUT/memory.txt"
python3 - "$dr" "$dp50" "$dp99" "$rr" "$rp50" "$rp99" "$conc" "$rss" \
    "$hwm" "$N" "$LAT" <<'PY'
import sys
dr, dp50, dp99, rr, rp50, rp99 = map(float, sys.argv[1:7])
conc, rss, hwm, n, lat = map(int, sys.argv[7:12])
ratio = rr / dr if dr else 0.0
print("%-40s %10s %10s %8s" % ("figure", "direct", "relay", "target"))
print("%-40s %10.1f %10.1f %8s  %s" % ("messages/s (%d queued, then resumed)"
      % n, dr, rr, ">=80%", "met" if ratio >= 0.8 else "NOT met"))
print("%-40s %10s %9.0f%%" % ("relay / direct", "", ratio * 100))
print("%-40s %10.0f %10.0f" % ("latency p50, ms (%d one at a time)" % lat,
      dp50, rp50))
print("%-40s %10.0f %10.0f" % ("latency p99, ms", dp99, rp99))
print("%-40s %10s %10.0f" % ("added latency p50, ms", "", rp50 - dp50))
print("%-40s %10s %10.0f" % ("added latency p99, ms", "", rp99 - dp99))
print("%-40s %10s %10.1f %8s  %s" % ("relay VmRSS, MiB, %d sessions" % conc,
      "", rss / 1024, "<32", "met" if rss < 32 * 1024 else "NOT met"))
print("%-40s %10s %10.1f" % ("relay VmHWM, MiB", "", hwm / 1024))
PY
