-- Create a rated quote in ONE statement (inside the actor's transaction): the quote (inserted
-- directly as rated with current_version 1 — an INSERT is not a status move), its version 1 and
-- its coverage lines with their premiums. quote_versions_contiguous sees the quote row inserted
-- by the sibling CTE (same command, earlier row); quotes_current_version_in_step checks the pair
-- at COMMIT. The version and line inserts have no RETURNING: nothing reads them, and a RETURNING
-- would also check every new row against the SELECT policies.
--   $1 customer_id, $2 agent_id (NULL = unassigned), $3 state_code, $4 zip, $5 premium,
--   $6 effective_date, $7 metadata, $8 rating_inputs, $9 breakdown,
--   $10..$13 coverage lines (type, limit, deductible, premium) as parallel arrays.
-- expires_at = now() + setting quotes.validity_days (a JSON number > 0, read through
-- public_setting()); when it is missing or not a positive number, nothing is inserted and the
-- statement returns no row.
WITH validity AS (
    SELECT (s.value #>> '{}')::numeric AS days
    FROM (SELECT public_setting('quotes.validity_days') AS value) s
    WHERE jsonb_typeof(s.value) = 'number'
      AND (s.value #>> '{}')::numeric > 0
),
q AS (
    INSERT INTO quotes (customer_id, agent_id, state_code, zip, status, premium, current_version,
                        effective_date, expires_at, metadata)
    SELECT $1, $2, $3, $4, 'rated', $5, 1, $6, now() + interval '1 day' * validity.days::float8, $7
    FROM validity
    RETURNING *
),
v AS (
    INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown)
    SELECT q.id, q.current_version, q.premium, $8, $9
    FROM q
),
c AS (
    INSERT INTO quote_coverages (quote_id, coverage_type, limit_amount, deductible, premium)
    SELECT q.id, l.coverage_type, l.limit_amount, l.deductible, l.premium
    FROM q
    CROSS JOIN unnest($10::coverage_type[], $11::numeric[], $12::numeric[], $13::numeric[])
        AS l (coverage_type, limit_amount, deductible, premium)
)
SELECT q.id AS "id!: QuoteId",
       q.quote_number AS "quote_number!",
       q.customer_id AS "customer_id!: UserId",
       q.agent_id AS "agent_id?: UserId",
       q.state_code::text AS "state_code!",
       q.zip AS "zip!",
       q.status AS "status!: QuoteStatus",
       q.premium AS "premium?",
       q.current_version AS "current_version!",
       q.effective_date AS "effective_date!",
       q.expires_at AS "expires_at!",
       q.bound_at AS "bound_at?",
       q.metadata AS "metadata!",
       q.created_at AS "created_at!",
       q.updated_at AS "updated_at!"
FROM q
