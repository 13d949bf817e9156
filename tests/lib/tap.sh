# tests/lib/tap.sh - the one TAP helper library of the shell suites
# (POSIX sh: dash or bash). Source it; sourcing it again is harmless.
#
#   ok STATUS DESC      "ok N - DESC" when STATUS is 0, else "not ok N -
#                       DESC" followed by tap_diag's comments
#   check DESC CMD...   ok when CMD succeeds (CMD runs in this shell: it
#                       may set variables)
#   not CMD...          succeeds when CMD fails (for check)
#   wait_for DESC SECONDS CMD...
#                       poll CMD every 0.1 s until it succeeds: positive
#                       evidence (a log line, a file), never a fixed
#                       sleep. Fails after SECONDS (may be fractional) of
#                       wall-clock time with "# wait_for: DESC: not seen
#                       within SECONDS s"; its status is for ok/check
#   tap_diag            the hook a failed check calls: a script
#                       redefines it after sourcing this file to show
#                       what a failure needs (TAP comments); default none
#   tap_show FILE [N]   the last N lines (all) of FILE, as comments
#   tap_end             "1..N" and "# N tests, F failed"; status 0 when
#                       nothing failed: a script's last command
#
#   TAP_CAPTURE=FILE    check sends CMD's output to FILE; shown as
#                       comments when CMD fails, only its "#" lines when
#                       it succeeds
#   TAP_TIMING=1        check adds "#   N ms" (CMD's time) after an ok
#
# tests/run.sh counts the "ok" and "not ok" lines; a script that ends
# with a failure status but no "not ok" line counts as one failure.

: "${tap_n:=0}" "${tap_failed:=0}"

ok() {	# STATUS DESC
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
		[ -n "${tap__out:-}" ] && sed 's/^/#   /' "$tap__out" | head -20
		tap_diag
	fi
	return 0
}

check() {	# DESC CMD...
	local tap_d=$1 tap_rc tap_t0
	shift
	tap_t0=$(tap__ms)
	if [ -n "${TAP_CAPTURE:-}" ]; then
		"$@" >"$TAP_CAPTURE" 2>&1
	else
		"$@"
	fi
	tap_rc=$?
	tap__out=${TAP_CAPTURE:-}
	ok $tap_rc "$tap_d"
	tap__out=
	if [ $tap_rc -eq 0 ]; then
		[ -n "${TAP_CAPTURE:-}" ] && grep '^#' "$TAP_CAPTURE"
		[ -n "${TAP_TIMING:-}" ] &&
		    echo "#   $(($(tap__ms) - tap_t0)) ms"
	fi
	return $tap_rc
}

not() {	# CMD...
	! "$@"
}

wait_for() {	# DESC SECONDS CMD...
	local tap_d=$1 tap_s=$2 tap_end_ms
	shift 2
	tap_end_ms=$(($(tap__ms) + $(tap__s2ms "$tap_s")))
	while ! "$@"; do
		if [ "$(tap__ms)" -ge $tap_end_ms ]; then
			echo "# wait_for: $tap_d: not seen within $tap_s s"
			return 1
		fi
		sleep 0.1
	done
	return 0
}

command -v tap_diag >/dev/null 2>&1 || tap_diag() {
	:
}

tap_show() {	# FILE [LINES]
	[ -s "$1" ] || return 0
	if [ -n "${2:-}" ]; then
		tail -n "$2" "$1" | sed 's/^/#   /'
	else
		sed 's/^/#   /' "$1"
	fi
}

tap_end() {
	echo "1..$tap_n"
	echo "# $tap_n tests, $tap_failed failed"
	[ "$tap_failed" -eq 0 ]
}

tap__ms() {	# milliseconds since the epoch
	date +%s%3N
}

tap__s2ms() {	# SECONDS (e.g. 5, 0.5): milliseconds
	awk -v s="$1" 'BEGIN { printf "%d\n", s * 1000 }'
}
