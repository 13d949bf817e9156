# relay_lib.sh - Debian's real OpenSMTPD 6.8 with the SHIPPED smtpd.conf
# lines (etc/opensmtpd/smtpd.conf), the real filter-mtasts keeping the
# routing table and the real mtasts-relay, in the lab. Source it after
# tests/lab/lib.sh and tests/e2e/opensmtpd/smtpd.sh (bash); set D (the
# case folder) and RELAY first.
#
# relay_case turns the shipped lines into the case's smtpd.conf with
# sed, changing only what a private test must: paths (filter, table,
# engine config), SUBMITTER, the listen address (the lab's, not
# localhost), "from local" to "from any" (swaks connects over the lab's
# address), a helo on the plain relay action, and a larger message size.
# Every routing line is the shipped one.

RELAY_SHIPPED=${RELAY_SHIPPED:-$SMTPD_REPO/etc/opensmtpd/smtpd.conf}
RPID=

relay_case() {	# [FILTER-ARGS]: the case folder $D, its configs
	local f
	rm -rf "$D"
	mkdir -p "$D/spool" "$D/empty" "$D/run" "$D/mtasts" "$D/reports" &&
	    chmod 711 "$D/spool" && chmod 755 "$D/empty" "$D/run" || return 1
	sed "s|^store .*|store $D/mtasts/store.db|" "$LAB_CONF" \
	    >"$D/mtasts.conf" && cat >>"$D/mtasts.conf" <<EOM || return 1
report_dir $D/reports
report_org mtasts lab
report_contact postmaster@sender.test
report_submitter $SMTPD_SUBMITTER
EOM
	[ -n "${SMTPD_EXTRA_CONF:-}" ] &&
	    printf '%s\n' "$SMTPD_EXTRA_CONF" >>"$D/mtasts.conf"
	"$FILTER" -I -t "$D/mtasts/enforce.db" || return 1
	chown -R opensmtpd:opensmtpd "$D/mtasts"
	f=$(lab_run_file "$FILTER" "$D") || return 1
	{
		echo "smtp max-message-size 64M"
		sed -e "s|/usr/local/libexec/opensmtpd/filter-mtasts|$f -v -r ${SMTPD_REFRESH:-600}|" \
		    -e "s|-c /etc/mtasts/mtasts.conf|-c $D/mtasts.conf|" \
		    -e "s|/var/lib/mtasts/enforce.db|$D/mtasts/enforce.db|g" \
		    -e "s|^listen on localhost|listen on $SMTPD_ADDR|" \
		    -e "s|@SUBMITTER\"|@$SMTPD_SUBMITTER\"|" \
		    -e "s|^match from local |match from any |" \
		    -e "s|^action \"relay\" relay|& helo \"$SMTPD_HELO\"|" \
		    "$RELAY_SHIPPED"
	} >"$D/smtpd.conf"
	# every shipped routing line made it, changed only as said above
	grep -q '^action "mtasts" relay host smtp+notls://127.0.0.1:10026$' \
	    "$D/smtpd.conf" &&
	    grep -q "^table mtasts_policy db:$D/mtasts/enforce.db$" \
	    "$D/smtpd.conf" &&
	    grep -q '^match from any for domain <mtasts_policy> action "mtasts"$' \
	    "$D/smtpd.conf"
}

relay_start() {	# [ARGS]: the relay in the lab, log in $D/relay.log
	local i
	lab_exec "$RELAY" -v -c "$D/mtasts.conf" -C "$LAB_CA" \
	    -H relay.sender.test -a 127.0.0.1/32 -T connect=5,command=20 \
	    "$@" >>"$D/relay.log" 2>&1 &
	RPID=
	for i in $(seq 1 100); do
		# the relay's own pid (not the subshell's), from its socket
		RPID=$(lab_exec ss -Hltnp src 127.0.0.1:10026 |
		    sed -n 's/.*"mtasts-relay",pid=\([0-9]*\).*/\1/p')
		[ -n "$RPID" ] && return 0
		sleep 0.1
	done
	return 1
}

relay_stop() {
	[ -n "$RPID" ] || return 0
	local i
	kill -TERM "$RPID" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	RPID=
}

relay_said() {	# REGEX: the relay logged it
	grep -q "mtasts-relay: .*$1" "$D/relay.log"
}
filter_said() {	# REGEX: the filter logged it (smtpd copies its stderr)
	grep -q "filter-mtasts: .*$1" "$D/smtpd.log"
}
tempfailed() {	# RCPT: smtpd logged a TempFail for RCPT
	grep -q "mta delivery evpid=.* to=<$1> .*result=\"TempFail\"" \
	    "$D/smtpd.log"
}
queued() {	# RCPT: still in smtpd's queue
	smtpd_ctl "$D" show queue 2>/dev/null | grep -q "|$1|"
}
nowhere() {	# RCPT: no lab host got mail for RCPT
	[ -z "$(lab_smtp_where "$1")" ]
}
via_relay() {	# RCPT: smtpd handed RCPT's mail to the relay
	grep -q "mta delivery evpid=.* to=<$1> .*relay=127.0.0.1" \
	    "$D/smtpd.log" || grep -q "mtasts-relay: .*RCPT TO:<$1>" \
	    "$D/relay.log"
}
schedule() {
	smtpd_ctl "$D" schedule all >/dev/null 2>&1
}
