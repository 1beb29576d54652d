-- Re-rate in ONE statement (optimistic concurrency, see quotedb_schema::quotes): bump
-- current_version only if it is still the expected one, insert that version, update the line
-- premiums. When someone else rated first (or RLS hides the row from UPDATE) the bump matches
-- no row, nothing else happens and the statement returns no row.
--   $1 quote id, $2 expected current_version, $3 premium, $4 rating_inputs, $5 breakdown,
--   $6/$7 line premiums (coverage type, premium) as parallel arrays, $8 the reference data
--   generation the premium was computed from (quote_versions_reference_data_current).
WITH q AS (
    UPDATE quotes
    SET status = 'rated', premium = $3, current_version = current_version + 1
    WHERE id = $1 AND current_version = $2
    RETURNING *
),
v AS (
    INSERT INTO quote_versions (quote_id, version, premium, rating_inputs, breakdown, reference_generation)
    SELECT q.id, q.current_version, q.premium, $4, $5, $8::bigint
    FROM q
),
lines AS (
    UPDATE quote_coverages c
    SET premium = l.premium
    FROM q, unnest($6::coverage_type[], $7::numeric[]) AS l (coverage_type, premium)
    WHERE c.quote_id = q.id AND c.coverage_type = l.coverage_type
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
