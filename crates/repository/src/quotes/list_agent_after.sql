-- Next keyset page of an agent's assigned quotes: the rows strictly after the cursor (created_at, id) in
-- ORDER BY created_at DESC, id DESC (index quotes_agent_id_created_at_id_idx).
--   $1 agent_id, $2 cursor created_at, $3 cursor id, $4 page size + 1.
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
FROM quotes q
WHERE q.agent_id = $1
  AND (q.created_at, q.id) < ($2, $3)
ORDER BY q.created_at DESC, q.id DESC
LIMIT $4
