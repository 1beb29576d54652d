-- Everything rating reads for one quote, in ONE round trip (one row):
--   $1 state code, $2 ZIP, $3 requested coverage types (in request order), $4 effective date.
-- * base rates: one entry per requested coverage, in request order; NULL id/amount = no active
--   rate for that coverage on the date (the repository reports NoBaseRate);
-- * the territory factor of (state, ZIP) on the date (NULL = none: NoTerritory);
-- * the active discount and surcharge rules applying in the state: a state row overrides the
--   countrywide row (state_code NULL) of the same code (DISTINCT ON code, state row first);
-- * the discount cap, a JSON number read through public_setting() (NULL = missing or not a number).
-- Predicates stay literal (status = 'active', active) so the partial indexes
-- base_rates_state_code_coverage_type_active_idx, territory_factors_state_code_zip_active_idx,
-- discount_rules_state_code_active_idx and surcharge_rules_state_code_active_idx serve generic plans.
WITH requested AS (
    SELECT r.coverage_type, r.ord
    FROM unnest($3::coverage_type[]) WITH ORDINALITY AS r (coverage_type, ord)
),
rates AS (
    SELECT r.ord, r.coverage_type, b.id, b.base_amount
    FROM requested r
    LEFT JOIN base_rates b
           ON b.status = 'active'
          AND b.state_code = $1
          AND b.coverage_type = r.coverage_type
          AND b.effective @> $4::date
),
territory AS (
    SELECT t.id, t.city, t.factor
    FROM territory_factors t
    WHERE t.status = 'active'
      AND t.state_code = $1
      AND t.zip = $2
      AND t.effective @> $4::date
),
discounts AS (
    SELECT DISTINCT ON (d.code) d.id, d.code, d.state_code, d.percent, d.stackable, d.eligibility
    FROM discount_rules d
    WHERE d.active
      AND (d.state_code = $1 OR d.state_code IS NULL)
    ORDER BY d.code, d.state_code NULLS LAST
),
surcharges AS (
    SELECT DISTINCT ON (s.code) s.id, s.code, s.state_code, s.percent, s.conditions
    FROM surcharge_rules s
    WHERE s.active
      AND (s.state_code = $1 OR s.state_code IS NULL)
    ORDER BY s.code, s.state_code NULLS LAST
),
cap AS (
    SELECT public_setting('rating.discount_cap') AS value
)
SELECT
    ARRAY(SELECT coverage_type FROM rates ORDER BY ord) AS "rate_coverages!: Vec<CoverageType>",
    ARRAY(SELECT id FROM rates ORDER BY ord) AS "rate_ids!: Vec<Option<Uuid>>",
    ARRAY(SELECT base_amount FROM rates ORDER BY ord) AS "rate_amounts!: Vec<Option<Decimal>>",
    (SELECT id FROM territory) AS "territory_id?: Uuid",
    (SELECT city FROM territory) AS "territory_city?: String",
    (SELECT factor FROM territory) AS "territory_factor?: Decimal",
    ARRAY(SELECT id FROM discounts ORDER BY code) AS "discount_ids!: Vec<Uuid>",
    ARRAY(SELECT code FROM discounts ORDER BY code) AS "discount_codes!: Vec<DiscountCode>",
    ARRAY(SELECT state_code::text FROM discounts ORDER BY code) AS "discount_states!: Vec<Option<String>>",
    ARRAY(SELECT percent FROM discounts ORDER BY code) AS "discount_percents!: Vec<Decimal>",
    ARRAY(SELECT stackable FROM discounts ORDER BY code) AS "discount_stackable!: Vec<bool>",
    ARRAY(SELECT eligibility FROM discounts ORDER BY code) AS "discount_eligibility!: Vec<JsonValue>",
    ARRAY(SELECT id FROM surcharges ORDER BY code) AS "surcharge_ids!: Vec<Uuid>",
    ARRAY(SELECT code FROM surcharges ORDER BY code) AS "surcharge_codes!: Vec<SurchargeCode>",
    ARRAY(SELECT state_code::text FROM surcharges ORDER BY code) AS "surcharge_states!: Vec<Option<String>>",
    ARRAY(SELECT percent FROM surcharges ORDER BY code) AS "surcharge_percents!: Vec<Decimal>",
    ARRAY(SELECT conditions FROM surcharges ORDER BY code) AS "surcharge_conditions!: Vec<JsonValue>",
    (SELECT CASE WHEN jsonb_typeof(value) = 'number' THEN (value #>> '{}')::numeric END FROM cap)
        AS "discount_cap?: Decimal"
