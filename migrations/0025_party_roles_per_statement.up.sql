-- 0025 a quote's parties are checked once per INSERT statement, not once per row.
--
-- quotes_customer_is_customer and quotes_agent_is_agent ran two SECURITY DEFINER plpgsql calls per
-- inserted quote, each reading users: on the volume load (COPY quotes) about 16 of 27 us per row.
-- On INSERT they now run once per statement over its new rows (transition table new_quotes), as
-- the owner, with one join to users; on UPDATE OF customer_id / agent_id they stay row triggers
-- (a column-specific UPDATE trigger cannot have transition tables, and a statement trigger on
-- every UPDATE of quotes would run on every re-rate and status move). The rule names do not
-- change: the statement triggers are named <rule>_on_insert (docs/conventions.md) and raise with
-- the rule's name. An unknown user is still left to the foreign key (which now runs first).
--
-- Online: trigger swaps on quotes (SHARE ROW EXCLUSIVE for a moment; no scan, no rewrite).
-- Reversible: the down migration restores the row triggers on INSERT OR UPDATE.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

-- Like the other write-path rule triggers: no SET search_path (0007, 0023).
CREATE FUNCTION quotes_party_role_on_insert_fn() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
    v_expected public.user_role;
    v_quote    pg_catalog.uuid;
    v_user     pg_catalog.uuid;
    v_role     public.user_role;
BEGIN
    IF TG_NAME = 'quotes_customer_is_customer_on_insert' THEN
        v_expected := 'customer';
        SELECT n.id, n.customer_id, u.role INTO v_quote, v_user, v_role
        FROM new_quotes n
        JOIN public.users u ON u.id = n.customer_id
        WHERE u.role <> 'customer'
        LIMIT 1;
    ELSE
        v_expected := 'agent';
        SELECT n.id, n.agent_id, u.role INTO v_quote, v_user, v_role
        FROM new_quotes n
        JOIN public.users u ON u.id = n.agent_id
        WHERE u.role <> 'agent'
        LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = pg_catalog.regexp_replace(TG_NAME, '_on_insert$', ''),
            MESSAGE = pg_catalog.format('user %s has role %s, not %s', v_user, v_role, v_expected),
            DETAIL = pg_catalog.format('quote %s: %s must reference a user with role %s',
                                       v_quote, CASE v_expected WHEN 'customer' THEN 'customer_id' ELSE 'agent_id' END,
                                       v_expected);
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION quotes_party_role_on_insert_fn() IS
    'Trigger function of quotes_customer_is_customer_on_insert and quotes_agent_is_agent_on_insert (dispatches on TG_NAME; once per INSERT statement, over its new rows, as the owner).';

DROP TRIGGER quotes_customer_is_customer ON quotes;
CREATE TRIGGER quotes_customer_is_customer
    BEFORE UPDATE OF customer_id ON quotes
    FOR EACH ROW EXECUTE FUNCTION quotes_party_role_fn();
COMMENT ON TRIGGER quotes_customer_is_customer ON quotes IS
    'A quote''s customer is a user with role customer.';
CREATE TRIGGER quotes_customer_is_customer_on_insert
    AFTER INSERT ON quotes
    REFERENCING NEW TABLE AS new_quotes
    FOR EACH STATEMENT EXECUTE FUNCTION quotes_party_role_on_insert_fn();
COMMENT ON TRIGGER quotes_customer_is_customer_on_insert ON quotes IS
    'quotes_customer_is_customer: a quote''s customer is a user with role customer.';

DROP TRIGGER quotes_agent_is_agent ON quotes;
CREATE TRIGGER quotes_agent_is_agent
    BEFORE UPDATE OF agent_id ON quotes
    FOR EACH ROW EXECUTE FUNCTION quotes_party_role_fn();
COMMENT ON TRIGGER quotes_agent_is_agent ON quotes IS
    'A quote''s assigned agent is a user with role agent.';
CREATE TRIGGER quotes_agent_is_agent_on_insert
    AFTER INSERT ON quotes
    REFERENCING NEW TABLE AS new_quotes
    FOR EACH STATEMENT EXECUTE FUNCTION quotes_party_role_on_insert_fn();
COMMENT ON TRIGGER quotes_agent_is_agent_on_insert ON quotes IS
    'quotes_agent_is_agent: a quote''s assigned agent is a user with role agent.';

SELECT hand_objects_to_owner();
