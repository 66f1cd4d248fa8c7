#!/bin/sh
# Runs once, when the postgres container initialises an empty data volume
# (docker-entrypoint-initdb.d). The superuser (POSTGRES_USER, "temporal") owns
# Temporal's databases, which the temporal-schema one-shot creates; this adds the
# unprivileged role and database the Pledge services use.
# Changing PLEDGE_DB_PASSWORD later does not touch an existing volume: ALTER ROLE by hand.
set -eu

psql -v ON_ERROR_STOP=1 \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v pledge_password="${PLEDGE_DB_PASSWORD:-pledge}" <<'SQL'
CREATE ROLE pledge LOGIN PASSWORD :'pledge_password';
CREATE DATABASE pledge OWNER pledge ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE pledge FROM PUBLIC;
SQL
