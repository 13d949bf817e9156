# tests/lib/query.sh - "mtasts query" in the lab and its JSON answer, for
# the engine's integration scripts. Needs MTASTS, CONF and T (a scratch
# folder) set, and tests/lab/lib.sh sourced.

q() {	# DOMAIN [ARGS...]: query into $T/last.json, exit status in $rc
	lab_exec "$MTASTS" query -c "$CONF" --json "$@" >"$T/last.json" \
	    2>"$T/last.err"
	rc=$?
}

field() {	# KEY[/KEY...]: a field of the last answer
	python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("/"):
    v = v.get(k, "") if isinstance(v, dict) else ""
print(str(v).lower() if isinstance(v, bool) else v)' "$T/last.json" "$1"
}

is() {	# KEY VALUE: is that field of the last answer VALUE?
	[ "$(field "$1")" = "$2" ]
}
