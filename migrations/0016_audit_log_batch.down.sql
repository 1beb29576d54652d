-- 0016 (down): drops append_audit_logs() (audit rows are appended one at a time again, through
-- append_audit_log()) and gives audit_logs_entity_id_format and audit_logs_request_id_format
-- their previous (equivalent, slower) expressions. No data is touched.

SET LOCAL lock_timeout = '5s';

DROP FUNCTION append_audit_logs(uuid, text[], text[], text[], jsonb[], jsonb[], inet[], text[]);

ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_entity_id_format;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_entity_id_format CHECK (entity_id ~ '^\S{1,200}$');
COMMENT ON CONSTRAINT audit_logs_entity_id_format ON audit_logs IS 'An audited entity id is 1-200 characters without whitespace.';
ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_request_id_format;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_request_id_format CHECK (request_id ~ '^[A-Za-z0-9._:-]{1,128}$');
COMMENT ON CONSTRAINT audit_logs_request_id_format ON audit_logs IS 'A request id is 1-128 letters, digits, dots, underscores, colons or hyphens.';
