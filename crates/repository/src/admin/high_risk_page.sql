-- The high-risk review queue: a keyset page of admin activity scored 70 or more, newest first,
-- as the acting user may read it, in ONE round trip: app_high_risk_activity_page (migration 0006)
-- runs as quotedb_app with the actor set, so the RLS policies decide. Its predicate
-- risk_score >= 70 is literal so the partial index admin_activity_logs_occurred_at_high_risk_idx
-- (occurred_at DESC, id DESC) serves generic plans too.
--   $1 acting user (NULL = the system actor), $2, $3: the cursor (occurred_at, id); $4: page size + 1.
SELECT a.id AS "id!: AdminActivityId", a.admin_user_id AS "admin_user_id!: AdminUserId", a.action AS "action!",
       a.resource_type AS "resource_type!", a.resource_id AS "resource_id?", a.details AS "details!",
       a.ip AS "ip?", a.risk_score AS "risk_score!", a.risk_factors AS "risk_factors!",
       a.occurred_at AS "occurred_at!"
FROM app_high_risk_activity_page($1, $2, $3, $4) a
ORDER BY a.occurred_at DESC, a.id DESC
