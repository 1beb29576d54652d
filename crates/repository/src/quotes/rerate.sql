-- Re-rate in ONE round trip (optimistic concurrency, see quotedb_schema::quotes):
-- app_rerate_quote (migration 0017) bumps current_version only if it is still the expected
-- one, inserts that version and updates the line premiums, as the acting user, under RLS and
-- every rule. outcome: 'rated' (the new row), 'conflict' (someone rated first: the current row),
-- 'forbidden' (the actor may read but not change it); no row: not visible.
--   $1 acting user (NULL = the system actor), $2 quote id, $3 expected current_version,
--   $4 premium, $5 rating_inputs, $6 breakdown, $7/$8 line premiums (coverage type, premium) as
--   parallel arrays, $9 the reference data generation the premium was computed from
--   (quote_versions_reference_data_current).
SELECT q.outcome AS "outcome!",
       q.id AS "id!: QuoteId",
       q.quote_number AS "quote_number!",
       q.customer_id AS "customer_id!: UserId",
       q.agent_id AS "agent_id?: UserId",
       q.state_code AS "state_code!",
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
FROM app_rerate_quote($1, $2, $3, $4, $5, $6, $7::coverage_type[], $8::numeric[], $9::bigint) q
