-- Reference seeds 03: the system settings the rules read, and the two system admin accounts
-- that carry the reference rates through the rate change workflow (04, 05).
--
-- Settings (value_type is the jsonb_typeof of value; numbers are plain JSON numbers):
--   rating.discount_cap           number   0.35  cap on the sum of stackable discounts (fraction, 0.35 = 35 %)
--   quotes.validity_days          number   30    days a quote stays open before it expires
--   sessions.lifetime_hours       number   720   lifetime of a user session (30 days)
--   notifications.max_attempts    number   5     delivery attempts before a notification is dead
--   audit.retention_months        number   24    months of audit_logs partitions kept attached
--   analytics.retention_months    number   13    months of analytics_events partitions kept (older: dropped)
--   admin_activity.retention_months number 24    months of admin_activity_logs partitions kept attached
--   partitions.months_ahead       number   3     months of partitions maintain_partitions() creates ahead
--   admin.max_failed_logins       number   5     consecutive failed admin logins before the lock
--   admin.lockout_minutes         number   30    how long that lock lasts
--   security.admin_ip_allowlist   array    networks admin sign-in is accepted from (SENSITIVE)
--
-- Idempotent: an existing setting keeps its value (operators own it once seeded).
-- system_settings is under FORCEd RLS: the seeds run as the owner role, which holds
-- quotedb_system and so passes system_settings_system_all (a superuser bypasses RLS anyway).

INSERT INTO system_settings (key, value, value_type, description, is_sensitive)
VALUES
    ('rating.discount_cap', '0.35', 'number',
     'Cap on the sum of stackable discounts, as a fraction of the premium (0.35 = at most 35 % off): premium x (1 - min(sum of stackable discounts, cap)).',
     false),
    ('quotes.validity_days', '30', 'number',
     'Days a new quote stays open: its expiry is the creation time plus this many days.',
     false),
    ('sessions.lifetime_hours', '720', 'number',
     'Lifetime of a user session in hours (720 = 30 days): expires_at = created_at + this.',
     false),
    ('notifications.max_attempts', '5', 'number',
     'Delivery attempts of a notification before it is marked dead (notification_queue.max_attempts of new rows).',
     false),
    ('audit.retention_months', '24', 'number',
     'Months of audit_logs partitions kept attached; older months are detached by the retention step.',
     false),
    ('analytics.retention_months', '13', 'number',
     'Months of analytics_events partitions kept; maintain_partitions() drops the months wholly older than the current month minus this.',
     false),
    ('admin_activity.retention_months', '24', 'number',
     'Months of admin_activity_logs partitions kept attached; maintain_partitions() detaches (never deletes) older months for archiving.',
     false),
    ('partitions.months_ahead', '3', 'number',
     'Months after the current one for which maintain_partitions() keeps partitions of audit_logs, analytics_events and admin_activity_logs ready (0-36).',
     false),
    ('admin.max_failed_logins', '5', 'number',
     'Consecutive failed admin logins after which the admin account is locked (admin_users.locked_until).',
     false),
    ('admin.lockout_minutes', '30', 'number',
     'Minutes an admin account stays locked after too many failed logins.',
     false),
    ('security.admin_ip_allowlist', '["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.1/32", "::1/128"]', 'array',
     'Networks (CIDR) admin sign-in is accepted from, unless an admin has their own allowed_ip_ranges. Sensitive: it maps the internal network.',
     true)
ON CONFLICT (key) DO NOTHING;

-- System accounts of the reference rate filing. Two distinct admins because the database
-- enforces four eyes (rate_change_requests_four_eyes): the proposer (underwriter) drafts and
-- submits every reference rate, the approver (admin) approves and applies it. They never sign in
-- interactively: no password (password_changed_at NULL), MFA required, loopback only.
INSERT INTO users (email, full_name, role)
VALUES
    ('rates-proposer@quotedb.internal', 'Reference Rates Proposer (system)', 'agent'),
    ('rates-approver@quotedb.internal', 'Reference Rates Approver (system)', 'agent')
ON CONFLICT (email) DO NOTHING;

INSERT INTO admin_users (user_id, role_id, mfa_required, allowed_ip_ranges)
SELECT u.id, r.id, true, ARRAY['127.0.0.1/32', '::1/128']::cidr[]
FROM (VALUES
    ('rates-proposer@quotedb.internal', 'underwriter'),
    ('rates-approver@quotedb.internal', 'admin')
) AS a (email, role_name)
JOIN users u ON u.email = a.email
JOIN admin_roles r ON r.name = a.role_name
ON CONFLICT (user_id) DO NOTHING;
