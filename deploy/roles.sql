-- The three roles of a hosted Microsolidarity (README, "Database roles"). Run once per
-- PostgreSQL cluster as a superuser; running it again changes nothing but passwords:
--
--   psql -v ON_ERROR_STOP=1 -v owner_password=… -v app_password=… -f deploy/roles.sql
--
-- Without the passwords (trust or peer authentication, as in the test suite) the roles
-- get none.
--
--   microsolidarity_owner     owns the schema and runs `migrate` (DATABASE_OWNER_URL).
--                             BYPASSRLS so that a data migration sees every congregation.
--   microsolidarity_app       the web processes and workers (DATABASE_URL): owns nothing,
--                             no superuser, no BYPASSRLS, no CREATEDB; `migrate` grants it
--                             what it needs, on the ledger SELECT and INSERT only.
--   microsolidarity_crossing  cannot sign in; the app switches to it for one transaction
--                             at a time to do work across congregations on purpose
--                             (job claims, a Self's own lists, the admin): BYPASSRLS, and
--                             no more privileges than the app's.

SET client_min_messages = warning;

SELECT 'CREATE ROLE microsolidarity_owner'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'microsolidarity_owner') \gexec
SELECT 'CREATE ROLE microsolidarity_app'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'microsolidarity_app') \gexec
SELECT 'CREATE ROLE microsolidarity_crossing'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'microsolidarity_crossing') \gexec

ALTER ROLE microsolidarity_owner LOGIN NOSUPERUSER CREATEDB NOCREATEROLE BYPASSRLS;
ALTER ROLE microsolidarity_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
ALTER ROLE microsolidarity_crossing NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE BYPASSRLS;
GRANT microsolidarity_crossing TO microsolidarity_app;

\if :{?owner_password}
ALTER ROLE microsolidarity_owner PASSWORD :'owner_password';
\endif
\if :{?app_password}
ALTER ROLE microsolidarity_app PASSWORD :'app_password';
\endif
