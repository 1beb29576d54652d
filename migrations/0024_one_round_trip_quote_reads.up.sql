-- 0024 the quote reads by id in one round trip each: a quote, its coverage lines, its versions.
--
-- Quotes::get, coverages and versions ran BEGIN (role, acting user) / query / COMMIT: three round
-- trips for one indexed read. These functions switch to the acting user's role and set the actor
-- themselves, like app_quote_by_number (0008): one statement, and quotes' RLS policies still
-- decide (a quote the actor cannot see gives no row). Invoker functions: they run nothing the
-- caller's login could not, and a NULL acting user is the system actor, which only a login holding
-- quotedb_system can switch to.
--
-- Online: new functions only. Reversible: the down migration drops them.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

CREATE FUNCTION app_quote_by_id(p_user_id uuid, p_quote_id uuid) RETURNS SETOF quotes
    LANGUAGE plpgsql
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY SELECT * FROM public.quotes q WHERE q.id = p_quote_id;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_quote_by_id(uuid, uuid) IS
    'The quote with this id as the acting user p_user_id (NULL: the system actor, which only a login holding quotedb_system can be) may see it under quotes'' RLS policies; one round trip (quotes_pkey).';
REVOKE ALL ON FUNCTION app_quote_by_id(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_quote_by_id(uuid, uuid) TO quotedb_app;

-- A visible quote without lines gives one row of NULLs, so "no lines" and "not visible" (no row)
-- stay distinguishable.
CREATE FUNCTION app_quote_coverages(p_user_id uuid, p_quote_id uuid)
    RETURNS TABLE (quote_id uuid, coverage_type coverage_type, limit_amount numeric, deductible numeric,
                   premium numeric)
    LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY
        SELECT q.id, c.coverage_type, c.limit_amount, c.deductible, c.premium
        FROM public.quotes q
        LEFT JOIN public.quote_coverages c ON c.quote_id = q.id
        WHERE q.id = p_quote_id
        ORDER BY c.coverage_type;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_quote_coverages(uuid, uuid) IS
    'The coverage lines of a quote the acting user p_user_id (NULL: the system actor) may see, in coverage type order; one row of NULL lines for a visible quote without lines, no row for an invisible one; one round trip.';
REVOKE ALL ON FUNCTION app_quote_coverages(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_quote_coverages(uuid, uuid) TO quotedb_app;

CREATE FUNCTION app_quote_versions(p_user_id uuid, p_quote_id uuid)
    RETURNS TABLE (quote_id uuid, id uuid, version integer, premium numeric, rating_inputs jsonb, breakdown jsonb,
                   created_at timestamptz)
    LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_role   text := current_setting('role');
BEGIN
    PERFORM set_config('role', CASE WHEN p_user_id IS NULL THEN 'quotedb_system' ELSE 'quotedb_app' END, true),
            set_config('app.user_id', coalesce(p_user_id::text, ''), true);
    RETURN QUERY
        SELECT q.id, v.id, v.version, v.premium, v.rating_inputs, v.breakdown, v.created_at
        FROM public.quotes q
        LEFT JOIN public.quote_versions v ON v.quote_id = q.id
        WHERE q.id = p_quote_id
        ORDER BY v.version;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('role', v_role, true);
END
$$;
COMMENT ON FUNCTION app_quote_versions(uuid, uuid) IS
    'The rating snapshots of a quote the acting user p_user_id (NULL: the system actor) may see, version 1 first; one row of NULLs for a visible quote never rated, no row for an invisible one; one round trip.';
REVOKE ALL ON FUNCTION app_quote_versions(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_quote_versions(uuid, uuid) TO quotedb_app;

SELECT hand_objects_to_owner();
