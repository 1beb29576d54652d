-- 0014_state_code_text_validate (down): the foreign keys NOT VALID again, as 0013 left them (a
-- validated constraint cannot be marked NOT VALID: each is dropped and re-created from its own
-- definition and comment).

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN
        SELECT c.conrelid::regclass AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def,
               obj_description(c.oid, 'pg_constraint') AS note
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.confrelid = 'public.states'::regclass
        ORDER BY c.conname
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', fk.tbl, fk.conname, fk.def);
        EXECUTE format('COMMENT ON CONSTRAINT %I ON %s IS %L', fk.conname, fk.tbl, fk.note);
    END LOOP;
END
$$;
