-- One quote by id, as the acting user sees it, in ONE round trip: app_quote_by_id (migration 0024)
-- runs the lookup as quotedb_app with the actor set, so quotes' RLS policies decide (invisible =
-- no row).
--   $1 acting user (NULL = the system actor), $2 quote id.
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
FROM app_quote_by_id($1, $2) q
