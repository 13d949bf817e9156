#!/bin/sh
# chroot.sh - a Debian chroot of another release, to build and test this
# checkout with that release's compiler, libraries and MTAs (make
# check-release, tests/check.sh). Run as root:
#
#   tests/lib/chroot.sh make RELEASE        debootstrap it, unless complete
#   tests/lib/chroot.sh run RELEASE CMD...  run CMD inside, in the checkout
#   tests/lib/chroot.sh path RELEASE        print the chroot's folder
#   tests/lib/chroot.sh remove RELEASE      delete the chroot
#
# make: debootstrap --variant=minbase (plus make and ca-certificates) from
# the Debian mirror this machine's apt uses (/etc/apt/sources.list*), into
# CHROOT_DIR; the stamp file .mtasts-chroot says it is complete, and a
# chroot without it (an interrupted debootstrap) is made again. Its apt
# lists RELEASE, RELEASE-updates and RELEASE-security; services never
# start on package installation (policy-rc.d).
#
# run: in a private mount namespace (unshare --mount --propagation
# private) and a private PID namespace (whatever CMD leaves running ends
# with it): the chroot bound onto itself (so that "ip netns exec" can
# remount inside it), proc, sysfs, /dev, a tmpfs on /run (network
# namespace names made inside are not seen outside, and cannot collide
# with the machine's), the checkout bound at its own path, and
# CHROOT_BUILD over the checkout's build/ (so the release's objects, the
# MTA .debs it downloads and its logs never mix with the machine's).
# Every mount belongs to that namespace: none is left when CMD ends. The
# chroot's own /var/tmp holds its run folder (tests/lab/lib.sh). CMD runs
# with a clean environment: PATH, HOME, TERM, LANG, MTASTS_CHROOT=RELEASE
# (what tells a test it is inside), and the variables named in CHROOT_ENV
# (default LAB_NAME FUZZ_SECONDS).
#
#   CHROOT_DIR     the chroot (default build/chroot/RELEASE of the checkout)
#   CHROOT_BUILD   mounted over the checkout's build/ inside (default
#                  build/release/RELEASE; empty: the checkout's own build/)
#   CHROOT_MIRROR  the Debian mirror (default: the one apt uses here)
#   CHROOT_INCLUDE more packages for debootstrap (comma separated)
#
# Exit status: CMD's; 1 with a message on stderr when the chroot cannot
# be made or entered; 2 on a usage error.
set -u
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
STAMP=.mtasts-chroot

msg() {
	echo "chroot: $*" >&2
}

usage() {
	echo "usage: $0 make|run|path|remove RELEASE [CMD...]" >&2
	exit 2
}

mirror() {	# the Debian archive apt uses for this machine's release
	local codename uri
	[ -n "${CHROOT_MIRROR:-}" ] && { echo "$CHROOT_MIRROR"; return; }
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    2>/dev/null | awk -v c="$codename" '
	    $1 == "deb" { u = ""; for (i = 2; i <= NF; i++) {
	        if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; continue }
	        if (u == "") u = $i; else if ($i == c) { print u; exit }
	        else break } }')
	[ -n "$uri" ] || uri=$(cat /etc/apt/sources.list.d/*.sources \
	    2>/dev/null | awk -v c="$codename" '
	    /^$/ { if (s && u != "") { print u; exit } u = ""; s = 0 }
	    /^URIs:/ { u = $2 }
	    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == c) s = 1 }
	    END { if (s && u != "") print u }' | head -1)
	echo "${uri:-http://deb.debian.org/debian}"
}

security() {	# the security archive beside MIRROR
	case $1 in
	*/debian) echo "${1%/debian}/debian-security" ;;
	*) echo http://deb.debian.org/debian-security ;;
	esac
}

mounted_under() {	# DIR: is anything mounted at or under DIR here?
	findmnt -rn -o TARGET | awk -v d="$1" \
	    '$0 == d || index($0, d "/") == 1 { f = 1 } END { exit !f }'
}

ch_make() {	# debootstrap DIR unless its stamp says it is complete
	local m t0
	[ -f "$D/$STAMP" ] && return 0
	if mounted_under "$D"; then
		msg "something is mounted under $D; not touching it"
		return 1
	fi
	command -v debootstrap >/dev/null ||
	    { msg "no debootstrap (apt-get install debootstrap)"; return 1; }
	rm -rf "${D:?}"
	mkdir -p "$D" || return 1
	m=$(mirror)
	t0=$(date +%s)
	msg "debootstrap $R from $m into $D"
	if ! debootstrap --variant=minbase \
	    --include=make,ca-certificates,iproute2${CHROOT_INCLUDE:+,$CHROOT_INCLUDE} \
	    "$R" "$D" "$m" >"$D.log" 2>&1; then
		msg "debootstrap failed (log: $D.log)"
		tail -5 "$D.log" >&2
		return 1
	fi
	{
		echo "deb $m $R main"
		echo "deb $m $R-updates main"
		echo "deb $(security "$m") $R-security main"
	} >"$D/etc/apt/sources.list" || return 1
	printf '#!/bin/sh\n# chroot.sh: no service starts here\nexit 101\n' \
	    >"$D/usr/sbin/policy-rc.d" && chmod 0755 "$D/usr/sbin/policy-rc.d" ||
	    return 1
	echo "$R $m $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$D/$STAMP" || return 1
	msg "$R made in $(($(date +%s) - t0)) s ($(du -sm "$D" | cut -f1) MB)"
}

ch_enter() {	# inside the private namespaces: mount, chroot, run CMD
	local b=${CHROOT_BUILD-$REPO/build/release/$R} v envs
	mount --bind "$D" "$D" &&
	    mount -t proc proc "$D/proc" &&
	    mount -t sysfs sysfs "$D/sys" &&
	    mount --rbind /dev "$D/dev" &&
	    mount -t tmpfs -o mode=0755 tmpfs "$D/run" &&
	    mkdir -p "$D$REPO" && mount --bind "$REPO" "$D$REPO" || {
		msg "mounting inside $D failed"
		exit 1
	}
	if [ -n "$b" ]; then
		mkdir -p "$b" "$REPO/build" &&
		    mount --bind "$b" "$D$REPO/build" ||
		    { msg "cannot mount $b over build/"; exit 1; }
	fi
	cp /etc/resolv.conf "$D/etc/resolv.conf" 2>/dev/null
	envs=
	for v in ${CHROOT_ENV-LAB_NAME FUZZ_SECONDS}; do
		eval "[ -n \"\${$v+x}\" ]" &&
		    envs="$envs $v=$(eval "printf %s \"\$$v\"")"
	done
	# shellcheck disable=SC2086
	exec chroot "$D" /usr/bin/env -i \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 MTASTS_CHROOT="$R" \
	    $envs \
	    /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$REPO" "$@"
}

ch_run() {
	[ $# -gt 0 ] || usage
	if [ ! -f "$D/$STAMP" ]; then
		msg "no complete $R chroot in $D ($0 make $R)"
		return 1
	fi
	unshare --mount --propagation private --pid --fork --kill-child \
	    -- "$SELF" __enter "$R" "$@"
}

[ $# -ge 2 ] || usage
cmd=$1 R=$2
shift 2
case $R in
*[!a-z]*|'') msg "bad release name: $R"; exit 2 ;;
esac
D=${CHROOT_DIR:-$REPO/build/chroot/$R}
case $D in
/*) ;;
*) D=$PWD/$D ;;
esac
if [ "$cmd" != path ] && [ "$(id -u)" -ne 0 ]; then
	msg "needs root (debootstrap, mount, chroot)"
	exit 1
fi
case $cmd in
path)	echo "$D" ;;
make)	ch_make ;;
run)	ch_run "$@" ;;
__enter) ch_enter "$@" ;;
remove)	if mounted_under "$D"; then
		msg "something is mounted under $D; not removing it"
		exit 1
	fi
	rm -rf "${D:?}" "$D.log" ;;
*)	usage ;;
esac
