-- The high-risk review queue: a keyset page of admin activity scored 70 or more, newest first.
-- The predicate risk_score >= 70 is LITERAL so the partial index
-- admin_activity_logs_occurred_at_high_risk_idx (occurred_at DESC, id DESC) serves it under
-- generic plans too. $1, $2: the cursor (occurred_at, id); $3: page size + 1.
SELECT id AS "id: AdminActivityId", admin_user_id AS "admin_user_id: AdminUserId", action,
       resource_type, resource_id, details, ip, risk_score, risk_factors, occurred_at
FROM admin_activity_logs
WHERE risk_score >= 70
  AND (occurred_at, id) < ($1, $2)
ORDER BY occurred_at DESC, id DESC
LIMIT $3
