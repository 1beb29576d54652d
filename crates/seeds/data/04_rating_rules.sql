-- Reference seeds 04: the discount and surcharge rules the rating engine applies.
--
-- One countrywide rule (state_code NULL) per code, active, plus state overrides where a state
-- mandates different terms (a state row replaces the countrywide row of its code in that state):
--   CA good_driver: California Insurance Code 1861.02 requires a good driver discount of at
--   least 20 % (licensed 3 years, at most one violation point).
--
-- Stackable discounts add up and their sum is capped by the rating.discount_cap setting (0.35).
-- good_student is NOT stackable: it applies only on its own.
--
-- JSON keys the rating engine evaluates (all optional per rule, all must hold when present):
--   discounts:  min_other_policies (int), eligible_lines (string[]), min_years_licensed (int),
--               min_years_claim_free (int), max_violation_points (int), max_age (int),
--               min_gpa (number), full_time_student (bool), min_nhtsa_stars (int),
--               device_types (string[], any of), paperless_documents (bool),
--               min_years_with_carrier (int)
--   surcharges: lookback_years (int), min_incidents (int), min_claim_amount (number),
--               min_violations (int), min_convictions (int), max_driver_age (int),
--               min_lapse_days (int), lookback_months (int)
--
-- Idempotent: an existing rule (same code and state) is left as it is.

INSERT INTO discount_rules (code, state_code, percent, stackable, eligibility, description, active)
VALUES
    ('multi_policy', NULL, 12.00, true,
     '{"min_other_policies": 1, "eligible_lines": ["home", "renters", "condo", "life", "umbrella"]}',
     'Customer holds at least one other active policy (home, renters, condo, life or umbrella) with us.', true),
    ('good_driver', NULL, 10.00, true,
     '{"min_years_licensed": 3, "min_years_claim_free": 5, "max_violation_points": 0}',
     'Every driver licensed 3+ years with no at-fault claim in 5 years and no violation points.', true),
    ('good_driver', 'CA', 20.00, true,
     '{"min_years_licensed": 3, "min_years_claim_free": 3, "max_violation_points": 1}',
     'California good driver discount (Ins. Code 1861.02): licensed 3+ years, at most one violation point, no at-fault injury accident in 3 years.', true),
    ('good_student', NULL, 8.00, false,
     '{"max_age": 25, "min_gpa": 3.0, "full_time_student": true}',
     'Full-time student under 25 with a GPA of 3.0 or better; not combined with the stackable discounts.', true),
    ('safe_vehicle', NULL, 5.00, true,
     '{"min_nhtsa_stars": 5}',
     'Vehicle with a 5-star NHTSA overall safety rating.', true),
    ('anti_theft', NULL, 5.00, true,
     '{"device_types": ["passive_immobilizer", "vehicle_recovery", "alarm"]}',
     'Vehicle fitted with a passive immobilizer, a vehicle recovery system or an alarm.', true),
    ('paperless', NULL, 3.00, true,
     '{"paperless_documents": true}',
     'Customer receives policy documents and bills electronically.', true),
    ('loyalty', NULL, 7.00, true,
     '{"min_years_with_carrier": 3}',
     'Customer has been insured with us for 3 years or more without interruption.', true)
ON CONFLICT ON CONSTRAINT discount_rules_code_state_unique DO NOTHING;

INSERT INTO surcharge_rules (code, state_code, percent, conditions, description, active)
VALUES
    ('at_fault_accident', NULL, 40.00,
     '{"lookback_years": 3, "min_incidents": 1, "min_claim_amount": 1000}',
     'A driver caused an accident with a claim of $1,000 or more in the last 3 years.', true),
    ('speeding_violation', NULL, 20.00,
     '{"lookback_years": 3, "min_violations": 1}',
     'A driver was convicted of speeding in the last 3 years.', true),
    ('dui', NULL, 100.00,
     '{"lookback_years": 7, "min_convictions": 1}',
     'A driver was convicted of driving under the influence in the last 7 years.', true),
    ('young_driver', NULL, 60.00,
     '{"max_driver_age": 24}',
     'A listed driver is 24 or younger.', true),
    ('coverage_lapse', NULL, 15.00,
     '{"min_lapse_days": 31, "lookback_months": 6}',
     'The customer went more than 30 days without insurance in the last 6 months.', true)
ON CONFLICT ON CONSTRAINT surcharge_rules_code_state_unique DO NOTHING;
