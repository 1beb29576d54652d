-- The rating snapshots of a quote the acting user can see, oldest first. quote_versions has no
-- row level security of its own: the join through quotes scopes it. A visible quote that was
-- never rated gives one row of NULLs.
SELECT q.id AS "quote_id!: QuoteId",
       v.id AS "id?: QuoteVersionId",
       v.version AS "version?",
       v.premium AS "premium?",
       v.rating_inputs AS "rating_inputs?",
       v.breakdown AS "breakdown?",
       v.created_at AS "created_at?"
FROM quotes q
LEFT JOIN quote_versions v ON v.quote_id = q.id
WHERE q.id = $1
ORDER BY v.version
