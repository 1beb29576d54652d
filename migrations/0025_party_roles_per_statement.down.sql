-- 0025 a quote's parties checked once per INSERT statement (down): the row triggers of 0002/0007
-- on INSERT OR UPDATE again.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

DROP TRIGGER quotes_agent_is_agent_on_insert ON quotes;
DROP TRIGGER quotes_agent_is_agent ON quotes;
CREATE TRIGGER quotes_agent_is_agent
    BEFORE INSERT OR UPDATE OF agent_id ON quotes
    FOR EACH ROW EXECUTE FUNCTION quotes_party_role_fn();
COMMENT ON TRIGGER quotes_agent_is_agent ON quotes IS
    'A quote''s assigned agent is a user with role agent.';

DROP TRIGGER quotes_customer_is_customer_on_insert ON quotes;
DROP TRIGGER quotes_customer_is_customer ON quotes;
CREATE TRIGGER quotes_customer_is_customer
    BEFORE INSERT OR UPDATE OF customer_id ON quotes
    FOR EACH ROW EXECUTE FUNCTION quotes_party_role_fn();
COMMENT ON TRIGGER quotes_customer_is_customer ON quotes IS
    'A quote''s customer is a user with role customer.';

DROP FUNCTION quotes_party_role_on_insert_fn();
