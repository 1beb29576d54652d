-- 0017 the agent's pipeline page and the re-rate in one round trip each.
--
-- Until now list_for_agent opened a transaction as the actor (BEGIN + role + actor, the page,
-- COMMIT: three round trips) and a re-rate took four (BEGIN, load, write, COMMIT) and a fifth to
-- tell a conflict from a refusal. Like app_customer_quotes_page (0006, 0008) these functions
-- switch role and acting user inside the statement - to quotedb_app for an acting user, to
-- quotedb_system for NULL, which PostgreSQL allows only when the session's login is a member of
-- quotedb_system - and put both back before returning (an error rolls them back). Invoker rights:
-- every row goes through the quotes policies and rule triggers as before. A re-rate is now two
-- round trips: app_quote_for_rating (the terms to price), then app_rerate_quote (the write,
-- priced from the reference data cache, checked by quote_versions_reference_data_current).
--
-- Online: new functions only. Reversible: the down migration drops them.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

CREATE FUNCTION app_agent_quotes_page(
    p_user_id uuid,
    p_agent_id uuid,
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
            WHERE q.agent_id = p_agent_id
            ORDER BY q.created_at DESC, q.id DESC
            LIMIT p_limit;
    ELSE
        RETURN QUERY
            SELECT * FROM public.quotes q
            WHERE q.agent_id = p_agent_id
              AND (q.created_at, q.id) < (p_after_created_at, p_after_id)
            ORDER BY q.created_at DESC, q.id DESC
            LIMIT p_limit;
    END IF;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_agent_quotes_page(uuid, uuid, timestamptz, uuid, bigint) IS
    'A keyset page (newest first) of the quotes assigned to an agent as the acting user p_user_id (NULL: the system actor, which only a login holding quotedb_system can be) may see them under quotes'' RLS policies; first page when p_after_created_at is NULL; one round trip (quotes_agent_id_created_at_id_idx).';
REVOKE ALL ON FUNCTION app_agent_quotes_page(uuid, uuid, timestamptz, uuid, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_agent_quotes_page(uuid, uuid, timestamptz, uuid, bigint) TO quotedb_app;

CREATE FUNCTION app_quote_for_rating(p_user_id uuid, p_quote_id uuid)
    RETURNS TABLE (id uuid, state_code text, zip text, effective_date date, current_version integer,
                   coverage_types coverage_type[], limit_amounts numeric[], deductibles numeric[])
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY
        SELECT q.id, q.state_code, q.zip, q.effective_date, q.current_version,
               ARRAY(SELECT c.coverage_type FROM public.quote_coverages c WHERE c.quote_id = q.id ORDER BY c.coverage_type),
               ARRAY(SELECT c.limit_amount FROM public.quote_coverages c WHERE c.quote_id = q.id ORDER BY c.coverage_type),
               ARRAY(SELECT c.deductible FROM public.quote_coverages c WHERE c.quote_id = q.id ORDER BY c.coverage_type)
        FROM public.quotes q
        WHERE q.id = p_quote_id;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_quote_for_rating(uuid, uuid) IS
    'What pricing a quote reads (state, ZIP, effective date, version, coverage lines in coverage order) as the acting user p_user_id (NULL: the system actor, which only a login holding quotedb_system can be) may see it; no row when not visible; one round trip.';
REVOKE ALL ON FUNCTION app_quote_for_rating(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_quote_for_rating(uuid, uuid) TO quotedb_app;

CREATE FUNCTION app_rerate_quote(
    p_user_id uuid,
    p_quote_id uuid,
    p_expected_version integer,
    p_premium numeric,
    p_rating_inputs jsonb,
    p_breakdown jsonb,
    p_coverage_types coverage_type[],
    p_premiums numeric[],
    p_reference_generation bigint
) RETURNS TABLE (outcome text, id uuid, quote_number text, customer_id uuid, agent_id uuid, state_code text,
                 zip text, status quote_status, premium numeric, current_version integer, effective_date date,
                 expires_at timestamptz, bound_at timestamptz, metadata jsonb, created_at timestamptz,
                 updated_at timestamptz)
    LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    v_user    text := current_setting('app.user_id', true);
    v_role    text := current_setting('role');
    v_quote   public.quotes;
    v_outcome text;
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    UPDATE public.quotes q
    SET status = 'rated', premium = p_premium, current_version = q.current_version + 1
    WHERE q.id = p_quote_id AND q.current_version = p_expected_version
    RETURNING q.* INTO v_quote;
    IF FOUND THEN
        INSERT INTO public.quote_versions (quote_id, version, premium, rating_inputs, breakdown, reference_generation)
        VALUES (v_quote.id, v_quote.current_version, v_quote.premium, p_rating_inputs, p_breakdown,
                p_reference_generation);
        UPDATE public.quote_coverages c
        SET premium = l.premium
        FROM unnest(p_coverage_types, p_premiums) AS l (coverage_type, premium)
        WHERE c.quote_id = v_quote.id AND c.coverage_type = l.coverage_type;
        SET CONSTRAINTS public.quotes_current_version_in_step IMMEDIATE;
        SET CONSTRAINTS public.quotes_current_version_in_step DEFERRED;
        v_outcome := 'rated';
    ELSE
        -- Not updated: someone rated it first (the version moved), the actor may read but not
        -- change it (same version), or it is not visible at all (no row).
        SELECT q.* INTO v_quote FROM public.quotes q WHERE q.id = p_quote_id;
        v_outcome := CASE WHEN NOT FOUND THEN NULL
                          WHEN v_quote.current_version = p_expected_version THEN 'forbidden'
                          ELSE 'conflict' END;
    END IF;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
    IF v_outcome IS NOT NULL THEN
        RETURN QUERY SELECT v_outcome, v_quote.id, v_quote.quote_number, v_quote.customer_id, v_quote.agent_id,
                            v_quote.state_code, v_quote.zip, v_quote.status, v_quote.premium,
                            v_quote.current_version, v_quote.effective_date, v_quote.expires_at,
                            v_quote.bound_at, v_quote.metadata, v_quote.created_at, v_quote.updated_at;
    END IF;
END
$$;
COMMENT ON FUNCTION app_rerate_quote(uuid, uuid, integer, numeric, jsonb, jsonb, coverage_type[], numeric[], bigint) IS
    'Re-rates a quote as the acting user p_user_id (NULL: the system actor, which only a login holding quotedb_system can be) if it is still at p_expected_version: bumps current_version, inserts that version (priced from reference data generation p_reference_generation, quote_versions_reference_data_current) and the line premiums, under RLS and every rule; one round trip. outcome rated (the new row), conflict (the version moved: the current row), forbidden (visible, not changeable); no row when not visible.';
REVOKE ALL ON FUNCTION app_rerate_quote(uuid, uuid, integer, numeric, jsonb, jsonb, coverage_type[], numeric[], bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_rerate_quote(uuid, uuid, integer, numeric, jsonb, jsonb, coverage_type[], numeric[], bigint) TO quotedb_app;

SELECT hand_objects_to_owner();
