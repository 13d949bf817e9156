#!/bin/bash
# exim_e2e.sh - the real Exim 4.96 with mtasts.so in the test lab (TAP).
#
# Debian's exim4-daemon-heavy is unpacked (never installed) and run with
# -C from a private folder inside the lab's network namespace; the lab's
# SMTP hosts say what they received and over what. Each case starts from
# an empty queue, no retry hints and (unless it says otherwise) an empty
# policy cache. BUILD selects the build folder holding mtasts.so
# (default build). LAB_NAME defaults to mtlab-exim-test.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export LAB_NAME=${LAB_NAME:-mtlab-exim-test}
LAB_SRC=$REPO/tests/lab
. "$LAB_SRC/lib.sh" || exit 1
. "$REPO/tests/e2e/exim/lib.sh" || exit 1
. "$REPO/tests/lib/tap.sh" || exit 1
tap_diag() { exim_tap_diag; }
trap exim_finish EXIT

if ! lab_up >"$REPO/${BUILD:-build}/exim-lab-up.log" 2>&1; then
	ok 1 "lab up (see ${BUILD:-build}/exim-lab-up.log)"
	exit 1
fi
. "$LAB_DIR/env"
if ! exim_setup; then
	ok 1 "exim setup"
	exit 1
fi
ok 0 "exim 4.96 unpacked and configured with the shipped snippets"

# The single-file example must say what the tested snippets say.
example_same() {	# router|transport NAME
	local ex=$EXIM_REPO/etc/exim/exim.conf.example
	"$EXIM_BIN" -C "$ex" -DMTASTS_SO="$EXIM_DIR/mtasts.so" \
	    -DMTASTS_CONF="$EXIM_DIR/mtasts.conf" -DMTASTS_CA="$LAB_CA" \
	    -bP "$1" "$2" 2>&1 | grep -Ev '^(debug_print|interface|ignore_target_hosts) ' \
	    >"$EXIM_DIR/example.$2" &&
	"$EXIM_BIN" -C "$EXIM_CONF" -bP "$1" "$2" 2>&1 |
	    grep -Ev '^(debug_print|interface|ignore_target_hosts) ' |
	    cmp -s - "$EXIM_DIR/example.$2"
}
example_parses() {
	"$EXIM_BIN" -C "$EXIM_REPO/etc/exim/exim.conf.example" -bV >/dev/null
}
check "exim.conf.example parses" example_parses
check "exim.conf.example: router as in conf.d/router" \
    example_same router mtasts_dnslookup
check "exim.conf.example: transport as in conf.d/transport" \
    example_same transport mtasts_smtp

# Is nothing at any host for RCPT, and RCPT still queued?
held() {
	[ -z "$(lab_smtp_where "$1")" ] && exim_queued "$1"
}
# Was RCPT delivered to HOST (over TLS when the third word is tls) and
# nothing is left in the queue for it?
went() {
	lab_smtp_delivered "$2" "$1" ${3:-} && not exim_queued "$1"
}
conns() {	# HOST: connections HOST saw
	lab_smtp_conns "$1" | wc -l
}

# ------------------------------------------------------------ enforce
exim_reset
for d in good spoof nostarttls expired selfsigned wrongname secondgood; do
	exim_send "u@enforce-$d.test"
done
exim_runq
check "enforce good: delivered over TLS to good.mx.test" \
    went u@enforce-good.test good.mx.test tls
check "enforce spoofed MX: deferred, attacker never contacted" \
    held u@enforce-spoof.test
check "enforce spoofed MX: attacker saw no connection" \
    test "$(conns attacker.evil.test)" -eq 0
check "enforce spoofed MX: refusal logged" \
    exim_log_has "mtasts: refused MX host attacker.evil.test .*enforce-spoof.test"
check "enforce no STARTTLS: deferred, nothing sent in clear" \
    held u@enforce-nostarttls.test
check "enforce expired certificate: deferred" held u@enforce-expired.test
check "enforce self-signed certificate: deferred" \
    held u@enforce-selfsigned.test
check "enforce wrong-name certificate: deferred" \
    held u@enforce-wrongname.test
check "enforce bad first MX, good second: delivered to the second over TLS" \
    went u@enforce-secondgood.test good.mx.test tls
check "enforce bad first MX: nothing left at nostarttls.mx.test" \
    test -z "$(lab_smtp_where u@enforce-secondgood.test | grep nostarttls)"
check "store, -wal and -shm still belong to Debian-exim" \
    test -z "$(find "$EXIM_DIR/store" -name 'mtasts.db*' ! -user Debian-exim)"
check "enforce TLS failures logged by the event" \
    exim_log_has "mtasts: enforce-expired.test: (TLS failed|deferred) at MX host expired.mx.test"
check "no panic log in the enforce cases" test -z "$(exim_paniclog)"

# ------------------------------------------------------------ testing
exim_reset
for d in good spoof nostarttls expired selfsigned wrongname secondgood; do
	exim_send "u@testing-$d.test"
done
exim_runq
check "testing good: delivered over TLS" \
    went u@testing-good.test good.mx.test tls
check "testing spoofed MX: delivered to attacker.evil.test" \
    went u@testing-spoof.test attacker.evil.test
check "testing spoofed MX: logged" \
    exim_log_has "testing: testing-spoof.test MX host attacker.evil.test"
check "testing no STARTTLS: delivered" \
    went u@testing-nostarttls.test nostarttls.mx.test
check "testing no STARTTLS: logged" \
    exim_log_has "testing: testing-nostarttls.test: session with MX host nostarttls.mx.test .*without STARTTLS"
for f in expired selfsigned wrongname; do
	check "testing $f certificate: delivered" \
	    went "u@testing-$f.test" "$f.mx.test"
	check "testing $f certificate: logged" \
	    exim_log_has "testing: testing-$f.test: session with MX host $f.mx.test .*did not verify"
done
check "testing bad first MX: delivered to the first" \
    went u@testing-secondgood.test nostarttls.mx.test

# ------------------------------------------------------------ none
exim_reset
exim_send u@none-good.test
exim_send u@nopolicy-good.test
exim_runq
check "mode none: delivered as usual" went u@none-good.test good.mx.test
check "no policy: delivered as usual" went u@nopolicy-good.test good.mx.test
check "none and no policy: through the ordinary dnslookup router" \
    test "$(exim_log | grep -c 'R=dnslookup T=remote_smtp')" -eq 2

# ------------------------------------------------------------ log_only
exim_engine_conf "log_only yes"
exim_reset
for d in good spoof nostarttls expired; do
	exim_send "u@enforce-$d.test"
done
exim_runq
check "log_only enforce spoofed MX: delivered" \
    went u@enforce-spoof.test attacker.evil.test
check "log_only enforce spoofed MX: would-be refusal logged" \
    exim_log_has "would have refused MX host attacker.evil.test .*enforce-spoof.test"
check "log_only enforce no STARTTLS: delivered" \
    went u@enforce-nostarttls.test nostarttls.mx.test
check "log_only enforce no STARTTLS: would-be refusal logged" \
    exim_log_has "would have refused MX host nostarttls.mx.test .*enforce-nostarttls.test: session without STARTTLS"
check "log_only enforce expired: delivered" \
    went u@enforce-expired.test expired.mx.test
check "log_only enforce expired: would-be refusal logged" \
    exim_log_has "would have refused MX host expired.mx.test .*enforce-expired.test"
check "log_only enforce good: delivered over TLS, nothing logged" \
    eval 'went u@enforce-good.test good.mx.test tls &&
    not exim_log_has "would have refused MX host good.mx.test"'
exim_engine_conf

# ------------------------------------------------- policy server down
exim_reset
exim_send u@enforce-good.test
exim_send u@enforce-spoof.test
exim_runq
exim_reset_queue
lab_http_stop
lab_set_txt _mta-sts.enforce-good.test "v=STSv1; id=20261125T9"
lab_set_txt _mta-sts.enforce-spoof.test "v=STSv1; id=20261125T9"
exim_send u@enforce-good.test
exim_send u@enforce-spoof.test
exim_runq
check "policy server down, new id, cached enforce policy: good delivered" \
    went u@enforce-good.test good.mx.test tls
check "policy server down, new id, cached enforce policy: spoof deferred" \
    held u@enforce-spoof.test
lab_set_txt _mta-sts.enforce-good.test "v=STSv1; id=$LAB_POLICY_ID"
lab_set_txt _mta-sts.enforce-spoof.test "v=STSv1; id=$LAB_POLICY_ID"
lab_http_start

# ------------------------------------------- cold cache, many processes
fetches() {	# DOMAIN: policy fetches nginx logged for DOMAIN
	grep -c "host=\"mta-sts.$1\"" "$LAB_DIR/logs/nginx-access.log" 2>/dev/null
}
exim_reset
for i in 1 2 3 4 5 6 7 8; do
	exim_send "u$i@enforce-good.test"
	exim_send "u$i@enforce-spoof.test"
done
before_good=$(fetches enforce-good.test)
before_spoof=$(fetches enforce-spoof.test)
for id in $(exim_ids); do
	exim_deliver "$id" &
done
wait
got=0
for i in 1 2 3 4 5 6 7 8; do
	lab_smtp_delivered good.mx.test "u$i@enforce-good.test" tls &&
	    got=$((got + 1))
	held "u$i@enforce-spoof.test" && got=$((got + 1))
done
check "16 concurrent cold-cache deliveries: all 16 decisions right ($got)" \
    test "$got" -eq 16
check "16 concurrent cold-cache deliveries: one fetch per domain" \
    test "$(($(fetches enforce-good.test) - before_good))" -eq 1 -a \
    "$(($(fetches enforce-spoof.test) - before_spoof))" -eq 1
check "concurrent deliveries: no panic log" test -z "$(exim_paniclog)"

# ------------------------------------------- store missing, unreadable
exim_engine_conf
sed -i "s|^store .*|store $EXIM_DIR/no-such-folder/mtasts.db|" \
    "$EXIM_DIR/mtasts.conf"
exim_reset
for d in enforce-good.test enforce-spoof.test none-good.test nopolicy-good.test; do
	exim_send "u@$d"
done
exim_runq
check "store missing: enforce good delivered over TLS" \
    went u@enforce-good.test good.mx.test tls
check "store missing: enforce spoof deferred" held u@enforce-spoof.test
check "store missing: none and no policy delivered" \
    eval 'went u@none-good.test good.mx.test &&
    went u@nopolicy-good.test good.mx.test'
check "store missing: logged, no crash" \
    eval 'exim_log_has "cache .* unusable" && test -z "$(exim_paniclog)"'
exim_engine_conf
exim_reset
chown root:root "$(exim_store)"
chmod 600 "$(exim_store)"
for d in enforce-good.test enforce-spoof.test none-good.test; do
	exim_send "u@$d"
done
exim_runq
check "store unreadable by Debian-exim: enforce good delivered over TLS" \
    went u@enforce-good.test good.mx.test tls
check "store unreadable by Debian-exim: enforce spoof deferred" \
    held u@enforce-spoof.test
check "store unreadable by Debian-exim: none delivered" \
    went u@none-good.test good.mx.test

# ------------------- routed enforce, transport cannot decide: closed
# The router (root) decides enforce from the cache; the transport runs
# more than 10 s later (after slow.test's MX, which never answers), so
# it asks again, as Debian-exim, who cannot read the store, while the
# policy server is down: no policy can be had, so every MX is refused.
exim_engine_conf
exim_reset
exim_send u@enforce-good.test
exim_runq
exim_reset_queue
chown root:root "$(exim_store)"
chmod 600 "$(exim_store)"
lab_http_stop
lab_set_txt _mta-sts.enforce-good.test "v=STSv1; id=20261125T8"
lab_set_rr slow.test MX "10 hang.mx.test."
exim_send u@slow.test u2@enforce-good.test
exim_runq
check "routed enforce, policy unavailable in the transport: deferred" \
    held u2@enforce-good.test
check "routed enforce, policy unavailable in the transport: logged" \
    exim_log_has "refused MX host good.mx.test .*no policy could be had for a domain routed as enforce"
lab_set_rr slow.test MX
lab_set_txt _mta-sts.enforce-good.test "v=STSv1; id=$LAB_POLICY_ID"
lab_http_start
exim_store_reset

# --------------------------------------- broken configuration: closed
exim_engine_conf "no_such_key 1"
exim_reset
exim_send u@enforce-good.test
exim_send u@none-good.test
exim_runq
check "mtasts.conf broken: enforce domain deferred (fail closed)" \
    held u@enforce-good.test
check "mtasts.conf broken: every remote domain deferred (fail closed)" \
    held u@none-good.test
check "mtasts.conf broken: said in the panic log" \
    eval 'exim_paniclog | grep -q "mtasts: configuration"'
exim_engine_conf

# --------------------------------------- .so missing: router defers
exim_reset
mv "$EXIM_DIR/mtasts.so" "$EXIM_DIR/mtasts.so.away"
exim_send u@enforce-good.test
exim_runq
mv "$EXIM_DIR/mtasts.so.away" "$EXIM_DIR/mtasts.so"
check "mtasts.so missing: the router defers, nothing sent" \
    held u@enforce-good.test

# ---------------------------------------------------------------- TLS-RPT
# Every delivery attempt is one result in the store (mtasts.so records
# it in the transport); "mtasts report build" makes one report per domain
# with results and a _smtp._tls record, and "send" delivers them: by POST
# to the lab's receiver, and by mail through this Exim, where report mail
# skips the MTA-STS router (never held) and is DKIM-signed. One queue run
# per batch, so each message gets exactly one attempt per MX host.
MTASTS_BIN=$EXIM_BUILD/mtasts
TODAY=$(date -u +%F)
RPT_SENDER=tlsrpt-noreply@client.test
rpt_domains=""
for d in good spoof nostarttls expired selfsigned wrongname secondgood; do
	rpt_domains="$rpt_domains enforce-$d.test testing-$d.test"
done
rpt_domains="$rpt_domains nopolicy-good.test"
for d in $rpt_domains; do
	rua="https://reports.test/exim/$d"
	case $d in	# mailed reports to domains whose MX fails MTA-STS
	enforce-nostarttls.test|enforce-expired.test)
		rua="$rua,mailto:tlsrpt@$d" ;;
	esac
	lab_set_txt "_smtp._tls.$d" "v=TLSRPTv1; rua=$rua"
done
rm -rf "$EXIM_DIR/reports"
exim_write_conf "MTASTS_REPORT_NO_POLICY = yes"
exim_engine_conf "report_dir $EXIM_DIR/reports" "report_org exim e2e" \
    "report_contact postmaster@client.test" "report_submitter client.test" \
    "sendmail $(exim_sendmail)"
exim_reset
for d in $rpt_domains; do
	exim_send "u@$d"
done
exim_runq
check "TLS-RPT batch: enforce good delivered, spoof held" \
    eval 'went u@enforce-good.test good.mx.test tls &&
    held u@enforce-spoof.test'
check "TLS-RPT batch: every result recorded" \
    not exim_log_has "mtasts: tlsrpt: .* not recorded"
exim_log >"$EXIM_DIR/tlsrpt-batch.log"
check "no policy, routed through mtasts_smtp (MTASTS_REPORT_NO_POLICY)" \
    eval 'went u@nopolicy-good.test good.mx.test tls &&
    exim_log_has "u@nopolicy-good.test R=mtasts_dnslookup T=mtasts_smtp"'
exim_reset_queue
exim_send u2@enforce-good.test
exim_runq
check "TLS-RPT: second enforce good message delivered" \
    went u2@enforce-good.test good.mx.test tls
check "TLS-RPT: no panic log while recording" test -z "$(exim_paniclog)"

rpt_sum() {	# the store's result count, the recording spool folded in first
	lab_exec "$MTASTS_BIN" report build -c "$EXIM_DIR/mtasts.conf" \
	    --day 1970-01-01 >/dev/null 2>&1
	chown "$EXIM_USER:$EXIM_USER" "$(exim_store)"*
	sqlite3 "$(exim_store)" 'SELECT coalesce(sum(count), 0) FROM tlsrpt'
}
# report mail through mtasts_smtp (the router's sender exemption turned
# off): delivered under testing, and not recorded
before=$(rpt_sum)
exim_write_conf "MTASTS_REPORT_SENDERS = nobody@nowhere.test"
exim_reset_queue
exim_send_from "$RPT_SENDER" u3@testing-good.test
exim_runq
check "report mail through mtasts_smtp: delivered, not recorded" \
    eval 'went u3@testing-good.test good.mx.test tls &&
    exim_log_has "u3@testing-good.test R=mtasts_dnslookup" &&
    test "$(rpt_sum)" -eq "$before"'
exim_write_conf "MTASTS_REPORT_NO_POLICY = yes"

rpt_build() {
	lab_exec "$MTASTS_BIN" report build -c "$EXIM_DIR/mtasts.conf" \
	    --day "$TODAY" >"$EXIM_DIR/report-build.out" 2>&1
	chown "$EXIM_USER:$EXIM_USER" "$(exim_store)"*
}
check "mtasts report build --day today: 15 reports" \
    eval 'rpt_build && grep -q "^15 reports built" "$EXIM_DIR/report-build.out"'
# One line per policy in the built reports: domain, policy type,
# successes, failures, then result@mx=count for each failure detail.
python3 - "$EXIM_DIR/reports" >"$EXIM_DIR/report-summary" <<'EOP'
import glob, gzip, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.json.gz")):
    r = json.load(gzip.open(f))
    for p in r["policies"]:
        s = p["summary"]
        d = sorted("%s@%s=%d" % (x["result-type"],
            x.get("receiving-mx-hostname", "-"), x["failed-session-count"])
            for x in p.get("failure-details", []))
        print(" ".join([p["policy"]["policy-domain"],
            p["policy"]["policy-type"],
            str(s["total-successful-session-count"]),
            str(s["total-failure-session-count"])] + d))
EOP
rpt_has() {	# LINE: the summary has exactly this line
	grep -qxF "$1" "$EXIM_DIR/report-summary"
}
for line in \
    "enforce-good.test sts 2 0" \
    "enforce-spoof.test sts 0 1 validation-failure@attacker.evil.test=1" \
    "enforce-nostarttls.test sts 0 1 starttls-not-supported@nostarttls.mx.test=1" \
    "enforce-expired.test sts 0 1 certificate-expired@expired.mx.test=1" \
    "enforce-selfsigned.test sts 0 1 certificate-not-trusted@selfsigned.mx.test=1" \
    "enforce-wrongname.test sts 0 1 certificate-host-mismatch@wrongname.mx.test=1" \
    "enforce-secondgood.test sts 1 1 starttls-not-supported@nostarttls.mx.test=1" \
    "testing-good.test sts 1 0" \
    "testing-spoof.test sts 0 1 validation-failure@attacker.evil.test=1" \
    "testing-nostarttls.test sts 0 1 starttls-not-supported@nostarttls.mx.test=1" \
    "testing-expired.test sts 0 1 certificate-expired@expired.mx.test=1" \
    "testing-selfsigned.test sts 0 1 certificate-not-trusted@selfsigned.mx.test=1" \
    "testing-wrongname.test sts 0 1 certificate-host-mismatch@wrongname.mx.test=1" \
    "testing-secondgood.test sts 0 1 starttls-not-supported@nostarttls.mx.test=1" \
    "nopolicy-good.test no-policy-found 1 0"; do
	check "report: $line" rpt_has "$line"
done
check "report: 15 policies in all, nothing else" \
    test "$(wc -l <"$EXIM_DIR/report-summary")" -eq 15
rpt_json() {	# DOMAIN PYTHON-EXPR on p (its first policy)
	python3 -c 'import glob,gzip,json,sys
f = glob.glob(sys.argv[1] + "/*!" + sys.argv[2] + "!*.json.gz")[0]
p = json.load(gzip.open(f))["policies"][0]
print(eval(sys.argv[3]))' "$EXIM_DIR/reports" "$@"
}
check "report: spoofed MX detail names the host and the policy's patterns" \
    test "$(rpt_json enforce-spoof.test 'p["failure-details"][0].get("failure-reason-code") or p["failure-details"][0].get("additional-information")')" = \
    "MX host attacker.evil.test matches none of the policy's mx patterns (good.mx.test)"
check "report: enforce expired detail is Exim's error text" \
    eval 'rpt_json enforce-expired.test "str(p[\"failure-details\"][0])" |
    grep -q "certificate verification failed"'
check "report: receiving-ip and sending-mta-ip" \
    test "$(rpt_json testing-expired.test 'p["failure-details"][0]["receiving-ip"], p["failure-details"][0]["sending-mta-ip"]')" = \
    "('$LAB_SMTP_EXPIRED', '$LAB_CLIENT1')"
check "report: policy-string from the cached policy" \
    test "$(rpt_json enforce-good.test 'p["policy"]["policy-string"][0], p["policy"]["mx-host"]')" = \
    "('version: STSv1', ['good.mx.test'])"

exim_reset_queue
lab_exec "$MTASTS_BIN" report send -c "$EXIM_DIR/mtasts.conf" \
    >"$EXIM_DIR/report-send.out" 2>&1
check "mtasts report send: 17 delivered (15 POSTs, 2 mails)" \
    grep -q "^17 delivered, 0 given up, 0 pending" "$EXIM_DIR/report-send.out"
posts() {	# the POSTed paths, sorted
	lab_reports_log | python3 -c 'import json,sys
for l in sys.stdin:
    j = json.loads(l)
    print(j["method"], j["path"])' | sort
}
check "the lab receiver got one POST per report, at its rua" \
    test "$(posts)" = "$(for d in $rpt_domains; do
	    echo "POST /exim/$d"; done | sort)"
check "report mail queued in Exim by sendmail" \
    test "$(exim_queue | sort | tr '\n' ' ')" = \
    "tlsrpt@enforce-expired.test tlsrpt@enforce-nostarttls.test "
exim_runq
check "report mail to enforce domain, MX without STARTTLS: delivered, not held" \
    went tlsrpt@enforce-nostarttls.test nostarttls.mx.test
check "report mail to enforce domain, expired certificate: delivered over TLS" \
    went tlsrpt@enforce-expired.test expired.mx.test tls
check "report mail: through the ordinary router, not mtasts_dnslookup" \
    test "$(exim_log | grep -c 'tlsrpt@enforce-.*R=dnslookup T=remote_smtp')" -eq 2
dkim_sig() {	# RCPT HOST: the DKIM-Signature tags of RCPT's message at HOST
	python3 - "$(lab_smtp_where "$1" | awk -v h="$2" '$1 == h { print $3 }' |
	    head -1)" <<'EOP'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
h = m.get("DKIM-Signature", "")
t = dict(x.strip().split("=", 1) for x in h.replace("\r", "").replace(
    "\n", "").split(";") if "=" in x)
print(t.get("d"), t.get("s"), t.get("a"), m.get_content_type())
EOP
}
check "report mail arrives DKIM-signed d=client.test s=tlsrpt" \
    test "$(dkim_sig tlsrpt@enforce-nostarttls.test nostarttls.mx.test)" = \
    "client.test tlsrpt rsa-sha256 multipart/report"
dkim_ok() {	# RCPT HOST: the signature verifies with the published key
	local f key
	f=$(lab_smtp_where "$1" | awk -v h="$2" '$1 == h { print $3 }' | head -1)
	key=$(openssl rsa -in "$EXIM_DIR/dkim.key" -pubout -outform der \
	    2>/dev/null | base64 -w0)
	/usr/bin/python3 - "$f" "$key" <<'EOP'
import sys
import dkim
rr = ("v=DKIM1; k=rsa; p=" + sys.argv[2]).encode()
def txt(name, timeout=5):
    n = name.decode() if isinstance(name, bytes) else name
    return rr if n.rstrip(".") == "tlsrpt._domainkey.client.test" else None
sys.exit(0 if dkim.verify(open(sys.argv[1], "rb").read(), dnsfunc=txt) else 1)
EOP
}
if /usr/bin/python3 -c 'import dkim' 2>/dev/null; then
	check "report mail DKIM signature verifies (python3-dkim)" \
	    dkim_ok tlsrpt@enforce-nostarttls.test nostarttls.mx.test
else
	ok 1 "report mail DKIM signature verifies: python3-dkim missing"
fi
check "TLS-RPT: report mail not recorded, store unchanged" \
    test "$(rpt_sum)" -eq "$before"


# ---------------------------------------------------------------- metrics
# "mtasts metrics" on the store this run filled: Prometheus accepts it,
# and mtasts_sessions_total and mtasts_deferrals_total equal, series for
# series, what the day's reports (built above from the same store) say
# the deliveries did (tests/lib/metrics_reports.py).
exim_metrics() {
	lab_exec "$MTASTS_BIN" metrics -c "$EXIM_DIR/mtasts.conf" \
	    >"$EXIM_DIR/metrics.prom" 2>"$EXIM_DIR/metrics.err"
	local rc=$?
	chown "$EXIM_USER:$EXIM_USER" "$(exim_store)"*
	return $rc
}
exim_prom() {	# SERIES: its value in the metrics
	awk -v s="$1" '$1 == s { print $2 }' "$EXIM_DIR/metrics.prom"
}
check "mtasts metrics on the store the Exim run filled" exim_metrics
check "promtool check metrics accepts it" \
    eval 'promtool check metrics <"$EXIM_DIR/metrics.prom" >&2'
TAP_CAPTURE=$EXIM_DIR/metrics-vs-reports check \
    "mtasts_sessions_total and mtasts_deferrals_total equal the reports" \
    python3 "$REPO/tests/lib/metrics_reports.py" "$EXIM_DIR/metrics.prom" \
    "$EXIM_DIR"/reports/*.json.gz
check "metrics: 3 enforce successes, 6 enforce sessions deferred" \
    test "$(exim_prom 'mtasts_sessions_total{policy_type="sts",mode="enforce",result="success"}')" = 3 -a \
    "$(awk '/^mtasts_deferrals_total\{/ { n += $2 } END { print n + 0 }' \
    "$EXIM_DIR/metrics.prom")" = 6
check "metrics: testing failures deliver, no deferral for them" \
    test "$(exim_prom 'mtasts_sessions_total{policy_type="sts",mode="testing",result="starttls-not-supported"}')" = 2 -a \
    "$(exim_prom 'mtasts_deferrals_total{reason="starttls-not-supported"}')" = 2
check "metrics: no store error" test "$(exim_prom mtasts_store_errors)" = 0

tap_end
