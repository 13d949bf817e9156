# smtpd.sh - run Debian's real OpenSMTPD (6.8 on bookworm, 7.6 on
# trixie) from a private folder inside the test lab, for the filter-mtasts
# end-to-end tests. Source it after tests/lab/lib.sh (bash). Nothing is
# installed: the .deb is unpacked under build/, and smtpd runs in its own
# mount namespace (unshare -m, inside the lab's network namespace) with
# private folders bind-mounted over its compiled-in spool, chroot and
# control-socket paths.
#
#   SMTPD_ROOT   where the .deb is unpacked (default
#                $LAB_RUN/opensmtpd/root: the checkout's run folder, which
#                opensmtpd can reach wherever the checkout is)
#   SMTPD_DEBS   where the .deb is downloaded once (build/opensmtpd/debs)
#   SMTPD_BIN    the smtpd binary (default SMTPD_ROOT/usr/sbin/smtpd; the
#                demo's own test points it to a broken one)
#   SMTPD_ADDR   the address smtpd listens on (added to the lab's lo)
#   FILTER       the filter-mtasts binary (default build/filter-mtasts);
#                smtpd_case copies it into the case folder, which must be
#                one opensmtpd can reach (under LAB_RUN or /tmp)
#   SMTPD_SUBMITTER  report_submitter of the engine config (TLS-RPT)
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

# DIR [EXTRA-FILTER-ARGS]: a fresh case folder with smtpd.conf, the
# engine config (lab config, private store) and an empty routing table.
smtpd_case() {
	local d=$1 f
	shift
	rm -rf "$d"
	mkdir -p "$d/spool" "$d/empty" "$d/run" "$d/mtasts" "$d/reports" ||
	    return 1
	chmod 711 "$d/spool" && chmod 755 "$d/empty" "$d/run" || return 1
	sed "s|^store .*|store $d/mtasts/store.db|" "$LAB_CONF" \
	    >"$d/mtasts.conf" || return 1
	cat >>"$d/mtasts.conf" <<EOM
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
	cat >"$d/smtpd.conf" <<EOC
# filter-mtasts end-to-end case
table mtasts_enforce db:$d/mtasts/enforce.db
ca "$SMTPD_HELO" cert "$LAB_CA"

filter "mtasts" proc-exec "$f -v -r ${SMTPD_REFRESH:-600} -c $d/mtasts.conf -t $d/mtasts/enforce.db $*"

listen on $SMTPD_ADDR filter "mtasts"

action "mtasts-tls" relay helo "$SMTPD_HELO" tls ca "$SMTPD_HELO" filter "mtasts"
action "relay" relay helo "$SMTPD_HELO" filter "mtasts"

match from any mail-from "$MTASTS_REPORT_SENDER@$SMTPD_SUBMITTER" for any action "relay"
match from any for domain <mtasts_enforce> action "mtasts-tls"
match from any for any action "relay"
EOC
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
