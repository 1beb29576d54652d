-- 0017 down: the agent page and the re-rate go back to a transaction of several round trips
-- (the repository of this release needs 0017).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

DROP FUNCTION app_rerate_quote(uuid, uuid, integer, numeric, jsonb, jsonb, coverage_type[], numeric[], bigint);
DROP FUNCTION app_quote_for_rating(uuid, uuid);
DROP FUNCTION app_agent_quotes_page(uuid, uuid, timestamptz, uuid, bigint);
