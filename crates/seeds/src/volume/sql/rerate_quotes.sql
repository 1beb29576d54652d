-- One re-rate round: every quote that still lacks ratings gets current_version + 1 (the bump
-- quote_versions_contiguous wants before the next version row), and its final premium with
-- its last bump (quotes_current_version_in_step checks both at COMMIT).
UPDATE quotes AS q
SET current_version = q.current_version + 1,
    premium = CASE WHEN m.versions = q.current_version + 1 THEN m.premium ELSE q.premium END
FROM volume_quote_moves AS m
WHERE m.quote_id = q.id
  AND m.versions > q.current_version
