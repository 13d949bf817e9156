#!/bin/bash
# tests/deb/install.sh [RELEASE] - the packages as a mail administrator
# installs them (TAP).
#
# Builds the .debs (make deb, unless DEB_DIR names a folder that has
# them), makes a clean minbase chroot of RELEASE (default: this
# machine's, bookworm) with debootstrap from the mirror this machine's
# apt uses (DEB_MIRROR overrides), kept as a tarball in
# $BUILD/deb-test so later runs reuse it, and in a fresh copy of it:
#  - installs Debian's own exim4-daemon-heavy (split configuration,
#    configtype internet, preseeded) and mtasts + mtasts-exim with apt;
#    checks the snippets are inert, turns MTA-STS on the documented way
#    (MTASTS_ENABLE in /etc/exim4/conf.d/main/000_mtasts, then
#    update-exim4.conf), and checks exim -bV, exim -bP, the dlfunc, the
#    store's owner, the timers and the cron fallback;
#  - purges mtasts-exim: the router is gone and Exim still starts;
#  - installs opensmtpd + mtasts-opensmtpd (apt replaces exim4): the
#    routing table, smtpd -n on the example lines;
#  - purges everything: nothing named mtasts is left.
# Each chroot command runs in its own private mount namespace (unshare
# --mount --propagation private) with /proc, /dev and a fresh /run; no
# mount outlives it. Services are never started in the chroot
# (policy-rc.d). Needs root and the network (the Debian mirror).
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO" || exit 1
. tests/lib/tap.sh
. /etc/os-release
R=${1:-${DEB_RELEASE:-$VERSION_CODENAME}}
BUILD=${BUILD:-build}
WORK=$REPO/$BUILD/deb-test
BASE=$WORK/$R-minbase.tar
ROOT=$WORK/$R-root
LOG=$WORK/$R.log
DEB_DIR=${DEB_DIR:-}
mkdir -p "$WORK"
: >"$LOG"

tap_diag() {
	tap_show "$LOG" 15
}

mirror() {	# the Debian mirror this machine's apt uses
	local m
	m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | \
	    awk '{print $2}' | grep -v security | grep '/debian/*$' | head -1)
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $2 !~ /security/ && \
	    $2 ~ /\/debian\/*$/ {print $2; exit}' /etc/apt/sources.list \
	    2>/dev/null)
	echo "${DEB_MIRROR:-${m:-http://deb.debian.org/debian}}"
}

# in_root CMD...: CMD in the chroot, with its mounts in a private mount
# namespace that ends with CMD.
in_root() {
	unshare --mount --propagation private /bin/sh -c '
	r=$1; shift
	mount -t proc proc "$r/proc" &&
	mount --rbind /dev "$r/dev" &&
	mount -t tmpfs -o mode=0755 tmpfs "$r/run" || exit 125
	exec chroot "$r" /usr/bin/env -i \
	    PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	    DEBIAN_FRONTEND=noninteractive "$@"' sh "$ROOT" "$@"
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
	DEB_DIR=$BUILD/deb
	make deb >>"$LOG" 2>&1
	ok $? "make deb builds the packages, lintian finds nothing"
fi
debs() {	# PACKAGE...: the .deb file of each
	local p
	for p in "$@"; do ls "$DEB_DIR/${p}_"*.deb 2>/dev/null | head -1; done
}
[ "$(debs mtasts mtasts-exim mtasts-opensmtpd | wc -l)" -eq 3 ]
ok $? "mtasts, mtasts-exim and mtasts-opensmtpd in $DEB_DIR"

if [ ! -s "$BASE" ]; then
	command -v debootstrap >/dev/null ||
	    DEBIAN_FRONTEND=noninteractive apt-get install -y \
	        --no-install-recommends debootstrap >>"$LOG" 2>&1
	rm -rf "$WORK/$R-new"
	debootstrap --variant=minbase "$R" "$WORK/$R-new" "$(mirror)" \
	    >>"$LOG" 2>&1 &&
	    tar -C "$WORK/$R-new" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
	rm -rf "$WORK/$R-new"
fi
rm -rf "$ROOT" && mkdir -p "$ROOT" && tar -C "$ROOT" -xf "$BASE"
ok $? "clean $R minbase chroot (debootstrap from $(mirror), cached)"

cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
mkdir -p "$ROOT/tmp/debs" && cp "$DEB_DIR"/*.deb "$ROOT/tmp/debs/"
rsh "apt-get update"
ok $? "apt-get update in the chroot"

# --- Exim -------------------------------------------------------------------
rsh "debconf-set-selections <<'E'
exim4-config exim4/dc_eximconfig_configtype select internet site; mail is sent and received directly using SMTP
exim4-config exim4/use_split_config boolean true
exim4-config exim4/mailname string mx.example.net
E
apt-get install -y --no-install-recommends exim4-daemon-heavy \
    $(debs mtasts mtasts-exim | sed 's|.*/|/tmp/debs/|' | tr '\n' ' ')"
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
r=$(
    unshare --net --mount --propagation private /bin/sh -c '
    r=$1; mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" &&
    mount -t tmpfs tmpfs "$r/run" &&
    exec chroot "$r" /usr/sbin/exim -be \
        "\${dlfunc{/usr/lib/mtasts/mtasts.so}{exim_mode}{example.invalid}}"' \
    sh "$ROOT" 2>>"$LOG")
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

rsh "apt-get purge -y mtasts-exim" &&
    ! rsh "exim -bP router mtasts_dnslookup" && rsh "exim -bV" &&
    ! rsh "test -e /etc/exim4/conf.d/main/000_mtasts -o -e /usr/lib/mtasts/mtasts.so"
ok $? "purge mtasts-exim: router and files gone, Exim's configuration rebuilt and valid"

# --- OpenSMTPD ----------------------------------------------------------------
rsh "apt-get install -y --no-install-recommends opensmtpd \
    $(debs mtasts-opensmtpd | sed 's|.*/|/tmp/debs/|') &&
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

# --- purge ---------------------------------------------------------------------
rsh "apt-get purge -y mtasts-opensmtpd mtasts"
ok $? "apt-get purge mtasts-opensmtpd mtasts"

left=$(rout "find / -xdev \\( -path /proc -o -path /tmp -o -path /dev \\) -prune \
    -o -name '*mtasts*' -print")
[ -z "$left" ]
ok $? "nothing named mtasts left after purge${left:+: $(echo $left)}"

grep -qF " $ROOT" /proc/self/mountinfo
[ $? -ne 0 ]
ok $? "no mount left under the chroot"

echo "1..$n"
[ "$failed" -eq 0 ]
