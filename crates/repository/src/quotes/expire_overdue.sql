-- Expire one batch of overdue open quotes. The predicate repeats quotes_expires_at_open_idx
-- verbatim (literal statuses) so generic plans use the partial index; SKIP LOCKED lets several
-- workers sweep side by side and never waits on a quote being worked on.
--   $1 batch size.
WITH due AS (
    SELECT q.id
    FROM quotes q
    WHERE q.status IN ('draft', 'rated', 'presented')
      AND q.expires_at < now()
    ORDER BY q.expires_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
),
expired AS (
    UPDATE quotes q
    SET status = 'expired'
    FROM due
    WHERE q.id = due.id
    RETURNING q.id
)
SELECT count(*) AS "expired!" FROM expired
