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

demo_opensmtpd() {
	[ -f tests/e2e/opensmtpd/lib.sh ] || return 0
	. tests/e2e/opensmtpd/lib.sh || return 1
	title "OpenSMTPD 6.8 with filter-mtasts"
	smtpd_demo "$DOMAINS" || echo "  OpenSMTPD demo failed"
}

demo_exim
demo_opensmtpd
echo
