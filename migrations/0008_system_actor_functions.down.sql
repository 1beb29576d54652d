-- Reverts 0008: the one-round-trip functions as 0006 defined them (SET role clause, app.system).

CREATE OR REPLACE FUNCTION app_quote_by_number(p_user_id uuid, p_quote_number text) RETURNS SETOF quotes
    LANGUAGE plpgsql
    SET role = 'quotedb_app'
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_system text := current_setting('app.system', true);
BEGIN
    PERFORM set_config('app.user_id', coalesce(p_user_id::text, ''), true),
            set_config('app.system', CASE WHEN p_user_id IS NULL THEN 'on' ELSE 'off' END, true);
    RETURN QUERY SELECT * FROM public.quotes q WHERE q.quote_number = p_quote_number;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('app.system', coalesce(v_system, ''), true);
END
$$;
COMMENT ON FUNCTION app_quote_by_number(uuid, text) IS
    'The quote with this number as the acting user p_user_id (NULL: the system actor) may see it under quotes'' RLS policies; one round trip (quotes_number_unique).';

CREATE OR REPLACE FUNCTION app_customer_quotes_page(
    p_user_id uuid,
    p_customer_id uuid,
    p_after_created_at timestamptz,
    p_after_id uuid,
    p_limit bigint
) RETURNS SETOF quotes
    LANGUAGE plpgsql
    SET role = 'quotedb_app'
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_system text := current_setting('app.system', true);
BEGIN
    PERFORM set_config('app.user_id', coalesce(p_user_id::text, ''), true),
            set_config('app.system', CASE WHEN p_user_id IS NULL THEN 'on' ELSE 'off' END, true);
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
            set_config('app.system', coalesce(v_system, ''), true);
END
$$;
COMMENT ON FUNCTION app_customer_quotes_page(uuid, uuid, timestamptz, uuid, bigint) IS
    'A keyset page (newest first) of a customer''s quotes as the acting user p_user_id (NULL: the system actor) may see them under quotes'' RLS policies; first page when p_after_created_at is NULL; one round trip.';

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
    SET role = 'quotedb_app'
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_system text := current_setting('app.system', true);
    v_days   numeric := (jsonb_path_query_first(public.public_setting('quotes.validity_days'),
                                                '$ ? (@.type() == "number" && @ > 0)') #>> '{}')::numeric;
    v_quote  public.quotes;
BEGIN
    IF v_days IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('app.user_id', coalesce(p_user_id::text, ''), true),
            set_config('app.system', CASE WHEN p_user_id IS NULL THEN 'on' ELSE 'off' END, true);
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
            set_config('app.system', coalesce(v_system, ''), true);
    RETURN NEXT v_quote;
END
$$;
COMMENT ON FUNCTION app_create_quote(uuid, uuid, uuid, text, text, numeric, date, jsonb, jsonb, jsonb,
                                     coverage_type[], numeric[], numeric[], numeric[]) IS
    'Creates a rated quote with its version 1 and coverage lines as the acting user p_user_id (NULL: the system actor), under RLS and every rule; one round trip; no row when quotes.validity_days is not a positive number.';

CREATE OR REPLACE FUNCTION app_high_risk_activity_page(
    p_user_id uuid,
    p_before_at timestamptz,
    p_before_id bigint,
    p_limit bigint
) RETURNS SETOF admin_activity_logs
    LANGUAGE plpgsql
    SET role = 'quotedb_app'
    SET plan_cache_mode = 'force_generic_plan'
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_system text := current_setting('app.system', true);
BEGIN
    PERFORM set_config('app.user_id', coalesce(p_user_id::text, ''), true),
            set_config('app.system', CASE WHEN p_user_id IS NULL THEN 'on' ELSE 'off' END, true);
    RETURN QUERY
        SELECT * FROM public.admin_activity_logs a
        WHERE a.risk_score >= 70
          AND (a.occurred_at, a.id) < (p_before_at, p_before_id)
        ORDER BY a.occurred_at DESC, a.id DESC
        LIMIT p_limit;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('app.system', coalesce(v_system, ''), true);
END
$$;
COMMENT ON FUNCTION app_high_risk_activity_page(uuid, timestamptz, bigint, bigint) IS
    'A keyset page of admin activity scored 70 or more, newest first, strictly before (p_before_at, p_before_id), as the acting user p_user_id (NULL: the system actor) may read it under the RLS policies; one round trip.';
