#!/bin/sh
# Sets up (or brings up to date) Temporal's two SQL databases on Postgres with the server's own
# temporal-sql-tool and its embedded schemas, so the compose stack (temporal-schema service) and a
# native run (bench/README "Performance and scale") use the same commands. Idempotent: an existing
# database or versioning table is kept, and update-schema applies only the versions missing.
#
#   POSTGRES_HOST POSTGRES_PORT POSTGRES_USER POSTGRES_PASSWORD [SQL_TOOL] sh setup-schema.sh
set -eu

HOST="${POSTGRES_HOST:-postgres}"
PORT="${POSTGRES_PORT:-5432}"
USER="${POSTGRES_USER:-temporal}"
SQL_TOOL="${SQL_TOOL:-temporal-sql-tool}"
export SQL_PASSWORD="${POSTGRES_PASSWORD:-temporal}"

log() { echo "setup-schema: $*"; }

sql_tool() {
  "$SQL_TOOL" --plugin postgres12 --ep "$HOST" -p "$PORT" -u "$USER" "$@"
}

for pair in temporal:postgresql/v12/temporal temporal_visibility:postgresql/v12/visibility; do
  db="${pair%%:*}"
  schema="${pair#*:}"
  if sql_tool --db "$db" create 2>/tmp/create.err; then log "created database $db"; else log "database $db exists ($(head -c 120 /tmp/create.err))"; fi
  # Versioning tables first (refused when they exist), then every schema version not yet applied.
  if sql_tool --db "$db" setup-schema -v 0.0 >/dev/null 2>&1; then log "$db: versioning set up"; fi
  sql_tool --db "$db" update-schema --schema-name "$schema"
  log "$db: schema up to date ($schema)"
done
