-- Move a quote to another status; quotes_status_transition decides whether the move is allowed,
-- quotes_bound_at_iff_bound / quotes_bound_within_validity govern bound_at (set on bind).
-- Row level security: a row the actor may not update is skipped (no row returned).
--   $1 quote id, $2 target status.
UPDATE quotes q
SET status = $2,
    bound_at = CASE WHEN $2 = 'bound'::quote_status THEN now() ELSE q.bound_at END
WHERE q.id = $1
RETURNING q.id AS "id!: QuoteId",
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
