-- Reference seeds 01: the states the platform writes business in.
--
-- Every state listed here is fully rated by the later seed files: a base rate for every coverage
-- type (04_base_rates.sql) and territory factors for its major cities (05_territory_factors.sql).
-- Idempotent: an existing state is left as it is.

INSERT INTO states (code, name)
VALUES
    ('CA', 'California'),
    ('NY', 'New York'),
    ('TX', 'Texas')
ON CONFLICT (code) DO NOTHING;
