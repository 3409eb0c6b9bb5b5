#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster for wmpolicy's tests, runs a
# command with WMPOLICY_TEST_POSTGRES set to its URL, and stops it after.
#
#   .ci/postgres.sh go test -count=1 ./org/...
#   .ci/postgres.sh            # prints the URL and waits until interrupted
#
# It installs Debian's postgresql-15 when the binaries are missing (as root),
# initdbs into a temporary directory as an unprivileged user (the postgres
# system user when run as root), listens on 127.0.0.1 at a free port and on a
# socket in the same directory, and removes everything on exit.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PGBIN/initdb" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "postgres.sh: installing postgresql-15" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q postgresql-15 >&2
  else
    echo "postgres.sh: $PGBIN/initdb is missing; apt-get install postgresql-15" >&2
    exit 1
  fi
fi

tmp=$(mktemp -d /tmp/wmpolicy-pg.XXXXXX)
chmod 755 "$tmp"
run_as=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$tmp"
  run_as=(runuser -u postgres --)
fi
port=${PGPORT_TEST:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)}

cleanup() {
  "${run_as[@]}" "$PGBIN/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"${run_as[@]}" "$PGBIN/initdb" -D "$tmp/data" -U wmpolicy --auth=trust -E UTF8 --no-locale >"$tmp/initdb.log" 2>&1 ||
  { cat "$tmp/initdb.log" >&2; exit 1; }
cat >>"$tmp/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$tmp'
fsync = off
full_page_writes = off
max_connections = 200
CONF
"${run_as[@]}" "$PGBIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 30 start >/dev/null ||
  { cat "$tmp/server.log" >&2; exit 1; }

export WMPOLICY_TEST_POSTGRES="postgres://wmpolicy@127.0.0.1:$port/postgres?sslmode=disable"
# The tests' lock (internal/pgtest: the fault test holds it exclusively).
export WMPOLICY_TEST_POSTGRES_LOCK="$tmp/tests.lock"
# The tests restart the server (fault injection) through these.
export WMPOLICY_TEST_POSTGRES_CTL="${run_as[*]} $PGBIN/pg_ctl -D $tmp/data -l $tmp/server.log"
echo "postgres.sh: $WMPOLICY_TEST_POSTGRES" >&2

if [ $# -eq 0 ]; then
  echo "$WMPOLICY_TEST_POSTGRES"
  echo "postgres.sh: running until interrupted" >&2
  sleep infinity &
  wait $!
else
  "$@"
fi
