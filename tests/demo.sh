#!/bin/bash
# demo.sh - what "make demo" shows: the lab (a DNS server, a policy web
# server with a test CA, SMTP hosts with good and bad TLS, an attacker's
# MX), the real Exim 4.96 and OpenSMTPD 6.8 with our plugins, one message
# to each kind of domain, and what happened to each.
#
# Nothing is installed over the machine's MTA: both MTAs are unpacked
# from their Debian packages into build/ and run inside the lab's network
# namespace, which reaches nothing outside this machine.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 1
export BUILD=${BUILD:-build}
export LAB_NAME=${LAB_NAME:-mtlab-demo}
LAB_SRC=$REPO/tests/lab
. "$LAB_SRC/lib.sh" || exit 1
MTASTS=$REPO/$BUILD/mtasts
LOG=$REPO/$BUILD/demo
mkdir -p "$LOG"
trap 'lab_down >/dev/null 2>&1' EXIT

# The domains shown, and what RFC 8461 wants to happen to their mail.
DOMAINS="enforce-good enforce-spoof enforce-nostarttls enforce-expired
enforce-selfsigned enforce-wrongname enforce-secondgood testing-spoof
testing-nostarttls testing-expired none-good nopolicy-good"

title() {
	printf '\n\033[1m== %s\033[0m\n\n' "$*"
}
want() {	# DOMAIN: the expectation in domains.txt, in words
	awk -v d="$1.test" '$1 == d { print $8 }' tests/lab/domains.txt |
	    sed -e 's/^deliver-tls:/delivered over verified TLS to /' \
	        -e 's/^deliver:/delivered (TLS or not) to /' \
	        -e 's/^defer$/deferred: kept in the queue/'
}
where() {	# RCPT: where the lab's SMTP hosts got it, in words
	lab_smtp_where "$1" | awk '
	    { printf "%s%s (%s)", sep, $1, $2 == "plain" ? "in clear" : $2;
	      sep = ", " }'
}

title "The lab"
lab_up 2>&1 | tail -1
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
	. tests/e2e/exim/lib.sh || return 1
	title "Exim 4.96 with mtasts.so"
	if ! exim_setup >"$LOG/exim-setup.log" 2>&1; then
		echo "  Exim could not be set up: see $LOG/exim-setup.log"
		return 1
	fi
	exim_reset
	lab_smtp_clear
	for d in $DOMAINS; do
		exim_send "demo-exim@$d.test"
	done
	exim_runq
	printf '  %-26s %-46s %s\n' DOMAIN "WHAT HAPPENED" "WHAT RFC 8461 WANTS"
	for d in $DOMAINS; do
		r="demo-exim@$d.test"
		if exim_queued "$r"; then
			got="deferred, still queued"
		else
			got="delivered to $(where "$r")"
		fi
		printf '  %-26s %-46s %s\n' "$d.test" "$got" "$(want "$d")"
	done
	echo
	echo "  Exim's log says why (mtasts lines):"
	exim_log | grep -o 'mtasts: .*' | cut -c1-150 | sort -u | head -12 |
	    sed 's/^/    /'
}

# DIR DOMAIN...: one smtpd, one message to each DOMAIN, wait
# (30 s at most) until every domain that should get its mail has it.
smtpd_round() {
	local d=$1 r i pending
	shift
	if ! smtpd_case "$d" >>"$LOG/smtpd-setup.log" 2>&1 ||
	    ! smtpd_start "$d" >>"$LOG/smtpd-setup.log" 2>&1; then
		echo "  OpenSMTPD could not be started: see $LOG/smtpd-setup.log"
		return 1
	fi
	for r in "$@"; do
		smtpd_send "demo-smtpd@$r.test" >"$LOG/smtpd-send-$r.txt"
	done
	for i in $(seq 1 60); do
		pending=0
		for r in "$@"; do
			case $(want "$r") in
			delivered*) [ -n "$(lab_smtp_where "demo-smtpd@$r.test")" ] ||
			    pending=1 ;;
			esac
		done
		[ $pending = 0 ] && break
		sleep 0.5
	done
	grep -o 'filter-mtasts: .*' "$d/smtpd.log" | grep -v 'debug' |
	    cut -c1-150 >>"$LOG/smtpd-filter.log"
	smtpd_stop "$d"
}

demo_opensmtpd() {
	local r got enforce= other=
	SMTPD_REPO=$REPO FILTER=$REPO/$BUILD/filter-mtasts
	. tests/e2e/opensmtpd/smtpd.sh || return 1
	title "OpenSMTPD 6.8 with filter-mtasts"
	if ! smtpd_unpack >"$LOG/smtpd-setup.log" 2>&1; then
		echo "  OpenSMTPD could not be set up: see $LOG/smtpd-setup.log"
		return 1
	fi
	lab_smtp_clear
	: >"$LOG/smtpd-filter.log"
	# smtpd remembers a host whose mandatory-TLS route failed and holds
	# other mail for it a while: the enforce domains get their own smtpd
	for r in $DOMAINS; do
		case $r in
		enforce-*) enforce="$enforce $r" ;;
		*) other="$other $r" ;;
		esac
	done
	smtpd_round "$LOG/smtpd-enforce" $enforce || return 1
	smtpd_round "$LOG/smtpd-other" $other || return 1
	printf '  %-26s %-46s %s\n' DOMAIN "WHAT HAPPENED" "WHAT RFC 8461 WANTS"
	for r in $DOMAINS; do
		if grep -q '451 4.7.5' "$LOG/smtpd-send-$r.txt"; then
			got="refused at RCPT TO: 451 4.7.5"
		elif [ -n "$(lab_smtp_where "demo-smtpd@$r.test")" ]; then
			got="delivered to $(where "demo-smtpd@$r.test")"
		else
			got="accepted, deferred, still queued"
		fi
		printf '  %-26s %-46s %s\n' "$r.test" "$got" "$(want "$r")"
	done
	echo
	echo "  The filter's log says why:"
	sort -u "$LOG/smtpd-filter.log" | grep -v 'delivery to' |
	    grep -iE 'refus|451|would|testing|relayed with' | head -14 |
	    sed 's/^/    /'
}

demo_exim
demo_opensmtpd
echo
