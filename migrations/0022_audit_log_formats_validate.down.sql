-- 0022 (down): the two audit_logs format rules NOT VALID again, as 0016 left them (a validated
-- constraint cannot be marked NOT VALID: each is dropped and re-created from its own definition
-- and comment).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT k.conname, pg_get_constraintdef(k.oid) AS def, obj_description(k.oid, 'pg_constraint') AS note
        FROM pg_constraint k
        WHERE k.conrelid = 'public.audit_logs'::regclass
          AND k.conname IN ('audit_logs_entity_id_format', 'audit_logs_request_id_format')
        ORDER BY k.conname
    LOOP
        EXECUTE format('ALTER TABLE public.audit_logs DROP CONSTRAINT %I', c.conname);
        EXECUTE format('ALTER TABLE public.audit_logs ADD CONSTRAINT %I %s NOT VALID', c.conname, c.def);
        EXECUTE format('COMMENT ON CONSTRAINT %I ON public.audit_logs IS %L', c.conname, c.note);
    END LOOP;
END
$$;
