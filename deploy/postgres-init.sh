#!/bin/sh
# Creates the database and its two roles: the owner, which migrations run as,
# and the application's role, which web, workers and beat run as and which
# owns nothing (so it cannot lift the append-only triggers). The postgres
# image runs this once, on an empty data directory; `grant_app_role` (run by
# the migrate service after every migrate) grants the app role its privileges.
# Safe to run again: a role or database that exists is left as it is, so it
# also makes the empty database a backup is restored into (README, Backups).
# Outside the image: PGHOST=... POSTGRES_USER=<a superuser> sh deploy/postgres-init.sh
set -eu
: "${HR_DB_OWNER_PASSWORD:?set HR_DB_OWNER_PASSWORD}"
: "${HR_DB_APP_PASSWORD:?set HR_DB_APP_PASSWORD}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
  --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v db="${HR_DB_NAME:-hybridreview}" \
  -v owner="${HR_DB_OWNER:-hybridreview_owner}" \
  -v app="${HR_DB_APP:-hybridreview_app}" \
  -v owner_password="$HR_DB_OWNER_PASSWORD" \
  -v app_password="$HR_DB_APP_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'owner', :'owner_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app', :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
\connect :"db"
-- PostgreSQL 15+ already keeps PUBLIC from creating in public; older ones do not.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
