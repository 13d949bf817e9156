#!/bin/bash
# store_full.sh - a full disk must not make cached policies disappear
# (issue 11, item 2). The store lives on a real 1 MiB tmpfs mounted in
# this script's own mount namespace (unshare -m: it goes away with the
# script). An enforce policy is fetched from the lab and cached, its
# _mta-sts TXT record is removed (as an attacker who strips it would),
# the tmpfs is filled, and then each consumer of the engine must still
# answer enforce from the cache: the CLI ("mtasts query"), mtasts.so in
# the real Exim 4.96 (${dlfunc} expanded by "exim -be") and
# filter-mtasts over its stdin protocol (a RCPT TO routed as enforce).
# TAP output. Needs root; run from the repo root after "make".
set -u
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../.."
if [ -z "${STORE_FULL_NS:-}" ]; then
	exec env STORE_FULL_NS=1 unshare -m --propagation private \
	    /bin/bash "$self" "$@"
fi
export LAB_NAME=${LAB_NAME:-mtlab-storefull}
. tests/lab/lib.sh
. tests/e2e/exim/lib.sh
. tests/lib/tap.sh
MTASTS=${MTASTS:-$PWD/build/mtasts}
FILTER=${FILTER:-$PWD/build/filter-mtasts}
DOM=enforce.test
T=$(mktemp -d /tmp/store-full.XXXXXX)
chmod 755 "$T"
FS=$T/fs
CONF=$T/mtasts.conf
STORE=$FS/store.db
FPID=
trap '[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
    lab_down >/dev/null 2>&1; umount "$FS" 2>/dev/null; rm -rf "$T"' EXIT
. tests/lib/query.sh

DIAG="$T/last.err $T/last.json"
tap_diag() {	# the files of the section that failed
	local f
	for f in $DIAG; do
		tap_show "$f" 8
	done
	return 0
}

avail_kib() {	# free KiB on the tmpfs
	df -k --output=avail "$FS" | tail -n 1 | tr -d ' '
}

fill() {	# fill the tmpfs to its last byte
	dd if=/dev/zero of="$FS/fill" bs=4k 2>/dev/null
	dd if=/dev/zero of="$FS/fill" bs=1 oflag=append conv=notrunc \
	    2>/dev/null
	[ "$(avail_kib)" -eq 0 ]
}

# ---------------------------------------------------------------- setup

for b in "$MTASTS" "$FILTER" "$EXIM_SO"; do
	if [ ! -x "$b" ] && [ ! -f "$b" ]; then
		ok 1 "$b is missing: run make first"
		exit 1
	fi
done
mkdir -p "$FS" && mount -t tmpfs -o size=1m,mode=0755 tmpfs "$FS"
ok $? "a 1 MiB tmpfs for the store, in a private mount namespace"
if ! lab_up >"$T/lab.log" 2>&1; then
	tap_show "$T/lab.log"
	ok 1 "the lab starts"
	exit 1
fi
{ grep -v '^store ' "$LAB_CONF"; echo "store $STORE"; } >"$CONF"
chmod 644 "$CONF"
DIAG=$T/exim-setup.log
exim_setup >"$T/exim-setup.log" 2>&1
ok $? "Exim unpacked and set up (not installed)"
DIAG="$T/last.err $T/last.json"

# ------------------------------------------- cache, strip the TXT, fill

q "$DOM"
is mode enforce && is source network
ok $? "$DOM: enforce policy fetched from the lab and cached"
[ -f "$STORE" ] && [ ! -e "$STORE-shm" ]
ok $? "the store is closed (no -shm file left, as after the last process)"
lab_set_txt "_mta-sts.$DOM" && ! lab_dig +short TXT "_mta-sts.$DOM" |
    grep -q STSv1
ok $? "$DOM: _mta-sts TXT record removed"
fill
ok $? "the store's file system is full ($(avail_kib) KiB free)"

# ------------------------------------------------------------- the CLI

q "$DOM"
is mode enforce && is source "stale cache"
ok $? "CLI: $DOM still enforce, from the cache, on a full disk"
grep -q "immutable read-only" "$T/last.err" &&
    grep -q "I/O error" "$T/last.err"
ok $? "CLI: the store's mode and the cause are logged"
! grep -q "working uncached" "$T/last.err"
ok $? "CLI: the cache is not given up"

# ------------------------------------------------ mtasts.so in real Exim

DIAG="$T/exim.out $T/exim.err"
echo "\${dlfunc{$EXIM_DIR/mtasts.so}{exim_mode}{$DOM}{$CONF}}" |
    lab_exec "$EXIM_BIN" -C "$EXIM_CONF" -be >"$T/exim.out" \
    2>"$T/exim.err"
grep -qx '> enforce' "$T/exim.out"
ok $? "Exim: \${dlfunc ... exim_mode} answers enforce on a full disk"

# ----------------------------------------------- filter-mtasts (stdin)

DIAG="$T/filter.out $T/filter.err"
mkfifo "$T/filter.in"
lab_exec "$FILTER" -r 0 -c "$CONF" -t "$T/table.db" <"$T/filter.in" \
    >"$T/filter.out" 2>"$T/filter.err" &
FPID=$!
exec 3>"$T/filter.in"
printf 'config|ready\n' >&3
printf 'filter|0.7|1.1|smtp-in|rcpt-to|00000000000000aa|0b|<u@%s>\n' \
    "$DOM" >&3
wait_for "the filter's answer" 15 \
    grep -q 'filter-result|00000000000000aa|' "$T/filter.out"
grep -q 'filter-result|00000000000000aa|000000000000000b|proceed' \
    "$T/filter.out"
ok $? "filter: RCPT TO <u@$DOM> answered (proceed)"
grep -q "$DOM: enforce (stale cache): routed to mtasts-relay" \
    "$T/filter.err"
ok $? "filter: $DOM routed as enforce, from the cache"
exec 3>&-
wait_for "the filter's exit" 5 not kill -0 "$FPID" 2>/dev/null
ok $? "filter: exits when its stdin closes"
FPID=

# --------------------------------------------- room again: writes work

DIAG="$T/last.err $T/last.json"
rm -f "$FS/fill"
q "$DOM"
is mode enforce && is source "stale cache" &&
    ! grep -q "read-only" "$T/last.err"
ok $? "CLI: with room again the store opens read-write, policy cached"

tap_end
