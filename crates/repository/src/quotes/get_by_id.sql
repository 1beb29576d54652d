-- One quote by id, as the acting user sees it (row level security filters: invisible = no row).
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
WHERE q.id = $1
