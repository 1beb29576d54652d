-- 0008 the one-round-trip functions of 0006 act as the system only for the system role.
--
-- 0006 let app_quote_by_number, app_customer_quotes_page, app_create_quote and
-- app_high_risk_activity_page switch to quotedb_app with a SET role clause and treat a NULL acting
-- user as the system actor by turning app.system on: any member of quotedb_app could pass NULL
-- and see every quote. Since 0007 "system" is the role quotedb_system. These functions now switch
-- role themselves, inside the statement: to quotedb_app for an acting user, to quotedb_system for
-- NULL - which PostgreSQL allows only when the session's login is a member of quotedb_system, so
-- the application login gets "permission denied to set role". The caller's role and acting user are
-- put back before the function returns (an error rolls them back with the transaction or
-- savepoint). Same signatures, same one round trip; nothing to rewrite in the tables.

CREATE OR REPLACE FUNCTION app_quote_by_number(p_user_id uuid, p_quote_number text) RETURNS SETOF quotes
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.quotes q WHERE q.quote_number = p_quote_number;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_quote_by_number(uuid, text) IS
    'The quote with this number as the acting user p_user_id (NULL: the system actor, which only a login holding quotedb_system can be) may see it under quotes'' RLS policies; one round trip (quotes_number_unique).';

CREATE OR REPLACE FUNCTION app_customer_quotes_page(
    p_user_id uuid,
    p_customer_id uuid,
    p_after_created_at timestamptz,
    p_after_id uuid,
    p_limit bigint
) RETURNS SETOF quotes
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    IF p_after_created_at IS NULL THEN
        RETURN QUERY
            SELECT * FROM public.quotes q
            WHERE q.customer_id = p_customer_id
            ORDER BY q.created_at DESC, q.id DESC
            LIMIT p_limit;
    ELSE
        RETURN QUERY
            SELECT * FROM public.quotes q
            WHERE q.customer_id = p_customer_id
              AND (q.created_at, q.id) < (p_after_created_at, p_after_id)
            ORDER BY q.created_at DESC, q.id DESC
            LIMIT p_limit;
    END IF;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_customer_quotes_page(uuid, uuid, timestamptz, uuid, bigint) IS
    'A keyset page (newest first) of a customer''s quotes as the acting user p_user_id (NULL: the system actor, which only a login holding quotedb_system can be) may see them under quotes'' RLS policies; first page when p_after_created_at is NULL; one round trip.';

CREATE OR REPLACE FUNCTION app_create_quote(
    p_user_id uuid,
    p_customer_id uuid,
    p_agent_id uuid,
    p_state_code text,
    p_zip text,
    p_premium numeric,
    p_effective_date date,
    p_metadata jsonb,
    p_rating_inputs jsonb,
    p_breakdown jsonb,
    p_coverage_types coverage_type[],
    p_limits numeric[],
    p_deductibles numeric[],
    p_premiums numeric[]
) RETURNS SETOF quotes
    LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
    v_days   numeric := (jsonb_path_query_first(public.public_setting('quotes.validity_days'),
                                                '$ ? (@.type() == "number" && @ > 0)') #>> '{}')::numeric;
    v_quote  public.quotes;
BEGIN
    IF v_days IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    INSERT INTO public.quotes (customer_id, agent_id, state_code, zip, status, premium, current_version,
                               effective_date, expires_at, metadata)
    VALUES (p_customer_id, p_agent_id, p_state_code, p_zip, 'rated', p_premium, 1,
            p_effective_date, now() + interval '1 day' * v_days::float8, p_metadata)
    RETURNING * INTO v_quote;
    INSERT INTO public.quote_versions (quote_id, version, premium, rating_inputs, breakdown)
    VALUES (v_quote.id, v_quote.current_version, v_quote.premium, p_rating_inputs, p_breakdown);
    INSERT INTO public.quote_coverages (quote_id, coverage_type, limit_amount, deductible, premium)
    SELECT v_quote.id, l.coverage_type, l.limit_amount, l.deductible, l.premium
    FROM unnest(p_coverage_types, p_limits, p_deductibles, p_premiums)
        AS l (coverage_type, limit_amount, deductible, premium);
    SET CONSTRAINTS public.quotes_current_version_in_step IMMEDIATE;
    SET CONSTRAINTS public.quotes_current_version_in_step DEFERRED;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
    RETURN NEXT v_quote;
END
$$;
COMMENT ON FUNCTION app_create_quote(uuid, uuid, uuid, text, text, numeric, date, jsonb, jsonb, jsonb,
                                     coverage_type[], numeric[], numeric[], numeric[]) IS
    'Creates a rated quote with its version 1 and coverage lines as the acting user p_user_id (NULL: the system actor, which only a login holding quotedb_system can be), under RLS and every rule; one round trip; no row when quotes.validity_days is not a positive number.';

CREATE OR REPLACE FUNCTION app_high_risk_activity_page(
    p_user_id uuid,
    p_before_at timestamptz,
    p_before_id bigint,
    p_limit bigint
) RETURNS SETOF admin_activity_logs
    LANGUAGE plpgsql
    SET plan_cache_mode = 'force_generic_plan'
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
COMMENT ON FUNCTION app_high_risk_activity_page(uuid, timestamptz, bigint, bigint) IS
    'A keyset page of admin activity scored 70 or more, newest first, strictly before (p_before_at, p_before_id), as the acting user p_user_id (NULL: the system actor, which only a login holding quotedb_system can be) may read it under the RLS policies; one round trip.';

SELECT hand_objects_to_owner();
