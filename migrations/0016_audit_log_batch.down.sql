-- 0016 (down): drops append_audit_logs(); audit rows are appended one at a time again
-- (append_audit_log()). No data is touched.

SET LOCAL lock_timeout = '5s';

DROP FUNCTION append_audit_logs(uuid, text[], text[], text[], jsonb[], jsonb[], inet[], text[]);
