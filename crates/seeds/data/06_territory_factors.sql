-- Reference seeds 06: territory factors for the major cities of every seeded state (real ZIP
-- codes, several per city), effective from 2025-01-01 until further notice.
--
-- Factors multiply the base rate (1.000 = neutral; allowed 0.500 - 3.000): dense urban cores
-- with high theft and claim frequency are high (the Bronx and Brooklyn highest, then Manhattan,
-- Queens and Los Angeles), upstate New York is below 1.
--
-- Like the base rates (05), each factor goes through the rate change workflow: a
-- territory_factor request drafted and submitted by rates-proposer, approved and applied by
-- rates-approver. proposed_change: {"state_code", "zip", "city", "factor" (decimal string,
-- 3 places), "effective_from"}.
--
-- Idempotent: a factor whose request (same proposer, same proposed_change) already exists is
-- skipped.

DO $seed$
DECLARE
    v_effective_from constant text := '2025-01-01';
    v_proposer uuid;
    v_approver uuid;
    v_change   jsonb;
    v_request  uuid;
    r          record;
BEGIN
    SELECT au.id INTO v_proposer
    FROM admin_users au JOIN users u ON u.id = au.user_id
    WHERE u.email = 'rates-proposer@quotedb.internal';
    SELECT au.id INTO v_approver
    FROM admin_users au JOIN users u ON u.id = au.user_id
    WHERE u.email = 'rates-approver@quotedb.internal';
    IF v_proposer IS NULL OR v_approver IS NULL THEN
        RAISE EXCEPTION 'seed accounts rates-proposer / rates-approver are missing (03_system_settings_and_accounts.sql)';
    END IF;

    FOR r IN
        SELECT v.state_code, v.city, v.zip, v.factor::numeric(4,3) AS factor
        FROM (VALUES
            -- California
            ('CA', 'Los Angeles',   '90001', 1.780),
            ('CA', 'Los Angeles',   '90011', 1.820),
            ('CA', 'Los Angeles',   '90026', 1.650),
            ('CA', 'Los Angeles',   '90028', 1.700),
            ('CA', 'Los Angeles',   '90044', 1.800),
            ('CA', 'Los Angeles',   '90049', 1.450),
            ('CA', 'San Francisco', '94105', 1.600),
            ('CA', 'San Francisco', '94102', 1.550),
            ('CA', 'San Francisco', '94103', 1.520),
            ('CA', 'San Francisco', '94110', 1.450),
            ('CA', 'San Francisco', '94117', 1.380),
            ('CA', 'San Francisco', '94122', 1.300),
            ('CA', 'San Francisco', '94133', 1.420),
            ('CA', 'San Diego',     '92101', 1.250),
            ('CA', 'San Diego',     '92104', 1.180),
            ('CA', 'San Diego',     '92109', 1.150),
            ('CA', 'San Diego',     '92115', 1.200),
            ('CA', 'San Diego',     '92126', 1.050),
            ('CA', 'Sacramento',    '95811', 1.150),
            ('CA', 'Sacramento',    '95814', 1.180),
            ('CA', 'Sacramento',    '95820', 1.220),
            ('CA', 'Sacramento',    '95823', 1.250),
            ('CA', 'Sacramento',    '95831', 1.050),
            ('CA', 'San Jose',      '95110', 1.200),
            ('CA', 'San Jose',      '95112', 1.230),
            ('CA', 'San Jose',      '95116', 1.260),
            ('CA', 'San Jose',      '95122', 1.250),
            ('CA', 'San Jose',      '95125', 1.100),
            -- Texas
            ('TX', 'Houston',       '77002', 1.550),
            ('TX', 'Houston',       '77004', 1.500),
            ('TX', 'Houston',       '77036', 1.620),
            ('TX', 'Houston',       '77057', 1.450),
            ('TX', 'Houston',       '77081', 1.580),
            ('TX', 'Houston',       '77099', 1.600),
            ('TX', 'Dallas',        '75201', 1.400),
            ('TX', 'Dallas',        '75204', 1.350),
            ('TX', 'Dallas',        '75211', 1.480),
            ('TX', 'Dallas',        '75216', 1.520),
            ('TX', 'Dallas',        '75228', 1.420),
            ('TX', 'Austin',        '78701', 1.200),
            ('TX', 'Austin',        '78704', 1.150),
            ('TX', 'Austin',        '78741', 1.280),
            ('TX', 'Austin',        '78745', 1.120),
            ('TX', 'Austin',        '78753', 1.220),
            ('TX', 'San Antonio',   '78201', 1.250),
            ('TX', 'San Antonio',   '78207', 1.320),
            ('TX', 'San Antonio',   '78209', 1.100),
            ('TX', 'San Antonio',   '78228', 1.240),
            ('TX', 'San Antonio',   '78249', 1.050),
            ('TX', 'Fort Worth',    '76102', 1.220),
            ('TX', 'Fort Worth',    '76104', 1.300),
            ('TX', 'Fort Worth',    '76107', 1.150),
            ('TX', 'Fort Worth',    '76116', 1.180),
            ('TX', 'Fort Worth',    '76137', 1.100),
            -- New York: the five boroughs of New York City
            ('NY', 'Manhattan',     '10001', 2.250),
            ('NY', 'Manhattan',     '10002', 2.300),
            ('NY', 'Manhattan',     '10016', 2.150),
            ('NY', 'Manhattan',     '10025', 2.200),
            ('NY', 'Manhattan',     '10027', 2.350),
            ('NY', 'Manhattan',     '10036', 2.250),
            ('NY', 'Brooklyn',      '11201', 2.450),
            ('NY', 'Brooklyn',      '11206', 2.650),
            ('NY', 'Brooklyn',      '11212', 2.800),
            ('NY', 'Brooklyn',      '11215', 2.400),
            ('NY', 'Brooklyn',      '11226', 2.750),
            ('NY', 'Brooklyn',      '11235', 2.550),
            ('NY', 'Queens',        '11354', 2.300),
            ('NY', 'Queens',        '11368', 2.500),
            ('NY', 'Queens',        '11373', 2.450),
            ('NY', 'Queens',        '11375', 2.200),
            ('NY', 'Queens',        '11432', 2.550),
            ('NY', 'Bronx',         '10451', 2.750),
            ('NY', 'Bronx',         '10453', 2.850),
            ('NY', 'Bronx',         '10456', 2.900),
            ('NY', 'Bronx',         '10462', 2.650),
            ('NY', 'Bronx',         '10467', 2.800),
            ('NY', 'Staten Island', '10301', 1.900),
            ('NY', 'Staten Island', '10306', 1.800),
            ('NY', 'Staten Island', '10310', 1.850),
            ('NY', 'Staten Island', '10312', 1.750),
            ('NY', 'Staten Island', '10314', 1.800),
            -- New York: upstate
            ('NY', 'Buffalo',       '14201', 1.150),
            ('NY', 'Buffalo',       '14207', 1.200),
            ('NY', 'Buffalo',       '14211', 1.250),
            ('NY', 'Buffalo',       '14214', 1.100),
            ('NY', 'Buffalo',       '14215', 1.220),
            ('NY', 'Rochester',     '14604', 1.050),
            ('NY', 'Rochester',     '14605', 1.120),
            ('NY', 'Rochester',     '14607', 0.980),
            ('NY', 'Rochester',     '14609', 1.000),
            ('NY', 'Rochester',     '14621', 1.150),
            ('NY', 'Albany',        '12202', 0.950),
            ('NY', 'Albany',        '12203', 0.880),
            ('NY', 'Albany',        '12206', 0.980),
            ('NY', 'Albany',        '12208', 0.900),
            ('NY', 'Albany',        '12210', 0.960),
            ('NY', 'Syracuse',      '13202', 1.000),
            ('NY', 'Syracuse',      '13203', 0.980),
            ('NY', 'Syracuse',      '13204', 1.020),
            ('NY', 'Syracuse',      '13206', 0.920),
            ('NY', 'Syracuse',      '13210', 0.960)
        ) AS v (state_code, city, zip, factor)
    LOOP
        v_change := jsonb_build_object(
            'state_code', r.state_code,
            'zip', r.zip,
            'city', r.city,
            'factor', r.factor::text,
            'effective_from', v_effective_from);

        CONTINUE WHEN EXISTS (
            SELECT 1 FROM rate_change_requests q
            WHERE q.kind = 'territory_factor' AND q.requested_by = v_proposer AND q.proposed_change = v_change);

        INSERT INTO rate_change_requests (kind, proposed_change, justification, requested_by)
        VALUES ('territory_factor', v_change,
                format('Reference rate filing 2025: territory factor %s for %s, %s %s, effective %s.',
                       r.factor, r.city, r.state_code, r.zip, v_effective_from),
                v_proposer)
        RETURNING id INTO v_request;

        UPDATE rate_change_requests SET status = 'pending', submitted_at = now()
        WHERE id = v_request;

        UPDATE rate_change_requests
        SET status = 'approved', reviewed_by = v_approver, reviewed_at = now(),
            review_note = 'Reference rate filing: approved for the seeded rating tables.'
        WHERE id = v_request;

        PERFORM apply_rate_change_request(v_request, v_approver);
    END LOOP;
END
$seed$;
