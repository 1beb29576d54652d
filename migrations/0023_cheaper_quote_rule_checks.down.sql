-- 0023 cheaper rule checks (down): the row triggers, functions and policies of 0007 again.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

DROP TRIGGER quote_coverages_editable_on_delete ON quote_coverages;
DROP TRIGGER quote_coverages_editable_on_update ON quote_coverages;
DROP TRIGGER quote_coverages_editable_on_insert ON quote_coverages;
DROP FUNCTION quote_coverages_editable_delete_fn();
DROP FUNCTION quote_coverages_editable_update_fn();
DROP FUNCTION quote_coverages_editable_insert_fn();

CREATE FUNCTION quote_coverages_editable_fn() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
    v_quote   pg_catalog.uuid;
    v_status  public.quote_status;
    v_problem pg_catalog.text;
BEGIN
    -- Closed quotes: nothing changes. Rated quotes: a line is added only by the transaction that
    -- created the quote (the create path), never removed, and only its premium changes (re-rating);
    -- its cover (type, limit, deductible) was priced and stays. Read as the owner: a caller's row
    -- level security must not hide the quote from the rule.
    SELECT q.id, q.status,
           CASE
               WHEN q.status NOT IN ('draft', 'rated') THEN pg_catalog.format('quote is %s', q.status)
               WHEN q.status = 'draft' THEN NULL
               WHEN TG_OP = 'DELETE' THEN 'a rated quote keeps its lines'
               WHEN TG_OP = 'INSERT' AND q.xmin OPERATOR(pg_catalog.<>) pg_catalog.xid(pg_catalog.pg_current_xact_id())
                   THEN 'lines are added to a rated quote only when it is created'
               WHEN TG_OP = 'UPDATE' AND (NEW.quote_id, NEW.coverage_type, NEW.limit_amount, NEW.deductible)
                        IS DISTINCT FROM (OLD.quote_id, OLD.coverage_type, OLD.limit_amount, OLD.deductible)
                   THEN 'the cover of a rated quote was priced: only the premium changes, by re-rating'
           END
      INTO v_quote, v_status, v_problem
    FROM public.quotes q
    WHERE q.id = ANY (ARRAY[OLD.quote_id, NEW.quote_id])
    ORDER BY q.status = 'draft'
    LIMIT 1;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_coverages_editable',
            MESSAGE = pg_catalog.format('coverages of quote %s cannot change: %s', v_quote, v_problem),
            DETAIL = 'coverage lines change freely while the quote is a draft; once rated only their premiums change (re-rating); closed quotes never change';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION quote_coverages_editable_fn() IS 'Trigger function of quote_coverages_editable.';

CREATE TRIGGER quote_coverages_editable
    BEFORE INSERT OR UPDATE OR DELETE ON quote_coverages
    FOR EACH ROW EXECUTE FUNCTION quote_coverages_editable_fn();
COMMENT ON TRIGGER quote_coverages_editable ON quote_coverages IS
    'A quote''s coverage lines can be added, changed or removed only while the quote is draft or rated.';

DROP TRIGGER quote_versions_contiguous ON quote_versions;

CREATE OR REPLACE FUNCTION quote_versions_contiguous_fn() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
DECLARE
    v_current integer;
    v_max     integer;
BEGIN
    SELECT q.current_version INTO v_current
    FROM public.quotes q WHERE q.id = NEW.quote_id
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_versions_contiguous',
            MESSAGE = format('quote %s not found: cannot add version %s', NEW.quote_id, NEW.version);
    END IF;
    -- The latest version by one backward probe of quote_versions_quote_version_unique, not max():
    -- under row level security every version row passes the policy check, and max() would check
    -- all of a quote's versions on every rating (ORDER BY ... LIMIT 1 checks one).
    SELECT coalesce((SELECT v.version FROM public.quote_versions v WHERE v.quote_id = NEW.quote_id
                     ORDER BY v.version DESC LIMIT 1), 0) INTO v_max;
    IF NEW.version <> v_max + 1 OR NEW.version <> v_current THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'quote_versions_contiguous',
            MESSAGE = format('quote %s: version %s is not the next version', NEW.quote_id, NEW.version),
            DETAIL = format('latest version is %s and quotes.current_version is %s; expected %s = current_version',
                            v_max, v_current, v_max + 1),
            HINT = 'bump quotes.current_version (WHERE current_version = expected) before inserting the version';
    END IF;
    RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION quote_versions_contiguous_fn() IS 'Trigger function of quote_versions_contiguous.';

CREATE TRIGGER quote_versions_contiguous
    BEFORE INSERT ON quote_versions
    FOR EACH ROW EXECUTE FUNCTION quote_versions_contiguous_fn();
COMMENT ON TRIGGER quote_versions_contiguous ON quote_versions IS
    'Quote versions are numbered 1, 2, 3... without gaps, and a new version is the quote''s current_version (bumped first by the caller).';

CREATE OR REPLACE FUNCTION generate_quote_number() RETURNS text
    LANGUAGE sql
    VOLATILE
AS $fn$
    SELECT 'Q-' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD') || '-' ||
           string_agg(substr('0123456789ABCDEFGHJKLMNPQRSTUVWXYZ', 1 + floor(random() * 34)::int, 1), '')
    FROM generate_series(1, 6)
$fn$;

ALTER POLICY quote_coverages_via_quote_update ON quote_coverages
    USING (EXISTS (SELECT 1 FROM public.quotes q WHERE q.id = quote_id)) WITH CHECK (quote_is_visible(quote_id));
ALTER POLICY quote_coverages_via_quote_insert ON quote_coverages WITH CHECK (quote_is_visible(quote_id));
ALTER POLICY quote_coverages_via_quote_select ON quote_coverages USING (quote_is_visible(quote_id));
ALTER POLICY quote_versions_via_quote_insert ON quote_versions WITH CHECK (quote_is_visible(quote_id));
ALTER POLICY quote_versions_via_quote_select ON quote_versions USING (quote_is_visible(quote_id));

SELECT hand_objects_to_owner();
