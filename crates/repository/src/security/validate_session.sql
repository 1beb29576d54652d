-- The hot authentication path: the active session of a token hash and its user, by the unique
-- index user_sessions_token_hash_unique. Runs as the system actor (the caller is not known yet).
SELECT s.id           AS "id: SessionId",
       s.user_id      AS "user_id: UserId",
       s.ip,
       s.user_agent,
       s.created_at,
       s.last_seen_at,
       s.expires_at,
       u.email::text  AS "email!",
       u.full_name,
       u.role         AS "role: UserRole"
FROM user_sessions s
JOIN users u ON u.id = s.user_id
WHERE s.token_hash = $1
  AND s.revoked_at IS NULL
  AND s.expires_at > now()
