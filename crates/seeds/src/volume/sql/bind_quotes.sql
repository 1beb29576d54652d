-- presented -> bound, with the bind time (quotes_bound_at_iff_bound, quotes_bound_within_validity).
UPDATE quotes AS q
SET status = 'bound',
    bound_at = m.bound_at
FROM volume_quote_moves AS m
WHERE m.quote_id = q.id
  AND m.status = 'bound'
