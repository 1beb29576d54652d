-- Reference seeds 02: admin roles, the permission registry and the grants.
--
-- Hierarchy (admin_roles.parent_id points at the role above):
--
--     super_admin
--     └── admin
--         ├── underwriter
--         ├── support
--         └── analyst
--
-- Permissions flow UP the tree (0006, admin_role_effective_permissions): a role holds its own
-- grants plus every grant of the roles below it. So each permission is granted to the LOWEST
-- role(s) that need it: a permission several junior roles need is granted to each of them, admin
-- holds the union of the junior roles plus its own, and super_admin holds everything plus its
-- own critical permissions (admin accounts, roles, SSO, sensitive settings).
--
-- The registry holds every code an RLS policy checks (quotedb_schema::admin::permissions::ALL)
-- plus the resource:action codes the admin console checks in the application.
--
-- Idempotent: rows that exist are left exactly as they are (ON CONFLICT DO NOTHING), so loading
-- twice changes nothing and an operator's later edits to descriptions survive a reload. A seed
-- grant an operator revoked IS granted again by a reload: the seeds define the baseline.

-- Roles, parents first (the no-cycle trigger and the parent FK need the parent row).
INSERT INTO admin_roles (name, description, parent_id)
VALUES ('super_admin',
        'Full control of the platform: everything the other roles can do, plus admin accounts, roles, SSO providers and sensitive settings.',
        NULL)
ON CONFLICT (name) DO NOTHING;

INSERT INTO admin_roles (name, description, parent_id)
SELECT 'admin',
       'Runs the platform day to day: approves and applies rate changes, manages rating rules, settings and API clients, reviews admin activity; holds every permission of underwriter, support and analyst.',
       r.id
FROM admin_roles r
WHERE r.name = 'super_admin'
ON CONFLICT (name) DO NOTHING;

INSERT INTO admin_roles (name, description, parent_id)
SELECT v.name, v.description, r.id
FROM (VALUES
    ('underwriter',
     'Prices risk: reads and works quotes, reads driver records, proposes rate changes (approval needs an admin).'),
    ('support',
     'Helps customers: reads and corrects quotes and customer accounts, revokes sessions, re-sends notifications.'),
    ('analyst',
     'Reads quotes, rates and analytics, builds dashboards and reports; changes nothing customer-facing.')
) AS v (name, description)
JOIN admin_roles r ON r.name = 'admin'
ON CONFLICT (name) DO NOTHING;

-- The permission registry: resource:action, with the damage its misuse can do.
INSERT INTO admin_permissions (code, description, risk_level)
VALUES
    -- Checked by RLS policies (0006).
    ('quotes:read',             'See every quote (RLS: quotes_admin_select).', 'low'),
    ('sessions:manage',         'See and revoke every user session (RLS: user_sessions_admin_*).', 'high'),
    ('oauth_clients:manage',    'See, create, change and revoke every OAuth2 client (RLS: oauth2_clients_admin_all).', 'high'),
    ('admin_users:manage',      'See every admin account; create, change, lock and deactivate other admins (RLS: admin_users_manager_*).', 'critical'),
    ('activity:read',           'Read every admin''s activity log (RLS: admin_activity_logs_reader_select).', 'medium'),
    ('settings:read_sensitive', 'Read sensitive system settings (RLS: system_settings_sensitive_select).', 'critical'),
    ('settings:write',          'Create, change and delete system settings (RLS: system_settings_writer_*).', 'high'),
    -- Checked by the application (admin console).
    ('quotes:write',            'Change, re-rate, decline or cancel any quote on a customer''s behalf.', 'medium'),
    ('users:read',              'Look up customer and agent accounts (contact details: personal data).', 'medium'),
    ('users:write',             'Correct customer and agent account details.', 'medium'),
    ('drivers:read_pii',        'Reveal decrypted driver licence numbers (motor vehicle record checks).', 'high'),
    ('notifications:manage',    'See the notification queue; retry or cancel failed and dead notifications.', 'medium'),
    ('rates:read',              'Read base rates, territory factors and rate change requests.', 'low'),
    ('rates:propose',           'Draft, submit and withdraw rate change requests.', 'medium'),
    ('rates:approve',           'Approve or reject other admins'' pending rate change requests.', 'high'),
    ('rates:apply',             'Apply approved rate change requests (activates the rate).', 'high'),
    ('rating_rules:manage',     'Create, change, activate and deactivate discount and surcharge rules.', 'high'),
    ('analytics:read',          'Read analytics events and realtime metrics.', 'low'),
    ('reports:read',            'Read business reports (conversion, premium, loss trends).', 'low'),
    ('reports:export',          'Export reports and data extracts out of the platform.', 'medium'),
    ('dashboards:manage',       'Create, change and share admin dashboards.', 'low'),
    ('audit:read',              'Read the audit log, including old and new values of changed records.', 'high'),
    ('roles:manage',            'Create admin roles, change the hierarchy and grant or revoke permissions.', 'critical'),
    ('sso_providers:manage',    'Configure SAML / OIDC identity providers (who can sign in).', 'critical')
ON CONFLICT (code) DO NOTHING;

-- Grants, each to the lowest role that needs it (senior roles inherit from below).
INSERT INTO admin_role_permissions (role_id, permission_id)
SELECT r.id, p.id
FROM (VALUES
    -- underwriter
    ('underwriter', 'quotes:read'),
    ('underwriter', 'quotes:write'),
    ('underwriter', 'users:read'),
    ('underwriter', 'drivers:read_pii'),
    ('underwriter', 'rates:read'),
    ('underwriter', 'rates:propose'),
    ('underwriter', 'reports:read'),
    ('underwriter', 'dashboards:manage'),
    -- support
    ('support', 'quotes:read'),
    ('support', 'quotes:write'),
    ('support', 'users:read'),
    ('support', 'users:write'),
    ('support', 'sessions:manage'),
    ('support', 'notifications:manage'),
    ('support', 'dashboards:manage'),
    -- analyst
    ('analyst', 'quotes:read'),
    ('analyst', 'rates:read'),
    ('analyst', 'analytics:read'),
    ('analyst', 'reports:read'),
    ('analyst', 'reports:export'),
    ('analyst', 'dashboards:manage'),
    -- admin (plus everything above)
    ('admin', 'rates:approve'),
    ('admin', 'rates:apply'),
    ('admin', 'rating_rules:manage'),
    ('admin', 'oauth_clients:manage'),
    ('admin', 'settings:write'),
    ('admin', 'activity:read'),
    ('admin', 'audit:read'),
    -- super_admin (plus everything above)
    ('super_admin', 'admin_users:manage'),
    ('super_admin', 'roles:manage'),
    ('super_admin', 'sso_providers:manage'),
    ('super_admin', 'settings:read_sensitive')
) AS g (role_name, code)
JOIN admin_roles r ON r.name = g.role_name
JOIN admin_permissions p ON p.code = g.code
ON CONFLICT (role_id, permission_id) DO NOTHING;
