-- Final statuses through allowed transitions: rated -> presented (bound quotes stop there for
-- now), rated / draft -> expired | declined | cancelled.
UPDATE quotes AS q
SET status = CASE WHEN m.status = 'bound' THEN 'presented'::quote_status ELSE m.status END
FROM volume_quote_moves AS m
WHERE m.quote_id = q.id
  AND m.status NOT IN ('draft', 'rated')
