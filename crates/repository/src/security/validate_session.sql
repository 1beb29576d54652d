-- The hot authentication path, ONE round trip: session_by_token_hash() (SECURITY DEFINER, 0006)
-- returns the active session of a token hash and its user through the unique index
-- user_sessions_token_hash_unique, without an acting user (the caller is not known yet).
SELECT s.id           AS "id!: SessionId",
       s.user_id      AS "user_id!: UserId",
       s.ip           AS "ip?",
       s.user_agent   AS "user_agent?",
       s.created_at   AS "created_at!",
       s.last_seen_at AS "last_seen_at!",
       s.expires_at   AS "expires_at!",
       s.email        AS "email!",
       s.full_name    AS "full_name!",
       s.role         AS "role!: UserRole"
FROM session_by_token_hash($1) s
