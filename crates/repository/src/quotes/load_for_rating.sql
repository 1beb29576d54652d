-- What re-rating a quote prices from, in ONE round trip as the acting user (migration 0017):
-- state, ZIP, effective date, current version and the coverage lines in coverage order.
--   $1 acting user (NULL = the system actor), $2 quote id. No row: not visible.
SELECT q.id AS "id!: QuoteId",
       q.state_code AS "state_code!",
       q.zip AS "zip!",
       q.effective_date AS "effective_date!",
       q.current_version AS "current_version!",
       q.coverage_types AS "coverage_types!: Vec<CoverageType>",
       q.limit_amounts AS "limit_amounts!: Vec<Option<Decimal>>",
       q.deductibles AS "deductibles!: Vec<Decimal>"
FROM app_quote_for_rating($1, $2) q
