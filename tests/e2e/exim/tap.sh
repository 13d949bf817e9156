# tests/e2e/exim/tap.sh - TAP lines for the Exim end-to-end scripts:
# ok/notok WHAT, check WHAT CMD... (on failure shows the end of Exim's
# main log), not CMD..., and the lab taken down on exit unless KEEP_LAB
# is set. Source it after tests/e2e/exim/lib.sh.
n=0 nfail=0
ok() { n=$((n + 1)); echo "ok - $*"; }
notok() { n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok - $*"; }
check() {	# WHAT CMD...: ok when CMD succeeds
	local what=$1
	shift
	if "$@"; then
		ok "$what"
	else
		notok "$what"
		exim_log | tail -8 | cut -c1-300 | sed 's/^/# /'
	fi
}
not() { ! "$@"; }

finish() {
	if [ "${KEEP_LAB:-}" = "" ]; then
		lab_down >/dev/null 2>&1
	fi
}
trap finish EXIT
