-- 0021 (down): the plain tables back (emergency path, copies the rows of the monthly partitions).
-- Each old table (<table>_legacy) is detached, takes back the rows of the other partitions, its
-- primary key on id, identity (continuing the sequence), index names, grants and the NOT VALID
-- bound check of 0020; the partitioned table is dropped. Detached audit months stay as they are.

SET LOCAL lock_timeout = '5s';

DROP FUNCTION partition_status(timestamptz);
DROP FUNCTION maintain_partitions(timestamptz);
DROP FUNCTION maintained_partitioned_tables();
DROP FUNCTION partition_ranges(regclass);
DROP FUNCTION app_high_risk_activity_page(uuid, timestamptz, bigint, bigint);

LOCK TABLE admin_activity_logs, analytics_events IN ACCESS EXCLUSIVE MODE;

DO $unpartition$
DECLARE
    t        text;
    v_bound  text;
    v_last   bigint;
    v_called boolean;
BEGIN
    FOREACH t IN ARRAY ARRAY['analytics_events', 'admin_activity_logs'] LOOP
        v_bound := substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([^'']+)''\)')
                   FROM pg_class c WHERE c.oid = format('public.%I', t || '_legacy')::regclass;
        EXECUTE format('SELECT last_value, is_called FROM public.%I', t || '_id_seq') INTO v_last, v_called;
        EXECUTE format('ALTER TABLE public.%I DETACH PARTITION public.%I', t, t || '_legacy');
        IF t = 'admin_activity_logs' THEN
            EXECUTE 'ALTER TABLE public.admin_activity_logs_legacy DISABLE TRIGGER admin_activity_logs_append_only';
        END IF;
        EXECUTE format('INSERT INTO public.%I SELECT * FROM public.%I', t || '_legacy', t);
        IF t = 'admin_activity_logs' THEN
            EXECUTE 'ALTER TABLE public.admin_activity_logs_legacy ENABLE TRIGGER admin_activity_logs_append_only';
        END IF;
        EXECUTE format('DROP TABLE public.%I', t);
        EXECUTE format('ALTER TABLE public.%I RENAME TO %I', t || '_legacy', t);
        EXECUTE format('ALTER TABLE public.%I ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY', t);
        PERFORM setval(format('public.%I', t || '_id_seq'), v_last, v_called);
        EXECUTE format('ALTER TABLE public.%I DROP CONSTRAINT %I', t, t || '_legacy_pkey');
        EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I PRIMARY KEY (id)', t, t || '_pkey');
        EXECUTE format('CREATE UNIQUE INDEX %I ON public.%I (id, occurred_at)', t || '_id_occurred_at_key', t);
        EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I CHECK (occurred_at < %L::timestamptz) NOT VALID',
                       t, t || '_legacy_bound', v_bound);
        EXECUTE format('COMMENT ON CONSTRAINT %I ON public.%I IS %L', t || '_legacy_bound', t,
                       'Transitional (0020-0021): the rows of the table before it became the first partition of its monthly partitioned successor lie before this bound.');
        EXECUTE format('COMMENT ON TABLE public.%I IS NULL', t);
    END LOOP;
END
$unpartition$;

ALTER INDEX analytics_events_legacy_event_type_occurred_at_idx RENAME TO analytics_events_event_type_occurred_at_idx;
ALTER INDEX analytics_events_legacy_occurred_at_idx RENAME TO analytics_events_occurred_at_idx;
ALTER INDEX analytics_events_legacy_properties_idx RENAME TO analytics_events_properties_idx;
ALTER INDEX analytics_events_legacy_user_id_occurred_at_idx RENAME TO analytics_events_user_id_occurred_at_idx;
ALTER INDEX analytics_events_legacy_session_id_idx RENAME TO analytics_events_session_id_idx;
ALTER INDEX analytics_events_legacy_quote_id_occurred_at_idx RENAME TO analytics_events_quote_id_occurred_at_idx;
COMMENT ON TABLE analytics_events IS 'Product analytics event stream (append-mostly, large; time-ordered so BRIN fits).';
-- In the order of 0005/0007 (the ACL lists grantees in the order they were granted).
GRANT SELECT, INSERT ON analytics_events TO quotedb_app;
GRANT SELECT ON analytics_events TO quotedb_readonly;
GRANT SELECT, INSERT ON analytics_events TO quotedb_system;
GRANT USAGE ON SEQUENCE analytics_events_id_seq TO quotedb_app, quotedb_system;

ALTER INDEX admin_activity_logs_legacy_admin_user_id_occurred_at_idx RENAME TO admin_activity_logs_admin_user_id_occurred_at_idx;
ALTER INDEX admin_activity_logs_legacy_occurred_at_high_risk_idx RENAME TO admin_activity_logs_occurred_at_high_risk_idx;
ALTER INDEX admin_activity_logs_legacy_resource_idx RENAME TO admin_activity_logs_resource_type_resource_id_occurred_at_idx;
ALTER INDEX admin_activity_logs_legacy_details_idx RENAME TO admin_activity_logs_details_idx;
ALTER INDEX admin_activity_logs_legacy_risk_factors_idx RENAME TO admin_activity_logs_risk_factors_idx;
COMMENT ON TABLE admin_activity_logs IS 'Append-only trail of what admins did, with a risk score per action.';
COMMENT ON CONSTRAINT admin_activity_logs_pkey ON admin_activity_logs IS 'Each log entry has one identity.';
GRANT SELECT ON admin_activity_logs TO quotedb_app, quotedb_readonly, quotedb_system;
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

SELECT hand_objects_to_owner();
