-- The coverage lines of a quote the acting user can see, in ONE round trip: app_quote_coverages
-- (migration 0024) sets the actor and joins through quotes, whose RLS policies decide. A visible
-- quote without lines gives one row of NULLs (so "no lines" and "not visible" stay
-- distinguishable).
--   $1 acting user (NULL = the system actor), $2 quote id.
SELECT c.quote_id AS "quote_id!: QuoteId",
       c.coverage_type AS "coverage_type?: CoverageType",
       c.limit_amount AS "limit_amount?",
       c.deductible AS "deductible?",
       c.premium AS "premium?"
FROM app_quote_coverages($1, $2) c
