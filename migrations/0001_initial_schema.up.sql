-- 0001 initial schema: extensions, application roles, the acting-user plumbing used by
-- Row Level Security (0006), the shared updated_at trigger function and the `states`
-- reference table every state-scoped table points to.
--
-- Runs inside one transaction (sqlx default).

-- citext: case-insensitive e-mail addresses (users.email, 0002).
-- btree_gist: equality on scalar columns inside EXCLUDE USING gist (non-overlapping rate
-- periods, 0003). pgcrypto is NOT needed: gen_random_uuid() is built in since PG13 and all
-- encryption happens in Rust.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Application roles. Roles are cluster-wide and shared by every database on the server
-- (many test databases are migrated in parallel), so creation is idempotent and tolerates the
-- race where another session creates the role between our check and our CREATE
-- (duplicate_object, or unique_violation on pg_authid). 0001.down never drops them.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'quotedb_app') THEN
        BEGIN
            CREATE ROLE quotedb_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'quotedb_readonly') THEN
        BEGIN
            CREATE ROLE quotedb_readonly NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$roles$;

-- PG15 no longer lets PUBLIC create in schema public; the roles only need to resolve names.
GRANT USAGE ON SCHEMA public TO quotedb_app, quotedb_readonly;

-- ---------------------------------------------------------------------------------------------
-- Shared trigger function: keeps updated_at truthful on every mutable table.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$fn$;

COMMENT ON FUNCTION set_updated_at() IS
    'BEFORE UPDATE row trigger function shared by every mutable table: sets updated_at to the transaction time.';

-- ---------------------------------------------------------------------------------------------
-- Acting user plumbing. The repository runs user-scoped work as
--   BEGIN; SET LOCAL ROLE quotedb_app; SELECT set_config('app.user_id', $1, true); ...
-- and workers/maintenance set app.system = 'on'. RLS policies (0006) call these functions.
-- Plain SQL (no SET clause) so the planner can inline them into policy predicates;
-- PARALLEL SAFE because custom GUCs are copied to parallel workers.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION app_user_id() RETURNS uuid
    LANGUAGE sql
    STABLE
    PARALLEL SAFE
AS $fn$
    SELECT NULLIF(pg_catalog.current_setting('app.user_id', true), '')::uuid
$fn$;

COMMENT ON FUNCTION app_user_id() IS
    'The acting user of the current transaction (transaction-local setting app.user_id), NULL when none is set.';

CREATE FUNCTION app_is_system() RETURNS boolean
    LANGUAGE sql
    STABLE
    PARALLEL SAFE
AS $fn$
    SELECT coalesce(pg_catalog.current_setting('app.system', true), '') = 'on'
$fn$;

COMMENT ON FUNCTION app_is_system() IS
    'True when the current transaction acts as the system (workers, maintenance): setting app.system = ''on''.';

GRANT EXECUTE ON FUNCTION app_user_id(), app_is_system() TO quotedb_app, quotedb_readonly;

-- ---------------------------------------------------------------------------------------------
-- states: the jurisdictions the platform writes business in (rates, territories and quotes are
-- per state).
-- ---------------------------------------------------------------------------------------------
CREATE TABLE states (
    code       char(2)     NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT states_pkey PRIMARY KEY (code),
    CONSTRAINT states_code_format CHECK (code ~ '^[A-Z]{2}$'),
    CONSTRAINT states_name_not_blank CHECK (btrim(name) <> ''),
    CONSTRAINT states_name_unique UNIQUE (name)
);

COMMENT ON TABLE states IS
    'US states (and territories) the platform quotes in; reference data loaded by the seeds.';
COMMENT ON COLUMN states.code IS 'USPS two-letter state code, upper case (CA, TX, NY).';
COMMENT ON COLUMN states.name IS 'Full state name as shown to customers.';
COMMENT ON CONSTRAINT states_code_format ON states IS
    'A state code is exactly two upper-case letters (USPS abbreviation).';
COMMENT ON CONSTRAINT states_name_not_blank ON states IS
    'A state has a non-blank name.';
COMMENT ON CONSTRAINT states_name_unique ON states IS
    'Two state codes cannot share the same name.';

CREATE TRIGGER states_set_updated_at
    BEFORE UPDATE ON states
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Reference data: the application and reporting read it; the seeds (owner) write it.
GRANT SELECT ON states TO quotedb_app, quotedb_readonly;
