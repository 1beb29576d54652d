-- 0020 (up): the upper bound of the rows analytics_events and admin_activity_logs hold, as NOT VALID
-- checks (a brief ACCESS EXCLUSIVE, catalog only: the existing rows are not scanned here).
-- 0021 validates them (SHARE UPDATE EXCLUSIVE: writes go on) and attaches each table as the first
-- partition of its partitioned successor FOR VALUES FROM (MINVALUE) TO (the bound): the validated
-- check proves the partition constraint, so the ATTACH does not scan the table.
--
-- The bound is the start of the UTC month two months after the later of now() and the newest row
-- (a client-reported occurred_at may lie ahead): a month of margin for 0021 to follow. The newest
-- row is read before the check is added (ACCESS SHARE: writes go on during the scan).
--
-- Reversible: the down migration drops the checks.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

DO $bound$
DECLARE
    t     text;
    bound timestamptz;
BEGIN
    FOREACH t IN ARRAY ARRAY['analytics_events', 'admin_activity_logs'] LOOP
        EXECUTE format('SELECT max(occurred_at) FROM public.%I', t) INTO bound;
        bound := (date_trunc('month', greatest(now(), bound) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
                 + interval '2 months';
        EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I CHECK (occurred_at < %L::timestamptz) NOT VALID',
                       t, t || '_legacy_bound', bound);
        EXECUTE format('COMMENT ON CONSTRAINT %I ON public.%I IS %L', t || '_legacy_bound', t,
                       'Transitional (0020-0021): the rows of the table before it became the first partition of its monthly partitioned successor lie before this bound.');
    END LOOP;
END
$bound$;
