#!/bin/sh
# Run once by the postgres image's entrypoint on a new data directory (docker-compose.yml): the role
# pgbouncer with $PGBOUNCER_PASSWORD, then Supabase's schema and function for the pooler's auth_query.
set -eu
psql -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
  -v password="$PGBOUNCER_PASSWORD" <<'SQL'
SET password_encryption = 'scram-sha-256';
CREATE ROLE pgbouncer WITH LOGIN PASSWORD :'password';
SQL
psql -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
  -f /pgmux/supabase-auth.sql
