# tests/lib/pg.sh - a private PostgreSQL cluster for the fleet tests and
# bench, from Debian's postgresql package: initdb into PG_DIR (owned by
# the postgres user), its own port inside the lab's network namespace and
# its own socket folder, TLS with a test CA made here, and password auth
# (pg_hba.conf: hostssl ... scram-sha-256 only; no clear-text TCP).
# Source after tests/lab/lib.sh; set PG_DIR (a folder under a 0755
# path) first. Functions return non-zero with a message on failure.
#
#   pg_init    make the CA, the server certificate and the cluster, start
#              it, create role mtasts (password PG_PASS) and database fleet
#   pg_start / pg_stop   start (waits until it accepts) / stop (fast)
#   pg_conninfo [PASS [SSLMODE]]   a libpq connection string for mtasts
#   pg_sql SQL  run SQL in database fleet as postgres, print the rows
PG_PORT=${PG_PORT:-5433}
PG_PASS=${PG_PASS:-fleet-secret-1}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

pg__as() {	# CMD...: as the postgres user
	runuser -u postgres -- "$@"
}

pg__certs() {
	local d=$PG_DIR/tls
	mkdir -p "$d" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -subj /CN=mtasts-fleet-test-ca -keyout "$d/ca.key" \
	    -out "$d/ca.pem" 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
	    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext" &&
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
	    -CAkey "$d/ca.key" -CAcreateserial -days 2 -extfile "$d/ext" \
	    -out "$d/server.crt" 2>/dev/null &&
	chown postgres "$d/server.key" "$d/server.crt" &&
	chmod 0600 "$d/server.key"
}

pg_init() {
	[ -x "$PG_BIN/initdb" ] || { echo "pg: no initdb (postgresql)" >&2
	    return 1; }
	mkdir -p "$PG_DIR" && chown postgres "$PG_DIR" && chmod 0755 "$PG_DIR" ||
	    return 1
	pg__certs || { echo "pg: certificates failed" >&2; return 1; }
	pg__as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres \
	    --auth-local=peer --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" \
	    2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
	cat >>"$PG_DIR/data/postgresql.conf" <<EOC
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
ssl = on
ssl_cert_file = '$PG_DIR/tls/server.crt'
ssl_key_file = '$PG_DIR/tls/server.key'
password_encryption = 'scram-sha-256'
fsync = off
EOC
	cat >"$PG_DIR/data/pg_hba.conf" <<EOC
local	all	postgres			peer
hostssl	fleet	mtasts	127.0.0.1/32	scram-sha-256
EOC
	pg_start || return 1
	pg__as "$PG_BIN/psql" -h "$PG_DIR" -p "$PG_PORT" -qAt -c \
	    "CREATE ROLE mtasts LOGIN PASSWORD '$PG_PASS'" postgres &&
	pg__as "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -O mtasts fleet
}

pg_start() {	# in the lab's namespace: 127.0.0.1 is the lab's
	lab_exec runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" \
	    -l "$PG_DIR/server.log" -w -t 60 start >/dev/null ||
	    { tail -5 "$PG_DIR/server.log" >&2; return 1; }
}

pg_stop() {
	[ -f "$PG_DIR/data/postmaster.pid" ] || return 0
	pg__as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop \
	    >/dev/null
}

pg_conninfo() {	# [PASSWORD [SSLMODE]]
	echo "host=127.0.0.1 port=$PG_PORT dbname=fleet user=mtasts" \
	    "password=${1:-$PG_PASS} sslmode=${2:-verify-full}" \
	    "sslrootcert=$PG_DIR/tls/ca.pem"
}

pg_sql() {	# SQL
	pg__as "$PG_BIN/psql" -h "$PG_DIR" -p "$PG_PORT" -qAt -F ' ' \
	    -c "$1" fleet
}
