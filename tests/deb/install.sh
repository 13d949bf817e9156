#!/bin/bash
# tests/deb/install.sh [RELEASE] - the packages as a mail administrator
# installs them, on Debian RELEASE (bookworm or trixie; default
# DEB_RELEASE, else this machine's) (TAP).
#
# Builds the .debs of RELEASE (make deb R=RELEASE: in RELEASE's chroot
# when this machine runs the other one), unless DEB_DIR names a folder
# that has them (default build/deb/RELEASE). Makes a clean minbase chroot
# of RELEASE once (tests/lib/chroot.sh make, in $BUILD/deb-test/RELEASE-
# base, reused by later runs) and copies it afresh to RELEASE-root; in
# that copy:
#  - installs Debian's own exim4-daemon-heavy (split configuration,
#    configtype internet, preseeded) and mtasts + mtasts-exim with apt;
#    checks the snippets are inert, turns MTA-STS on the documented way
#    (MTASTS_ENABLE in /etc/exim4/conf.d/main/000_mtasts, then
#    update-exim4.conf), and checks exim -bV, exim -bP, the dlfunc, the
#    store's owner, the timers and the cron fallback;
#  - runs the installed Exim daemon (exim4 -bdf -q2s) inside the lab's
#    network namespace (tests/lab/lib.sh, run on this machine): the
#    chroot's CA store trusts the lab's test CA (update-ca-certificates)
#    and /etc/mtasts/mtasts.conf names the lab's DNS, as a site with its
#    own resolver and CA would; mail to enforce-good.test is delivered
#    over verified TLS to good.mx.test, mail to enforce-spoof.test (MX
#    attacker.evil.test) is deferred and stays in Exim's queue;
#  - purges mtasts-exim: the router is gone and Exim still starts;
#  - installs opensmtpd + mtasts-opensmtpd (apt replaces exim4): the
#    routing table, smtpd -n on the example lines as /etc/smtpd.conf;
#  - runs the installed /usr/sbin/mtasts-relay (as its unit says: its
#    User= and ExecStart=, logging to stderr, not syslog) and
#    /usr/sbin/smtpd -d in the lab's network namespace; mail submitted
#    with the installed sendmail to enforce-good.test goes through the
#    relay to good.mx.test over verified TLS, to enforce-spoof.test is
#    deferred and stays in smtpd's queue (smtpctl show queue, run with
#    nsenter in smtpd's namespaces: its socket is in its own /run);
#  - purges everything: nothing named mtasts is left.
# Every chroot command runs through tests/lib/chroot.sh run (private
# mount and PID namespaces, a fresh /run, the checkout at its own path;
# no mount outlives it); Exim's daemon runs as "ip netns exec LAB
# tests/lib/chroot.sh run ...", and so do the relay and smtpd. Services
# are never started by the packages (policy-rc.d). Needs root and the
# network (the Debian mirror).
# LAB_NAME defaults to mtlab-deb-RELEASE.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO" || exit 1
. tests/lib/tap.sh
R=${1:-${DEB_RELEASE:-$(. /etc/os-release && echo "$VERSION_CODENAME")}}
export LAB_NAME=${LAB_NAME:-mtlab-deb-$R}
LAB_SRC=$REPO/tests/lab
. "$LAB_SRC/lib.sh" || exit 1
BUILD=${BUILD:-build}
WORK=$REPO/$BUILD/deb-test
BASE=$WORK/$R-base
ROOT=$WORK/$R-root
LOG=$WORK/$R.log
DEB_DIR=${DEB_DIR:-}
CHROOT=$REPO/tests/lib/chroot.sh
mkdir -p "$WORK"
: >"$LOG"

tap_diag() {
	tap_show "$LOG" 15
	if [ -n "${EXIM_UP:-}" ]; then tap_show "$MAINLOG" 10; fi
}

# in_root CMD...: CMD in the chroot (tests/lib/chroot.sh run: its mounts
# and processes end with CMD), in the checkout, apt non-interactive; with
# IN_LAB set, inside the lab's network namespace. (chroot.sh copies the
# resolv.conf it sees into the chroot: the lab's inside, the machine's
# outside; while Exim runs in the lab, every command must run there.)
in_root() {
	${IN_LAB:+ip netns exec "$LAB_NAME"} env DEBIAN_FRONTEND=noninteractive \
	    CHROOT_DIR="$ROOT" CHROOT_BUILD= CHROOT_ENV=DEBIAN_FRONTEND \
	    "$CHROOT" run "$R" "$@"
}
rsh() {		# rsh SCRIPT: a shell script in the chroot, output to LOG
	echo "+ $1" >>"$LOG"
	in_root /bin/sh -c "$1" >>"$LOG" 2>&1
}
rout() {	# rout SCRIPT: its standard output (stderr to LOG)
	echo "+ $1" >>"$LOG"
	in_root /bin/sh -c "$1" 2>>"$LOG" | tee -a "$LOG"
}

# --- the packages and the chroot -------------------------------------------
if [ -z "$DEB_DIR" ]; then
	DEB_DIR=$BUILD/deb/$R
	make deb R="$R" >>"$LOG" 2>&1
	ok $? "make deb R=$R builds the packages, lintian finds nothing"
fi
case $DEB_DIR in
/*) ;;
*) DEB_DIR=$REPO/$DEB_DIR ;;
esac
debs() {	# PACKAGE...: the .deb file of each (the checkout is mounted)
	local p
	for p in "$@"; do ls "$DEB_DIR/${p}_"*.deb 2>/dev/null | head -1; done
}
[ "$(debs mtasts mtasts-exim mtasts-opensmtpd | wc -l)" -eq 3 ]
ok $? "mtasts, mtasts-exim and mtasts-opensmtpd in $DEB_DIR"

CHROOT_DIR=$BASE "$CHROOT" make "$R" >>"$LOG" 2>&1 &&
    rm -rf "$ROOT" && cp -a "$BASE" "$ROOT"
ok $? "clean $R minbase chroot (tests/lib/chroot.sh make, cached)"

rsh "apt-get update"
ok $? "apt-get update in the chroot"

# --- Exim -------------------------------------------------------------------
rsh "debconf-set-selections <<'E'
exim4-config exim4/dc_eximconfig_configtype select internet site; mail is sent and received directly using SMTP
exim4-config exim4/use_split_config boolean true
exim4-config exim4/mailname string mx.example.net
E
apt-get install -y --no-install-recommends exim4-daemon-heavy \
    $(debs mtasts mtasts-exim | tr '\n' ' ')"
ok $? "apt installs Debian's exim4-daemon-heavy, mtasts and mtasts-exim"

rout "dpkg-query -W -f='\${Status}\n' exim4-daemon-heavy mtasts mtasts-exim" |
    grep -c 'install ok installed' | grep -qx 3
ok $? "exim4-daemon-heavy, mtasts, mtasts-exim: install ok installed"

rsh "exim -bV" && ! rsh "exim -bP router mtasts_dnslookup"
ok $? "before the step: exim -bV works, no mtasts router (inert)"

rsh "sed -i 's/^#MTASTS_ENABLE = yes/MTASTS_ENABLE = yes/' \
    /etc/exim4/conf.d/main/000_mtasts && update-exim4.conf"
ok $? "the one step: MTASTS_ENABLE in main/000_mtasts, update-exim4.conf"

rsh "exim -bV"
ok $? "exim -bV with MTA-STS on"

r=$(rout "exim -bP router mtasts_dnslookup")
echo "$r" | grep -qx 'transport = mtasts_smtp' &&
    echo "$r" | grep -q 'address_data = .*/usr/lib/mtasts/mtasts.so}{exim_mode}'
ok $? "exim -bP router mtasts_dnslookup: mtasts.so's exim_mode, transport mtasts_smtp"

r=$(rout "exim -bP transport mtasts_smtp")
echo "$r" | grep -q '^hosts_require_tls = .*/usr/lib/mtasts/mtasts.so}{exim_tls}' &&
    echo "$r" | grep -qx 'no_tls_tempfail_tryclear'
ok $? "exim -bP transport mtasts_smtp: exim_tls, no clear-text fallback"

# No network: a fresh network namespace has only a loopback that is down.
echo "+ dlfunc without network" >>"$LOG"
r=$(unshare --net env CHROOT_DIR="$ROOT" CHROOT_BUILD= "$CHROOT" run "$R" \
    /usr/sbin/exim -be \
    '${dlfunc{/usr/lib/mtasts/mtasts.so}{exim_mode}{example.invalid}}' \
    2>>"$LOG")
echo "dlfunc: $r" >>"$LOG"
case $r in none|error) true ;; *) false ;; esac
ok $? "dlfunc exim_mode without network answers none or error (got '$r')"

r=$(rout "stat -c '%U:%G %a' /var/lib/mtasts /var/lib/mtasts/mtasts.db")
[ "$r" = "Debian-exim:Debian-exim 750
Debian-exim:Debian-exim 640" ]
ok $? "store owned by Debian-exim (folder 0750, mtasts.db 0640)"

rsh "setpriv --reuid=Debian-exim --regid=Debian-exim --clear-groups \
    sh -c 'touch /var/lib/mtasts/probe && rm /var/lib/mtasts/probe'"
ok $? "Debian-exim, without supplementary groups, can write the store folder"

rsh "for t in mtasts-refresh mtasts-report; do
	test -f /lib/systemd/system/\$t.timer -o -f /usr/lib/systemd/system/\$t.timer &&
	test -L /etc/systemd/system/timers.target.wants/\$t.timer || exit 1
    done; grep -q '^OnUnitActiveSec=5min' /lib/systemd/system/mtasts-refresh.timer \
        /usr/lib/systemd/system/mtasts-refresh.timer 2>/dev/null"
ok $? "mtasts-refresh.timer (5 min) and mtasts-report.timer installed and enabled"

# The cron fallback: its commands, with "mtasts" a stand-in that only
# says it ran (a stand-in: what is checked is the guard, not mtasts).
cron_runs() {	# yes|no: does a cron line run mtasts when systemd is (not) up
	rsh "mkdir -p /tmp/stub && rm -f /tmp/stub/ran &&
	printf '#!/bin/sh\necho \"\$*\" >>/tmp/stub/ran\n' >/tmp/stub/mtasts &&
	chmod +x /tmp/stub/mtasts &&
	if [ $1 = yes ]; then mkdir -p /run/systemd/system; fi &&
	grep '^[0-9*]' /etc/cron.d/mtasts | cut -f3- | while read -r cmd; do
		PATH=/tmp/stub:\$PATH sh -c \"\$cmd\"; done
	test -s /tmp/stub/ran && cat /tmp/stub/ran"
}
! cron_runs yes && cron_runs no &&
    grep -q 'refresh' "$LOG" && grep -q 'report send' "$LOG"
ok $? "/etc/cron.d/mtasts runs refresh and reports only without systemd"

rsh "mtasts refresh && mtasts report build && mtasts report send"
ok $? "mtasts refresh, report build and report send work on the installed defaults"

# --- Exim delivering in the lab ----------------------------------------------
# The installed daemon in the lab's network namespace. What a site does
# for its own resolver and CA, done for the lab's: the test CA in the
# chroot's CA store, the lab's DNS in mtasts.conf (the chroot's
# resolv.conf is the lab's: chroot.sh copies the one "ip netns exec"
# mounts). The lab's MX hosts are on 127.0.20.x, which the router
# ignores by default (MTASTS_IGNORE_TARGET_HOSTS), and on the lab's lo,
# so Exim listens on the lab's client address only (dc_local_interfaces)
# and does not take them for itself ("MX points to local host").
MAINLOG=$ROOT/var/log/exim4/mainlog
root_procs() {	# the lab's processes running in the chroot, or in a
	# folder of it (smtpd's chrooted children) (host pids)
	local p r
	for p in $(ip netns pids "$LAB_NAME" 2>/dev/null); do
		r=$(readlink "/proc/$p/root" 2>/dev/null)
		case $r in "$ROOT" | "$ROOT"/*) echo "$p" ;; esac
	done
}
root_stop() {	# TERM the daemons in the lab (each PID 1 of its namespace)
	local pids
	pids=$(root_procs)
	[ -n "$pids" ] || return 0
	kill -TERM $pids 2>/dev/null
	wait_for "the daemons stopped" 10 eval '[ -z "$(root_procs)" ]' \
	    >/dev/null
}
finish() {
	root_stop
	lab_down >>"$LOG" 2>&1
}
trap finish EXIT
exim_log_has() {	# ERE: a line of Exim's main log matches
	grep -Eq "$1" "$MAINLOG" 2>/dev/null
}

lab_up >>"$LOG" 2>&1 && . "$LAB_DIR/env"
ok $? "the lab is up ($LAB_NAME)"
IN_LAB=1

cp "$LAB_CA" "$ROOT/usr/local/share/ca-certificates/lab-test-ca.crt" &&
    rsh "update-ca-certificates &&
    printf '%s\n' 'forwarder $LAB_DNS' 'dns_timeout 2s' \
        'connect_timeout 2s' 'fetch_timeout 4s' >>/etc/mtasts/mtasts.conf &&
    printf '%s\n' 'MTASTS_IGNORE_TARGET_HOSTS = <; 0.0.0.0' \
        >>/etc/exim4/conf.d/main/000_localmacros &&
    sed -i \"s/^dc_local_interfaces=.*/dc_local_interfaces='$LAB_CLIENT1'/\" \
        /etc/exim4/update-exim4.conf.conf &&
    update-exim4.conf && exim -bV >/dev/null"
ok $? "the lab's CA in the chroot's CA store, its DNS in mtasts.conf"

in_root /bin/sh -c \
    'install -d -o Debian-exim -g Debian-exim /run/exim4 &&
    exec /usr/sbin/exim4 -bdf -q2s' >>"$LOG" 2>&1 &
wait_for "daemon started" 20 exim_log_has 'daemon started'
ok $? "the installed Exim daemon runs in the lab (exim4 -bdf -q2s)"
EXIM_UP=1

for d in good spoof; do
	rsh "printf 'Subject: mtasts deb test\n\nhello\n' |
	    exim -odq -f postmaster@mx.example.net u@enforce-$d.test"
done
wait_for "delivery to enforce-good.test" 60 \
    lab_smtp_delivered good.mx.test u@enforce-good.test tls
ok $? "enforce-good.test: delivered to good.mx.test over TLS"

exim_log_has '=> u@enforce-good.test .*T=mtasts_smtp .*CV=yes'
ok $? "enforce-good.test: through mtasts_smtp, certificate verified (CV=yes)"

wait_for "the spoofed MX refused" 60 \
    exim_log_has '== u@enforce-spoof.test .*T=mtasts_smtp'
ok $? "enforce-spoof.test: delivery deferred"

q=$(rout "exim -bp")
echo "$q" | grep -q 'u@enforce-spoof.test' &&
    ! echo "$q" | grep -q 'u@enforce-good.test'
ok $? "enforce-spoof.test still in Exim's queue, enforce-good.test not"

[ -z "$(lab_smtp_where u@enforce-spoof.test)" ] &&
    [ -z "$(lab_smtp_conns attacker.evil.test)" ] &&
    exim_log_has 'mtasts: refused MX host attacker.evil.test .*enforce-spoof.test'
ok $? "attacker.evil.test got no connection and no mail; the refusal is logged"

root_stop
ok $? "Exim's daemon stopped"
EXIM_UP= IN_LAB=

rsh "apt-get purge -y mtasts-exim" &&
    ! rsh "exim -bP router mtasts_dnslookup" && rsh "exim -bV" &&
    ! rsh "test -e /etc/exim4/conf.d/main/000_mtasts -o -e /usr/lib/mtasts/mtasts.so"
ok $? "purge mtasts-exim: router and files gone, Exim's configuration rebuilt and valid"

# --- OpenSMTPD ----------------------------------------------------------------
rsh "apt-get install -y --no-install-recommends opensmtpd \
    $(debs mtasts-opensmtpd) &&
    dpkg-query -W -f='\${Status}\n' opensmtpd mtasts-opensmtpd |
    grep -c 'install ok installed' | grep -qx 2"
ok $? "apt installs Debian's opensmtpd (in exim4's place) and mtasts-opensmtpd"

r=$(rout "stat -c '%U:%G' /var/lib/mtasts /var/lib/mtasts/enforce.db")
[ "$r" = "opensmtpd:opensmtpd
opensmtpd:opensmtpd" ]
ok $? "routing table made; store (Debian-exim's before) and table owned by opensmtpd"

rsh "sed 's/SUBMITTER/mx.example.net/' \
    /usr/share/doc/mtasts-opensmtpd/examples/smtpd.conf >/etc/smtpd.conf &&
    grep -q '\"/usr/libexec/opensmtpd/filter-mtasts ' /etc/smtpd.conf &&
    smtpd -n"
ok $? "smtpd -n accepts the example lines with the installed filter"

rsh "setpriv --reuid=opensmtpd --regid=opensmtpd --clear-groups \
    /usr/libexec/opensmtpd/filter-mtasts -I -t /var/lib/mtasts/enforce.db &&
    setpriv --reuid=opensmtpd --regid=opensmtpd --clear-groups \
    sh -c 'touch /var/lib/mtasts/probe && rm /var/lib/mtasts/probe'"
ok $? "opensmtpd, without supplementary groups, writes the table and the store folder"

# --- OpenSMTPD delivering in the lab -------------------------------------------
# The installed relay and smtpd in the lab's network namespace, with the
# example lines as /etc/smtpd.conf (above), the lab's CA and DNS as for
# Exim (still in the chroot's CA store and mtasts.conf). The relay runs
# as its unit says (User=, ExecStart=), logging to standard error
# instead of syslog (-S: the chroot has none) and verbose. Mail is
# submitted with the installed sendmail (smtpctl, smtpd's socket: "from
# local"), and the queue read with smtpctl, in smtpd's namespaces.
SMTPD_LOG=$WORK/$R-smtpd.log
RELAY_LOG=$WORK/$R-relay.log
UNIT=mtasts-relay.service
smtpd_pid() {	# the smtpd process rooted in the chroot itself
	local p
	for p in $(root_procs); do
		[ "$(readlink "/proc/$p/root")" = "$ROOT" ] &&
		    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = smtpd ] &&
		    echo "$p" && return 0
	done
	return 1
}
in_smtpd() {	# CMD...: CMD in smtpd's mount and network namespaces, root
	local p
	p=$(smtpd_pid) || return 1
	nsenter -t "$p" -m -n -r -w /usr/bin/env -i \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
listening() {	# PORT: something listens on 127.0.0.1:PORT in the lab
	[ -n "$(lab_exec ss -Hltn "sport = :$1" 2>/dev/null)" ]
}
said() {	# FILE ERE
	grep -Eq "$2" "$1" 2>/dev/null
}
queue_has() {	# RCPT: in smtpd's queue (smtpctl show queue)
	in_smtpd smtpctl show queue 2>>"$LOG" | grep -q "|$1|"
}
tap_diag() {
	tap_show "$LOG" 15
	if [ -n "${EXIM_UP:-}" ]; then tap_show "$MAINLOG" 10; fi
	if [ -n "${SMTPD_UP:-}" ]; then
		tap_show "$SMTPD_LOG" 10
		tap_show "$RELAY_LOG" 10
	fi
}
IN_LAB=1 SMTPD_UP=1
: >"$SMTPD_LOG"
: >"$RELAY_LOG"
lab_smtp_clear

# "listen on localhost" listens on every address of lo, and the lab's MX
# hosts have theirs there (port 25 taken): smtpd listens on 127.0.0.1 only,
# as Exim on the lab's client address above. Every other line is the
# example's.
rsh "sed -i 's/^listen on localhost /listen on 127.0.0.1 /' /etc/smtpd.conf &&
    grep -q '^listen on 127.0.0.1 filter \"mtasts\"\$' /etc/smtpd.conf &&
    smtpd -n"
ok $? "smtpd.conf: listen on 127.0.0.1 (the lab's MX hosts are on lo), smtpd -n"

rout "sed -n 's/^ExecStart=//p;s/^User=//p' \
    \$(ls /lib/systemd/system/$UNIT /usr/lib/systemd/system/$UNIT | head -1)" \
    >"$WORK/$R-unit"
RELAY_CMD=$(sed -n 1p "$WORK/$R-unit")
RELAY_USER=$(sed -n 2p "$WORK/$R-unit")
[ "$RELAY_CMD" = '/usr/sbin/mtasts-relay -S -c /etc/mtasts/mtasts.conf' ] &&
    [ "$RELAY_USER" = opensmtpd ]
ok $? "$UNIT: /usr/sbin/mtasts-relay -S -c /etc/mtasts/mtasts.conf as opensmtpd"

in_root /bin/sh -c "exec setpriv --reuid=$RELAY_USER --regid=$RELAY_USER \
    --clear-groups $(echo "$RELAY_CMD" | sed 's/ -S / /') -v" \
    >>"$RELAY_LOG" 2>&1 </dev/null &
wait_for "the relay on 127.0.0.1:10026" 20 listening 10026
ok $? "the installed mtasts-relay runs in the lab as opensmtpd (127.0.0.1:10026)"

in_root /bin/sh -c 'exec /usr/sbin/smtpd -d -f /etc/smtpd.conf' \
    >>"$SMTPD_LOG" 2>&1 </dev/null &
wait_for "smtpd on 127.0.0.1:25" 20 listening 25 &&
    wait_for "smtpd's socket" 10 in_smtpd test -S /run/smtpd.sock
ok $? "the installed smtpd runs in the lab (smtpd -d, /etc/smtpd.conf)"

for d in good spoof; do
	echo "+ sendmail u@enforce-$d.test" >>"$LOG"
	printf 'Subject: mtasts deb test\n\nhello\n' |
	    in_smtpd sendmail -f postmaster@mx.example.net \
	    "u@enforce-$d.test" >>"$LOG" 2>&1
done
wait_for "delivery to enforce-good.test" 60 \
    lab_smtp_delivered good.mx.test u@enforce-good.test tls
ok $? "enforce-good.test: delivered to good.mx.test over TLS"

said "$SMTPD_LOG" \
    'mta delivery .* to=<u@enforce-good.test> .*relay="127\.0\.0\.1 .*result="Ok"' &&
    said "$RELAY_LOG" \
    'enforce-good.test: MX host good.mx.test .*: sending over verified TLS'
ok $? "enforce-good.test: smtpd routed it to mtasts-relay (the filter's table)"

wait_for "smtpd's deferral of enforce-spoof.test" 60 said "$SMTPD_LOG" \
    'mta delivery .* to=<u@enforce-spoof.test> .*result="TempFail"'
ok $? "enforce-spoof.test: delivery deferred"

queue_has u@enforce-spoof.test && ! queue_has u@enforce-good.test
ok $? "enforce-spoof.test still in smtpd's queue, enforce-good.test not"

[ -z "$(lab_smtp_where u@enforce-spoof.test)" ] &&
    [ -z "$(lab_smtp_conns attacker.evil.test)" ] &&
    said "$RELAY_LOG" 'enforce-spoof.test: refused MX host attacker.evil.test'
ok $? "attacker.evil.test got no connection and no mail; the relay logged the refusal"

root_stop
ok $? "smtpd and the relay stopped"
SMTPD_UP= IN_LAB=

# --- purge ---------------------------------------------------------------------
rsh "apt-get purge -y mtasts-opensmtpd mtasts"
ok $? "apt-get purge mtasts-opensmtpd mtasts"

left=$(rout "find / -xdev \\( -path /proc -o -path /tmp -o -path /dev \\
    -o -path /run -o -path '$REPO' \\) -prune \
    -o -name '*mtasts*' ! -path /.mtasts-chroot -print")
[ -z "$left" ]
ok $? "nothing named mtasts left after purge${left:+: $(echo $left)}"

grep -qF " $ROOT" /proc/self/mountinfo
[ $? -ne 0 ]
ok $? "no mount left under the chroot"

tap_end
