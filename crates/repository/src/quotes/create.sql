-- Create a rated quote in ONE round trip: app_create_quote (migrations 0006, 0015) inserts the quote
-- (directly as rated with current_version 1), its version 1 and its coverage lines as the acting
-- user, under the RLS policies and every rule trigger, runs the deferred version check, and
-- returns the quote; no row when the setting quotes.validity_days is missing or not a positive
-- number (nothing is inserted then).
--   $1 acting user (NULL = the system actor), $2 customer_id, $3 agent_id (NULL = unassigned),
--   $4 state_code, $5 zip, $6 premium, $7 effective_date, $8 metadata, $9 rating_inputs,
--   $10 breakdown, $11..$14 coverage lines (type, limit, deductible, premium) as parallel arrays,
--   $15 the reference data generation the premium was computed from (refused with SQLSTATE 40001
--   by quote_versions_reference_data_current when it is no longer the current one).
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
FROM app_create_quote($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                      $11::coverage_type[], $12::numeric[], $13::numeric[], $14::numeric[], $15::bigint) q
