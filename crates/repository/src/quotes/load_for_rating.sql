-- What a re-rate needs of a quote, as the acting user sees it: where, when, the version token and
-- the coverage lines (in coverage type order). No lock: the re-rate's UPDATE ... WHERE
-- current_version = $expected detects a concurrent rating.
SELECT q.id AS "id!: QuoteId",
       q.state_code::text AS "state_code!",
       q.zip AS "zip!",
       q.effective_date AS "effective_date!",
       q.current_version AS "current_version!",
       ARRAY(SELECT c.coverage_type FROM quote_coverages c WHERE c.quote_id = q.id ORDER BY c.coverage_type)
           AS "coverage_types!: Vec<CoverageType>",
       ARRAY(SELECT c.limit_amount FROM quote_coverages c WHERE c.quote_id = q.id ORDER BY c.coverage_type)
           AS "limit_amounts!: Vec<Option<Decimal>>",
       ARRAY(SELECT c.deductible FROM quote_coverages c WHERE c.quote_id = q.id ORDER BY c.coverage_type)
           AS "deductibles!: Vec<Decimal>"
FROM quotes q
WHERE q.id = $1
