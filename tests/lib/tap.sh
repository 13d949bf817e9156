# tests/lib/tap.sh - one TAP line per check, shared by the integration
# scripts (source it from the repo root). A script defines tap_diag()
# after sourcing it for what a failed check should show below its
# "not ok" line (TAP comments); by default nothing.
n=0 failed=0

ok() {	# STATUS DESCRIPTION: "ok N - DESCRIPTION" when STATUS is 0
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		tap_diag
	fi
}

tap_diag() {
	:
}

tap_show() {	# FILE [LINES]: the last LINES (all) of FILE, as comments
	[ -s "$1" ] || return 0
	if [ -n "${2:-}" ]; then
		tail -n "$2" "$1" | sed 's/^/#   /'
	else
		sed 's/^/#   /' "$1"
	fi
}
