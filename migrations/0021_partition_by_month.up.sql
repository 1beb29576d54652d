-- 0021 (up): analytics_events and admin_activity_logs partitioned by UTC month of occurred_at, and
-- one maintenance call for every partitioned table (audit_logs too).
--
-- Online, for tables full of data. Each table becomes, as it is, the first partition
-- (<table>_legacy) of a new partitioned table of the same name, columns, rules, policies, grants and
-- comments: FOR VALUES FROM (MINVALUE) TO (the bound of 0020). Nothing is copied or rebuilt:
--   * the bound check of 0020 is validated first (SHARE UPDATE EXCLUSIVE: writes go on) and proves
--     the partition constraint, so ATTACH does not scan;
--   * the unique index (id, occurred_at) of 0018/0019 becomes the old table's primary key (no
--     scan: the columns are NOT NULL) and is attached to the new primary key, like every other
--     index (same definition) and foreign key (same definition: not re-validated);
--   * the identity moves: the new table's sequence continues from the old one's value.
-- The swap (rename, create, attach) holds ACCESS EXCLUSIVE on both tables for milliseconds, under a
-- 2 s lock_timeout: a busy table makes the migration give up and be retried, never queue writes.
--
-- Months ahead and retention are maintain_partitions()'s, run by the maintenance role
-- (quotedb_system) from the platform's scheduler (`Db::maintenance().run`, `cargo xtask maintain`).
--
-- Reversible: the down migration detaches the old table, moves back the rows of the newer
-- partitions and swaps the plain table back (emergency path; it copies those rows).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

------------------------------------------------------------------------------------------------
-- Partition maintenance: one call for audit_logs, analytics_events and admin_activity_logs.
-- Defined before the swap: the locks it takes are held for as short a time as can be.
------------------------------------------------------------------------------------------------

CREATE FUNCTION partition_ranges(p_table regclass)
    RETURNS TABLE (partition_name text, range_from timestamptz, range_to timestamptz, is_default boolean)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT c.relname::text,
               CASE WHEN b.expr <> 'DEFAULT'
                    THEN coalesce(substring(b.expr FROM 'FROM \(''([^'']+)''\)')::timestamptz, '-infinity') END,
               CASE WHEN b.expr <> 'DEFAULT'
                    THEN coalesce(substring(b.expr FROM 'TO \(''([^'']+)''\)')::timestamptz, 'infinity') END,
               b.expr = 'DEFAULT'
        FROM pg_catalog.pg_inherits AS i
        JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
        CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS expr) AS b
        WHERE i.inhparent = p_table
    $$;
COMMENT ON FUNCTION partition_ranges(regclass) IS
    'The partitions of a table partitioned by a timestamptz range, with their bounds (MINVALUE / MAXVALUE as -infinity / infinity; NULL bounds for the DEFAULT partition). Helper of maintain_partitions() and partition_status().';
REVOKE ALL ON FUNCTION partition_ranges(regclass) FROM PUBLIC;

CREATE FUNCTION maintained_partitioned_tables()
    RETURNS TABLE (table_name text, retention_setting text, retention_months integer, on_expiry text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT v.t, v.setting,
               coalesce((SELECT (s.value #>> '{}')::integer FROM public.system_settings AS s
                         WHERE s.key = v.setting AND jsonb_typeof(s.value) = 'number'), v.fallback),
               v.on_expiry
        FROM (VALUES ('audit_logs', 'audit.retention_months', 24, 'detach', 1),
                     ('analytics_events', 'analytics.retention_months', 13, 'drop', 2),
                     ('admin_activity_logs', 'admin_activity.retention_months', 24, 'detach', 3))
             AS v (t, setting, fallback, on_expiry, ord)
        ORDER BY v.ord
    $$;
COMMENT ON FUNCTION maintained_partitioned_tables() IS
    'The tables maintain_partitions() keeps: their retention setting and its value (the fallback when the setting is missing), and what happens to an expired month: detach (kept as a standalone append-only table for archiving) or drop.';
REVOKE ALL ON FUNCTION maintained_partitioned_tables() FROM PUBLIC;

CREATE FUNCTION maintain_partitions(p_now timestamptz DEFAULT now())
    RETURNS TABLE (table_name text, action text, partition_name text, range_from timestamptz,
                   range_to timestamptz, row_count bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    SET lock_timeout = '5s'
    AS $$
DECLARE
    v_ahead  integer := coalesce((SELECT (s.value #>> '{}')::integer FROM public.system_settings AS s
                                  WHERE s.key = 'partitions.months_ahead' AND jsonb_typeof(s.value) = 'number'), 3);
    v_month  timestamptz;
    t        record;
    r        record;
    m        timestamptz;
    hi       timestamptz;
    v_def    text;
    v_part   text;
    v_rows   bigint;
    v_cutoff timestamptz;
    v_months timestamptz[];
BEGIN
    IF p_now IS NULL OR NOT isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite time, got %', p_now USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_ahead NOT BETWEEN 0 AND 36 THEN
        RAISE EXCEPTION 'setting partitions.months_ahead must be between 0 and 36, got %', v_ahead
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_month := date_trunc('month', p_now AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    -- One maintainer at a time (the audit functions of 0004 take part in the same exclusion).
    PERFORM pg_advisory_xact_lock(hashtext('maintain_partitions'));
    PERFORM pg_advisory_xact_lock(hashtext('create_audit_log_partitions'));

    FOR t IN SELECT * FROM public.maintained_partitioned_tables() LOOP
        IF t.retention_months IS NULL OR t.retention_months < 1 THEN
            RAISE EXCEPTION 'setting % must be at least 1, got %', t.retention_setting, t.retention_months
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        table_name := t.table_name;
        v_def := t.table_name || '_default';

        -- 1. Strays: each month with rows in the DEFAULT partition gets its partition, the rows
        --    moved into it first (attaching it over those rows would fail). The default ends empty.
        -- (Read into an array first: an open cursor on the default would forbid altering it.)
        EXECUTE format(
            'SELECT array_agg(DISTINCT date_trunc(''month'', occurred_at AT TIME ZONE ''UTC'') AT TIME ZONE ''UTC'') FROM public.%I',
            v_def) INTO v_months;
        FOREACH m IN ARRAY coalesce(v_months, '{}')
        LOOP
            hi := m + interval '1 month';
            v_part := format('%s_y%sm%s', t.table_name, to_char(m AT TIME ZONE 'UTC', 'YYYY'), to_char(m AT TIME ZONE 'UTC', 'MM'));
            IF to_regclass(format('public.%I', v_part)) IS NOT NULL THEN
                RAISE EXCEPTION '% holds rows of %, but a table % exists already (a detached month?)', v_def, m, v_part
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          HINT = 'Archive and drop, or rename, the detached table; then run maintain_partitions() again.';
            END IF;
            EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_part, t.table_name);
            EXECUTE format('ALTER TABLE public.%I DISABLE TRIGGER USER', v_def);
            EXECUTE format(
                'WITH moved AS (DELETE FROM public.%I WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
                 INSERT INTO public.%I SELECT * FROM moved', v_def, v_part) USING m, hi;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            EXECUTE format('ALTER TABLE public.%I ENABLE TRIGGER USER', v_def);
            EXECUTE format('ALTER TABLE public.%I ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
                           t.table_name, v_part, m, hi);
            IF t.table_name = 'audit_logs' THEN
                PERFORM public.audit_logs_protect_partition(format('public.%I', v_part)::regclass);
            END IF;
            action := 'moved_strays'; partition_name := v_part; range_from := m; range_to := hi; row_count := v_rows;
            RETURN NEXT;
        END LOOP;

        -- 2. Runway: the month of p_now and the next months_ahead months each have a partition.
        FOR i IN 0 .. v_ahead LOOP
            m := v_month + make_interval(months => i);
            hi := m + interval '1 month';
            CONTINUE WHEN EXISTS (SELECT 1 FROM public.partition_ranges(format('public.%I', t.table_name)::regclass) AS p
                                  WHERE NOT p.is_default AND p.range_from < hi AND p.range_to > m);
            v_part := format('%s_y%sm%s', t.table_name, to_char(m AT TIME ZONE 'UTC', 'YYYY'), to_char(m AT TIME ZONE 'UTC', 'MM'));
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES FROM (%L) TO (%L)',
                           v_part, t.table_name, m, hi);
            IF t.table_name = 'audit_logs' THEN
                PERFORM public.audit_logs_protect_partition(format('public.%I', v_part)::regclass);
            END IF;
            action := 'created'; partition_name := v_part; range_from := m; range_to := hi; row_count := 0;
            RETURN NEXT;
        END LOOP;

        -- 3. Retention: partitions wholly before the month of p_now minus the retention setting
        --    leave the table: dropped (analytics) or detached and kept append-only (audit trails).
        v_cutoff := v_month - make_interval(months => t.retention_months);
        FOR r IN SELECT * FROM public.partition_ranges(format('public.%I', t.table_name)::regclass) AS p
                 WHERE NOT p.is_default AND p.range_to <= v_cutoff ORDER BY p.range_to
        LOOP
            EXECUTE format('ALTER TABLE public.%I DETACH PARTITION public.%I', t.table_name, r.partition_name);
            action := 'detached'; partition_name := r.partition_name; range_from := r.range_from;
            range_to := r.range_to; row_count := NULL;
            IF t.on_expiry = 'drop' THEN
                EXECUTE format('DROP TABLE public.%I', r.partition_name);
                action := 'dropped';
            ELSIF t.table_name = 'audit_logs' AND NOT EXISTS (
                SELECT 1 FROM pg_catalog.pg_trigger AS g
                WHERE g.tgrelid = format('public.%I', r.partition_name)::regclass AND g.tgname = 'audit_logs_no_truncate') THEN
                PERFORM public.audit_logs_protect_partition(format('public.%I', r.partition_name)::regclass);
            ELSIF t.table_name = 'admin_activity_logs' AND NOT EXISTS (
                SELECT 1 FROM pg_catalog.pg_trigger AS g
                WHERE g.tgrelid = format('public.%I', r.partition_name)::regclass AND g.tgname = 'admin_activity_logs_append_only') THEN
                EXECUTE format('CREATE TRIGGER admin_activity_logs_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON public.%I
                                FOR EACH STATEMENT EXECUTE FUNCTION public.admin_activity_logs_append_only_fn()', r.partition_name);
            END IF;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION maintain_partitions(timestamptz) IS
    'Partition maintenance of audit_logs, analytics_events and admin_activity_logs (monthly, UTC), one call for the scheduler (system role): moves rows caught by a DEFAULT partition into their month''s new partition (the default ends empty); creates the partitions of the month of p_now and the next partitions.months_ahead months (3); detaches the partitions wholly older than the month of p_now minus the table''s retention setting - dropping them for analytics_events, keeping them as append-only standalone tables for archiving for the audit trails. Returns one row per action; idempotent. p_now (default now()) lets a test move the clock.';
REVOKE ALL ON FUNCTION maintain_partitions(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION maintain_partitions(timestamptz) TO quotedb_system;

CREATE FUNCTION partition_status(p_now timestamptz DEFAULT now())
    RETURNS TABLE (table_name text, partitions integer, oldest_from timestamptz, runway_to timestamptz,
                   runway_months integer, default_rows bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM public.maintained_partitioned_tables() LOOP
        table_name := t.table_name;
        SELECT count(*) FILTER (WHERE NOT p.is_default)::integer, min(p.range_from), max(p.range_to)
          INTO partitions, oldest_from, runway_to
          FROM public.partition_ranges(format('public.%I', t.table_name)::regclass) AS p;
        runway_months := CASE WHEN runway_to IS NOT NULL AND isfinite(runway_to) THEN
            ((extract(year FROM runway_to AT TIME ZONE 'UTC') - extract(year FROM p_now AT TIME ZONE 'UTC')) * 12
             + extract(month FROM runway_to AT TIME ZONE 'UTC') - extract(month FROM p_now AT TIME ZONE 'UTC'))::integer - 1
            END;
        EXECUTE format('SELECT count(*) FROM public.%I', t.table_name || '_default') INTO default_rows;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION partition_status(timestamptz) IS
    'Monitoring of the partitioned tables: partitions attached, the lower bound of the oldest, the upper bound of the newest (runway_to) and the whole months after the month of p_now it covers (runway_months: 3 after maintenance with the default setting; 0 means next month''s rows would fall into the default partition), and the rows in the DEFAULT partition (0 = healthy).';
REVOKE ALL ON FUNCTION partition_status(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION partition_status(timestamptz) TO quotedb_system, quotedb_readonly;

------------------------------------------------------------------------------------------------
-- The swap
------------------------------------------------------------------------------------------------

ALTER TABLE analytics_events VALIDATE CONSTRAINT analytics_events_legacy_bound;
ALTER TABLE admin_activity_logs VALIDATE CONSTRAINT admin_activity_logs_legacy_bound;

SET LOCAL lock_timeout = '2s';
LOCK TABLE admin_activity_logs, analytics_events IN ACCESS EXCLUSIVE MODE;

------------------------------------------------------------------------------------------------
-- analytics_events
------------------------------------------------------------------------------------------------

-- the partitioned successor takes the name in this transaction:
-- squawk-ignore renaming-table
ALTER TABLE analytics_events RENAME TO analytics_events_legacy;
-- replaced in this transaction: the primary key by (id, occurred_at), the bound by the partition constraint:
-- squawk-ignore ban-drop-constraint
ALTER TABLE analytics_events_legacy DROP CONSTRAINT analytics_events_pkey;
ALTER TABLE analytics_events_legacy
    ADD CONSTRAINT analytics_events_legacy_pkey PRIMARY KEY USING INDEX analytics_events_id_occurred_at_key;
-- the name passes to the partitioned successor in this transaction:
-- squawk-ignore renaming-object
ALTER INDEX analytics_events_event_type_occurred_at_idx RENAME TO analytics_events_legacy_event_type_occurred_at_idx;
-- the name passes to the partitioned successor in this transaction:
-- squawk-ignore renaming-object
ALTER INDEX analytics_events_occurred_at_idx RENAME TO analytics_events_legacy_occurred_at_idx;
-- the name passes to the partitioned successor in this transaction:
-- squawk-ignore renaming-object
ALTER INDEX analytics_events_properties_idx RENAME TO analytics_events_legacy_properties_idx;
-- the name passes to the partitioned successor in this transaction:
-- squawk-ignore renaming-object
ALTER INDEX analytics_events_user_id_occurred_at_idx RENAME TO analytics_events_legacy_user_id_occurred_at_idx;
-- the name passes to the partitioned successor in this transaction:
-- squawk-ignore renaming-object
ALTER INDEX analytics_events_session_id_idx RENAME TO analytics_events_legacy_session_id_idx;
-- the name passes to the partitioned successor in this transaction:
-- squawk-ignore renaming-object
ALTER INDEX analytics_events_quote_id_occurred_at_idx RENAME TO analytics_events_legacy_quote_id_occurred_at_idx;

CREATE TABLE analytics_events (
    id          bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME analytics_events_id_seq_partitioned),
    event_type  text NOT NULL
        CONSTRAINT analytics_events_event_type_format CHECK (
            event_type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' AND char_length(event_type) <= 100),
    user_id     uuid
        CONSTRAINT analytics_events_user_fk REFERENCES users (id) ON DELETE SET NULL,
    session_id  uuid
        CONSTRAINT analytics_events_session_fk REFERENCES user_sessions (id) ON DELETE SET NULL,
    quote_id    uuid
        CONSTRAINT analytics_events_quote_fk REFERENCES quotes (id) ON DELETE SET NULL,
    properties  jsonb NOT NULL
        CONSTRAINT analytics_events_properties_object CHECK (jsonb_typeof(properties) = 'object'),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analytics_events_pkey PRIMARY KEY (id, occurred_at),
    CONSTRAINT analytics_events_values_bounded CHECK (
        char_length(event_type) <= 200 AND pg_column_size(properties) <= 65536
        AND occurred_at >= '1900-01-01 00:00:00+00' AND occurred_at <= '9999-12-31 00:00:00+00'
        AND created_at >= '1900-01-01 00:00:00+00' AND created_at <= '9999-12-31 00:00:00+00')
) PARTITION BY RANGE (occurred_at);

SELECT setval('analytics_events_id_seq_partitioned', s.last_value, s.is_called) FROM analytics_events_id_seq AS s;
-- the identity moved to the partitioned successor, its sequence continuing from the same value:
-- squawk-ignore ban-alter-identity
ALTER TABLE analytics_events_legacy ALTER COLUMN id DROP IDENTITY;
-- the identity sequence keeps its name:
-- squawk-ignore renaming-object
ALTER SEQUENCE analytics_events_id_seq_partitioned RENAME TO analytics_events_id_seq;

COMMENT ON TABLE analytics_events IS 'Product analytics event stream (append-mostly, large), partitioned by UTC month of occurred_at (analytics_events_yYYYYmMM; analytics_events_legacy holds the rows from before 0021; analytics_events_default catches strays and is kept empty by maintain_partitions(), which also drops months past analytics.retention_months).';
COMMENT ON COLUMN analytics_events.event_type IS 'Event name as dotted snake_case (e.g. quote.viewed, quote.bound).';
COMMENT ON COLUMN analytics_events.properties IS 'Event attributes as a JSON object.';
COMMENT ON COLUMN analytics_events.occurred_at IS 'When the event happened (client time when reported by a client); the partition key.';
COMMENT ON COLUMN analytics_events.created_at IS 'When the event was recorded.';
COMMENT ON CONSTRAINT analytics_events_pkey ON analytics_events IS 'An event is identified by its id; occurred_at is part of the key because a partitioned table''s keys must contain the partition key.';
COMMENT ON CONSTRAINT analytics_events_event_type_format ON analytics_events IS 'An event type is dotted snake_case of at most 100 characters.';
COMMENT ON CONSTRAINT analytics_events_user_fk ON analytics_events IS 'An event may concern a user; SET NULL because analytics outlive the user, anonymised.';
COMMENT ON CONSTRAINT analytics_events_session_fk ON analytics_events IS 'An event may come from a session; SET NULL because expired sessions are swept but events stay.';
COMMENT ON CONSTRAINT analytics_events_quote_fk ON analytics_events IS 'An event may concern a quote; SET NULL because events outlive deleted quotes.';
COMMENT ON CONSTRAINT analytics_events_properties_object ON analytics_events IS 'Event properties are a JSON object.';
COMMENT ON CONSTRAINT analytics_events_values_bounded ON analytics_events IS 'Every value can be read back: numbers are not NaN or infinite; times and dates lie between 1900-01-01 and 9999-12-31; e-mail addresses are at most 254 characters, names and identifiers 200, other text 2000; arrays hold at most 50 items; JSON documents are at most 64 KiB (binary jsonb).';

-- On the partitioned table with no partition yet: catalog only. ATTACH below adopts the old
-- table's indexes of the same definitions instead of building new ones.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX analytics_events_event_type_occurred_at_idx ON analytics_events (event_type, occurred_at DESC);
COMMENT ON INDEX analytics_events_event_type_occurred_at_idx IS 'Events of a type in a time range, newest first.';
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX analytics_events_occurred_at_idx ON analytics_events USING brin (occurred_at);
COMMENT ON INDEX analytics_events_occurred_at_idx IS 'Time-range scans over all types (rows arrive roughly in time order, so BRIN is tiny).';
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX analytics_events_properties_idx ON analytics_events USING gin (properties jsonb_path_ops);
COMMENT ON INDEX analytics_events_properties_idx IS 'Containment filters on properties: properties @> ''{"state":"CA"}''.';
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX analytics_events_user_id_occurred_at_idx ON analytics_events (user_id, occurred_at DESC) WHERE user_id IS NOT NULL;
COMMENT ON INDEX analytics_events_user_id_occurred_at_idx IS 'A user''s timeline; also the SET NULL when a user is deleted.';
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX analytics_events_session_id_idx ON analytics_events (session_id) WHERE session_id IS NOT NULL;
COMMENT ON INDEX analytics_events_session_id_idx IS 'Events of a session; also the SET NULL when sessions are swept.';
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX analytics_events_quote_id_occurred_at_idx ON analytics_events (quote_id, occurred_at) WHERE quote_id IS NOT NULL;
COMMENT ON INDEX analytics_events_quote_id_occurred_at_idx IS 'A quote''s funnel in time order; also the SET NULL when a quote is deleted.';

DO $attach$
DECLARE
    bound text := substring(pg_get_constraintdef((SELECT c.oid FROM pg_constraint c
                                                  WHERE c.conrelid = 'public.analytics_events_legacy'::regclass
                                                    AND c.conname = 'analytics_events_legacy_bound'))
                            FROM '''([^'']+)''');
BEGIN
    EXECUTE format('ALTER TABLE public.analytics_events ATTACH PARTITION public.analytics_events_legacy FOR VALUES FROM (MINVALUE) TO (%L)', bound);
END
$attach$;
-- replaced in this transaction: the primary key by (id, occurred_at), the bound by the partition constraint:
-- squawk-ignore ban-drop-constraint
ALTER TABLE analytics_events_legacy DROP CONSTRAINT analytics_events_legacy_bound;
COMMENT ON TABLE analytics_events_legacy IS 'Partition of analytics_events holding the rows from before the table was partitioned (0021); dropped whole once its upper bound is past analytics.retention_months.';
CREATE TABLE analytics_events_default PARTITION OF analytics_events DEFAULT;
COMMENT ON TABLE analytics_events_default IS 'Catch-all partition of analytics_events for months without their own partition; kept empty by maintain_partitions().';

ALTER TABLE analytics_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_events FORCE ROW LEVEL SECURITY;
CREATE POLICY analytics_events_service_select ON analytics_events FOR SELECT TO quotedb_app USING (true);
CREATE POLICY analytics_events_service_insert ON analytics_events FOR INSERT TO quotedb_app WITH CHECK (true);
CREATE POLICY analytics_events_system_all ON analytics_events FOR ALL TO quotedb_system USING (true) WITH CHECK (true);
CREATE POLICY analytics_events_readonly_select ON analytics_events FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY analytics_events_service_select ON analytics_events IS 'Service data: the application''s services select it as themselves (no acting user).';
COMMENT ON POLICY analytics_events_service_insert ON analytics_events IS 'Service data: the application''s services insert it as themselves (no acting user).';
COMMENT ON POLICY analytics_events_system_all ON analytics_events IS 'The system role sees and changes every row.';
COMMENT ON POLICY analytics_events_readonly_select ON analytics_events IS 'Reporting reads every row.';

REVOKE ALL ON analytics_events_legacy FROM quotedb_app, quotedb_system, quotedb_readonly;
GRANT SELECT, INSERT ON analytics_events TO quotedb_app, quotedb_system;
GRANT SELECT ON analytics_events TO quotedb_readonly;
GRANT USAGE ON SEQUENCE analytics_events_id_seq TO quotedb_app, quotedb_system;

------------------------------------------------------------------------------------------------
-- admin_activity_logs
------------------------------------------------------------------------------------------------

-- It returns the table's row type: bound to the old table, it is re-created for the new one.
-- re-created below for the new row type: same signature, grants and comment:
-- squawk-ignore ban-drop-function
DROP FUNCTION app_high_risk_activity_page(uuid, timestamptz, bigint, bigint);

-- the partitioned successor takes the name in this transaction:
-- squawk-ignore renaming-table
ALTER TABLE admin_activity_logs RENAME TO admin_activity_logs_legacy;
-- replaced in this transaction: the primary key by (id, occurred_at), the bound by the partition constraint:
-- squawk-ignore ban-drop-constraint
ALTER TABLE admin_activity_logs_legacy DROP CONSTRAINT admin_activity_logs_pkey;
ALTER TABLE admin_activity_logs_legacy
    ADD CONSTRAINT admin_activity_logs_legacy_pkey PRIMARY KEY USING INDEX admin_activity_logs_id_occurred_at_key;
-- the name passes to the partitioned successor in this transaction:
-- squawk-ignore renaming-object
ALTER INDEX admin_activity_logs_admin_user_id_occurred_at_idx RENAME TO admin_activity_logs_legacy_admin_user_id_occurred_at_idx;
-- the name passes to the partitioned successor in this transaction:
-- squawk-ignore renaming-object
ALTER INDEX admin_activity_logs_occurred_at_high_risk_idx RENAME TO admin_activity_logs_legacy_occurred_at_high_risk_idx;
-- the name passes to the partitioned successor in this transaction:
-- squawk-ignore renaming-object
ALTER INDEX admin_activity_logs_resource_type_resource_id_occurred_at_idx RENAME TO admin_activity_logs_legacy_resource_idx;
-- the name passes to the partitioned successor in this transaction:
-- squawk-ignore renaming-object
ALTER INDEX admin_activity_logs_details_idx RENAME TO admin_activity_logs_legacy_details_idx;
-- the name passes to the partitioned successor in this transaction:
-- squawk-ignore renaming-object
ALTER INDEX admin_activity_logs_risk_factors_idx RENAME TO admin_activity_logs_legacy_risk_factors_idx;

CREATE TABLE admin_activity_logs (
    id            bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME admin_activity_logs_id_seq_partitioned),
    admin_user_id uuid NOT NULL,
    action        text NOT NULL,
    resource_type text NOT NULL,
    resource_id   text NULL,
    details       jsonb NOT NULL,
    ip            inet NULL,
    -- the type of the table that becomes its first partition (ATTACH requires it):
    -- squawk-ignore prefer-bigint-over-smallint
    risk_score    smallint NOT NULL,
    risk_factors  jsonb NOT NULL,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT admin_activity_logs_pkey PRIMARY KEY (id, occurred_at),
    CONSTRAINT admin_activity_logs_admin_user_fk FOREIGN KEY (admin_user_id)
        REFERENCES admin_users (id) ON DELETE RESTRICT,
    CONSTRAINT admin_activity_logs_action_present CHECK (btrim(action) <> ''),
    CONSTRAINT admin_activity_logs_resource_type_present CHECK (btrim(resource_type) <> ''),
    CONSTRAINT admin_activity_logs_risk_score_range CHECK (risk_score BETWEEN 0 AND 100),
    CONSTRAINT admin_activity_logs_details_is_object CHECK (jsonb_typeof(details) = 'object'),
    CONSTRAINT admin_activity_logs_risk_factors_is_array CHECK (jsonb_typeof(risk_factors) = 'array'),
    CONSTRAINT admin_activity_logs_values_bounded CHECK (
        char_length(action) <= 200 AND char_length(resource_type) <= 200 AND char_length(resource_id) <= 200
        AND pg_column_size(details) <= 65536 AND pg_column_size(risk_factors) <= 65536
        AND occurred_at >= '1900-01-01 00:00:00+00' AND occurred_at <= '9999-12-31 00:00:00+00')
) PARTITION BY RANGE (occurred_at);

SELECT setval('admin_activity_logs_id_seq_partitioned', s.last_value, s.is_called) FROM admin_activity_logs_id_seq AS s;
-- the identity moved to the partitioned successor, its sequence continuing from the same value:
-- squawk-ignore ban-alter-identity
ALTER TABLE admin_activity_logs_legacy ALTER COLUMN id DROP IDENTITY;
-- the identity sequence keeps its name:
-- squawk-ignore renaming-object
ALTER SEQUENCE admin_activity_logs_id_seq_partitioned RENAME TO admin_activity_logs_id_seq;

COMMENT ON TABLE admin_activity_logs IS 'Append-only trail of what admins did, with a risk score per action; partitioned by UTC month of occurred_at (admin_activity_logs_yYYYYmMM; admin_activity_logs_legacy holds the rows from before 0021; admin_activity_logs_default catches strays and is kept empty by maintain_partitions(), which detaches - never deletes - months past admin_activity.retention_months).';
COMMENT ON COLUMN admin_activity_logs.resource_id IS 'Id or key of the resource acted on (text: uuids, setting keys); NULL for collection-level actions.';
COMMENT ON COLUMN admin_activity_logs.ip IS 'Client address the action came from; NULL when it did not come over the network.';
COMMENT ON COLUMN admin_activity_logs.risk_score IS '0 (routine) to 100 (critical); 70 and above is high risk.';
COMMENT ON COLUMN admin_activity_logs.risk_factors IS 'JSON array of the factor names that raised the score, e.g. ["new_ip","off_hours"].';
COMMENT ON COLUMN admin_activity_logs.occurred_at IS 'When the admin acted (the database''s time); the partition key.';
COMMENT ON CONSTRAINT admin_activity_logs_pkey ON admin_activity_logs IS 'Each log entry has one identity; occurred_at is part of the key because a partitioned table''s keys must contain the partition key.';
COMMENT ON CONSTRAINT admin_activity_logs_admin_user_fk ON admin_activity_logs IS
    'The acting admin exists; RESTRICT because the trail must keep every admin it names (admins are deactivated, not deleted).';
COMMENT ON CONSTRAINT admin_activity_logs_action_present ON admin_activity_logs IS 'Every entry names its action.';
COMMENT ON CONSTRAINT admin_activity_logs_resource_type_present ON admin_activity_logs IS
    'Every entry names the kind of resource acted on.';
COMMENT ON CONSTRAINT admin_activity_logs_risk_score_range ON admin_activity_logs IS 'A risk score is between 0 and 100.';
COMMENT ON CONSTRAINT admin_activity_logs_details_is_object ON admin_activity_logs IS 'Details are a JSON object.';
COMMENT ON CONSTRAINT admin_activity_logs_risk_factors_is_array ON admin_activity_logs IS
    'Risk factors are a JSON array of factor names.';
COMMENT ON CONSTRAINT admin_activity_logs_values_bounded ON admin_activity_logs IS 'Every value can be read back: numbers are not NaN or infinite; times and dates lie between 1900-01-01 and 9999-12-31; e-mail addresses are at most 254 characters, names and identifiers 200, other text 2000; arrays hold at most 50 items; JSON documents are at most 64 KiB (binary jsonb).';

-- squawk-ignore require-concurrent-index-creation
CREATE INDEX admin_activity_logs_admin_user_id_occurred_at_idx ON admin_activity_logs (admin_user_id, occurred_at DESC);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX admin_activity_logs_occurred_at_high_risk_idx ON admin_activity_logs (occurred_at DESC, id DESC)
    WHERE risk_score >= 70;
COMMENT ON INDEX admin_activity_logs_occurred_at_high_risk_idx IS
    'The high-risk review queue: entries scored 70 or more, newest first. Query with the literal predicate risk_score >= 70.';
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX admin_activity_logs_resource_type_resource_id_occurred_at_idx
    ON admin_activity_logs (resource_type, resource_id, occurred_at DESC);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX admin_activity_logs_details_idx ON admin_activity_logs USING gin (details jsonb_path_ops);
-- default jsonb_ops: factor lookups use key existence (risk_factors ? 'new_ip').
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX admin_activity_logs_risk_factors_idx ON admin_activity_logs USING gin (risk_factors);

-- Statement level, so not cloned onto partitions: the old table keeps its own (same name), the
-- monthly partitions are the owner's alone, and a detached month gets one (maintain_partitions()).
CREATE TRIGGER admin_activity_logs_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON admin_activity_logs
    FOR EACH STATEMENT EXECUTE FUNCTION admin_activity_logs_append_only_fn();
COMMENT ON TRIGGER admin_activity_logs_append_only ON admin_activity_logs IS
    'The admin activity log is append-only: UPDATE, DELETE and TRUNCATE are refused.';

DO $attach$
DECLARE
    bound text := substring(pg_get_constraintdef((SELECT c.oid FROM pg_constraint c
                                                  WHERE c.conrelid = 'public.admin_activity_logs_legacy'::regclass
                                                    AND c.conname = 'admin_activity_logs_legacy_bound'))
                            FROM '''([^'']+)''');
BEGIN
    EXECUTE format('ALTER TABLE public.admin_activity_logs ATTACH PARTITION public.admin_activity_logs_legacy FOR VALUES FROM (MINVALUE) TO (%L)', bound);
END
$attach$;
-- replaced in this transaction: the primary key by (id, occurred_at), the bound by the partition constraint:
-- squawk-ignore ban-drop-constraint
ALTER TABLE admin_activity_logs_legacy DROP CONSTRAINT admin_activity_logs_legacy_bound;
COMMENT ON TABLE admin_activity_logs_legacy IS 'Partition of admin_activity_logs holding the rows from before the table was partitioned (0021); detached whole once its upper bound is past admin_activity.retention_months.';
CREATE TABLE admin_activity_logs_default PARTITION OF admin_activity_logs DEFAULT;
COMMENT ON TABLE admin_activity_logs_default IS 'Catch-all partition of admin_activity_logs for months without their own partition; kept empty by maintain_partitions().';

ALTER TABLE admin_activity_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE admin_activity_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY admin_activity_logs_own_insert ON admin_activity_logs FOR INSERT TO quotedb_app
    WITH CHECK (admin_user_id = (SELECT app_admin_user_id()));
CREATE POLICY admin_activity_logs_own_select ON admin_activity_logs FOR SELECT TO quotedb_app
    USING (admin_user_id = (SELECT app_admin_user_id()));
CREATE POLICY admin_activity_logs_reader_select ON admin_activity_logs FOR SELECT TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'activity:read')));
CREATE POLICY admin_activity_logs_readonly_select ON admin_activity_logs FOR SELECT TO quotedb_readonly USING (true);
CREATE POLICY admin_activity_logs_system_insert ON admin_activity_logs FOR INSERT TO quotedb_system WITH CHECK (true);
CREATE POLICY admin_activity_logs_system_select ON admin_activity_logs FOR SELECT TO quotedb_system USING (true);
COMMENT ON POLICY admin_activity_logs_own_insert ON admin_activity_logs IS 'An active admin logs actions only under their own admin id.';
COMMENT ON POLICY admin_activity_logs_own_select ON admin_activity_logs IS 'An admin reads their own activity.';
COMMENT ON POLICY admin_activity_logs_reader_select ON admin_activity_logs IS 'Admins holding activity:read read all activity.';
COMMENT ON POLICY admin_activity_logs_readonly_select ON admin_activity_logs IS 'Reporting reads all activity (risk reporting).';
COMMENT ON POLICY admin_activity_logs_system_insert ON admin_activity_logs IS 'The system actor logs on behalf of any admin.';
COMMENT ON POLICY admin_activity_logs_system_select ON admin_activity_logs IS 'The system actor (risk jobs) reads all activity.';

REVOKE ALL ON admin_activity_logs_legacy FROM quotedb_app, quotedb_system, quotedb_readonly;
GRANT SELECT ON admin_activity_logs TO quotedb_app, quotedb_system, quotedb_readonly;
GRANT INSERT (admin_user_id, action, resource_type, resource_id, details, ip, risk_score, risk_factors)
    ON admin_activity_logs TO quotedb_app, quotedb_system;
GRANT USAGE ON SEQUENCE admin_activity_logs_id_seq TO quotedb_app, quotedb_system;

CREATE FUNCTION app_high_risk_activity_page(
    p_user_id uuid,
    p_before_at timestamptz,
    p_before_id bigint,
    p_limit bigint
) RETURNS SETOF admin_activity_logs
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY
        SELECT * FROM public.admin_activity_logs a
        WHERE a.risk_score >= 70
          AND (a.occurred_at, a.id) < (p_before_at, p_before_id)
        ORDER BY a.occurred_at DESC, a.id DESC
        LIMIT p_limit;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_high_risk_activity_page(uuid, timestamptz, bigint, bigint) IS 'A keyset page of admin activity scored 70 or more, newest first, strictly before (p_before_at, p_before_id), as the acting user p_user_id (NULL: the system actor, which only a login holding quotedb_system can be) may read it under the RLS policies; one round trip.';
REVOKE ALL ON FUNCTION app_high_risk_activity_page(uuid, timestamptz, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_high_risk_activity_page(uuid, timestamptz, bigint, bigint) TO quotedb_app;

-- The next three months of the two tables (the default of partitions.months_ahead). Not
-- maintain_partitions(): a deploy must not apply retention (detach or drop months) on its way;
-- the scheduler's first run does.
DO $ahead$
DECLARE
    t      text;
    m      timestamptz;
    hi     timestamptz;
    v_part text;
BEGIN
    FOREACH t IN ARRAY ARRAY['analytics_events', 'admin_activity_logs'] LOOP
        FOR i IN 0 .. 3 LOOP
            m := (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + make_interval(months => i);
            hi := m + interval '1 month';
            CONTINUE WHEN EXISTS (SELECT 1 FROM public.partition_ranges(format('public.%I', t)::regclass) AS p
                                  WHERE NOT p.is_default AND p.range_from < hi AND p.range_to > m);
            v_part := format('%s_y%sm%s', t, to_char(m AT TIME ZONE 'UTC', 'YYYY'), to_char(m AT TIME ZONE 'UTC', 'MM'));
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES FROM (%L) TO (%L)', v_part, t, m, hi);
        END LOOP;
    END LOOP;
END
$ahead$;

SELECT hand_objects_to_owner();
