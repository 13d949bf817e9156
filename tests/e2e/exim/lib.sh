# tests/e2e/exim/lib.sh - run the real Exim (Debian's exim4-daemon-heavy:
# 4.96 on bookworm, 4.98 on trixie) from a private folder inside the test
# lab, with mtasts.so. Source tests/lab/lib.sh first (LAB_* set, lab up).
#
#   exim_setup      unpack Exim (download the .debs once into
#                   build/exim-debs), make the Debian-exim user and group
#                   when missing, make spool/log folders, copy mtasts.so
#                   and mtasts-net.so; fails when Debian-exim cannot reach
#                   them (exim_reachable says which)
#   exim_version    the version the exim binary reports (exim -bV)
#   exim_engine_conf [LINE...]  the engine's mtasts.conf: the lab's, with
#                   a store Debian-exim can write, plus LINEs
#   exim_reset      empty queue, retry hints, logs, store; forget mail
#   exim_reset_queue  the same but keep the store (a warm cache)
#   exim_write_conf [LINE...]  exim.conf from main.conf.in and the
#                   snippets, with LINEs (macros) added to the main section
#   exim_send RCPT... submit one message (queued only: -odq)
#   exim_send_from SENDER RCPT...  the same with that envelope sender
#   exim_sendmail   print the path of a sendmail that queues into this Exim
#   exim_runq       one forced queue run as root (deliveries happen here)
#   exim_ids        ids of the queued messages
#   exim_deliver ID one delivery process for one message (-M)
#   exim_queue      recipients still in the queue, one per line
#   exim_queued RCPT  is RCPT still queued?
#   exim_log, exim_paniclog, exim_log_has ERE
#   exim_tap_diag   the end of Exim's main log as TAP comments (a script's
#                   tap_diag, tests/lib/tap.sh)
#   exim_finish     the lab taken down unless KEEP_LAB is set (an EXIT trap)
#
# BUILD (default build) is the build folder with mtasts.so. Exim is
# unpacked into $LAB_RUN/exim-root and runs in $LAB_RUN/exim-e2e/$LAB_NAME
# (LAB_RUN: the checkout's run folder, see tests/lab/lib.sh), which
# Debian-exim can reach wherever the checkout is; mtasts.so is copied
# there. EXIM_BIN may name another exim binary (the demo's own test
# points it to a broken one).
#
# Exim's own stderr (panic messages) goes to $EXIM_DIR/stderr.log.
# Never installs Exim: it runs from $EXIM_ROOT with -C $EXIM_DIR/exim.conf.
# The machine's own MTA is not touched. Everything runs in the lab's
# network namespace (lab_exec), so it reaches only the lab's hosts.

EXIM_REPO=${EXIM_REPO:-$(cd "$LAB_SRC/../.." && pwd)}
EXIM_BUILD=${EXIM_BUILD:-$EXIM_REPO/${BUILD:-build}}
EXIM_SO=${EXIM_SO:-$EXIM_BUILD/mtasts.so}
EXIM_DEBS=${EXIM_DEBS:-$EXIM_REPO/build/exim-debs}
EXIM_ROOT=${EXIM_ROOT:-$LAB_RUN/exim-root}
EXIM_DIR=${EXIM_DIR:-$LAB_RUN/exim-e2e/$LAB_NAME}
EXIM_BIN=${EXIM_BIN:-$EXIM_ROOT/usr/sbin/exim4}
EXIM_CONF=$EXIM_DIR/exim.conf
EXIM_USER=Debian-exim
EXIM_E2E=$EXIM_REPO/tests/e2e/exim
EXIM_SNIPPETS=$EXIM_REPO/etc/exim/conf.d

exim__msg() {
	echo "exim-e2e: $*" >&2
}

exim_unpack() {
	local p missing
	[ -x "$EXIM_BIN" ] && return 0
	lab_run_mkdir || return 1
	mkdir -p "$EXIM_DEBS" "$EXIM_ROOT" || return 1
	for p in exim4-daemon-heavy exim4-base exim4-config; do
		ls "$EXIM_DEBS/${p}_"*.deb >/dev/null 2>&1 && continue
		(cd "$EXIM_DEBS" && apt-get download "$p") >/dev/null 2>&1 || {
			exim__msg "apt-get download $p failed"
			return 1
		}
	done
	for p in "$EXIM_DEBS"/*.deb; do
		dpkg-deb -x "$p" "$EXIM_ROOT" || return 1
	done
	missing=$(ldd "$EXIM_BIN" | awk '/not found/ { print $1 }')
	if [ -n "$missing" ]; then
		exim__msg "exim4 needs libraries that are missing: $missing" \
		    "(make deps installs them)"
		return 1
	fi
}

exim_user() {	# Debian-exim, as the exim4-base package would make it
	getent group "$EXIM_USER" >/dev/null ||
	    groupadd --system "$EXIM_USER" || return 1
	id "$EXIM_USER" >/dev/null 2>&1 ||
	    useradd --system -g "$EXIM_USER" -d /var/spool/exim4 -M \
	    -s /usr/sbin/nologin "$EXIM_USER" || return 1
}

exim_setup() {
	exim_unpack && exim_user || return 1
	if [ ! -f "$EXIM_SO" ]; then
		exim__msg "no $EXIM_SO (make BUILD=build-exim build-exim/mtasts.so)"
		return 1
	fi
	lab_run_mkdir exim-e2e || return 1
	mkdir -p -m 0755 "$EXIM_DIR" || return 1
	mkdir -p "$EXIM_DIR/spool" "$EXIM_DIR/log" "$EXIM_DIR/store" || return 1
	chown "$EXIM_USER:$EXIM_USER" "$EXIM_DIR/spool" "$EXIM_DIR/log" \
	    "$EXIM_DIR/store" || return 1
	install -m 0644 "$EXIM_SO" "$EXIM_DIR/mtasts.so" || return 1
	# the DNS and HTTPS half, loaded by mtasts.so from its own folder
	install -m 0644 "$(dirname "$EXIM_SO")/mtasts-net.so" \
	    "$EXIM_DIR/mtasts-net.so" || return 1
	exim_dkim_key || return 1
	exim_write_conf || return 1
	exim_engine_conf || return 1
	exim_reachable
}

exim_reachable() {	# can Debian-exim reach what it needs? Says what not.
	local p bad=
	for p in "$EXIM_BIN:x" "$EXIM_CONF:r" "$EXIM_DIR/mtasts.so:r" \
	    "$EXIM_DIR/mtasts.conf:r" "$EXIM_DIR/log:w" "$EXIM_DIR/spool:w" \
	    "$EXIM_DIR/store:w" "$LAB_CA:r"; do
		lab_reaches "$EXIM_USER" "${p%:*}" "${p##*:}" ||
		    bad="$bad ${p%:*}"
	done
	[ -z "$bad" ] && return 0
	exim__msg "$EXIM_USER cannot reach:$bad (set LAB_RUN to a folder" \
	    "it can reach)"
	return 1
}

exim_version() {	# the version of the exim binary, as it says it
	"$EXIM_BIN" -C /dev/null -bV 2>/dev/null |
	    sed -n 's/^Exim version \([^ ]*\).*/\1/p'
}

exim_dkim_key() {	# the DKIM key of report mail, readable by Debian-exim
	[ -f "$EXIM_DIR/dkim.key" ] && return 0
	openssl genrsa -out "$EXIM_DIR/dkim.key.tmp" 2048 2>/dev/null &&
	    chgrp "$EXIM_USER" "$EXIM_DIR/dkim.key.tmp" &&
	    chmod 0640 "$EXIM_DIR/dkim.key.tmp" &&
	    mv -f "$EXIM_DIR/dkim.key.tmp" "$EXIM_DIR/dkim.key"
}

exim_write_conf() {	# [LINE...]: exim.conf from main.conf.in, snippets
	local x=$EXIM_DIR/extra.conf
	printf '%s\n' "$@" >"$x" || return 1
	sed -e "s|@EXIM_BIN@|$EXIM_BIN|g" -e "s|@EXIM_DIR@|$EXIM_DIR|g" \
	    -e "s|@LAB_CLIENT1@|$LAB_CLIENT1|g" -e "s|@LAB_CA@|$LAB_CA|g" \
	    "$EXIM_E2E/main.conf.in" | awk \
	    -v r="$EXIM_SNIPPETS/router/150_exim4-config_mtasts" \
	    -v t="$EXIM_SNIPPETS/transport/30_exim4-config_mtasts" \
	    -v x="$x" '
		/^@EXTRA@$/ { while ((getline l < x) > 0) print l; next }
		/^@ROUTER@$/ { while ((getline l < r) > 0) print l; next }
		/^@TRANSPORT@$/ { while ((getline l < t) > 0) print l; next }
		{ print }' >"$EXIM_CONF.tmp" || return 1
	mv -f "$EXIM_CONF.tmp" "$EXIM_CONF"
	"$EXIM_BIN" -C "$EXIM_CONF" -bV >"$EXIM_DIR/bV.out" 2>&1 || {
		exim__msg "exim -bV rejects $EXIM_CONF:"
		tail -5 "$EXIM_DIR/bV.out" >&2
		return 1
	}
}

exim_store() {
	echo "$EXIM_DIR/store/mtasts.db"
}

exim_engine_conf() {	# [LINE...]: the lab's engine config, our store
	{
		grep -v '^store ' "$LAB_CONF"
		echo "store $(exim_store)"
		for l in "$@"; do
			echo "$l"
		done
	} >"$EXIM_DIR/mtasts.conf" || return 1
	chmod 644 "$EXIM_DIR/mtasts.conf"
}

exim_store_reset() {	# an empty store file that Debian-exim owns
	rm -f "$(exim_store)" "$(exim_store)-wal" "$(exim_store)-shm"
	install -o "$EXIM_USER" -g "$EXIM_USER" -m 0660 /dev/null \
	    "$(exim_store)"
}

exim_reset() {	# empty queue, hints, logs and store; forget received mail
	exim_reset_queue && exim_store_reset
}

exim_reset_queue() {	# the same, keeping the store (a warm cache)
	rm -rf "$EXIM_DIR/spool/input" "$EXIM_DIR/spool/msglog" \
	    "$EXIM_DIR/spool/db" "$EXIM_DIR/log/"*
	lab_smtp_clear
}

exim_ids() {	# the ids of the queued messages
	"$EXIM_BIN" -C "$EXIM_CONF" -bp 2>/dev/null |
	    awk '$1 ~ /^[0-9]+[smhd]$/ { print $3 }'
}

exim_deliver() {	# ID: one delivery process for message ID, as root
	lab_exec "$EXIM_BIN" -C "$EXIM_CONF" -M "$1" 2>>"$EXIM_DIR/stderr.log"
}

exim_send() {	# RCPT...: queue one message for RCPTs
	printf 'From: sender@client.test\nTo: %s\nSubject: mtasts e2e %s\n\n%s\n' \
	    "$*" "$*" "Test message for $*." |
	    lab_exec "$EXIM_BIN" -C "$EXIM_CONF" -odq -f sender@client.test \
	    "$@" 2>>"$EXIM_DIR/stderr.log"
}

exim_send_from() {	# SENDER RCPT...: queue one message from SENDER
	local from=$1
	shift
	printf 'From: %s\nTo: %s\nSubject: mtasts e2e %s\n\n%s\n' \
	    "$from" "$*" "$*" "Test message for $*." |
	    lab_exec "$EXIM_BIN" -C "$EXIM_CONF" -odq -f "$from" \
	    "$@" 2>>"$EXIM_DIR/stderr.log"
}

exim_sendmail() {	# a sendmail(8) for mtasts.conf that queues into Exim
	cat >"$EXIM_DIR/sendmail" <<EOS
#!/bin/sh
exec "$EXIM_BIN" -C "$EXIM_CONF" -odq "\$@" 2>>"$EXIM_DIR/stderr.log"
EOS
	chmod 755 "$EXIM_DIR/sendmail"
	echo "$EXIM_DIR/sendmail"
}

exim_runq() {	# a forced queue run; deliveries are done when it returns
	rm -rf "$EXIM_DIR/spool/db"
	lab_exec "$EXIM_BIN" -C "$EXIM_CONF" -qf 2>>"$EXIM_DIR/stderr.log"
}

exim_queue() {	# the recipients still queued, one per line
	"$EXIM_BIN" -C "$EXIM_CONF" -bp 2>/dev/null |
	    awk 'NF == 1 && $1 ~ /@/ { print $1 }'
}

exim_queued() {	# RCPT: is a message for RCPT still queued?
	exim_queue | grep -qix "$1"
}

exim_log() {
	cat "$EXIM_DIR/log/mainlog" 2>/dev/null
	return 0
}

exim_log_has() {	# ERE: does the main log match?
	exim_log | grep -Eq "$1"
}

exim_paniclog() {
	cat "$EXIM_DIR/log/paniclog" 2>/dev/null
	return 0
}

exim_tap_diag() {
	exim_log | tail -8 | cut -c1-300 | sed 's/^/# /'
}

exim_finish() {
	if [ "${KEEP_LAB:-}" = "" ]; then
		lab_down >/dev/null 2>&1
	fi
	return 0
}
