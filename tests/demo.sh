#!/bin/bash
# demo.sh - what "make demo" shows: the lab (a DNS server, a policy web
# server with a test CA, SMTP hosts with good and bad TLS, an attacker's
# MX), Debian's real Exim and OpenSMTPD (the headings name the versions
# the binaries report) with our plugins, one message to each kind of
# domain, and what happened to each beside what RFC 8461 wants
# (tests/lab/domains.txt).
#
# Exits 0 only when both MTAs (and the relay) ran and every case came out as expected;
# otherwise the last line says what went wrong and the exit status is 1.
#
# Nothing is installed over the machine's MTA: both MTAs are unpacked
# from their Debian packages into the checkout's run folder (LAB_RUN, see
# tests/lab/lib.sh; their users can reach it wherever the checkout is)
# and run inside the lab's network namespace, which reaches nothing
# outside this machine. Logs and the MTAs' folders: $LAB_RUN/demo.
# OpenSMTPD runs with the shipped smtpd.conf lines: filter-mtasts keeps
# the routing table, mtasts-relay delivers the policy domains.
# EXIM_BIN, SMTPD_BIN and RELAY select other binaries
# (tests/integration/demo.sh uses broken ones to see the demo fail).
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 1
export BUILD=${BUILD:-build}
export LAB_NAME=${LAB_NAME:-mtlab-demo}
LAB_SRC=$REPO/tests/lab
. "$LAB_SRC/lib.sh" || exit 1
MTASTS=$REPO/$BUILD/mtasts
LOG=$LAB_RUN/demo/$LAB_NAME
lab_run_mkdir demo && mkdir -p -m 0755 "$LOG" || exit 1
trap 'lab_down >/dev/null 2>&1' EXIT
FAILED=	# what did not come out as expected, for the last line

# The domains shown, and what RFC 8461 wants to happen to their mail.
DOMAINS="enforce-good enforce-spoof enforce-nostarttls enforce-expired
enforce-selfsigned enforce-wrongname enforce-secondgood testing-spoof
testing-nostarttls testing-expired none-good nopolicy-good"

title() {
	printf '\n\033[1m== %s\033[0m\n\n' "$*"
}
expect() {	# DOMAIN: the expectation in domains.txt
	awk -v d="$1.test" '$1 == d { print $8 }' tests/lab/domains.txt
}
want() {	# DOMAIN: the expectation in domains.txt, in words
	expect "$1" |
	    sed -e 's/^deliver-tls:/delivered over verified TLS to /' \
	        -e 's/^deliver:/delivered (TLS or not) to /' \
	        -e 's/^defer$/deferred: kept in the queue/'
}
where() {	# RCPT: where the lab's SMTP hosts got it, in words
	lab_smtp_where "$1" | awk '
	    { printf "%s%s (%s)", sep, $1, $2 == "plain" ? "in clear" : $2;
	      sep = ", " }'
}

as_expected() {	# DOMAIN RCPT QUEUED(yes|no): as domains.txt says?
	local e
	e=$(expect "$1")
	case $e in
	deliver-tls:*) lab_smtp_delivered "${e#*:}" "$2" tls ;;
	deliver:*) lab_smtp_delivered "${e#*:}" "$2" ;;
	defer) [ -z "$(lab_smtp_where "$2")" ] && [ "$3" = yes ] ;;
	*) false ;;
	esac
}
failed() {	# WHAT: remember (and say) that WHAT went wrong
	FAILED="$FAILED${FAILED:+; }$*"
	echo "  FAILED: $*"
}
row() {	# DOMAIN GOT RCPT QUEUED: one line of the table, checked
	local mark=ok
	as_expected "$1" "$3" "$4" || mark=WRONG
	printf '  %-5s %-26s %-52s %s\n' "$mark" "$1.test" "$2" "$(want "$1")"
	[ $mark = ok ] || BAD="$BAD $1"
}
table_head() {
	printf '  %-5s %-26s %-52s %s\n' "" DOMAIN "WHAT HAPPENED" \
	    "WHAT RFC 8461 WANTS"
}

title "The lab"
if ! lab_up >"$LOG/lab-up.log" 2>&1; then
	tail -5 "$LOG/lab-up.log"
	echo "demo: FAILED: the lab did not come up (see $LOG/lab-up.log)"
	exit 1
fi
tail -1 "$LOG/lab-up.log"
. "$LAB_DIR/env"
echo "DNS $LAB_DNS (nsd), HTTPS $LAB_HTTPS (nginx), SMTP hosts on 127.0.20.x"
echo "attacker.evil.test has a valid certificate for its own name."

title "A policy, checked and generated offline"
"$MTASTS" generate --domain example.org --mode enforce \
    --mx mx1.example.org --mx '*.mx.example.org' \
    --rua mailto:tlsrpt@example.org | sed 's/^/  /'

title "What the engine says about each domain (mtasts query)"
printf '  %-26s %-8s %-8s %s\n' DOMAIN MODE SOURCE "MX VERDICT"
for d in $DOMAINS; do
	mx=$(lab_dig +short MX "$d.test" | sort -n | head -1 | awk '{print $2}')
	mx=${mx%.}
	lab_exec "$MTASTS" query -c "$LAB_CONF" --json "$d.test" \
	    --mx "$mx" >"$LOG/query-$d.json" 2>/dev/null
	python3 - "$LOG/query-$d.json" "$d.test" "$mx" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))
print("  %-26s %-8s %-8s %s: %s" % (sys.argv[2], a["mode"], a["source"],
      sys.argv[3], a.get("mx", {}).get(sys.argv[3], "?")))
EOF
done

demo_exim() {
	local d r got q ok=0 BAD=
	. tests/e2e/exim/lib.sh || return 1
	exim_setup >"$LOG/exim-setup.log" 2>&1 || ok=1
	title "Exim $(exim_version || echo '(version unknown)') with mtasts.so"
	if [ $ok != 0 ]; then
		tail -3 "$LOG/exim-setup.log" | sed 's/^/  /'
		failed "Exim did not start (see $LOG/exim-setup.log)"
		return 1
	fi
	exim_reset
	lab_smtp_clear
	for d in $DOMAINS; do
		exim_send "demo-exim@$d.test" ||
		    echo "  exim did not take the message for $d.test"
	done
	exim_runq
	table_head
	for d in $DOMAINS; do
		r="demo-exim@$d.test"
		q=no
		if exim_queued "$r"; then
			got="deferred, still queued"
			q=yes
		elif [ -n "$(lab_smtp_where "$r")" ]; then
			got="delivered to $(where "$r")"
		else
			got="lost: neither delivered nor queued"
		fi
		row "$d" "$got" "$r" $q
	done
	echo
	echo "  Exim's log says why (mtasts lines):"
	exim_log | grep -o 'mtasts: .*' | cut -c1-150 | sort -u | head -12 |
	    sed 's/^/    /'
	[ -z "$BAD" ] && return 0
	failed "Exim: not as RFC 8461 wants:$BAD (see $EXIM_DIR/log)"
	return 1
}

settled() {	# RCPT: delivered somewhere, or smtpd logged a try for it
	[ -n "$(lab_smtp_where "$1")" ] || [ -n "$(smtpd_result "$1")" ]
}
all_settled() {	# DOMAIN...: settled for the demo's message to each
	local r
	for r in "$@"; do
		settled "demo-smtpd@$r.test" || return 1
	done
}
smtpd_row() {	# DOMAIN: the OpenSMTPD row of DOMAIN, and smtpd's reason
	local r=demo-smtpd@$1.test got q=no why= by=smtpd
	via_relay "$r" && by="the relay"
	if ! grep -q 'Message accepted' "$LOG/smtpd-send-$1.txt"; then
		got="not accepted: $(grep -o '<~  *[45][0-9][0-9] .*' \
		    "$LOG/smtpd-send-$1.txt" | tail -1 | cut -c5-40)"
	elif [ -n "$(lab_smtp_where "$r")" ]; then
		got="delivered to $(where "$r") by $by"
	elif grep -q "|$r|" "$D/queue.txt"; then
		got="held in smtpd's queue"
		q=yes
		why=$(smtpd_result "$r")
	else
		got="lost: neither delivered nor queued"
	fi
	row "$1" "$got" "$r" $q
	[ -z "$why" ] || echo "smtpd: ${why%% *}; $by answered: ${why#* }" |
	    fold -s -w 110 | sed -e 's/^/          /' -e 's/ *$//'
}

# OpenSMTPD with the shipped smtpd.conf lines (tests/e2e/opensmtpd/
# smtpd.sh): filter-mtasts keeps the routing table, smtpd relays the
# policy domains to mtasts-relay, which enforces when the mail leaves.
# One message to each domain; wait (60 s at most) until each is
# delivered or smtpd logged a try for it; then smtpd's queue.
demo_opensmtpd() {
	local r ok=0 BAD= D=$LOG/smtpd
	SMTPD_REPO=$REPO FILTER=$REPO/$BUILD/filter-mtasts
	RELAY=${RELAY:-$REPO/$BUILD/mtasts-relay}
	. tests/e2e/opensmtpd/smtpd.sh || return 1
	smtpd_unpack >"$LOG/smtpd-setup.log" 2>&1 || ok=1
	title "OpenSMTPD $(smtpd_version | grep . || echo '(version unknown)')" \
	    "with filter-mtasts and mtasts-relay"
	if [ $ok != 0 ] || ! smtpd_case "$D" >>"$LOG/smtpd-setup.log" 2>&1
	then
		tail -3 "$LOG/smtpd-setup.log" | sed 's/^/  /'
		failed "OpenSMTPD could not be set up (see $LOG/smtpd-setup.log)"
		return 1
	fi
	if ! relay_start "$D" >>"$LOG/smtpd-setup.log" 2>&1; then
		tail -3 "$D/relay.log" | sed 's/^/  /'
		failed "mtasts-relay did not start (see $D/relay.log)"
		return 1
	fi
	if ! smtpd_start "$D" >>"$LOG/smtpd-setup.log" 2>&1; then
		relay_stop
		tail -3 "$LOG/smtpd-setup.log" | sed 's/^/  /'
		failed "OpenSMTPD did not start (see $LOG/smtpd-setup.log)"
		return 1
	fi
	lab_smtp_clear
	for r in $DOMAINS; do
		smtpd_send "demo-smtpd@$r.test" >"$LOG/smtpd-send-$r.txt"
	done
	wait_for "a delivery or a try for every domain" 60 \
	    all_settled $DOMAINS >>"$LOG/smtpd-setup.log"
	smtpd_ctl "$D" show queue >"$D/queue.txt" 2>&1
	smtpd_stop "$D"
	relay_stop
	table_head
	for r in $DOMAINS; do
		smtpd_row "$r"
	done
	echo
	echo "  The testing domains, delivered: what enforce would have refused"
	echo "  (mtasts-relay's log):"
	grep -o 'mtasts-relay: warning: .*would have.*' "$D/relay.log" |
	    cut -c1-150 | sort -u | head -14 | sed 's/^/    /'
	[ -z "$BAD" ] && return 0
	failed "OpenSMTPD: not as RFC 8461 wants:$BAD (see $D)"
	return 1
}

demo_exim
demo_opensmtpd
echo
if [ -n "$FAILED" ]; then
	echo "demo: FAILED: $FAILED"
	exit 1
fi
echo "demo: both MTAs ran; every case came out as RFC 8461 wants"
