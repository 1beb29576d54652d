-- 0023 cheaper rule checks on the quote write path: the same rules, checked once per statement
-- instead of once per row, by the owner instead of through the caller's row level security.
--
-- Profiled with track_functions = all over 300 app_create_quote calls as quotedb_app on the
-- scale-1 volume data (docs/performance.md): of ~1.1 ms per create, quote_is_visible took 210 us
-- (five calls: the insert policies of the version and of each line, and the SELECT policy of
-- every version row the deferred quotes_current_version_in_step check reads, each call running
-- quotes' policies again, admin permission initplan included), generate_quote_number 81 us (a SQL
-- function with an aggregate cannot be inlined, so its body is planned again on every call),
-- quote_coverages_editable 2 x 39 us and quote_versions_contiguous 40 us (per row, under the
-- caller's row level security). The volume loader pays the same per copied row.
--
--   * quote_versions and quote_coverages policies: EXISTS over quotes inline (the form the line
--     update and delete policies already had) instead of quote_is_visible(). Who sees a quote is
--     still decided by quotes' own policies, in one place; the planner now probes quotes once per
--     row inside the statement (or joins), with the policies' initplans evaluated once per
--     statement. What is no longer possible: inserting a quote and its version or lines in ONE
--     statement (data-modifying CTEs) - the policy's subquery sees the statement's snapshot. The
--     repository's functions insert them in separate statements (app_create_quote), as does the
--     volume loader; a one-statement insert is refused, never let through.
--   * generate_quote_number(): the same format and alphabet as one expression, so the planner
--     inlines it into the INSERT (VOLATILE: evaluated per row).
--   * quote_versions_contiguous: an AFTER INSERT statement trigger over the inserted rows, run by
--     the owner. It locks the quotes (FOR NO KEY UPDATE, in id order) and requires each new
--     version to be the quote's current_version and to follow an existing version (or be 1).
--     With quote_versions_quote_version_unique and versions being immutable this is the same rule
--     as version = latest + 1 = current_version per row: a version at or below the latest
--     collides with the unique constraint, one above latest + 1 finds no predecessor (a
--     predecessor inserted by the same statement is not the current_version, and is refused).
--     For quotedb_app a version for an unknown quote or one it cannot see now fails the insert
--     policy (42501; row level security is checked before AFTER triggers), where 0007's BEFORE
--     trigger said "not found" (quote_versions_contiguous); for the owner an unknown quote fails
--     the foreign key quote_versions_quote_fk. Likewise CHECK, unique and policy errors now come
--     before this rule and quote_coverages_editable. The repository's paths never reach these
--     (app_create_quote and app_rerate_quote insert versions only for quotes they just wrote).
--   * quote_coverages_editable: three statement triggers (insert, update, delete) over the
--     transition tables, run by the owner, with the rule's text unchanged. An UPDATE pairs old and
--     new lines by id: on a rated quote, changing a line's id is a change of its cover (only the
--     premium may change), as moving it to another quote already was.
--
-- Online: CREATE OR REPLACE FUNCTION, ALTER POLICY and trigger swaps are catalog changes; the
-- trigger swaps take SHARE ROW EXCLUSIVE on quote_versions and quote_coverages for a moment (no
-- scan, no rewrite). Old rows are not re-checked (nothing about them changes). Reversible: the
-- down migration restores the row triggers, functions and policies of 0007.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

-- Policies: quotes' own policies decide, inline.
ALTER POLICY quote_versions_via_quote_select ON quote_versions
    USING (EXISTS (SELECT 1 FROM public.quotes q WHERE q.id = quote_id));
ALTER POLICY quote_versions_via_quote_insert ON quote_versions
    WITH CHECK (EXISTS (SELECT 1 FROM public.quotes q WHERE q.id = quote_id));
ALTER POLICY quote_coverages_via_quote_select ON quote_coverages
    USING (EXISTS (SELECT 1 FROM public.quotes q WHERE q.id = quote_id));
ALTER POLICY quote_coverages_via_quote_insert ON quote_coverages
    WITH CHECK (EXISTS (SELECT 1 FROM public.quotes q WHERE q.id = quote_id));
ALTER POLICY quote_coverages_via_quote_update ON quote_coverages
    USING (EXISTS (SELECT 1 FROM public.quotes q WHERE q.id = quote_id))
    WITH CHECK (EXISTS (SELECT 1 FROM public.quotes q WHERE q.id = quote_id));

-- One expression: inlined into the INSERT that defaults quotes.quote_number.
CREATE OR REPLACE FUNCTION generate_quote_number() RETURNS text
    LANGUAGE sql
    VOLATILE
AS $fn$
    SELECT 'Q-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-'
        || substr('0123456789ABCDEFGHJKLMNPQRSTUVWXYZ', 1 + floor(random() * 34)::int, 1)
        || substr('0123456789ABCDEFGHJKLMNPQRSTUVWXYZ', 1 + floor(random() * 34)::int, 1)
        || substr('0123456789ABCDEFGHJKLMNPQRSTUVWXYZ', 1 + floor(random() * 34)::int, 1)
        || substr('0123456789ABCDEFGHJKLMNPQRSTUVWXYZ', 1 + floor(random() * 34)::int, 1)
        || substr('0123456789ABCDEFGHJKLMNPQRSTUVWXYZ', 1 + floor(random() * 34)::int, 1)
        || substr('0123456789ABCDEFGHJKLMNPQRSTUVWXYZ', 1 + floor(random() * 34)::int, 1)
$fn$;

-- quote_versions_contiguous, once per statement; no SET search_path, like the functions below.
DROP TRIGGER quote_versions_contiguous ON quote_versions;

CREATE OR REPLACE FUNCTION quote_versions_contiguous_fn() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
    v_quote   pg_catalog.uuid;
    v_version integer;
    v_current integer;
    v_max     integer;
BEGIN
    -- The parents, locked in one order (concurrent raters of one quote serialize; two statements
    -- locking several quotes cannot deadlock on each other's order).
    PERFORM 1 FROM public.quotes q
    WHERE q.id IN (SELECT n.quote_id FROM new_versions n)
    ORDER BY q.id
    FOR NO KEY UPDATE OF q;
    -- The predecessor's number is computed before the probe (a MATERIALIZED CTE): under row
    -- level security only leakproof quals become index conditions ahead of the policy, and
    -- `version = n.version - 1` is not (int4mi is not leakproof), so the probe would filter every
    -- version of the quote (O(versions) per re-rate); `version = n.previous` is.
    WITH n AS MATERIALIZED (
        SELECT v.quote_id, v.version, v.version - 1 AS previous FROM new_versions v
    )
    SELECT n.quote_id, n.version, q.current_version
      INTO v_quote, v_version, v_current
    FROM n
    JOIN public.quotes q ON q.id = n.quote_id
    WHERE n.version <> q.current_version
       OR (n.version > 1 AND NOT EXISTS (
               SELECT 1 FROM public.quote_versions p
               WHERE p.quote_id = n.quote_id AND p.version = n.previous))
    ORDER BY n.quote_id, n.version
    LIMIT 1;
    IF FOUND THEN
        SELECT coalesce(max(v.version) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM new_versions n WHERE n.quote_id = v.quote_id AND n.version = v.version)), 0)
          INTO v_max
        FROM public.quote_versions v WHERE v.quote_id = v_quote;
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_versions_contiguous',
            MESSAGE = pg_catalog.format('quote %s: version %s is not the next version', v_quote, v_version),
            DETAIL = pg_catalog.format('latest version is %s and quotes.current_version is %s; expected %s = current_version',
                            v_max, v_current, v_max + 1),
            HINT = 'bump quotes.current_version (WHERE current_version = expected) before inserting the version';
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION quote_versions_contiguous_fn() IS
    'Trigger function of quote_versions_contiguous (once per INSERT statement, over its new rows, as the owner).';

CREATE TRIGGER quote_versions_contiguous
    AFTER INSERT ON quote_versions
    REFERENCING NEW TABLE AS new_versions
    FOR EACH STATEMENT EXECUTE FUNCTION quote_versions_contiguous_fn();
COMMENT ON TRIGGER quote_versions_contiguous ON quote_versions IS
    'Quote versions are numbered 1, 2, 3... without gaps, and a new version is the quote''s current_version (bumped first by the caller).';

-- quote_coverages_editable, once per statement.
DROP TRIGGER quote_coverages_editable ON quote_coverages;
-- A trigger function: no client calls it, and its only trigger is gone.
-- squawk-ignore ban-drop-function
DROP FUNCTION quote_coverages_editable_fn();


-- Three functions, one per event: a trigger names only the transition tables of its event, and
-- static queries keep their plans (EXECUTE would plan on every call). Like the other rule triggers
-- of the write path (0007) they carry no SET search_path (a GUC save, set and restore per call):
-- relations and types are schema-qualified, the transition tables are found before any relation
-- of that name, and pg_temp is never searched for functions or operators. Each reads as the owner: a
-- caller's row level security must not hide the quote from the rule. A quote that is gone (its own
-- deletion cascading here) or unknown (the foreign key reports it) has no row and passes.
-- Closed quotes: nothing changes. Rated quotes: a line is added only by the transaction that
-- created the quote and priced it first (the create path, or the load: the quote row is this
-- transaction's and no version of it was written by another transaction; 0007 asked only the
-- former, which a no-op UPDATE of the quote satisfies), never removed, and only its premium
-- changes (re-rating); its cover (type, limit, deductible) was priced and stays. So once the
-- transaction that first priced a quote has committed, its terms never change (the repository
-- keeps them: quotes::terms). Each function first takes FOR SHARE on the quotes it touches, in id
-- order: a line change racing a rating of the same draft waits for it and then sees it rated
-- (0007 read the quote unlocked, and the line could slip in unpriced).
CREATE FUNCTION quote_coverages_editable_insert_fn() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
    v_quote   pg_catalog.uuid;
    v_problem pg_catalog.text;
BEGIN
    PERFORM 1 FROM public.quotes q
    WHERE q.id IN (SELECT n.quote_id FROM new_lines n)
    ORDER BY q.id
    FOR SHARE OF q;
    SELECT q.id,
           CASE WHEN q.status NOT IN ('draft', 'rated') THEN pg_catalog.format('quote is %s', q.status)
                ELSE 'lines are added to a rated quote only when it is created' END
      INTO v_quote, v_problem
    FROM public.quotes q
    WHERE q.id IN (SELECT n.quote_id FROM new_lines n)
      AND (q.status NOT IN ('draft', 'rated')
           OR (q.status = 'rated'
               AND (q.xmin OPERATOR(pg_catalog.<>) pg_catalog.xid(pg_catalog.pg_current_xact_id())
                    OR EXISTS (SELECT 1 FROM public.quote_versions v
                               WHERE v.quote_id = q.id
                                 AND v.xmin OPERATOR(pg_catalog.<>) pg_catalog.xid(pg_catalog.pg_current_xact_id())))))
    ORDER BY q.status = 'rated', q.id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_coverages_editable',
            MESSAGE = pg_catalog.format('coverages of quote %s cannot change: %s', v_quote, v_problem),
            DETAIL = 'coverage lines change freely while the quote is a draft; once rated only their premiums change (re-rating); closed quotes never change';
    END IF;
    RETURN NULL;
END
$fn$;

CREATE FUNCTION quote_coverages_editable_update_fn() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
    v_quote   pg_catalog.uuid;
    v_problem pg_catalog.text;
BEGIN
    PERFORM 1 FROM public.quotes q
    WHERE q.id IN (SELECT o.quote_id FROM old_lines o UNION SELECT n.quote_id FROM new_lines n)
    ORDER BY q.id
    FOR SHARE OF q;
    -- Old and new lines are paired by id: an unpaired line (its id changed) changed its cover.
    WITH moved AS (
        SELECT o.quote_id AS old_quote, n.quote_id AS new_quote,
               (o.id IS NULL OR n.id IS NULL
                OR (n.quote_id, n.coverage_type, n.limit_amount, n.deductible)
                   IS DISTINCT FROM (o.quote_id, o.coverage_type, o.limit_amount, o.deductible))
                   AS cover_changed
        FROM old_lines o
        FULL JOIN new_lines n ON n.id = o.id
    )
    SELECT q.id,
           CASE WHEN q.status NOT IN ('draft', 'rated') THEN pg_catalog.format('quote is %s', q.status)
                ELSE 'the cover of a rated quote was priced: only the premium changes, by re-rating' END
      INTO v_quote, v_problem
    FROM moved m
    JOIN public.quotes q ON q.id = m.old_quote OR q.id = m.new_quote
    WHERE q.status NOT IN ('draft', 'rated') OR (q.status = 'rated' AND m.cover_changed)
    ORDER BY q.status = 'rated', q.id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_coverages_editable',
            MESSAGE = pg_catalog.format('coverages of quote %s cannot change: %s', v_quote, v_problem),
            DETAIL = 'coverage lines change freely while the quote is a draft; once rated only their premiums change (re-rating); closed quotes never change';
    END IF;
    RETURN NULL;
END
$fn$;

CREATE FUNCTION quote_coverages_editable_delete_fn() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
    v_quote   pg_catalog.uuid;
    v_problem pg_catalog.text;
BEGIN
    PERFORM 1 FROM public.quotes q
    WHERE q.id IN (SELECT o.quote_id FROM old_lines o)
    ORDER BY q.id
    FOR SHARE OF q;
    SELECT q.id,
           CASE WHEN q.status = 'rated' THEN 'a rated quote keeps its lines'
                ELSE pg_catalog.format('quote is %s', q.status) END
      INTO v_quote, v_problem
    FROM public.quotes q
    WHERE q.id IN (SELECT o.quote_id FROM old_lines o)
      AND q.status <> 'draft'
    ORDER BY q.status = 'rated', q.id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_coverages_editable',
            MESSAGE = pg_catalog.format('coverages of quote %s cannot change: %s', v_quote, v_problem),
            DETAIL = 'coverage lines change freely while the quote is a draft; once rated only their premiums change (re-rating); closed quotes never change';
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION quote_coverages_editable_insert_fn() IS
    'Trigger function of quote_coverages_editable_on_insert (once per statement, over its transition table, as the owner).';
COMMENT ON FUNCTION quote_coverages_editable_update_fn() IS
    'Trigger function of quote_coverages_editable_on_update (once per statement, over its transition tables, as the owner).';
COMMENT ON FUNCTION quote_coverages_editable_delete_fn() IS
    'Trigger function of quote_coverages_editable_on_delete (once per statement, over its transition table, as the owner).';

CREATE TRIGGER quote_coverages_editable_on_insert
    AFTER INSERT ON quote_coverages
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION quote_coverages_editable_insert_fn();
CREATE TRIGGER quote_coverages_editable_on_update
    AFTER UPDATE ON quote_coverages
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION quote_coverages_editable_update_fn();
CREATE TRIGGER quote_coverages_editable_on_delete
    AFTER DELETE ON quote_coverages
    REFERENCING OLD TABLE AS old_lines
    FOR EACH STATEMENT EXECUTE FUNCTION quote_coverages_editable_delete_fn();
COMMENT ON TRIGGER quote_coverages_editable_on_insert ON quote_coverages IS
    'quote_coverages_editable: coverage lines change freely while the quote is a draft; once rated only their premiums change (re-rating); closed quotes never change.';
COMMENT ON TRIGGER quote_coverages_editable_on_update ON quote_coverages IS
    'quote_coverages_editable: coverage lines change freely while the quote is a draft; once rated only their premiums change (re-rating); closed quotes never change.';
COMMENT ON TRIGGER quote_coverages_editable_on_delete ON quote_coverages IS
    'quote_coverages_editable: coverage lines change freely while the quote is a draft; once rated only their premiums change (re-rating); closed quotes never change.';

SELECT hand_objects_to_owner();
