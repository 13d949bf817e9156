# smtpd.sh - the one way the tests, the demo and the benches run Debian's
# real OpenSMTPD (6.8 on bookworm, 7.6 on trixie) with our plugins, as
# the SHIPPED smtpd.conf lines (etc/opensmtpd/smtpd.conf) wire them:
# filter-mtasts keeps the routing table of policy domains, smtpd relays
# those domains to mtasts-relay on 127.0.0.1:10026, the relay enforces
# MTA-STS when the mail leaves. Source it after tests/lab/lib.sh (bash).
# Nothing is installed: the .deb is unpacked under the run folder, and
# smtpd runs in its own mount namespace (unshare -m, inside the lab's
# network namespace) with private folders bind-mounted over its
# compiled-in spool, chroot and control-socket paths.
#
#   smtpd_unpack; smtpd_case DIR; relay_start DIR; smtpd_start DIR;
#   smtpd_send RCPT; ...; smtpd_stop DIR; relay_stop
#
#   SMTPD_ROOT   where the .deb is unpacked (default
#                $LAB_RUN/opensmtpd/root: the checkout's run folder, which
#                opensmtpd can reach wherever the checkout is)
#   SMTPD_DEBS   where the .deb is downloaded once (build/opensmtpd/debs)
#   SMTPD_BIN    the smtpd binary (default SMTPD_ROOT/usr/sbin/smtpd; the
#                demo's own test points it to a broken one)
#   SMTPD_ADDR   the address smtpd listens on (added to the lab's lo)
#   SMTPD_SHIPPED  the shipped lines smtpd_case starts from
#   FILTER       the filter-mtasts binary (default build/filter-mtasts);
#                smtpd_case copies it into the case folder, which must be
#                one opensmtpd can reach (under LAB_RUN or /tmp)
#   RELAY        the mtasts-relay binary (default: beside FILTER); it runs
#                as root in the lab, so it may stay in the checkout
#   SMTPD_SUBMITTER  report_submitter of the engine config (TLS-RPT)
#   SMTPD_EXTRA_CONF lines added to the case's engine config
#
# The checks at the end (relay_said, tempfailed, queued, ...) look at the
# case in $D.
#
# Machine changes, made once and only when missing (the Debian package's
# postinst would make the same): the system users and groups opensmtpd
# and opensmtpq, and the empty mount points /var/spool/smtpd and
# /var/lib/opensmtpd/empty.

SMTPD_REPO=${SMTPD_REPO:-$(pwd)}
SMTPD_ROOT=${SMTPD_ROOT:-$LAB_RUN/opensmtpd/root}
SMTPD_BIN=${SMTPD_BIN:-$SMTPD_ROOT/usr/sbin/smtpd}
SMTPD_DEBS=${SMTPD_DEBS:-$SMTPD_REPO/build/opensmtpd/debs}
SMTPD_ADDR=${SMTPD_ADDR:-127.0.40.1}
SMTPD_HELO=${SMTPD_HELO:-mta.sender.test}
SMTPD_SUBMITTER=${SMTPD_SUBMITTER:-mx.sender.test}
MTASTS_REPORT_SENDER=tlsrpt-noreply	# as in mtasts.h
FILTER=${FILTER:-$SMTPD_REPO/build/filter-mtasts}
RELAY=${RELAY:-$(dirname "$FILTER")/mtasts-relay}
SMTPD_SHIPPED=${SMTPD_SHIPPED:-$SMTPD_REPO/etc/opensmtpd/smtpd.conf}
RPID=	# the relay's pid (relay_start)
. "$SMTPD_REPO/tests/lib/tap.sh"	# wait_for

smtpd__msg() {
	echo "smtpd: $*" >&2
}

smtpd_unpack() {	# unpack opensmtpd's .deb once; users, setgid smtpctl
	local debs g
	if [ ! -x "$SMTPD_ROOT/usr/sbin/smtpd" ]; then
		lab_run_mkdir || return 1
		debs=$SMTPD_DEBS
		mkdir -p "$debs" "$SMTPD_ROOT" || return 1
		(cd "$debs" && apt-get download opensmtpd) >/dev/null 2>&1 ||
		    { smtpd__msg "apt-get download opensmtpd failed"; return 1; }
		dpkg-deb -x "$debs"/opensmtpd_*.deb "$SMTPD_ROOT" || return 1
	fi
	for g in opensmtpd opensmtpq; do
		getent group "$g" >/dev/null ||
		    addgroup --system "$g" >/dev/null 2>&1 || return 1
		id "$g" >/dev/null 2>&1 ||
		    adduser --system --home /var/lib/opensmtpd/empty \
		    --no-create-home --disabled-password --ingroup "$g" \
		    "$g" >/dev/null 2>&1 || return 1
	done
	chgrp opensmtpq "$SMTPD_ROOT/usr/sbin/smtpctl" &&
	    chmod 2755 "$SMTPD_ROOT/usr/sbin/smtpctl" || return 1
	mkdir -p /var/spool/smtpd /var/lib/opensmtpd/empty
}

# Debian's filter-dkimsign, unpacked (not installed) beside smtpd; prints
# its path. Its library, libopensmtpd0, must be installed.
smtpd_unpack_dkimsign() {
	local d=$(dirname "$SMTPD_ROOT")/dkimsign
	if [ ! -x "$d/root/usr/libexec/opensmtpd/filter-dkimsign" ]; then
		mkdir -p "$d" &&
		    (cd "$d" && apt-get download opensmtpd-filter-dkimsign) \
		    >/dev/null 2>&1 &&
		    dpkg-deb -x "$d"/opensmtpd-filter-dkimsign_*.deb "$d/root" ||
		    { smtpd__msg "cannot unpack opensmtpd-filter-dkimsign";
		    return 1; }
	fi
	echo "$d/root/usr/libexec/opensmtpd/filter-dkimsign"
}

# DIR [FILTER-ARGS]: a fresh case folder with the engine config (lab
# config, private store), an empty routing table and an smtpd.conf made
# from the SHIPPED lines (SMTPD_SHIPPED) with sed, changing only what a
# private test must: paths (filter, its FILTER-ARGS, table, engine
# config), SUBMITTER, the listen address (the lab's, not localhost),
# "from local" to "from any" (swaks connects over the lab's address), a
# helo on the plain relay action, and a larger message size. Every
# routing line is the shipped one: the filter keeps the table, smtpd
# relays its domains to mtasts-relay on 127.0.0.1:10026 (relay_start).
smtpd_case() {
	local d=$1 f
	shift
	rm -rf "$d"
	mkdir -p "$d/spool" "$d/empty" "$d/run" "$d/mtasts" "$d/reports" &&
	    chmod 711 "$d/spool" && chmod 755 "$d/empty" "$d/run" || return 1
	sed "s|^store .*|store $d/mtasts/store.db|" "$LAB_CONF" \
	    >"$d/mtasts.conf" && cat >>"$d/mtasts.conf" <<EOM || return 1
report_dir $d/reports
report_org mtasts lab
report_contact postmaster@sender.test
report_submitter $SMTPD_SUBMITTER
EOM
	[ -n "${SMTPD_EXTRA_CONF:-}" ] &&
	    printf '%s\n' "$SMTPD_EXTRA_CONF" >>"$d/mtasts.conf"
	"$FILTER" -I -t "$d/mtasts/enforce.db" || return 1
	chown -R opensmtpd:opensmtpd "$d/mtasts"
	f=$(lab_run_file "$FILTER" "$d") || return 1
	if ! lab_reaches opensmtpd "$f" x; then
		smtpd__msg "opensmtpd cannot run $f (put the case folder" \
		    "under LAB_RUN or /tmp)"
		return 1
	fi
	{
		echo "smtp max-message-size 64M"
		sed -e "s|/usr/local/libexec/opensmtpd/filter-mtasts|$f -v -r ${SMTPD_REFRESH:-600}${*:+ $*}|" \
		    -e "s|-c /etc/mtasts/mtasts.conf|-c $d/mtasts.conf|" \
		    -e "s|/var/lib/mtasts/enforce.db|$d/mtasts/enforce.db|g" \
		    -e "s|^listen on localhost|listen on $SMTPD_ADDR|" \
		    -e "s|@SUBMITTER\"|@$SMTPD_SUBMITTER\"|" \
		    -e "s|^match from local |match from any |" \
		    -e "s|^action \"relay\" relay|& helo \"$SMTPD_HELO\"|" \
		    "$SMTPD_SHIPPED"
	} >"$d/smtpd.conf" || return 1
	# every shipped routing line made it, changed only as said above
	grep -q '^action "mtasts" relay host smtp+notls://127.0.0.1:10026$' \
	    "$d/smtpd.conf" &&
	    grep -q "^table mtasts_policy db:$d/mtasts/enforce.db$" \
	    "$d/smtpd.conf" &&
	    grep -q '^match from any for domain <mtasts_policy> action "mtasts"$' \
	    "$d/smtpd.conf" ||
	    { smtpd__msg "$SMTPD_SHIPPED: its routing lines changed"; return 1; }
}

relay__pid() {	# the listening relay's own pid, from its socket
	lab_exec ss -Hltnp src 127.0.0.1:10026 |
	    sed -n 's/.*"mtasts-relay",pid=\([0-9]*\).*/\1/p'
}

relay__started() {	# JOB: listening (RPID set), or the job is gone
	RPID=$(relay__pid)
	[ -n "$RPID" ] && return 0
	# gone, or a zombie not reaped yet: no use waiting
	! grep -qs '^[0-9]* ([^)]*) [^Z]' "/proc/$1/stat"
}

# DIR [ARGS]: mtasts-relay ($RELAY) in the lab on 127.0.0.1:10026 for the
# case in DIR (its mtasts.conf, the lab's CA); log DIR/relay.log, pid in
# RPID. Fails at once when the relay exits before it listens.
relay_start() {
	local d=$1 job
	shift
	RPID=
	lab_exec "$RELAY" -v -c "$d/mtasts.conf" -C "$LAB_CA" \
	    -H relay.sender.test -a 127.0.0.1/32 -T connect=5,command=20 \
	    "$@" >>"$d/relay.log" 2>&1 </dev/null &
	job=$!
	wait_for "mtasts-relay listening on 127.0.0.1:10026" 10 \
	    relay__started "$job" >&2
	[ -n "$RPID" ] && return 0
	smtpd__msg "mtasts-relay ($RELAY) did not start"
	tail -5 "$d/relay.log" >&2
	return 1
}

relay_stop() {	# stop the relay relay_start started (TERM, then KILL)
	[ -n "${RPID:-}" ] || return 0
	kill -TERM "$RPID" 2>/dev/null
	wait_for "the end of mtasts-relay $RPID" 10 smtpd__gone "$RPID" >&2
	kill -0 "$RPID" 2>/dev/null && kill -KILL "$RPID" 2>/dev/null
	RPID=
}

smtpd__listening() {
	lab_exec ss -Hlnt src "$SMTPD_ADDR:25" | grep -q .
}

smtpd__started() {	# DIR: listening, or dead (no use waiting then)
	smtpd__listening && return 0
	[ -s "$1/smtpd.pid" ] && ! kill -0 "$(cat "$1/smtpd.pid")" 2>/dev/null
}

# DIR: start smtpd for the case in DIR; its log is DIR/smtpd.log.
smtpd_start() {
	local d=$1
	lab_add_addr "$SMTPD_ADDR" || return 1
	lab_exec unshare -m --propagation private sh -c '
		d=$1 bin=$2
		mount --bind "$d/spool" /var/spool/smtpd &&
		mount --bind "$d/empty" /var/lib/opensmtpd/empty &&
		mount --bind "$d/run" /run || exit 1
		echo $$ >"$d/smtpd.pid"
		exec "$bin" -d -f "$d/smtpd.conf"
	    ' sh "$d" "$SMTPD_BIN" >"$d/smtpd.log" 2>&1 </dev/null &
	wait_for "smtpd listening on $SMTPD_ADDR:25" 10 smtpd__started "$d" \
	    >&2
	smtpd__listening && return 0
	smtpd__msg "smtpd did not start"
	tail -20 "$d/smtpd.log" >&2
	return 1
}

smtpd_version() {	# the version smtpd reports (smtpd -h: "version: ...")
	"$SMTPD_BIN" -h 2>&1 | sed -n 's/^version: OpenSMTPD \(.*\)/\1/p'
}

smtpd_alive() {	# DIR
	[ -s "$1/smtpd.pid" ] && kill -0 "$(cat "$1/smtpd.pid")" 2>/dev/null
}

smtpd__gone() {	# PID
	! kill -0 "$1" 2>/dev/null
}

smtpd_stop() {	# DIR: stop that smtpd (TERM by pid, then KILL)
	local pid
	[ -s "$1/smtpd.pid" ] || return 0
	pid=$(cat "$1/smtpd.pid")
	kill -TERM "$pid" 2>/dev/null
	wait_for "the end of smtpd $pid" 5 smtpd__gone "$pid" >&2
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	rm -f "$1/smtpd.pid"
}

smtpd_ctl() {	# DIR ARGS...: smtpctl in that smtpd's namespaces (-r:
	# and its root, which in a chroot is not the mount namespace's)
	local d=$1
	shift
	nsenter -t "$(cat "$d/smtpd.pid")" -m -n -r \
	    "$SMTPD_ROOT/usr/sbin/smtpctl" "$@"
}

# RCPT [SWAKS-ARGS...]: submit one message to smtpd; prints swaks' output
smtpd_send() {
	local rcpt=$1
	shift
	lab_exec swaks --server "$SMTPD_ADDR" --from sender@client.test \
	    --to "$rcpt" --helo client.test --timeout 60 \
	    --header "Subject: mtasts test to $rcpt" "$@" 2>&1
}

# ---------------------------------------------------------------- checks
# on the case in $D

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
smtpd_result() {	# RCPT: result and stat of smtpd's last try for RCPT
	sed -n "s/.*mta delivery evpid=.* to=<$1> .*result=\"\([^\"]*\)\" stat=\"\{0,1\}\(.*\)/\1 \2/p" \
	    "$D/smtpd.log" | tail -1 | sed 's/"$//'
}
queued() {	# RCPT: still in smtpd's queue
	smtpd_ctl "$D" show queue 2>/dev/null | grep -q "|$1|"
}
nowhere() {	# RCPT: no lab host got mail for RCPT
	[ -z "$(lab_smtp_where "$1")" ]
}
via_relay() {	# RCPT: smtpd handed RCPT's mail to the relay
	grep -q "mta delivery evpid=.* to=<$1> .*relay=\"\{0,1\}127.0.0.1[\" ]" \
	    "$D/smtpd.log" || grep -q "mtasts-relay: .*RCPT TO:<$1>" \
	    "$D/relay.log"
}
schedule() {	# a queue run now
	smtpd_ctl "$D" schedule all >/dev/null 2>&1
}
