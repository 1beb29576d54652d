-- Everything rating reads for one quote, in ONE round trip (one row):
--   $1 state code, $2 ZIP, $3 requested coverage types (in request order), $4 effective date.
-- * base rates: one entry per requested coverage, in request order; NULL id/amount = no active
--   rate for that coverage on the date (the repository reports NoBaseRate);
-- * the territory factor of (state, ZIP) on the date (NULL = none: NoTerritory);
-- * the active discount and surcharge rules applying in the state: a state row overrides the
--   countrywide row (state_code NULL) of the same code (DISTINCT ON code, state row first);
-- * the reference data generation all of it belongs to (migration 0015; one snapshot: one
--   statement), which a price computed from it carries to quote_versions_reference_data_current;
-- * the discount cap, a JSON number read through public_setting() (NULL = missing or not a number;
--   one call: the jsonpath keeps the value only when it is a number).
-- Each kind of row is read by ONE scan that builds all its arrays at once (array_agg ... ORDER BY;
-- coalesce because array_agg of no rows is NULL), and the four parts are joined as one row: no CTE
-- is read twice, so each is planned inline (the earlier ARRAY(SELECT ...) per column took 17
-- InitPlans, half of the execution time).
-- $1 is text, the type of the state_code columns since 0013 (when they were char(2), the
-- parameter had to be cast to bpchar for their indexes to serve).
-- Predicates stay literal (status = 'active', active) so the partial indexes
-- base_rates_state_code_coverage_type_active_idx, territory_factors_state_code_zip_active_idx,
-- discount_rules_state_code_active_idx and surcharge_rules_state_code_active_idx serve generic plans.
SELECT
    r.coverages AS "rate_coverages!: Vec<CoverageType>",
    r.ids AS "rate_ids!: Vec<Option<Uuid>>",
    r.amounts AS "rate_amounts!: Vec<Option<Decimal>>",
    t.id AS "territory_id?: Uuid",
    t.city AS "territory_city?: String",
    t.factor AS "territory_factor?: Decimal",
    d.ids AS "discount_ids!: Vec<Uuid>",
    d.codes AS "discount_codes!: Vec<DiscountCode>",
    d.states AS "discount_states!: Vec<Option<String>>",
    d.percents AS "discount_percents!: Vec<Decimal>",
    d.stackable AS "discount_stackable!: Vec<bool>",
    d.eligibility AS "discount_eligibility!: Vec<JsonValue>",
    s.ids AS "surcharge_ids!: Vec<Uuid>",
    s.codes AS "surcharge_codes!: Vec<SurchargeCode>",
    s.states AS "surcharge_states!: Vec<Option<String>>",
    s.percents AS "surcharge_percents!: Vec<Decimal>",
    s.conditions AS "surcharge_conditions!: Vec<JsonValue>",
    (jsonb_path_query_first(public_setting('rating.discount_cap'), '$ ? (@.type() == "number")') #>> '{}')::numeric
        AS "discount_cap?: Decimal",
    g.generation AS "generation!"
FROM reference_data_generation g
CROSS JOIN (
    SELECT coalesce(array_agg(req.coverage_type ORDER BY req.ord), '{}') AS coverages,
           coalesce(array_agg(b.id ORDER BY req.ord), '{}') AS ids,
           coalesce(array_agg(b.base_amount ORDER BY req.ord), '{}') AS amounts
    FROM unnest($3::coverage_type[]) WITH ORDINALITY AS req (coverage_type, ord)
    LEFT JOIN base_rates b
           ON b.status = 'active'
          AND b.state_code = $1
          AND b.coverage_type = req.coverage_type
          AND b.effective @> $4::date
) r
CROSS JOIN (
    SELECT coalesce(array_agg(x.id ORDER BY x.code), '{}') AS ids,
           coalesce(array_agg(x.code ORDER BY x.code), '{}') AS codes,
           coalesce(array_agg(x.state_code::text ORDER BY x.code), '{}') AS states,
           coalesce(array_agg(x.percent ORDER BY x.code), '{}') AS percents,
           coalesce(array_agg(x.stackable ORDER BY x.code), '{}') AS stackable,
           coalesce(array_agg(x.eligibility ORDER BY x.code), '{}') AS eligibility
    FROM (
        SELECT DISTINCT ON (dr.code) dr.id, dr.code, dr.state_code, dr.percent, dr.stackable, dr.eligibility
        FROM discount_rules dr
        WHERE dr.active
          AND (dr.state_code = $1 OR dr.state_code IS NULL)
        ORDER BY dr.code, dr.state_code NULLS LAST
    ) x
) d
CROSS JOIN (
    SELECT coalesce(array_agg(x.id ORDER BY x.code), '{}') AS ids,
           coalesce(array_agg(x.code ORDER BY x.code), '{}') AS codes,
           coalesce(array_agg(x.state_code::text ORDER BY x.code), '{}') AS states,
           coalesce(array_agg(x.percent ORDER BY x.code), '{}') AS percents,
           coalesce(array_agg(x.conditions ORDER BY x.code), '{}') AS conditions
    FROM (
        SELECT DISTINCT ON (sr.code) sr.id, sr.code, sr.state_code, sr.percent, sr.conditions
        FROM surcharge_rules sr
        WHERE sr.active
          AND (sr.state_code = $1 OR sr.state_code IS NULL)
        ORDER BY sr.code, sr.state_code NULLS LAST
    ) x
) s
LEFT JOIN territory_factors t
       ON t.status = 'active'
      AND t.state_code = $1
      AND t.zip = $2
      AND t.effective @> $4::date
