-- 0024 the quote reads by id in one round trip each (down): the functions go; the repository of
-- the previous release reads the tables in a transaction.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '1min';

DROP FUNCTION app_quote_versions(uuid, uuid);
DROP FUNCTION app_quote_coverages(uuid, uuid);
DROP FUNCTION app_quote_by_id(uuid, uuid);
