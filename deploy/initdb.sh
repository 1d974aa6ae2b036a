#!/bin/sh
# The postgres image runs this once, when its data volume is new: the three roles of
# roles.sql with the passwords compose passes in, and the database, owned by the owner.
set -eu
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres \
  -v owner_password="$DATABASE_OWNER_PASSWORD" -v app_password="$DATABASE_PASSWORD" \
  -f /deploy/roles.sql
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres \
  -c "CREATE DATABASE microsolidarity OWNER microsolidarity_owner"
