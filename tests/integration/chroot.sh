#!/bin/sh
# chroot.sh - tests/lib/chroot.sh, the chroot of the other Debian release
# that make check-release and make check's last phase run in. TAP output.
# Needs root.
#
# On the machine: makes (or reuses) the chroot of the other release
# (RELEASE, default: bookworm on trixie, trixie on bookworm), runs
# commands in it and checks what the machine sees: that release inside,
# the same checkout, the release's build tree over build/, a network
# namespace made inside invisible outside, "ip netns exec" working, the
# exit status passed on, and afterwards no mount left under the chroot
# and no process left from inside.
# Inside that chroot (MTASTS_CHROOT set): checks the mounts it was given.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
REPO=$PWD
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
tap_diag() {
	tap_show "$T/out" 10
}

if [ -n "${MTASTS_CHROOT:-}" ]; then
	findmnt -rn -o TARGET,FSTYPE >"$T/out"
	grep -q '^/ ' "$T/out"
	ok $? "inside the $MTASTS_CHROOT chroot: / is a mount point (ip netns exec)"
	grep -qx '/run tmpfs' "$T/out"
	ok $? "inside: /run is its own tmpfs"
	grep -qx "$REPO [a-z0-9]*" "$T/out" &&
	    grep -qx "$REPO/build [a-z0-9]*" "$T/out"
	ok $? "inside: the checkout and its release's build tree are mounted"
	[ "$(. /etc/os-release && echo "$VERSION_CODENAME")" = "$MTASTS_CHROOT" ]
	ok $? "inside: /etc/os-release says $MTASTS_CHROOT"
	exit $((failed > 0))
fi

case $(. /etc/os-release && echo "${VERSION_CODENAME:-}") in
bookworm) R=${RELEASE:-trixie} ;;
*) R=${RELEASE:-bookworm} ;;
esac
CH=tests/lib/chroot.sh
D=$($CH path "$R")
NS=chroot-test-$$

$CH make "$R" >"$T/out" 2>&1
ok $? "the $R chroot is made or reused ($D)"
[ -f "$D/.mtasts-chroot" ]
ok $? "its stamp says it is complete"

# Inside: release, checkout, build tree, a namespace, ip netns exec, and
# a process left running on purpose.
mark=$(date +%s%N)
$CH run "$R" sh -c '
	. /etc/os-release; echo "release $VERSION_CODENAME"
	echo "pwd $(pwd)"
	echo "$2" >build/chroot-test.mark
	ip netns add "$1" && ip netns exec "$1" ip -o link show lo &&
	    echo "netns ok"
	ip netns list | sed "s/^/inside /"
	setsid sleep "1000.$2" </dev/null >/dev/null 2>&1 &
	echo started
' sh "$NS" "$mark" >"$T/out" 2>&1
ok $? "a command runs in the chroot"
grep -qx "release $R" "$T/out"
ok $? "it runs on $R"
grep -qx "pwd $REPO" "$T/out"
ok $? "in this checkout, at its own path"
[ "$(cat "build/release/$R/chroot-test.mark" 2>/dev/null)" = "$mark" ] &&
    [ ! -e build/chroot-test.mark ]
ok $? "its build/ is build/release/$R, not the machine's build/"
grep -q "^inside $NS" "$T/out" && grep -qx "netns ok" "$T/out"
ok $? "a network namespace made inside works with ip netns exec"
! ip netns list | awk '{print $1}' | grep -qx "$NS"
ok $? "the machine does not see that namespace"
findmnt -rn -o TARGET >"$T/mnt"
! grep -q "^$D\(/\|\$\)" "$T/mnt" && ! grep -qx "$D" "$T/mnt"
ok $? "no mount is left under $D"
! pgrep -f "sleep 1000.$mark" >/dev/null
ok $? "no process started inside is left running"
rm -f "build/release/$R/chroot-test.mark"

$CH run "$R" sh -c 'exit 7' >/dev/null 2>&1
[ $? -eq 7 ]
ok $? "the command's exit status is passed on"
tap_end
