-- One keyset page of the quotes assigned to an agent, newest first, in ONE round trip:
-- app_agent_quotes_page (migration 0017) switches to the acting user's role and applies the
-- quotes policies itself (index quotes_agent_id_created_at_id_idx).
--   $1 acting user (NULL = the system actor), $2 agent id, $3/$4 the cursor (created_at, id) or
--   NULL/NULL for the first page, $5 rows to fetch (page size + 1).
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
FROM app_agent_quotes_page($1, $2, $3, $4, $5) q
ORDER BY q.created_at DESC, q.id DESC
