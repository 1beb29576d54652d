-- Reverts 0004_security_compliance. Dropping a table drops its partitions, indexes, triggers,
-- constraints, comments and grants. Partitions already detached by detach_audit_log_partitions()
-- are standalone archive tables and are left alone.

DROP FUNCTION audit_log_default_partition_rows();
DROP FUNCTION detach_audit_log_partitions(integer);
DROP FUNCTION create_audit_log_partitions(integer);
DROP TABLE audit_logs;
DROP FUNCTION audit_logs_append_only_fn();

DROP INDEX drivers_license_number_hash_idx;
ALTER TABLE drivers
    DROP CONSTRAINT drivers_license_number_hash_length,
    DROP CONSTRAINT drivers_license_number_key_id_format,
    DROP CONSTRAINT drivers_license_number_ciphertext_length,
    DROP CONSTRAINT drivers_license_number_nonce_length,
    DROP CONSTRAINT drivers_license_number_complete,
    DROP COLUMN license_number_hash,
    DROP COLUMN license_number_key_id,
    DROP COLUMN license_number_nonce,
    DROP COLUMN license_number_ciphertext;

DROP TABLE user_sessions;
DROP TABLE oauth2_clients;
DROP TABLE user_identities;
DROP TABLE sso_providers;

DROP FUNCTION text_array_all_match(text[], text);

DROP TYPE session_revoke_reason;
DROP TYPE oauth2_grant_type;
DROP TYPE sso_protocol;
