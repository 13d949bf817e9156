#!/bin/sh
# cli_offline.sh - the offline commands of mtasts(8): lint, match,
# generate, help and usage. TAP lines on stdout.
#
# Run from the top of the tree after "make"; MTASTS=path picks another
# binary (a sanitizer build, say).
set -u
M=${MTASTS:-build/mtasts}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/../lib/tap.sh"

if [ ! -x "$M" ]; then
	ok 1 "$M exists (run make first)"
	exit 1
fi

# run ARG...: runs mtasts, keeps stdout, stderr and the exit status
run() {
	"$M" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
}
# runin FILE ARG...: the same with FILE on standard input
runin() {
	f=$1; shift
	"$M" "$@" >"$T/out" 2>"$T/err" <"$f"
	rc=$?
}
tap_diag() {	# the last run's status and output
	echo "#   rc=${rc:-}"
	[ -f "$T/out" ] && sed 's/^/#   out: /' "$T/out" | head -20
	[ -f "$T/err" ] && sed 's/^/#   err: /' "$T/err" | head -20
	return 0
}
rc_is() { [ "$rc" -eq "$1" ]; }
out_has() { grep -qF -- "$1" "$T/out"; }
err_has() { grep -qF -- "$1" "$T/err"; }
out_empty() { [ ! -s "$T/out" ]; }
err_empty() { [ ! -s "$T/err" ]; }
# jis EXPR VALUE: python expression on the JSON document d in stdout
jis() {
	v=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$T/out" "$1" 2>&1)
	[ "$v" = "$2" ] || { echo "#   json: $1 = $v, want $2"; return 1; }
}
json_ok() { python3 -c 'import json, sys; json.load(open(sys.argv[1]))' \
    "$T/out"; }

# --- policy files
printf 'version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.mail.example.com\nmax_age: 604800\n' >"$T/good.txt"
printf 'version: STSv1\r\nmode: testing\r\nmx: mx1.example.com\r\nmax_age: 86400\r\n' >"$T/crlf.txt"
printf 'version: STSv1\nmode: bogus\nmx: mx1.example.com\nmax_age: 604800\n' >"$T/badmode.txt"
printf 'mode: enforce\nversion: STSv1\nmx: mx1.example.com\nmax_age: 604800\n' >"$T/vlate.txt"
printf 'mode: testing\r\nmx: mx1.example.com\r\nmax_age: 86400\r\nversion: STSv1\r\n' >"$T/vlast.txt"
printf 'mode: enforce\nmx: mx1.example.com\nmax_age: 604800\n' >"$T/vnone.txt"
printf 'mode: enforce\nmx: mx1.example.com\nversion: STSv2\nmax_age: 604800\n' >"$T/vbad.txt"
printf 'version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 31557601\n' >"$T/bigage.txt"
printf 'version: STSv1\nmode: enforce\nmax_age: 604800\n' >"$T/nomx.txt"
printf 'version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\ncolour: blue\n' >"$T/ext.txt"
printf 'version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: bad..example.com\nmax_age: 604800\n' >"$T/badmx.txt"
printf 'version: STSv1\nmode: "en\\fo\377rce\nmx: a.example\nmax_age: 1\n' >"$T/quote.txt"

run lint "$T/good.txt"
check "lint: valid policy exits 0" rc_is 0
check "lint: valid policy summary" out_has \
    "$T/good.txt: valid: mode enforce, max_age 604800 (7 days), 2 mx patterns"
check "lint: valid policy prints nothing on stderr" err_empty

runin "$T/good.txt" lint -
check "lint -: valid policy from stdin exits 0" rc_is 0
check "lint -: stdin is named <stdin>" out_has "<stdin>: valid: mode enforce"

run lint --json "$T/good.txt"
check "lint --json: valid policy exits 0" rc_is 0
check "lint --json: valid is true" jis 'd["valid"]' True
check "lint --json: version" jis 'd["version"]' STSv1
check "lint --json: mode" jis 'd["mode"]' enforce
check "lint --json: max_age is a number" jis 'd["max_age"] + 1' 604801
check "lint --json: mx list" jis '",".join(d["mx"])' \
    'mx1.example.com,*.mail.example.com'
check "lint --json: no warnings" jis 'len(d["warnings"])' 0

run lint "$T/badmode.txt"
check "lint: bad mode exits 1" rc_is 1
check "lint: bad mode error names line 2" err_has "$T/badmode.txt:2: error:"
check "lint: invalid policy prints nothing on stdout" out_empty
check "lint: the message does not repeat the line number" \
    sh -c "! grep -q ':2: error: line 2' '$T/err'"

runin "$T/badmode.txt" lint -
check "lint -: bad mode from stdin exits 1" rc_is 1
check "lint -: error names <stdin>:2" err_has "<stdin>:2: error:"

run lint --json "$T/badmode.txt"
check "lint --json: invalid exits 1" rc_is 1
check "lint --json: valid is false" jis 'd["valid"]' False
check "lint --json: error line" jis 'd["error"]["line"]' 2
check "lint --json: error message" jis 'len(d["error"]["message"]) > 0' True
check "lint --json: error also on stderr" err_has ":2: error:"

run lint "$T/vlate.txt"
check "lint: version not first is valid (RFC 8461 fixes no order)" rc_is 0
check "lint: version not first: the summary" out_has \
    "$T/vlate.txt: valid: mode enforce, max_age 604800"
check "lint: version not first warns on its line" err_has \
    "$T/vlate.txt:2: warning: \"version: STSv1\" is not the first field"
check "lint: version not first: no error" sh -c "! grep -q ': error:' '$T/err'"
run lint "$T/vlast.txt"
check "lint: version last, CRLF, is valid" rc_is 0
check "lint: version last warns on line 4" err_has "$T/vlast.txt:4: warning:"
run lint --json "$T/vlast.txt"
check "lint --json: version last is valid" jis 'd["valid"]' True
check "lint --json: version last warning line" jis 'd["warnings"][0]["line"]' 4
run lint "$T/vnone.txt"
check "lint: no version field is still an error" \
    sh -c "[ $rc -eq 1 ] && grep -qF 'error: no \"version: STSv1\" field' '$T/err'"
run lint "$T/vbad.txt"
check "lint: version STSv2 on line 3 is an error on line 3" \
    sh -c "[ $rc -eq 1 ] && grep -qF '$T/vbad.txt:3: error:' '$T/err'"
run lint "$T/bigage.txt"
check "lint: max_age 31557601 is an error on line 4" \
    sh -c "[ $rc -eq 1 ] && grep -qF '$T/bigage.txt:4: error:' '$T/err'"
run lint "$T/nomx.txt"
check "lint: enforce without mx exits 1" rc_is 1
run lint "$T/badmx.txt"
check "lint: bad mx pattern is an error on line 4" \
    sh -c "[ $rc -eq 1 ] && grep -qF '$T/badmx.txt:4: error:' '$T/err'"

run lint "$T/ext.txt"
check "lint: unknown field is valid" rc_is 0
check "lint: unknown field warns with its line" err_has "$T/ext.txt:5: warning:"
run lint --json "$T/ext.txt"
check "lint --json: warning line" jis 'd["warnings"][0]["line"]' 5

run lint --json "$T/quote.txt"
check "lint --json: quotes, backslashes and bad UTF-8 give valid JSON" \
    sh -c "[ $rc -eq 1 ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '$T/out'"

run lint --json "$T/crlf.txt"
check "lint: CRLF policy is valid" rc_is 0
check "lint: CRLF is not part of the values" jis \
    'd["mode"] + "/" + d["mx"][0] + "/" + str(d["max_age"])' \
    'testing/mx1.example.com/86400'

# 64 KiB: the limit itself is not "too large", one byte more is
python3 - "$T" <<'PY'
import sys
head = b"version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400\n"
line = b"x-pad: " + b"a" * 40 + b"\n"
body = head
while len(body) + len(line) <= 65536 - 16:
	body += line
body += b"x-end: " + b"b" * (65536 - len(body) - 8) + b"\n"
assert len(body) == 65536
open(sys.argv[1] + "/limit.txt", "wb").write(body)
open(sys.argv[1] + "/big.txt", "wb").write(body + b"\n")
PY
run lint "$T/limit.txt"
check "lint: a 65536-byte policy is not too large" \
    sh -c "! grep -q 'too large' '$T/err' && [ $rc -eq 0 ]"
run lint "$T/big.txt"
check "lint: a 65537-byte policy exits 1" rc_is 1
check "lint: a 65537-byte policy is too large" err_has "too large"
run lint /dev/zero
check "lint: an endless file is read only up to the limit" \
    sh -c "[ $rc -eq 1 ] && grep -q 'too large' '$T/err'"
runin "$T/big.txt" lint --json -
check "lint --json -: too large from stdin" \
    sh -c "[ $rc -eq 1 ] && grep -q 'too large' '$T/out'"

run lint "$T/missing.txt"
check "lint: missing file exits 2" rc_is 2
check "lint: missing file says why" err_has "No such file or directory"
run lint --json "$T/missing.txt"
check "lint --json: missing file exits 2, no JSON" \
    sh -c "[ $rc -eq 2 ] && [ ! -s '$T/out' ]"
run lint "$T"
check "lint: a directory exits 2" rc_is 2
run lint
check "lint: no file is a usage error" rc_is 2
run lint "$T/good.txt" "$T/good.txt"
check "lint: two files is a usage error" rc_is 2

# --- _mta-sts TXT
run lint --sts-txt 'v=STSv1; id=20190429T010101'
check "sts-txt: valid record exits 0" rc_is 0
check "sts-txt: valid record shows the id" out_has "valid: id 20190429T010101"
run lint --sts-txt --json 'v=spf1 -all' 'v=STSv1; id=abc123'
check "sts-txt: other TXT records are dropped" rc_is 0
check "sts-txt --json: id" jis 'd["id"]' abc123
check "sts-txt --json: valid" jis 'd["valid"]' True
run lint --sts-txt 'v=STSv1; id=one' 'v=STSv1; id=two'
check "sts-txt: two records exit 1" rc_is 1
check "sts-txt: two records give an error" err_has "error:"
run lint --sts-txt
check "sts-txt: no record exits 1" rc_is 1
run lint --sts-txt --json 'v=spf1 -all'
check "sts-txt: no v=STSv1 record exits 1" rc_is 1
check "sts-txt --json: no record is invalid" jis 'd["valid"]' False
run lint --sts-txt 'v=STSv1; id=bad_id!'
check "sts-txt: bad id exits 1" rc_is 1
check "sts-txt: bad id names record 1" err_has "_mta-sts TXT record 1: error:"
run lint --sts-txt 'v=STSv1; id=123456789012345678901234567890123'
check "sts-txt: a 33-character id exits 1" rc_is 1
run lint --sts-txt --json '"v=STSv1; " "id=2024x1"'
check "sts-txt: dig's quoted strings are joined" jis 'd["id"]' 2024x1
run lint --sts-txt '"v=STSv1; id=12\0513"'
check "sts-txt: \\DDD escapes are decoded" out_has "valid: id 1233"
run lint --sts-txt '"v=STSv1; id=1'
check "sts-txt: unbalanced quote is a usage error" rc_is 2

# --- _smtp._tls TXT
run lint --tlsrpt-txt --json \
    'v=TLSRPTv1; rua=mailto:tls@example.com,https://r.example.com/tlsrpt'
check "tlsrpt-txt: valid record exits 0" rc_is 0
check "tlsrpt-txt --json: rua list" jis '" ".join(d["rua"])' \
    'mailto:tls@example.com https://r.example.com/tlsrpt'
check "tlsrpt-txt --json: version" jis 'd["version"]' TLSRPTv1
run lint --tlsrpt-txt 'v=TLSRPTv1; rua=mailto:tls@example.com'
check "tlsrpt-txt: human output lists the rua" \
    out_has "valid: rua mailto:tls@example.com"
run lint --tlsrpt-txt 'v=TLSRPTv1; rua=ftp://r.example.com/tlsrpt'
check "tlsrpt-txt: ftp: scheme exits 1" rc_is 1
check "tlsrpt-txt: bad scheme names record 1" \
    err_has "_smtp._tls TXT record 1: error:"
run lint --tlsrpt-txt --json 'v=TLSRPTv1; rua=ftp://r.example.com/tlsrpt'
check "tlsrpt-txt --json: bad scheme is invalid" jis 'd["valid"]' False
run lint --sts-txt --tlsrpt-txt 'v=STSv1; id=1'
check "lint: --sts-txt with --tlsrpt-txt is a usage error" rc_is 2

# --- match
run match mx1.example.com mx2.example.com mx1.example.com
check "match: exact name exits 0" rc_is 0
check "match: names the pattern" out_has "mx1.example.com matches mx1.example.com"
run match MX1.Example.COM. mx1.example.com
check "match: case and a trailing dot are ignored" rc_is 0
run match mx3.example.com mx1.example.com mx2.example.com
check "match: no match exits 1" rc_is 1
check "match: no match lists the patterns" \
    err_has "mx3.example.com matches none of: mx1.example.com, mx2.example.com"
run match a.mail.example.com '*.mail.example.com'
check "match: wildcard matches one label" rc_is 0
run match a.b.mail.example.com '*.mail.example.com'
check "match: wildcard does not match two labels" rc_is 1
run match mail.example.com '*.mail.example.com'
check "match: wildcard does not match the bare domain" rc_is 1
run match mx.bücher.example mx.xn--bcher-kva.example
check "match: U-label host matches its A-label pattern" rc_is 0
run match mx.xn--bcher-kva.example '*.bücher.example'
check "match: A-label host matches a U-label wildcard" rc_is 0
run match 'bad..example.com' mx1.example.com
check "match: invalid host is a usage error" rc_is 2
check "match: invalid host is named" err_has "bad..example.com"
run match mx1.example.com 'mx1.*.example.com'
check "match: invalid pattern is a usage error" rc_is 2
run match mx1.example.com
check "match: no pattern is a usage error" rc_is 2

# --- generate
policy_of() {	# the policy file part of generate's output
	sed -n '/^; Policy file:/,/^$/{/^;/d;/^$/d;p;}' "$T/out"
}
txt_of() {	# the quoted data of the zone line for $1
	sed -n "s/^$1[^ ]* IN TXT //p" "$T/out"
}
run generate --domain Example.COM --mode enforce --mx mx1.example.com \
    --mx '*.Mail.Example.com' --rua mailto:tlsrpt@example.com \
    --rua https://r.example.com/tlsrpt
check "generate: exits 0" rc_is 0
cp "$T/out" "$T/gen"
policy_of >"$T/gen-policy"
sts=$(txt_of _mta-sts)
rpt=$(txt_of _smtp._tls)
check "generate: TXT line for the lower-case domain" \
    grep -qE '^_mta-sts\.example\.com\. IN TXT "v=STSv1; id=[0-9]{8}T[0-9]{6}"$' \
    "$T/gen"
check "generate: says where to serve the policy" grep -qF \
    'https://mta-sts.example.com/.well-known/mta-sts.txt' "$T/gen"
check "generate: says text/plain" grep -qF 'text/plain' "$T/gen"
check "generate: says the certificate name" grep -qF \
    'certificate valid for' "$T/gen"
check "generate: says to update the policy before the id" grep -qF \
    'publish the new policy file first' "$T/gen"
runin "$T/gen-policy" lint --json -
check "generate | lint -: the policy is valid" rc_is 0
check "generate | lint -: mode" jis 'd["mode"]' enforce
check "generate | lint -: default max_age for enforce" jis 'd["max_age"]' 604800
check "generate | lint -: mx patterns" jis '",".join(d["mx"])' \
    'mx1.example.com,*.mail.example.com'
check "generate | lint -: no warnings" jis 'len(d["warnings"])' 0
run lint --sts-txt --json "$sts"
check "generate | lint --sts-txt: the TXT record is valid" rc_is 0
check "generate | lint --sts-txt: id is the UTC time" \
    jis '__import__("re").fullmatch("[0-9]{8}T[0-9]{6}", d["id"]) is not None' True
run lint --tlsrpt-txt --json "$rpt"
check "generate | lint --tlsrpt-txt: the TLS-RPT record is valid" rc_is 0
check "generate | lint --tlsrpt-txt: both rua" jis '" ".join(d["rua"])' \
    'mailto:tlsrpt@example.com https://r.example.com/tlsrpt'

run generate --domain example.com --mode testing --mx mx.example.com
check "generate: testing mode exits 0" rc_is 0
check "generate: no --rua, no TLS-RPT record" sh -c "! grep -q _smtp._tls '$T/out'"
policy_of >"$T/gen-policy"
runin "$T/gen-policy" lint --json -
check "generate: default max_age for testing is 86400" jis 'd["max_age"]' 86400
run generate --domain example.com --mode none
check "generate: mode none needs no mx" rc_is 0
policy_of >"$T/gen-policy"
runin "$T/gen-policy" lint --json -
check "generate: mode none policy is valid" jis 'd["mode"]' none
run generate --domain bücher.example --mode testing --mx mx.bücher.example \
    --max-age 31557600 --id abc123
check "generate: IDN domain and largest max_age exit 0" rc_is 0
check "generate: IDN domain is written as A-labels" \
    out_has '_mta-sts.xn--bcher-kva.example. IN TXT "v=STSv1; id=abc123"'
policy_of >"$T/gen-policy"
runin "$T/gen-policy" lint --json -
check "generate: IDN mx is written as A-labels" jis 'd["mx"][0]' \
    mx.xn--bcher-kva.example
check "generate: --max-age is used" jis 'd["max_age"]' 31557600

run generate --domain example.com --mode enforce --mx 'bad..example.com'
check "generate: bad mx pattern exits 1" rc_is 1
check "generate: bad mx pattern prints nothing" out_empty
check "generate: bad mx pattern says why" err_has "bad..example.com"
run generate --domain example.com --mode enforce --mx mx.example.com \
    --max-age 31557601
check "generate: max_age too high exits 1" rc_is 1
check "generate: max_age too high prints nothing" out_empty
check "generate: max_age too high says why" err_has "max_age"
run generate --domain example.com --mode enforce --mx mx.example.com \
    --max-age 12x
check "generate: non-numeric max_age exits 1" rc_is 1
run generate --domain example.com --mode enforce --mx mx.example.com \
    --id bad_id
check "generate: bad id is refused by the record parser" rc_is 1
check "generate: bad id prints nothing" out_empty
run generate --domain example.com --mode enforce --mx mx.example.com \
    --rua ftp://r.example.com/
check "generate: bad rua scheme exits 1" rc_is 1
check "generate: bad rua scheme prints nothing" out_empty
run generate --domain example.com --mode enforce --mx mx.example.com \
    --rua 'mailto:a@example.com,mailto:b@example.com'
check "generate: a --rua holding two URIs is refused" \
    sh -c "[ $rc -eq 1 ] && [ ! -s '$T/out' ]"
run generate --domain example.com --mode enforce
check "generate: enforce without mx exits 1" rc_is 1
run generate --domain example.com --mode strict --mx mx.example.com
check "generate: unknown mode exits 1" rc_is 1
run generate --domain 'bad domain' --mode testing --mx mx.example.com
check "generate: bad domain exits 1" rc_is 1
run generate --mode testing --mx mx.example.com
check "generate: missing --domain is a usage error" rc_is 2
run generate --domain example.com --mode testing --mx mx.example.com extra
check "generate: stray argument is a usage error" rc_is 2

# --- help and usage
run --help
check "--help exits 0" rc_is 0
check "--help lists the commands" sh -c "grep -q lint '$T/out' && grep -q match '$T/out' && grep -q generate '$T/out'"
run --version
check "--version exits 0" sh -c "[ $rc -eq 0 ] && grep -q '^mtasts ' '$T/out'"
for c in lint match generate; do
	run "$c" --help
	check "$c --help exits 0 with usage on stdout" \
	    sh -c "[ $rc -eq 0 ] && grep -q 'usage: mtasts $c' '$T/out' && [ ! -s '$T/err' ]"
done
run
check "no command is a usage error" sh -c "[ $rc -eq 2 ] && grep -q usage: '$T/err'"
run frobnicate
check "unknown command is a usage error" sh -c "[ $rc -eq 2 ] && grep -q 'unknown command' '$T/err'"
run --bogus
check "unknown global option is a usage error" rc_is 2
run lint --bogus "$T/good.txt"
check "unknown lint option is a usage error" sh -c "[ $rc -eq 2 ] && grep -q usage: '$T/err'"
run generate --domain example.com --mode testing --mx
check "option without its value is a usage error" rc_is 2

# --- report show on a hostile report: nothing reaches the terminal raw
H=tests/unit/data/tlsrpt/hostile
run report show "$H.json"
check "report show: a hostile report is shown, exit 0" rc_is 0
check "report show: exactly the golden text ($H.out)" cmp -s "$T/out" "$H.out"
check "report show: no control byte but newline on stdout" \
    sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$T/out'"
check "report show: no control byte but newline on stderr" \
    sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$T/err'"
check "report show: counts above INT64_MAX are capped, warned" err_has \
    "total-failure-session-count is implausibly large; capped at 9223372036854775807"
run report show --json "$H.json"
check "report show --json: a hostile report gives valid JSON" json_ok
check "report show --json: CR LF kept, escaped by the JSON writer" \
    jis 'd["organization-name"] == "Evil\r\nInjected: yes"' True
check "report show --json: counts capped, not wrapped" \
    jis 'd["policies"][0]["failure-details"][2]["failed-session-count"]' \
    9223372036854775807

tap_end
