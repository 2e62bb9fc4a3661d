#!/usr/bin/env bash
# The backup and restore figures of docs/RELIABILITY.md: the demo clinic is backed up, the
# backup checked, and restored into a brand-new empty database (which verifies itself: row
# counts, the access log's hash chains, migrations current), each step timed, on SQLite and,
# given a PostgreSQL server, on PostgreSQL.
#
#   bench/backup_roundtrip.sh                                   # SQLite only
#   bench/backup_roundtrip.sh postgres://postgres@127.0.0.1:5432  # and PostgreSQL
#
# Two throw-away databases are created on the server (kapflow_bench_*) and dropped at the end.
# The test suite's version (tests/core/test_backup.py) also writes during the backup.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kapflow="$PWD/.venv/bin/kapflow"
server="${1:-}"
work=$(mktemp -d)
suffix="$$_$RANDOM"
cleanup() {
    if [ -n "$server" ]; then
        for db in "kapflow_bench_src_$suffix" "kapflow_bench_dst_$suffix"; do
            psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT

timed() {
    local start=$EPOCHREALTIME
    "$@"
    awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { printf "    (%.1f s)\n", e - s }'
}

roundtrip() {  # label, environment of the clinic, environment of the empty target
    local label=$1 source=$2 target=$3 archive="$work/$1.kfb"
    echo "== $label"
    env -u DATABASE_URL $source "$kapflow" manage migrate --noinput -v0
    env -u DATABASE_URL $source "$kapflow" demo >/dev/null
    timed env -u DATABASE_URL $source "$kapflow" backup "$archive"
    timed env -u DATABASE_URL $source "$kapflow" backup --verify "$archive"
    timed env -u DATABASE_URL $target "$kapflow" restore "$archive"
}

roundtrip sqlite "KAPFLOW_DATA_DIR=$work/sqlite-src" "KAPFLOW_DATA_DIR=$work/sqlite-dst"

if [ -n "$server" ]; then
    psql -q "$server/postgres" -c "CREATE DATABASE kapflow_bench_src_$suffix"
    psql -q "$server/postgres" -c "CREATE DATABASE kapflow_bench_dst_$suffix"
    roundtrip postgresql \
        "KAPFLOW_DATA_DIR=$work/pg DATABASE_URL=$server/kapflow_bench_src_$suffix" \
        "KAPFLOW_DATA_DIR=$work/pg DATABASE_URL=$server/kapflow_bench_dst_$suffix"
fi
