-- The review queue of rate change requests: a keyset page of pending requests, oldest submission
-- first. The predicate status = 'pending' is LITERAL so the partial index
-- rate_change_requests_submitted_at_pending_idx (submitted_at, id) serves it under generic plans.
-- $1, $2: the cursor (submitted_at, id); $3: page size + 1.
SELECT id AS "id: RateChangeRequestId", kind AS "kind: RateChangeKind", proposed_change,
       justification, base_rate_id AS "base_rate_id: BaseRateId",
       territory_factor_id AS "territory_factor_id: TerritoryFactorId",
       status AS "status: RateChangeStatus", requested_by AS "requested_by: AdminUserId",
       submitted_at, reviewed_by AS "reviewed_by: AdminUserId", reviewed_at, review_note,
       applied_by AS "applied_by: AdminUserId", applied_at, created_at, updated_at
FROM rate_change_requests
WHERE status = 'pending' AND (submitted_at, id) > ($1, $2)
ORDER BY submitted_at, id
LIMIT $3
