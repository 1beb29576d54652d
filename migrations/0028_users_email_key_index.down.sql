-- 0028 users.email_key index (down).
DROP INDEX users_email_key_idx;
