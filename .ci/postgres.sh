#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the storage tests.
# Usage: source .ci/postgres.sh   -> exports SCOUT_TEST_POSTGRES_URL (and _BIN, _DATA, _OPTS,
# _LOG, _USER so a test can stop and restart the server) and defines pg_stop.
# Installs Debian's postgresql when missing (as root). Leaves the URL unset, saying why, when no
# server can be started; the PostgreSQL tests then skip with that message.
# a free port unless SCOUT_PG_PORT says which (a fixed one clashes with a server left running)
_pg_port=${SCOUT_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)}
_pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$_pg_bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "postgres: installing Debian's postgresql"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 \
        || { DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 \
             && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1; }
    _pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
pg_stop() { :; }
if [ -z "$_pg_bin" ]; then
    export SCOUT_TEST_POSTGRES_SKIP="no PostgreSQL server binaries found and none could be installed"
    echo "postgres: $SCOUT_TEST_POSTGRES_SKIP"
else
    _pg_dir=$(mktemp -d /tmp/scout-pg.XXXXXX)
    _as=()
    if [ "$(id -u)" = 0 ]; then   # initdb refuses to run as root: use the postgres account
        id postgres >/dev/null 2>&1 || useradd -r -M postgres
        chown postgres "$_pg_dir"; _as=(su postgres -s /bin/bash -c)
    else
        _as=(bash -c)
    fi
    if "${_as[@]}" "'$_pg_bin/initdb' -D '$_pg_dir/data' -A trust -U scout >'$_pg_dir/initdb.log' 2>&1 \
        && '$_pg_bin/pg_ctl' -D '$_pg_dir/data' -l '$_pg_dir/server.log' -w \
           -o \"-p $_pg_port -k '$_pg_dir' -c listen_addresses=127.0.0.1 -c max_connections=200\" start >/dev/null \
        && '$_pg_bin/createdb' -h 127.0.0.1 -p $_pg_port -U scout scout"; then
        # the standard form (Optuna's docs): SQLAlchemy 2.1 maps it to psycopg 3, the hpc extra's driver
        export SCOUT_TEST_POSTGRES_URL="postgresql://scout@127.0.0.1:$_pg_port/scout"
        # what the outage test needs to stop and restart this server (pg_ctl, no shell)
        export SCOUT_TEST_POSTGRES_BIN="$_pg_bin" SCOUT_TEST_POSTGRES_DATA="$_pg_dir/data"
        export SCOUT_TEST_POSTGRES_OPTS="-p $_pg_port -k $_pg_dir -c listen_addresses=127.0.0.1 -c max_connections=200"
        export SCOUT_TEST_POSTGRES_LOG="$_pg_dir/server.log"
        [ "$(id -u)" = 0 ] && export SCOUT_TEST_POSTGRES_USER=postgres
        echo "postgres: server on 127.0.0.1:$_pg_port"
        pg_stop() { "${_as[@]}" "'$_pg_bin/pg_ctl' -D '$_pg_dir/data' -m fast stop" >/dev/null 2>&1; rm -rf "$_pg_dir"; }
    else
        export SCOUT_TEST_POSTGRES_SKIP="PostgreSQL could not be started (see $_pg_dir/*.log)"
        echo "postgres: $SCOUT_TEST_POSTGRES_SKIP"
    fi
fi
