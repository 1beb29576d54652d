-- Reference seeds 05: the 2025 base rate filing of every seeded state, one annual base premium
-- per coverage type, effective from 2025-01-01 until further notice.
--
-- The rates go THROUGH the rate change workflow, exactly as an admin's would (the database
-- refuses an active rate without an approved request anyway): per rate, the proposer
-- (rates-proposer@quotedb.internal, underwriter) drafts and submits a base_rate request, the
-- approver (rates-approver@quotedb.internal, admin) approves it and applies it with
-- apply_rate_change_request(), which inserts the active base_rates row pointing at the request.
--
-- proposed_change: {"state_code", "coverage_type", "base_amount" (decimal string, 2 places),
-- "effective_from" (ISO date)}; no effective_to (open-ended).
--
-- Idempotent: a rate whose request (same proposer, same proposed_change) already exists is
-- skipped, whatever has happened to it since (a later filing may have superseded it).

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
        SELECT v.state_code, v.coverage_type, v.base_amount::numeric(12,2) AS base_amount
        FROM (VALUES
            -- California: high liability severity, moderate physical damage.
            ('CA', 'bodily_injury',      620.00),
            ('CA', 'property_damage',    410.00),
            ('CA', 'collision',          780.00),
            ('CA', 'comprehensive',      210.00),
            ('CA', 'uninsured_motorist', 140.00),
            ('CA', 'medical_payments',    65.00),
            ('CA', 'rental',              48.00),
            ('CA', 'roadside',            24.00),
            -- Texas: hail and flood drive comprehensive; high uninsured share.
            ('TX', 'bodily_injury',      560.00),
            ('TX', 'property_damage',    430.00),
            ('TX', 'collision',          820.00),
            ('TX', 'comprehensive',      330.00),
            ('TX', 'uninsured_motorist', 150.00),
            ('TX', 'medical_payments',    70.00),
            ('TX', 'rental',              45.00),
            ('TX', 'roadside',            22.00),
            -- New York: no-fault state, medical payments stands in for PIP; highest liability.
            ('NY', 'bodily_injury',      790.00),
            ('NY', 'property_damage',    380.00),
            ('NY', 'collision',          860.00),
            ('NY', 'comprehensive',      240.00),
            ('NY', 'uninsured_motorist', 210.00),
            ('NY', 'medical_payments',   310.00),
            ('NY', 'rental',              52.00),
            ('NY', 'roadside',            26.00)
        ) AS v (state_code, coverage_type, base_amount)
    LOOP
        v_change := jsonb_build_object(
            'state_code', r.state_code,
            'coverage_type', r.coverage_type,
            'base_amount', r.base_amount::text,
            'effective_from', v_effective_from);

        CONTINUE WHEN EXISTS (
            SELECT 1 FROM rate_change_requests q
            WHERE q.kind = 'base_rate' AND q.requested_by = v_proposer AND q.proposed_change = v_change);

        INSERT INTO rate_change_requests (kind, proposed_change, justification, requested_by)
        VALUES ('base_rate', v_change,
                format('Reference rate filing 2025: %s %s annual base rate of $%s, effective %s.',
                       r.state_code, r.coverage_type, r.base_amount, v_effective_from),
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
