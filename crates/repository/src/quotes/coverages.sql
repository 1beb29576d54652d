-- The coverage lines of a quote the acting user can see. quote_coverages has no row level
-- security of its own: the join through quotes (which has) is what scopes it. A visible quote
-- without lines gives one row of NULLs (so "no lines" and "not visible" stay distinguishable).
SELECT q.id AS "quote_id!: QuoteId",
       c.coverage_type AS "coverage_type?: CoverageType",
       c.limit_amount AS "limit_amount?",
       c.deductible AS "deductible?",
       c.premium AS "premium?"
FROM quotes q
LEFT JOIN quote_coverages c ON c.quote_id = q.id
WHERE q.id = $1
ORDER BY c.coverage_type
