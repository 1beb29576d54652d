-- 0006 admin system: admin roles and permissions (hierarchical), admin users, system settings,
-- admin activity log, dashboards, the rate change request workflow that alone activates rates,
-- and all Row Level Security of the schema.
--
-- Rule names are the constants of crates/schema/src/admin.rs (`admin::rules`).

-- ---------------------------------------------------------------------------------------------
-- Enumerations
-- ---------------------------------------------------------------------------------------------

CREATE TYPE admin_permission_risk_level AS ENUM ('low', 'medium', 'high', 'critical');
COMMENT ON TYPE admin_permission_risk_level IS
    'How much damage misuse of an admin permission can do; drives review and activity risk scoring.';

CREATE TYPE system_setting_value_type AS ENUM ('string', 'number', 'boolean', 'object', 'array');
COMMENT ON TYPE system_setting_value_type IS
    'Declared JSON type of a system setting value; labels equal jsonb_typeof() results.';

CREATE TYPE rate_change_kind AS ENUM ('base_rate', 'territory_factor');
COMMENT ON TYPE rate_change_kind IS 'Which rating table a rate change request changes.';

CREATE TYPE rate_change_status AS ENUM ('draft', 'pending', 'approved', 'rejected', 'withdrawn', 'applied');
COMMENT ON TYPE rate_change_status IS
    'Rate change request workflow: draft -> pending -> approved | rejected | withdrawn; draft -> withdrawn; approved -> applied.';

-- ---------------------------------------------------------------------------------------------
-- admin_roles: a tree of roles; a role inherits the permissions of all its ancestors
-- ---------------------------------------------------------------------------------------------

CREATE TABLE admin_roles (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    description text NOT NULL,
    parent_id   uuid NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT admin_roles_name_unique UNIQUE (name),
    CONSTRAINT admin_roles_name_format CHECK (name ~ '^[a-z][a-z0-9_]{1,62}$'),
    CONSTRAINT admin_roles_description_present CHECK (btrim(description) <> ''),
    CONSTRAINT admin_roles_not_own_parent CHECK (parent_id <> id),
    CONSTRAINT admin_roles_parent_fk FOREIGN KEY (parent_id) REFERENCES admin_roles (id) ON DELETE RESTRICT
);
COMMENT ON TABLE admin_roles IS
    'Admin roles as a tree; a role holds its own grants plus every grant of its ancestors, so shared permissions are granted near the root and a child role extends its parent.';
COMMENT ON COLUMN admin_roles.parent_id IS
    'The role this role extends (inherits every permission from); NULL for a root role.';
COMMENT ON CONSTRAINT admin_roles_pkey ON admin_roles IS 'Each admin role has one identity.';
COMMENT ON CONSTRAINT admin_roles_name_unique ON admin_roles IS 'Admin role names are unique.';
COMMENT ON CONSTRAINT admin_roles_name_format ON admin_roles IS
    'An admin role name is a snake_case identifier of 2 to 63 characters.';
COMMENT ON CONSTRAINT admin_roles_description_present ON admin_roles IS 'Every admin role says what it is for.';
COMMENT ON CONSTRAINT admin_roles_not_own_parent ON admin_roles IS 'A role cannot be its own parent.';
COMMENT ON CONSTRAINT admin_roles_parent_fk ON admin_roles IS
    'A parent role exists; RESTRICT because deleting a parent would silently strip inherited permissions from its children.';

CREATE INDEX admin_roles_parent_id_idx ON admin_roles (parent_id);

CREATE TRIGGER admin_roles_set_updated_at BEFORE UPDATE ON admin_roles
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
COMMENT ON TRIGGER admin_roles_set_updated_at ON admin_roles IS 'Keeps updated_at current.';

-- All (role, ancestor) pairs, the role itself at depth 0. The one recursive walk of the hierarchy:
-- the cycle check, effective permissions and admin_has_permission() all read it.
CREATE VIEW admin_role_ancestry AS
WITH RECURSIVE chain (role_id, ancestor_id, parent_id, depth) AS (
    SELECT r.id, r.id, r.parent_id, 0
    FROM admin_roles r
    UNION ALL
    SELECT c.role_id, p.id, p.parent_id, c.depth + 1
    FROM chain c
    JOIN admin_roles p ON p.id = c.parent_id
) CYCLE ancestor_id SET is_cycle USING path
SELECT role_id, ancestor_id, depth
FROM chain
WHERE NOT is_cycle;
COMMENT ON VIEW admin_role_ancestry IS
    'Every role with each of its ancestors (itself at depth 0); the single recursive walk of the role tree.';

CREATE FUNCTION admin_roles_no_cycle_fn() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    -- No parent, or itself as parent (admin_roles_not_own_parent reports that one): nothing to walk.
    IF NEW.parent_id IS NULL OR NEW.parent_id = NEW.id THEN
        RETURN NEW;
    END IF;
    -- Serialize hierarchy changes: two concurrent re-parentings (A under B, B under A) would each
    -- see an acyclic tree. Under READ COMMITTED the next statement sees what the lock holder committed.
    PERFORM pg_advisory_xact_lock(hashtext('admin_roles_hierarchy'));
    IF EXISTS (SELECT 1 FROM admin_role_ancestry a WHERE a.role_id = NEW.parent_id AND a.ancestor_id = NEW.id) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'admin_roles_no_cycle',
            MESSAGE = format('admin role %s cannot be placed under %s: it would become its own ancestor', NEW.name, NEW.parent_id),
            DETAIL = 'The admin role hierarchy is a tree; a role cannot inherit from one of its descendants.';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION admin_roles_no_cycle_fn() IS 'Trigger function of admin_roles_no_cycle.';
CREATE TRIGGER admin_roles_no_cycle BEFORE INSERT OR UPDATE OF parent_id ON admin_roles
    FOR EACH ROW EXECUTE FUNCTION admin_roles_no_cycle_fn();
COMMENT ON TRIGGER admin_roles_no_cycle ON admin_roles IS
    'A role can never become its own ancestor: the role hierarchy stays a tree.';

-- ---------------------------------------------------------------------------------------------
-- admin_permissions
-- ---------------------------------------------------------------------------------------------

CREATE TABLE admin_permissions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code        text NOT NULL,
    description text NOT NULL,
    risk_level  admin_permission_risk_level NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT admin_permissions_code_unique UNIQUE (code),
    CONSTRAINT admin_permissions_code_format CHECK (code ~ '^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$'),
    CONSTRAINT admin_permissions_description_present CHECK (btrim(description) <> '')
);
COMMENT ON TABLE admin_permissions IS 'Registry of admin permission codes (resource:action) with their risk level.';
COMMENT ON COLUMN admin_permissions.code IS 'resource:action, e.g. quotes:read; RLS policies name these codes.';
COMMENT ON CONSTRAINT admin_permissions_pkey ON admin_permissions IS 'Each permission has one identity.';
COMMENT ON CONSTRAINT admin_permissions_code_unique ON admin_permissions IS 'A permission code is registered once.';
COMMENT ON CONSTRAINT admin_permissions_code_format ON admin_permissions IS
    'A permission code is resource:action, both snake_case.';
COMMENT ON CONSTRAINT admin_permissions_description_present ON admin_permissions IS
    'Every permission says what it allows.';

CREATE TRIGGER admin_permissions_set_updated_at BEFORE UPDATE ON admin_permissions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
COMMENT ON TRIGGER admin_permissions_set_updated_at ON admin_permissions IS 'Keeps updated_at current.';

-- ---------------------------------------------------------------------------------------------
-- admin_users: the admin side of a user
-- ---------------------------------------------------------------------------------------------

CREATE TABLE admin_users (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id               uuid NOT NULL,
    role_id               uuid NOT NULL,
    mfa_required          boolean NOT NULL,
    failed_login_attempts integer NOT NULL DEFAULT 0,
    locked_until          timestamptz NULL,
    password_changed_at   timestamptz NULL,
    last_login_at         timestamptz NULL,
    last_login_ip         inet NULL,
    allowed_ip_ranges     cidr[] NULL,
    deactivated_at        timestamptz NULL,
    deactivation_reason   text NULL,
    deactivated_by        uuid NULL,
    is_active             boolean GENERATED ALWAYS AS (deactivated_at IS NULL) STORED,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT admin_users_user_unique UNIQUE (user_id),
    CONSTRAINT admin_users_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT,
    CONSTRAINT admin_users_role_fk FOREIGN KEY (role_id) REFERENCES admin_roles (id) ON DELETE RESTRICT,
    CONSTRAINT admin_users_deactivated_by_fk FOREIGN KEY (deactivated_by) REFERENCES admin_users (id) ON DELETE RESTRICT,
    CONSTRAINT admin_users_failed_login_attempts_non_negative CHECK (failed_login_attempts >= 0),
    CONSTRAINT admin_users_allowed_ip_ranges_valid
        CHECK (cardinality(allowed_ip_ranges) > 0 AND array_position(allowed_ip_ranges, NULL) IS NULL),
    CONSTRAINT admin_users_last_login_complete CHECK (last_login_ip IS NULL OR last_login_at IS NOT NULL),
    CONSTRAINT admin_users_deactivation_complete CHECK (
        (deactivated_at IS NULL AND deactivation_reason IS NULL AND deactivated_by IS NULL)
        OR (deactivated_at IS NOT NULL AND deactivation_reason IS NOT NULL AND deactivated_by IS NOT NULL)),
    CONSTRAINT admin_users_deactivation_reason_meaningful CHECK (length(btrim(deactivation_reason)) >= 10)
);
COMMENT ON TABLE admin_users IS
    'The admin account of a user (at most one per user): role, login security state and deactivation.';
COMMENT ON COLUMN admin_users.user_id IS 'The user behind this admin; app.user_id carries users.id, also for admins.';
COMMENT ON COLUMN admin_users.mfa_required IS 'Whether login must pass a second factor; stated explicitly for every admin.';
COMMENT ON COLUMN admin_users.failed_login_attempts IS 'Consecutive failed logins since the last success; reset on success.';
COMMENT ON COLUMN admin_users.locked_until IS 'Login refused and permissions suspended until this time (NULL: not locked).';
COMMENT ON COLUMN admin_users.password_changed_at IS 'Last password change; NULL when the admin signs in only through SSO.';
COMMENT ON COLUMN admin_users.allowed_ip_ranges IS 'Networks this admin may sign in from; NULL means no restriction.';
COMMENT ON COLUMN admin_users.is_active IS
    'Derived: an admin is active exactly when not deactivated (generated, cannot disagree with the deactivation columns).';
COMMENT ON COLUMN admin_users.deactivated_by IS 'The admin who deactivated this one.';
COMMENT ON CONSTRAINT admin_users_pkey ON admin_users IS 'Each admin account has one identity.';
COMMENT ON CONSTRAINT admin_users_user_unique ON admin_users IS 'A user has at most one admin account.';
COMMENT ON CONSTRAINT admin_users_user_fk ON admin_users IS
    'An admin is a user; RESTRICT because erasing a user must not silently drop an admin account and its trail: deactivate first.';
COMMENT ON CONSTRAINT admin_users_role_fk ON admin_users IS
    'An admin has one existing role; RESTRICT because deleting a role in use would leave admins without permissions.';
COMMENT ON CONSTRAINT admin_users_deactivated_by_fk ON admin_users IS
    'The deactivating admin exists; RESTRICT because SET NULL would break admin_users_deactivation_complete and lose who did it.';
COMMENT ON CONSTRAINT admin_users_failed_login_attempts_non_negative ON admin_users IS
    'Failed login attempts are never negative.';
COMMENT ON CONSTRAINT admin_users_allowed_ip_ranges_valid ON admin_users IS
    'An IP allow-list, when present, names at least one network and no NULL entries (NULL list = unrestricted).';
COMMENT ON CONSTRAINT admin_users_last_login_complete ON admin_users IS
    'A last login IP is recorded only together with the last login time.';
COMMENT ON CONSTRAINT admin_users_deactivation_complete ON admin_users IS
    'Deactivation records when, why and by whom - all three or none.';
COMMENT ON CONSTRAINT admin_users_deactivation_reason_meaningful ON admin_users IS
    'A deactivation reason is real text: at least 10 characters once trimmed.';

CREATE INDEX admin_users_role_id_idx ON admin_users (role_id);
CREATE INDEX admin_users_deactivated_by_idx ON admin_users (deactivated_by) WHERE deactivated_by IS NOT NULL;

CREATE TRIGGER admin_users_set_updated_at BEFORE UPDATE ON admin_users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
COMMENT ON TRIGGER admin_users_set_updated_at ON admin_users IS 'Keeps updated_at current.';

-- ---------------------------------------------------------------------------------------------
-- admin_role_permissions and the effective permission functions
-- ---------------------------------------------------------------------------------------------

CREATE TABLE admin_role_permissions (
    role_id       uuid NOT NULL,
    permission_id uuid NOT NULL,
    granted_at    timestamptz NOT NULL DEFAULT now(),
    granted_by    uuid NULL,
    CONSTRAINT admin_role_permissions_pkey PRIMARY KEY (role_id, permission_id),
    CONSTRAINT admin_role_permissions_role_fk FOREIGN KEY (role_id) REFERENCES admin_roles (id) ON DELETE CASCADE,
    CONSTRAINT admin_role_permissions_permission_fk FOREIGN KEY (permission_id)
        REFERENCES admin_permissions (id) ON DELETE CASCADE,
    CONSTRAINT admin_role_permissions_granted_by_fk FOREIGN KEY (granted_by)
        REFERENCES admin_users (id) ON DELETE RESTRICT
);
COMMENT ON TABLE admin_role_permissions IS
    'Permissions granted directly to a role; a role also holds every permission of the roles below it in the hierarchy (admin_role_effective_permissions).';
COMMENT ON COLUMN admin_role_permissions.granted_by IS 'The admin who granted it; NULL for grants made by seeds or migrations.';
COMMENT ON CONSTRAINT admin_role_permissions_pkey ON admin_role_permissions IS 'A permission is granted to a role once.';
COMMENT ON CONSTRAINT admin_role_permissions_role_fk ON admin_role_permissions IS
    'The role exists; CASCADE because a grant means nothing without its role.';
COMMENT ON CONSTRAINT admin_role_permissions_permission_fk ON admin_role_permissions IS
    'The permission exists; CASCADE because retiring a permission code revokes it everywhere.';
COMMENT ON CONSTRAINT admin_role_permissions_granted_by_fk ON admin_role_permissions IS
    'The granting admin exists; RESTRICT because who granted a permission must stay known (admins are deactivated, not deleted).';

CREATE INDEX admin_role_permissions_permission_id_idx ON admin_role_permissions (permission_id);
CREATE INDEX admin_role_permissions_granted_by_idx ON admin_role_permissions (granted_by) WHERE granted_by IS NOT NULL;

-- Permissions flow UP the tree: a role holds its own grants plus every grant of the roles below it
-- (its descendants), so super_admin > admin > underwriter / support / analyst gives super_admin
-- everything and support only support's grants. (Inheriting from ancestors instead would hand
-- super_admin's grants to every junior role.)
CREATE VIEW admin_role_effective_permissions AS
SELECT a.ancestor_id AS role_id,
       p.id          AS permission_id,
       p.code,
       p.risk_level,
       a.role_id     AS granted_via_role_id,
       a.depth       AS inherited_depth
FROM admin_role_ancestry a
JOIN admin_role_permissions rp ON rp.role_id = a.role_id
JOIN admin_permissions p ON p.id = rp.permission_id;
COMMENT ON VIEW admin_role_effective_permissions IS
    'Every permission a role holds: granted to it directly (inherited_depth 0) or to a role below it in the hierarchy (granted_via_role_id, inherited_depth levels down). A senior role holds everything its subordinate roles hold.';

-- What every role holds, kept up to date: admin_role_effective_permissions walks the tree with a
-- recursive CTE, which costs a fixed ~50 us of executor work per call even on five roles, and
-- admin_has_permission runs inside RLS policies on hot paths. The role tree and the grants change
-- rarely, so the walk's result is stored here and rebuilt whenever admin_roles,
-- admin_role_permissions or admin_permissions change (statement-level triggers below). It is
-- derived data, not a rule: no constraint of its own beyond the primary key, and nothing but the
-- rebuild writes it.
CREATE TABLE admin_role_held_permissions (
    role_id uuid NOT NULL,
    code    text NOT NULL,
    CONSTRAINT admin_role_held_permissions_pkey PRIMARY KEY (role_id, code)
);
COMMENT ON TABLE admin_role_held_permissions IS
    'Derived: every (role, permission code) the role holds, directly or through a role below it - admin_role_effective_permissions stored for admin_has_permission. Rebuilt by admin_role_held_permissions_rebuild() whenever roles, grants or permissions change; never written otherwise.';
COMMENT ON CONSTRAINT admin_role_held_permissions_pkey ON admin_role_held_permissions IS
    'One row per role and permission code held; also the index admin_has_permission probes.';
REVOKE ALL ON admin_role_held_permissions FROM PUBLIC;

-- SECURITY DEFINER so that whoever changes roles or grants (an admin acting as quotedb_app, the
-- seeds as the owner) rebuilds the derived table, which only the owner writes. It takes no input
-- and pins search_path. The advisory lock is the one admin_roles_no_cycle takes: concurrent
-- changes rebuild one after the other, and under READ COMMITTED each statement below runs on a
-- snapshot taken after the lock, so the later rebuild sees the earlier one's committed change.
CREATE FUNCTION admin_role_held_permissions_rebuild() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('admin_roles_hierarchy'));
    DELETE FROM public.admin_role_held_permissions;
    INSERT INTO public.admin_role_held_permissions (role_id, code)
    SELECT DISTINCT ep.role_id, ep.code FROM public.admin_role_effective_permissions ep;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION admin_role_held_permissions_rebuild() IS
    'Trigger function of the *_maintain_held_permissions triggers: rebuilds admin_role_held_permissions from admin_role_effective_permissions.';
REVOKE ALL ON FUNCTION admin_role_held_permissions_rebuild() FROM PUBLIC;

CREATE TRIGGER admin_roles_maintain_held_permissions
    AFTER INSERT OR UPDATE OF parent_id OR DELETE OR TRUNCATE ON admin_roles
    FOR EACH STATEMENT EXECUTE FUNCTION admin_role_held_permissions_rebuild();
COMMENT ON TRIGGER admin_roles_maintain_held_permissions ON admin_roles IS
    'Keeps admin_role_held_permissions in step with the role tree (derived data, not a rule).';
CREATE TRIGGER admin_role_permissions_maintain_held_permissions
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON admin_role_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION admin_role_held_permissions_rebuild();
COMMENT ON TRIGGER admin_role_permissions_maintain_held_permissions ON admin_role_permissions IS
    'Keeps admin_role_held_permissions in step with the grants (derived data, not a rule).';
CREATE TRIGGER admin_permissions_maintain_held_permissions
    AFTER UPDATE OF code OR DELETE OR TRUNCATE ON admin_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION admin_role_held_permissions_rebuild();
COMMENT ON TRIGGER admin_permissions_maintain_held_permissions ON admin_permissions IS
    'Keeps admin_role_held_permissions in step with permission codes (derived data, not a rule).';

-- SECURITY DEFINER: RLS policies call this as quotedb_app, and it reads admin_users, which has RLS
-- itself (an admin sees only their own row) - as invoker the lookup would be filtered or recurse.
-- Why it is safe: it only returns a boolean about (user, permission); it takes no SQL text; EXECUTE
-- is granted to quotedb_app only; locked or deactivated admins hold no permissions; and NOTHING in
-- its body is looked up through search_path (see "Search-path-proof helpers" below), so a caller
-- who puts a schema of its own first in search_path cannot make it run an object of theirs with
-- the owner's rights.
-- Search-path-proof helpers (admin_has_permission, app_admin_user_id, public_setting): these run
-- inside the InitPlans of row-level-security policies, i.e. in almost every statement the
-- application sends, and in every rule trigger's query on a secured table. A `SET search_path`
-- clause pins the path but costs a GUC save / set / restore and a search-path recomputation on
-- every call: on PostgreSQL 15 that was about 0.1 ms per call in a policy InitPlan, a third of a
-- quote create. So they have no SET clause; instead every relation and function is
-- schema-qualified, every operator is written OPERATOR(pg_catalog.op) and every type (casts,
-- variables) names pg_catalog's. crates/schema/tests/definer_helpers.rs puts a schema with a
-- hijacking `=`, `<=`, now() and text type first in search_path and checks that none of it runs.
-- plpgsql, not SQL: a SECURITY DEFINER SQL function is never inlined, and PostgreSQL 15 plans a
-- SQL function's body again in every statement that calls it; plpgsql keeps the plan for the
-- session. Two index probes: admin_users_user_unique, then admin_role_held_permissions_pkey (the
-- hierarchy walk is stored there).
CREATE FUNCTION admin_has_permission(p_user_id uuid, p_code text) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
BEGIN
    RETURN EXISTS (
        SELECT 1
        FROM public.admin_users au
        JOIN public.admin_role_held_permissions h
          ON h.role_id OPERATOR(pg_catalog.=) au.role_id
         AND h.code OPERATOR(pg_catalog.=) p_code
        WHERE au.user_id OPERATOR(pg_catalog.=) p_user_id
          AND au.is_active
          AND (au.locked_until IS NULL OR au.locked_until OPERATOR(pg_catalog.<=) pg_catalog.now()));
END
$$;
COMMENT ON FUNCTION admin_has_permission(uuid, text) IS
    'Whether the user (users.id) is an active, unlocked admin whose role, or a role below it in the hierarchy, holds the permission code.';
REVOKE ALL ON FUNCTION admin_has_permission(uuid, text) FROM PUBLIC;

-- The acting admin (admin_users.id) of the transaction, NULL when app.user_id is not an active admin.
-- plpgsql for the same reason as admin_has_permission: its plan is kept for the session.
-- Search-path-proof like admin_has_permission. It reads app.user_id itself rather than calling
-- app_user_id(): that SQL function is inlined, and its NULLIF would resolve `=` through the
-- caller's search_path.
CREATE FUNCTION app_admin_user_id() RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
DECLARE
    v_user pg_catalog.text := pg_catalog.current_setting('app.user_id', true);
BEGIN
    IF v_user IS NULL OR v_user OPERATOR(pg_catalog.=) '' THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT au.id FROM public.admin_users au
            WHERE au.user_id OPERATOR(pg_catalog.=) CAST(v_user AS pg_catalog.uuid) AND au.is_active);
END
$$;
COMMENT ON FUNCTION app_admin_user_id() IS
    'admin_users.id of the acting user (app.user_id) when that user is an active admin, else NULL; used by RLS policies.';
REVOKE ALL ON FUNCTION app_admin_user_id() FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- system_settings
-- ---------------------------------------------------------------------------------------------

CREATE TABLE system_settings (
    key          text NOT NULL,
    value        jsonb NOT NULL,
    value_type   system_setting_value_type NOT NULL,
    description  text NOT NULL,
    is_sensitive boolean NOT NULL,
    updated_by   uuid NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT system_settings_pkey PRIMARY KEY (key),
    CONSTRAINT system_settings_key_format CHECK (key ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$'),
    CONSTRAINT system_settings_value_type_matches CHECK (jsonb_typeof(value) = value_type::text),
    CONSTRAINT system_settings_description_present CHECK (btrim(description) <> ''),
    CONSTRAINT system_settings_updated_by_fk FOREIGN KEY (updated_by) REFERENCES admin_users (id) ON DELETE SET NULL
);
COMMENT ON TABLE system_settings IS 'Typed platform settings read by the rules (discount cap, quote validity, ...).';
COMMENT ON COLUMN system_settings.key IS 'Dotted snake_case key, e.g. rating.discount_cap.';
COMMENT ON COLUMN system_settings.is_sensitive IS
    'Sensitive values are visible only to admins holding settings:read_sensitive; no default, every setting decides.';
COMMENT ON COLUMN system_settings.updated_by IS 'The admin who last wrote the setting; NULL for seeds and system writes.';
COMMENT ON CONSTRAINT system_settings_pkey ON system_settings IS 'A setting key has one row.';
COMMENT ON CONSTRAINT system_settings_key_format ON system_settings IS
    'A setting key is dotted snake_case (section.name).';
COMMENT ON CONSTRAINT system_settings_value_type_matches ON system_settings IS
    'A setting value has the JSON type it declares (jsonb_typeof(value) = value_type).';
COMMENT ON CONSTRAINT system_settings_description_present ON system_settings IS 'Every setting says what it controls.';
COMMENT ON CONSTRAINT system_settings_updated_by_fk ON system_settings IS
    'The last writer is an admin; SET NULL because the setting outlives the admin account (the activity log keeps the trail).';

CREATE INDEX system_settings_value_idx ON system_settings USING gin (value jsonb_path_ops);
CREATE INDEX system_settings_updated_by_idx ON system_settings (updated_by) WHERE updated_by IS NOT NULL;

CREATE TRIGGER system_settings_set_updated_at BEFORE UPDATE ON system_settings
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
COMMENT ON TRIGGER system_settings_set_updated_at ON system_settings IS 'Keeps updated_at current.';

-- ---------------------------------------------------------------------------------------------
-- admin_activity_logs: append-only trail of admin actions
-- ---------------------------------------------------------------------------------------------

CREATE TABLE admin_activity_logs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    admin_user_id uuid NOT NULL,
    action        text NOT NULL,
    resource_type text NOT NULL,
    resource_id   text NULL,
    details       jsonb NOT NULL,
    ip            inet NULL,
    risk_score    smallint NOT NULL,
    risk_factors  jsonb NOT NULL,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT admin_activity_logs_admin_user_fk FOREIGN KEY (admin_user_id)
        REFERENCES admin_users (id) ON DELETE RESTRICT,
    CONSTRAINT admin_activity_logs_action_present CHECK (btrim(action) <> ''),
    CONSTRAINT admin_activity_logs_resource_type_present CHECK (btrim(resource_type) <> ''),
    CONSTRAINT admin_activity_logs_risk_score_range CHECK (risk_score BETWEEN 0 AND 100),
    CONSTRAINT admin_activity_logs_details_is_object CHECK (jsonb_typeof(details) = 'object'),
    CONSTRAINT admin_activity_logs_risk_factors_is_array CHECK (jsonb_typeof(risk_factors) = 'array')
);
COMMENT ON TABLE admin_activity_logs IS 'Append-only trail of what admins did, with a risk score per action.';
COMMENT ON COLUMN admin_activity_logs.resource_id IS 'Id or key of the resource acted on (text: uuids, setting keys); NULL for collection-level actions.';
COMMENT ON COLUMN admin_activity_logs.ip IS 'Client address the action came from; NULL when it did not come over the network.';
COMMENT ON COLUMN admin_activity_logs.risk_score IS '0 (routine) to 100 (critical); 70 and above is high risk.';
COMMENT ON COLUMN admin_activity_logs.risk_factors IS 'JSON array of the factor names that raised the score, e.g. ["new_ip","off_hours"].';
COMMENT ON CONSTRAINT admin_activity_logs_pkey ON admin_activity_logs IS 'Each log entry has one identity.';
COMMENT ON CONSTRAINT admin_activity_logs_admin_user_fk ON admin_activity_logs IS
    'The acting admin exists; RESTRICT because the trail must keep every admin it names (admins are deactivated, not deleted).';
COMMENT ON CONSTRAINT admin_activity_logs_action_present ON admin_activity_logs IS 'Every entry names its action.';
COMMENT ON CONSTRAINT admin_activity_logs_resource_type_present ON admin_activity_logs IS
    'Every entry names the kind of resource acted on.';
COMMENT ON CONSTRAINT admin_activity_logs_risk_score_range ON admin_activity_logs IS 'A risk score is between 0 and 100.';
COMMENT ON CONSTRAINT admin_activity_logs_details_is_object ON admin_activity_logs IS 'Details are a JSON object.';
COMMENT ON CONSTRAINT admin_activity_logs_risk_factors_is_array ON admin_activity_logs IS
    'Risk factors are a JSON array of factor names.';

CREATE INDEX admin_activity_logs_admin_user_id_occurred_at_idx ON admin_activity_logs (admin_user_id, occurred_at DESC);
CREATE INDEX admin_activity_logs_occurred_at_high_risk_idx ON admin_activity_logs (occurred_at DESC, id DESC)
    WHERE risk_score >= 70;
COMMENT ON INDEX admin_activity_logs_occurred_at_high_risk_idx IS
    'The high-risk review queue: entries scored 70 or more, newest first. Query with the literal predicate risk_score >= 70.';
CREATE INDEX admin_activity_logs_resource_type_resource_id_occurred_at_idx
    ON admin_activity_logs (resource_type, resource_id, occurred_at DESC);
CREATE INDEX admin_activity_logs_details_idx ON admin_activity_logs USING gin (details jsonb_path_ops);
-- default jsonb_ops: factor lookups use key existence (risk_factors ? 'new_ip').
CREATE INDEX admin_activity_logs_risk_factors_idx ON admin_activity_logs USING gin (risk_factors);

CREATE FUNCTION admin_activity_logs_append_only_fn() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'check_violation',
        CONSTRAINT = 'admin_activity_logs_append_only',
        MESSAGE = format('admin_activity_logs is append-only: %s refused', TG_OP),
        DETAIL = 'The admin activity trail cannot be changed or removed.';
END
$$;
-- Statement level so that TRUNCATE is refused too (row triggers cannot fire on TRUNCATE).
COMMENT ON FUNCTION admin_activity_logs_append_only_fn() IS 'Trigger function of admin_activity_logs_append_only.';
CREATE TRIGGER admin_activity_logs_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON admin_activity_logs
    FOR EACH STATEMENT EXECUTE FUNCTION admin_activity_logs_append_only_fn();
COMMENT ON TRIGGER admin_activity_logs_append_only ON admin_activity_logs IS
    'The admin activity log is append-only: UPDATE, DELETE and TRUNCATE are refused.';

-- ---------------------------------------------------------------------------------------------
-- admin_dashboards
-- ---------------------------------------------------------------------------------------------

CREATE TABLE admin_dashboards (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    admin_user_id uuid NOT NULL,
    name          text NOT NULL,
    layout        jsonb NOT NULL,
    is_default    boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT admin_dashboards_admin_user_fk FOREIGN KEY (admin_user_id) REFERENCES admin_users (id) ON DELETE CASCADE,
    CONSTRAINT admin_dashboards_name_unique UNIQUE (admin_user_id, name),
    CONSTRAINT admin_dashboards_name_present CHECK (btrim(name) <> ''),
    CONSTRAINT admin_dashboards_layout_is_object CHECK (jsonb_typeof(layout) = 'object')
);
COMMENT ON TABLE admin_dashboards IS 'Saved dashboard layouts of an admin; at most one is the default.';
COMMENT ON COLUMN admin_dashboards.is_default IS 'The dashboard opened at sign-in; false until chosen.';
COMMENT ON CONSTRAINT admin_dashboards_pkey ON admin_dashboards IS 'Each dashboard has one identity.';
COMMENT ON CONSTRAINT admin_dashboards_admin_user_fk ON admin_dashboards IS
    'A dashboard belongs to an admin; CASCADE because personal layouts have no value without their owner.';
COMMENT ON CONSTRAINT admin_dashboards_name_unique ON admin_dashboards IS 'An admin names each dashboard differently.';
COMMENT ON CONSTRAINT admin_dashboards_name_present ON admin_dashboards IS 'A dashboard has a name.';
COMMENT ON CONSTRAINT admin_dashboards_layout_is_object ON admin_dashboards IS 'A dashboard layout is a JSON object.';

CREATE UNIQUE INDEX admin_dashboards_one_default ON admin_dashboards (admin_user_id) WHERE is_default;
COMMENT ON INDEX admin_dashboards_one_default IS 'An admin has at most one default dashboard.';
CREATE INDEX admin_dashboards_layout_idx ON admin_dashboards USING gin (layout jsonb_path_ops);

CREATE TRIGGER admin_dashboards_set_updated_at BEFORE UPDATE ON admin_dashboards
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
COMMENT ON TRIGGER admin_dashboards_set_updated_at ON admin_dashboards IS 'Keeps updated_at current.';

-- ---------------------------------------------------------------------------------------------
-- rate_change_requests: the only way a rate becomes active
-- ---------------------------------------------------------------------------------------------

CREATE TABLE rate_change_request_transitions (
    from_status rate_change_status NOT NULL,
    to_status   rate_change_status NOT NULL,
    CONSTRAINT rate_change_request_transitions_pkey PRIMARY KEY (from_status, to_status)
);
COMMENT ON TABLE rate_change_request_transitions IS
    'The allowed moves of a rate change request (data, read by rate_change_requests_status_transition).';
COMMENT ON CONSTRAINT rate_change_request_transitions_pkey ON rate_change_request_transitions IS
    'Each allowed move is listed once.';
INSERT INTO rate_change_request_transitions (from_status, to_status) VALUES
    ('draft', 'pending'),
    ('draft', 'withdrawn'),
    ('pending', 'approved'),
    ('pending', 'rejected'),
    ('pending', 'withdrawn'),
    ('approved', 'applied');

CREATE TABLE rate_change_requests (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind                rate_change_kind NOT NULL,
    proposed_change     jsonb NOT NULL,
    justification       text NOT NULL,
    base_rate_id        uuid NULL,
    territory_factor_id uuid NULL,
    status              rate_change_status NOT NULL DEFAULT 'draft',
    requested_by        uuid NOT NULL,
    submitted_at        timestamptz NULL,
    reviewed_by         uuid NULL,
    reviewed_at         timestamptz NULL,
    review_note         text NULL,
    applied_by          uuid NULL,
    applied_at          timestamptz NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rate_change_requests_requested_by_fk FOREIGN KEY (requested_by)
        REFERENCES admin_users (id) ON DELETE RESTRICT,
    CONSTRAINT rate_change_requests_reviewed_by_fk FOREIGN KEY (reviewed_by)
        REFERENCES admin_users (id) ON DELETE RESTRICT,
    CONSTRAINT rate_change_requests_applied_by_fk FOREIGN KEY (applied_by)
        REFERENCES admin_users (id) ON DELETE RESTRICT,
    CONSTRAINT rate_change_requests_base_rate_fk FOREIGN KEY (base_rate_id)
        REFERENCES base_rates (id) ON DELETE RESTRICT,
    CONSTRAINT rate_change_requests_territory_factor_fk FOREIGN KEY (territory_factor_id)
        REFERENCES territory_factors (id) ON DELETE RESTRICT,
    CONSTRAINT rate_change_requests_target_matches_kind CHECK (
        CASE kind
            WHEN 'base_rate' THEN territory_factor_id IS NULL
            WHEN 'territory_factor' THEN base_rate_id IS NULL
        END),
    CONSTRAINT rate_change_requests_proposed_change_shape CHECK (
        jsonb_typeof(proposed_change) = 'object'
        AND CASE kind
            WHEN 'base_rate' THEN
                proposed_change ?& ARRAY['state_code', 'coverage_type', 'base_amount', 'effective_from']
            WHEN 'territory_factor' THEN
                proposed_change ?& ARRAY['state_code', 'zip', 'city', 'factor', 'effective_from']
        END),
    CONSTRAINT rate_change_requests_justification_present CHECK (btrim(justification) <> ''),
    CONSTRAINT rate_change_requests_four_eyes CHECK (reviewed_by <> requested_by),
    CONSTRAINT rate_change_requests_rejection_note CHECK (status <> 'rejected' OR coalesce(btrim(review_note), '') <> ''),
    CONSTRAINT rate_change_requests_submission_recorded CHECK (
        CASE status
            WHEN 'draft' THEN submitted_at IS NULL
            WHEN 'withdrawn' THEN true
            ELSE submitted_at IS NOT NULL
        END),
    CONSTRAINT rate_change_requests_review_recorded CHECK (
        (status IN ('approved', 'rejected', 'applied')) = (reviewed_by IS NOT NULL)
        AND (reviewed_by IS NULL) = (reviewed_at IS NULL)),
    CONSTRAINT rate_change_requests_application_recorded CHECK (
        (status = 'applied') = (applied_at IS NOT NULL)
        AND (applied_at IS NULL) = (applied_by IS NULL)),
    CONSTRAINT rate_change_requests_timeline_order CHECK (
        reviewed_at >= submitted_at AND applied_at >= reviewed_at)
);
COMMENT ON TABLE rate_change_requests IS
    'A proposed change to a base rate or territory factor; applying an approved request is the only way a rate becomes active.';
COMMENT ON COLUMN rate_change_requests.proposed_change IS
    'The new rate. base_rate: {state_code, coverage_type, base_amount, effective_from, effective_to?}; '
    'territory_factor: {state_code, zip, city, factor, effective_from, effective_to?}. Dates ISO, effective_to exclusive.';
COMMENT ON COLUMN rate_change_requests.justification IS 'Why the change is requested (what the reviewer judges).';
COMMENT ON COLUMN rate_change_requests.base_rate_id IS
    'The proposed base_rates row applying activates (it must match proposed_change); NULL: applying inserts the row from proposed_change.';
COMMENT ON COLUMN rate_change_requests.territory_factor_id IS
    'The proposed territory_factors row applying activates (it must match proposed_change); NULL: applying inserts the row.';
COMMENT ON COLUMN rate_change_requests.review_note IS 'The reviewer''s note; required when rejecting.';
COMMENT ON CONSTRAINT rate_change_requests_pkey ON rate_change_requests IS 'Each request has one identity.';
COMMENT ON CONSTRAINT rate_change_requests_requested_by_fk ON rate_change_requests IS
    'The requester is an admin; RESTRICT because a rate''s approval trail must keep its requester.';
COMMENT ON CONSTRAINT rate_change_requests_reviewed_by_fk ON rate_change_requests IS
    'The reviewer is an admin; RESTRICT because a rate''s approval trail must keep its reviewer.';
COMMENT ON CONSTRAINT rate_change_requests_applied_by_fk ON rate_change_requests IS
    'The applier is an admin; RESTRICT because a rate''s approval trail must keep who applied it.';
COMMENT ON CONSTRAINT rate_change_requests_base_rate_fk ON rate_change_requests IS
    'The base rate to activate exists; RESTRICT because rate rows are history a request points at (rates are retired, not deleted).';
COMMENT ON CONSTRAINT rate_change_requests_territory_factor_fk ON rate_change_requests IS
    'The territory factor to activate exists; RESTRICT because rate rows are history a request points at (rates are retired, not deleted).';
COMMENT ON CONSTRAINT rate_change_requests_target_matches_kind ON rate_change_requests IS
    'A request names a row to activate only in the table of its kind.';
COMMENT ON CONSTRAINT rate_change_requests_proposed_change_shape ON rate_change_requests IS
    'The proposed change is an object holding every field its kind needs to be applied.';
COMMENT ON CONSTRAINT rate_change_requests_justification_present ON rate_change_requests IS
    'Every rate change request says why.';
COMMENT ON CONSTRAINT rate_change_requests_four_eyes ON rate_change_requests IS
    'Four eyes: nobody reviews their own rate change request.';
COMMENT ON CONSTRAINT rate_change_requests_rejection_note ON rate_change_requests IS
    'Rejecting a rate change request requires a non-blank review note.';
COMMENT ON CONSTRAINT rate_change_requests_submission_recorded ON rate_change_requests IS
    'submitted_at is empty for a draft and set once the request has been submitted (pending and beyond).';
COMMENT ON CONSTRAINT rate_change_requests_review_recorded ON rate_change_requests IS
    'reviewed_by and reviewed_at are set exactly when the request was approved, rejected or applied.';
COMMENT ON CONSTRAINT rate_change_requests_application_recorded ON rate_change_requests IS
    'applied_at and applied_by are set exactly when the request is applied.';
COMMENT ON CONSTRAINT rate_change_requests_timeline_order ON rate_change_requests IS
    'A request is reviewed after it was submitted and applied after it was reviewed.';

CREATE INDEX rate_change_requests_submitted_at_pending_idx ON rate_change_requests (submitted_at, id)
    WHERE status = 'pending';
COMMENT ON INDEX rate_change_requests_submitted_at_pending_idx IS
    'The review queue: pending requests, oldest submission first. Query with the literal predicate status = ''pending''.';
CREATE INDEX rate_change_requests_requested_by_created_at_idx ON rate_change_requests (requested_by, created_at DESC);
CREATE INDEX rate_change_requests_reviewed_by_idx ON rate_change_requests (reviewed_by) WHERE reviewed_by IS NOT NULL;
CREATE INDEX rate_change_requests_applied_by_idx ON rate_change_requests (applied_by) WHERE applied_by IS NOT NULL;
CREATE INDEX rate_change_requests_base_rate_id_idx ON rate_change_requests (base_rate_id) WHERE base_rate_id IS NOT NULL;
CREATE INDEX rate_change_requests_territory_factor_id_idx ON rate_change_requests (territory_factor_id)
    WHERE territory_factor_id IS NOT NULL;
CREATE INDEX rate_change_requests_proposed_change_idx ON rate_change_requests USING gin (proposed_change jsonb_path_ops);

CREATE TRIGGER rate_change_requests_set_updated_at BEFORE UPDATE ON rate_change_requests
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
COMMENT ON TRIGGER rate_change_requests_set_updated_at ON rate_change_requests IS 'Keeps updated_at current.';

CREATE FUNCTION rate_change_requests_status_transition_fn() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'draft' THEN
            RETURN NEW;
        END IF;
    ELSIF NEW.status = OLD.status
       OR EXISTS (SELECT 1 FROM rate_change_request_transitions t
                  WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'check_violation',
        CONSTRAINT = 'rate_change_requests_status_transition',
        MESSAGE = CASE TG_OP
            WHEN 'INSERT' THEN format('a rate change request starts as draft, not %s', NEW.status)
            ELSE format('a rate change request cannot move from %s to %s', OLD.status, NEW.status)
        END,
        DETAIL = 'Allowed moves are listed in rate_change_request_transitions.';
END
$$;
COMMENT ON FUNCTION rate_change_requests_status_transition_fn() IS 'Trigger function of rate_change_requests_status_transition.';
CREATE TRIGGER rate_change_requests_status_transition BEFORE INSERT OR UPDATE OF status ON rate_change_requests
    FOR EACH ROW EXECUTE FUNCTION rate_change_requests_status_transition_fn();
COMMENT ON TRIGGER rate_change_requests_status_transition ON rate_change_requests IS
    'A request starts as draft and moves only along rate_change_request_transitions (draft->pending|withdrawn, pending->approved|rejected|withdrawn, approved->applied).';

CREATE FUNCTION rate_change_requests_history_frozen_fn() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'check_violation',
        CONSTRAINT = 'rate_change_requests_history_frozen',
        MESSAGE = format('rate change request %s is %s: what was submitted, reviewed or applied cannot be rewritten',
                         OLD.id, OLD.status),
        DETAIL = 'The proposal (kind, proposed_change, justification, row to activate, requester) is editable only in draft; '
                 'submission, review and application facts are written once.';
END
$$;
COMMENT ON FUNCTION rate_change_requests_history_frozen_fn() IS 'Trigger function of rate_change_requests_history_frozen.';
CREATE TRIGGER rate_change_requests_history_frozen BEFORE UPDATE ON rate_change_requests
    FOR EACH ROW
    WHEN ((OLD.status <> 'draft'
           AND (NEW.kind, NEW.proposed_change, NEW.justification, NEW.base_rate_id, NEW.territory_factor_id, NEW.requested_by)
               IS DISTINCT FROM
               (OLD.kind, OLD.proposed_change, OLD.justification, OLD.base_rate_id, OLD.territory_factor_id, OLD.requested_by))
       OR (OLD.submitted_at IS NOT NULL AND NEW.submitted_at IS DISTINCT FROM OLD.submitted_at)
       OR (OLD.reviewed_at IS NOT NULL
           AND (NEW.reviewed_by, NEW.reviewed_at, NEW.review_note) IS DISTINCT FROM (OLD.reviewed_by, OLD.reviewed_at, OLD.review_note))
       OR (OLD.applied_at IS NOT NULL
           AND (NEW.applied_by, NEW.applied_at) IS DISTINCT FROM (OLD.applied_by, OLD.applied_at)))
    EXECUTE FUNCTION rate_change_requests_history_frozen_fn();
COMMENT ON TRIGGER rate_change_requests_history_frozen ON rate_change_requests IS
    'A request''s history is written once: the proposal freezes at submission (the reviewer approves exactly what gets applied), the review and the application once recorded.';

-- ---------------------------------------------------------------------------------------------
-- Rates become active only through an approved request
-- ---------------------------------------------------------------------------------------------

ALTER TABLE base_rates ADD COLUMN activated_by_request uuid NULL;
ALTER TABLE base_rates ADD CONSTRAINT base_rates_activated_by_request_fk FOREIGN KEY (activated_by_request)
    REFERENCES rate_change_requests (id) ON DELETE RESTRICT;
COMMENT ON COLUMN base_rates.activated_by_request IS 'The approved rate change request whose application made this rate active.';
COMMENT ON CONSTRAINT base_rates_activated_by_request_fk ON base_rates IS
    'The activating request exists; RESTRICT because an active rate must keep its approval trail.';
CREATE INDEX base_rates_activated_by_request_idx ON base_rates (activated_by_request) WHERE activated_by_request IS NOT NULL;

ALTER TABLE territory_factors ADD COLUMN activated_by_request uuid NULL;
ALTER TABLE territory_factors ADD CONSTRAINT territory_factors_activated_by_request_fk FOREIGN KEY (activated_by_request)
    REFERENCES rate_change_requests (id) ON DELETE RESTRICT;
COMMENT ON COLUMN territory_factors.activated_by_request IS
    'The approved rate change request whose application made this factor active.';
COMMENT ON CONSTRAINT territory_factors_activated_by_request_fk ON territory_factors IS
    'The activating request exists; RESTRICT because an active factor must keep its approval trail.';
CREATE INDEX territory_factors_activated_by_request_idx ON territory_factors (activated_by_request)
    WHERE activated_by_request IS NOT NULL;

-- Shared by base_rates and territory_factors. A row may become active (INSERT as active, or
-- proposed -> active) only if activated_by_request is an APPROVED request of the table's kind
-- whose proposal the row matches: same values, period starting at effective_from and inside the
-- approved period. 'applied' is not accepted: an applied request is spent and cannot activate a
-- second row. Rows already active are left to 0003's *_terms_frozen (terms never change, the
-- period may only be closed earlier); here only their activated_by_request is held fixed.
CREATE FUNCTION rate_activation_requires_approved_request_fn() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    v_kind    rate_change_kind;
    v_text    text[];          -- columns compared as text with the proposal
    v_num     text;            -- the one numeric column
    v_new     jsonb := to_jsonb(NEW);
    v_req     record;
    v_period  daterange;
    v_problem text;
    k         text;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'active'
       AND NEW.activated_by_request IS NOT DISTINCT FROM OLD.activated_by_request THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'base_rates' THEN
        v_kind := 'base_rate'; v_text := ARRAY['state_code', 'coverage_type']; v_num := 'base_amount';
    ELSE
        v_kind := 'territory_factor'; v_text := ARRAY['state_code', 'zip', 'city']; v_num := 'factor';
    END IF;

    SELECT r.id, r.kind, r.status, r.proposed_change INTO v_req
    FROM rate_change_requests r
    WHERE r.id = NEW.activated_by_request;

    IF NOT FOUND THEN
        v_problem := 'it names no rate change request (activated_by_request is NULL or unknown)';
    ELSIF TG_OP = 'UPDATE' AND OLD.status = 'active' THEN
        v_problem := 'the request that activated it cannot be replaced';
    ELSIF v_req.kind <> v_kind THEN
        v_problem := format('request %s changes a %s, not a %s', v_req.id, v_req.kind, v_kind);
    ELSIF v_req.status <> 'approved' THEN
        v_problem := format('request %s is %s, not approved', v_req.id, v_req.status);
    ELSE
        v_period := daterange((v_req.proposed_change ->> 'effective_from')::date,
                              (v_req.proposed_change ->> 'effective_to')::date);
        IF (v_new ->> v_num)::numeric IS DISTINCT FROM (v_req.proposed_change ->> v_num)::numeric THEN
            v_problem := format('%s %s differs from the approved %s', v_num, v_new ->> v_num, v_req.proposed_change ->> v_num);
        ELSIF lower(NEW.effective) IS DISTINCT FROM lower(v_period) OR NOT NEW.effective <@ v_period THEN
            v_problem := format('period %s is not the approved period %s', NEW.effective, v_period);
        ELSE
            FOREACH k IN ARRAY v_text LOOP
                IF (v_new ->> k) IS DISTINCT FROM (v_req.proposed_change ->> k) THEN
                    v_problem := format('%s %s differs from the approved %s', k, v_new ->> k, v_req.proposed_change ->> k);
                    EXIT;
                END IF;
            END LOOP;
        END IF;
    END IF;

    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = TG_NAME,
            MESSAGE = format('%s row %s cannot be active: %s', TG_TABLE_NAME, NEW.id, v_problem),
            DETAIL = 'A rate becomes active only by applying an approved rate change request (apply_rate_change_request).';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION rate_activation_requires_approved_request_fn() IS
    'Trigger function of base_rates_activation_requires_approved_request and territory_factors_activation_requires_approved_request.';

CREATE TRIGGER base_rates_activation_requires_approved_request BEFORE INSERT OR UPDATE ON base_rates
    FOR EACH ROW WHEN (NEW.status = 'active')
    EXECUTE FUNCTION rate_activation_requires_approved_request_fn();
COMMENT ON TRIGGER base_rates_activation_requires_approved_request ON base_rates IS
    'A base rate becomes active only by applying an approved base_rate change request whose proposal it matches.';

CREATE TRIGGER territory_factors_activation_requires_approved_request BEFORE INSERT OR UPDATE ON territory_factors
    FOR EACH ROW WHEN (NEW.status = 'active')
    EXECUTE FUNCTION rate_activation_requires_approved_request_fn();
COMMENT ON TRIGGER territory_factors_activation_requires_approved_request ON territory_factors IS
    'A territory factor becomes active only by applying an approved territory_factor change request whose proposal it matches.';

-- The apply flow, one transaction: lock the request; retire or close the active rows the new
-- period overlaps; activate the new row pointing at the request - the proposed row the request
-- names (base_rate_id / territory_factor_id) or, when it names none, a row inserted from
-- proposed_change - while the request is still 'approved' (the activation trigger requires it);
-- then mark the request applied (approved -> applied). Returns the activated row's id. Every rule
-- still applies (SECURITY INVOKER): a request that is not approved fails on the activation rule.
CREATE FUNCTION apply_rate_change_request(p_request_id uuid, p_admin_user_id uuid) RETURNS uuid
    LANGUAGE plpgsql AS $$
DECLARE
    v_req    rate_change_requests%ROWTYPE;
    v_pc     jsonb;
    v_from   date;
    v_period daterange;
    v_id     uuid;
BEGIN
    SELECT * INTO v_req FROM rate_change_requests WHERE id = p_request_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'no_data_found',
            MESSAGE = format('rate change request %s does not exist', p_request_id);
    END IF;
    v_pc := v_req.proposed_change;
    v_from := (v_pc ->> 'effective_from')::date;
    v_period := daterange(v_from, (v_pc ->> 'effective_to')::date);

    IF v_req.kind = 'base_rate' THEN
        -- Superseded entirely (starts on or after the new start): retired.
        UPDATE base_rates SET status = 'retired'
        WHERE status = 'active' AND state_code = v_pc ->> 'state_code'
          AND coverage_type = (v_pc ->> 'coverage_type')::coverage_type
          AND effective && v_period AND lower(effective) >= v_from;
        -- Started before: its period closes where the new one starts.
        UPDATE base_rates SET effective = daterange(lower(effective), v_from)
        WHERE status = 'active' AND state_code = v_pc ->> 'state_code'
          AND coverage_type = (v_pc ->> 'coverage_type')::coverage_type
          AND effective && v_period AND lower(effective) < v_from;
        IF v_req.base_rate_id IS NOT NULL THEN
            UPDATE base_rates SET status = 'active', activated_by_request = v_req.id
            WHERE id = v_req.base_rate_id
            RETURNING id INTO v_id;
        ELSE
            INSERT INTO base_rates (state_code, coverage_type, base_amount, effective, status, activated_by_request)
            VALUES (v_pc ->> 'state_code', (v_pc ->> 'coverage_type')::coverage_type,
                    (v_pc ->> 'base_amount')::numeric, v_period, 'active', v_req.id)
            RETURNING id INTO v_id;
        END IF;
    ELSE
        UPDATE territory_factors SET status = 'retired'
        WHERE status = 'active' AND state_code = v_pc ->> 'state_code' AND zip = v_pc ->> 'zip'
          AND effective && v_period AND lower(effective) >= v_from;
        UPDATE territory_factors SET effective = daterange(lower(effective), v_from)
        WHERE status = 'active' AND state_code = v_pc ->> 'state_code' AND zip = v_pc ->> 'zip'
          AND effective && v_period AND lower(effective) < v_from;
        IF v_req.territory_factor_id IS NOT NULL THEN
            UPDATE territory_factors SET status = 'active', activated_by_request = v_req.id
            WHERE id = v_req.territory_factor_id
            RETURNING id INTO v_id;
        ELSE
            INSERT INTO territory_factors (state_code, zip, city, factor, effective, status, activated_by_request)
            VALUES (v_pc ->> 'state_code', v_pc ->> 'zip', v_pc ->> 'city',
                    (v_pc ->> 'factor')::numeric, v_period, 'active', v_req.id)
            RETURNING id INTO v_id;
        END IF;
    END IF;

    UPDATE rate_change_requests
    SET status = 'applied', applied_at = now(), applied_by = p_admin_user_id
    WHERE id = v_req.id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION apply_rate_change_request(uuid, uuid) IS
    'Applies an approved rate change request in one transaction: retires or closes the overlapping active rows, activates the proposed row the request names (or inserts one from proposed_change), marks the request applied by p_admin_user_id (admin_users.id); returns the activated row id.';
REVOKE ALL ON FUNCTION apply_rate_change_request(uuid, uuid) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Row Level Security (ENABLE + FORCE). Policies are for quotedb_app (acting user in app.user_id,
-- system actor with app.system = on) and quotedb_readonly (reporting). Expressions that do not
-- depend on the row are wrapped in (SELECT ...) so they run once per statement, not per row.
-- FORCE subjects the table owner too: the *_system_* policies also name CURRENT_USER (the role
-- running this migration, i.e. the owner) so that seeds and maintenance run as a non-superuser
-- owner act by setting app.system = on like any worker; without it they see no row. (A superuser
-- or BYPASSRLS owner bypasses RLS regardless.)
-- ---------------------------------------------------------------------------------------------

-- quotes
ALTER TABLE quotes ENABLE ROW LEVEL SECURITY;
ALTER TABLE quotes FORCE ROW LEVEL SECURITY;
CREATE POLICY quotes_customer_select ON quotes FOR SELECT TO quotedb_app
    USING (customer_id = (SELECT app_user_id()));
CREATE POLICY quotes_customer_insert ON quotes FOR INSERT TO quotedb_app
    WITH CHECK (customer_id = (SELECT app_user_id()));
CREATE POLICY quotes_customer_update ON quotes FOR UPDATE TO quotedb_app
    USING (customer_id = (SELECT app_user_id()))
    WITH CHECK (customer_id = (SELECT app_user_id()));
CREATE POLICY quotes_agent_select ON quotes FOR SELECT TO quotedb_app
    USING (agent_id = (SELECT app_user_id()));
CREATE POLICY quotes_agent_update ON quotes FOR UPDATE TO quotedb_app
    USING (agent_id = (SELECT app_user_id()))
    WITH CHECK (agent_id = (SELECT app_user_id()));
CREATE POLICY quotes_admin_select ON quotes FOR SELECT TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'quotes:read')));
CREATE POLICY quotes_system_all ON quotes FOR ALL TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system())) WITH CHECK ((SELECT app_is_system()));
CREATE POLICY quotes_readonly_select ON quotes FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY quotes_customer_select ON quotes IS 'A customer sees their own quotes.';
COMMENT ON POLICY quotes_customer_insert ON quotes IS 'A customer creates quotes only for themselves.';
COMMENT ON POLICY quotes_customer_update ON quotes IS 'A customer changes only their own quotes and cannot hand them to someone else.';
COMMENT ON POLICY quotes_agent_select ON quotes IS 'An agent sees the quotes assigned to them.';
COMMENT ON POLICY quotes_agent_update ON quotes IS 'An agent works (rates, presents) the quotes assigned to them and cannot reassign them.';
COMMENT ON POLICY quotes_admin_select ON quotes IS 'Admins holding quotes:read see every quote.';
COMMENT ON POLICY quotes_system_all ON quotes IS 'The system actor (app.system = on: workers, maintenance) sees and changes every quote.';
COMMENT ON POLICY quotes_readonly_select ON quotes IS 'Reporting reads every quote (conversion and premium analytics).';

-- quote_versions and quote_coverages: a quote's lines and ratings are as visible as the quote
-- itself. The policies defer to quotes' own policies (a subquery on quotes is filtered by them), so
-- who sees a quote is decided in one place. The check is quote_is_visible(), VOLATILE so it takes a
-- fresh snapshot and also sees a quote inserted earlier in the same statement (the repository
-- creates a quote, its version and its lines in one statement of data-modifying CTEs). SELECT
-- policies use it too: INSERT ... RETURNING also checks the new row against the SELECT policies.
-- plpgsql rather than SQL: a SQL function with a SET clause is not inlined and its body is planned
-- again in every statement (every policy check in every trigger query); plpgsql keeps the plan.
-- No SET search_path (it is called for every row a policy checks): an invoker function running
-- nothing the caller could not, its one relation schema-qualified.
CREATE FUNCTION quote_is_visible(p_quote_id uuid) RETURNS boolean
    LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM public.quotes q WHERE q.id = p_quote_id);
END
$$;
COMMENT ON FUNCTION quote_is_visible(uuid) IS
    'Whether the acting user may see the quote (its RLS policies decide), with a fresh snapshot so a quote inserted earlier in the same statement counts; used by the write policies of quote_versions and quote_coverages.';
REVOKE ALL ON FUNCTION quote_is_visible(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION quote_is_visible(uuid) TO quotedb_app;

ALTER TABLE quote_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE quote_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY quote_versions_via_quote_select ON quote_versions FOR SELECT TO quotedb_app, CURRENT_USER
    USING (quote_is_visible(quote_id));
CREATE POLICY quote_versions_via_quote_insert ON quote_versions FOR INSERT TO quotedb_app, CURRENT_USER
    WITH CHECK (quote_is_visible(quote_id));
CREATE POLICY quote_versions_readonly_select ON quote_versions FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY quote_versions_via_quote_select ON quote_versions IS
    'A quote version is visible exactly when its quote is (quotes'' policies decide).';
COMMENT ON POLICY quote_versions_via_quote_insert ON quote_versions IS
    'A version is added only to a quote the actor can see (versions are never updated or deleted).';
COMMENT ON POLICY quote_versions_readonly_select ON quote_versions IS 'Reporting reads every version (premium analytics).';

ALTER TABLE quote_coverages ENABLE ROW LEVEL SECURITY;
ALTER TABLE quote_coverages FORCE ROW LEVEL SECURITY;
CREATE POLICY quote_coverages_via_quote_select ON quote_coverages FOR SELECT TO quotedb_app, CURRENT_USER
    USING (quote_is_visible(quote_id));
CREATE POLICY quote_coverages_via_quote_insert ON quote_coverages FOR INSERT TO quotedb_app, CURRENT_USER
    WITH CHECK (quote_is_visible(quote_id));
CREATE POLICY quote_coverages_via_quote_update ON quote_coverages FOR UPDATE TO quotedb_app, CURRENT_USER
    USING (EXISTS (SELECT 1 FROM quotes q WHERE q.id = quote_id)) WITH CHECK (quote_is_visible(quote_id));
CREATE POLICY quote_coverages_via_quote_delete ON quote_coverages FOR DELETE TO quotedb_app, CURRENT_USER
    USING (EXISTS (SELECT 1 FROM quotes q WHERE q.id = quote_id));
CREATE POLICY quote_coverages_readonly_select ON quote_coverages FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY quote_coverages_via_quote_select ON quote_coverages IS
    'A coverage line is visible exactly when its quote is (quotes'' policies decide).';
COMMENT ON POLICY quote_coverages_via_quote_insert ON quote_coverages IS 'Lines are added only to a quote the actor can see.';
COMMENT ON POLICY quote_coverages_via_quote_update ON quote_coverages IS 'Lines are changed only on a quote the actor can see.';
COMMENT ON POLICY quote_coverages_via_quote_delete ON quote_coverages IS 'Lines are removed only from a quote the actor can see.';
COMMENT ON POLICY quote_coverages_readonly_select ON quote_coverages IS 'Reporting reads every coverage line.';

-- user_sessions
ALTER TABLE user_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY user_sessions_own_all ON user_sessions FOR ALL TO quotedb_app
    USING (user_id = (SELECT app_user_id())) WITH CHECK (user_id = (SELECT app_user_id()));
CREATE POLICY user_sessions_admin_select ON user_sessions FOR SELECT TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'sessions:manage')));
CREATE POLICY user_sessions_admin_update ON user_sessions FOR UPDATE TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'sessions:manage')))
    WITH CHECK ((SELECT admin_has_permission(app_user_id(), 'sessions:manage')));
CREATE POLICY user_sessions_system_all ON user_sessions FOR ALL TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system())) WITH CHECK ((SELECT app_is_system()));
COMMENT ON POLICY user_sessions_own_all ON user_sessions IS 'A user sees and manages (revokes) only their own sessions.';
COMMENT ON POLICY user_sessions_admin_select ON user_sessions IS 'Admins holding sessions:manage see every session.';
COMMENT ON POLICY user_sessions_admin_update ON user_sessions IS 'Admins holding sessions:manage revoke any session.';
COMMENT ON POLICY user_sessions_system_all ON user_sessions IS 'The system actor (login flow, cleanup) manages every session.';

-- oauth2_clients
ALTER TABLE oauth2_clients ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth2_clients FORCE ROW LEVEL SECURITY;
CREATE POLICY oauth2_clients_owner_all ON oauth2_clients FOR ALL TO quotedb_app
    USING (owner_user_id = (SELECT app_user_id())) WITH CHECK (owner_user_id = (SELECT app_user_id()));
CREATE POLICY oauth2_clients_admin_all ON oauth2_clients FOR ALL TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'oauth_clients:manage')))
    WITH CHECK ((SELECT admin_has_permission(app_user_id(), 'oauth_clients:manage')));
CREATE POLICY oauth2_clients_system_all ON oauth2_clients FOR ALL TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system())) WITH CHECK ((SELECT app_is_system()));
COMMENT ON POLICY oauth2_clients_owner_all ON oauth2_clients IS 'A user manages the OAuth2 clients they own.';
COMMENT ON POLICY oauth2_clients_admin_all ON oauth2_clients IS 'Admins holding oauth_clients:manage manage every client.';
COMMENT ON POLICY oauth2_clients_system_all ON oauth2_clients IS 'The system actor (token endpoint) reads and updates every client.';

-- admin_users
ALTER TABLE admin_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE admin_users FORCE ROW LEVEL SECURITY;
CREATE POLICY admin_users_own_select ON admin_users FOR SELECT TO quotedb_app
    USING (user_id = (SELECT app_user_id()));
CREATE POLICY admin_users_manager_select ON admin_users FOR SELECT TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'admin_users:manage')));
CREATE POLICY admin_users_manager_insert ON admin_users FOR INSERT TO quotedb_app
    WITH CHECK ((SELECT admin_has_permission(app_user_id(), 'admin_users:manage'))
                AND user_id <> (SELECT app_user_id()));
CREATE POLICY admin_users_manager_update ON admin_users FOR UPDATE TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'admin_users:manage')) AND user_id <> (SELECT app_user_id()))
    WITH CHECK ((SELECT admin_has_permission(app_user_id(), 'admin_users:manage')) AND user_id <> (SELECT app_user_id()));
CREATE POLICY admin_users_system_all ON admin_users FOR ALL TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system())) WITH CHECK ((SELECT app_is_system()));
-- Owner access for the SECURITY DEFINER lookups admin_has_permission() / app_admin_user_id(): they
-- run as the owner without app.system, and FORCE would hide every admin from them.
-- TO CURRENT_USER resolves to the role running the migration (the owner of the functions).
CREATE POLICY admin_users_definer_select ON admin_users FOR SELECT TO CURRENT_USER USING (true);
COMMENT ON POLICY admin_users_own_select ON admin_users IS 'An admin sees their own admin account.';
COMMENT ON POLICY admin_users_manager_select ON admin_users IS 'Admins holding admin_users:manage see every admin account.';
COMMENT ON POLICY admin_users_manager_insert ON admin_users IS
    'Admins holding admin_users:manage create admin accounts, never their own (no self-promotion).';
COMMENT ON POLICY admin_users_manager_update ON admin_users IS
    'Admins holding admin_users:manage change other admins'' accounts, never their own (no self-promotion, no self-unlock).';
COMMENT ON POLICY admin_users_system_all ON admin_users IS
    'The system actor (login flow: failed attempts, lock, last login) manages every admin account.';
COMMENT ON POLICY admin_users_definer_select ON admin_users IS
    'The migration owner, who owns admin_has_permission() and app_admin_user_id(), reads admin accounts: FORCE would otherwise hide them from those SECURITY DEFINER lookups.';

-- admin_activity_logs
ALTER TABLE admin_activity_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE admin_activity_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY admin_activity_logs_own_insert ON admin_activity_logs FOR INSERT TO quotedb_app
    WITH CHECK (admin_user_id = (SELECT app_admin_user_id()));
CREATE POLICY admin_activity_logs_own_select ON admin_activity_logs FOR SELECT TO quotedb_app
    USING (admin_user_id = (SELECT app_admin_user_id()));
CREATE POLICY admin_activity_logs_reader_select ON admin_activity_logs FOR SELECT TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'activity:read')));
CREATE POLICY admin_activity_logs_system_insert ON admin_activity_logs FOR INSERT TO quotedb_app, CURRENT_USER
    WITH CHECK ((SELECT app_is_system()));
CREATE POLICY admin_activity_logs_system_select ON admin_activity_logs FOR SELECT TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system()));
CREATE POLICY admin_activity_logs_readonly_select ON admin_activity_logs FOR SELECT TO quotedb_readonly USING (true);
COMMENT ON POLICY admin_activity_logs_own_insert ON admin_activity_logs IS
    'An active admin logs actions only under their own admin id.';
COMMENT ON POLICY admin_activity_logs_own_select ON admin_activity_logs IS 'An admin reads their own activity.';
COMMENT ON POLICY admin_activity_logs_reader_select ON admin_activity_logs IS 'Admins holding activity:read read all activity.';
COMMENT ON POLICY admin_activity_logs_system_insert ON admin_activity_logs IS 'The system actor logs on behalf of any admin.';
COMMENT ON POLICY admin_activity_logs_system_select ON admin_activity_logs IS 'The system actor (risk jobs) reads all activity.';
COMMENT ON POLICY admin_activity_logs_readonly_select ON admin_activity_logs IS 'Reporting reads all activity (risk reporting).';

-- system_settings
ALTER TABLE system_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE system_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY system_settings_public_select ON system_settings FOR SELECT TO quotedb_app
    USING (NOT is_sensitive AND (SELECT app_user_id()) IS NOT NULL);
CREATE POLICY system_settings_sensitive_select ON system_settings FOR SELECT TO quotedb_app
    USING (is_sensitive AND (SELECT admin_has_permission(app_user_id(), 'settings:read_sensitive')));
CREATE POLICY system_settings_writer_insert ON system_settings FOR INSERT TO quotedb_app
    WITH CHECK ((SELECT admin_has_permission(app_user_id(), 'settings:write'))
                AND updated_by = (SELECT app_admin_user_id()));
CREATE POLICY system_settings_writer_update ON system_settings FOR UPDATE TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'settings:write')))
    WITH CHECK ((SELECT admin_has_permission(app_user_id(), 'settings:write'))
                AND updated_by = (SELECT app_admin_user_id()));
CREATE POLICY system_settings_writer_delete ON system_settings FOR DELETE TO quotedb_app
    USING ((SELECT admin_has_permission(app_user_id(), 'settings:write')));
CREATE POLICY system_settings_system_all ON system_settings FOR ALL TO quotedb_app, CURRENT_USER
    USING ((SELECT app_is_system())) WITH CHECK ((SELECT app_is_system()));
CREATE POLICY system_settings_readonly_select ON system_settings FOR SELECT TO quotedb_readonly
    USING (NOT is_sensitive);
CREATE POLICY system_settings_owner_public_select ON system_settings FOR SELECT TO CURRENT_USER
    USING (NOT is_sensitive);
COMMENT ON POLICY system_settings_public_select ON system_settings IS
    'Any authenticated user or admin reads the non-sensitive settings.';
COMMENT ON POLICY system_settings_sensitive_select ON system_settings IS
    'Sensitive settings are readable only by admins holding settings:read_sensitive.';
COMMENT ON POLICY system_settings_writer_insert ON system_settings IS
    'Admins holding settings:write create settings and record themselves as updated_by.';
COMMENT ON POLICY system_settings_writer_update ON system_settings IS
    'Admins holding settings:write change settings and record themselves as updated_by.';
COMMENT ON POLICY system_settings_writer_delete ON system_settings IS 'Admins holding settings:write delete settings.';
COMMENT ON POLICY system_settings_system_all ON system_settings IS 'The system actor (rating engine, workers) reads and writes every setting.';
COMMENT ON POLICY system_settings_readonly_select ON system_settings IS 'Reporting reads the non-sensitive settings only.';
COMMENT ON POLICY system_settings_owner_public_select ON system_settings IS
    'The owner (the SECURITY DEFINER lookup public_setting()) reads the non-sensitive settings without acting as the system.';

-- ---------------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE, DELETE ON admin_roles, admin_permissions, system_settings, admin_dashboards TO quotedb_app;
GRANT SELECT, INSERT, DELETE ON admin_role_permissions TO quotedb_app;   -- a grant is revoked, not edited
GRANT SELECT, INSERT, UPDATE ON admin_users TO quotedb_app;              -- admins are deactivated, not deleted
GRANT SELECT, INSERT, UPDATE ON rate_change_requests TO quotedb_app;     -- requests are withdrawn, not deleted
GRANT SELECT, INSERT ON admin_activity_logs TO quotedb_app;              -- append-only
GRANT USAGE ON SEQUENCE admin_activity_logs_id_seq TO quotedb_app;
GRANT SELECT ON rate_change_request_transitions, admin_role_ancestry, admin_role_effective_permissions TO quotedb_app;
GRANT SELECT ON admin_roles, admin_permissions, admin_role_permissions, admin_users, system_settings,
    admin_activity_logs, admin_dashboards, rate_change_request_transitions, rate_change_requests,
    admin_role_ancestry, admin_role_effective_permissions TO quotedb_readonly;
GRANT EXECUTE ON FUNCTION admin_has_permission(uuid, text), app_admin_user_id(),
    apply_rate_change_request(uuid, uuid) TO quotedb_app;

-- Non-sensitive settings are reference data the application reads outside any actor's
-- transaction (rating reads the discount cap in its one round trip). system_settings is under
-- FORCED row level security; the lookup runs as the owner, whom
-- system_settings_owner_public_select lets read the non-sensitive rows (and only those) without
-- switching app.system on: one statement, and it can never return a sensitive row. STABLE, so a
-- statement that reads the same key twice may read it once. Search-path-proof like
-- admin_has_permission (no SET clause: rating and quote creation call it on every request).
CREATE FUNCTION public_setting(p_key text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
BEGIN
    RETURN (SELECT s.value FROM public.system_settings s
            WHERE s.key OPERATOR(pg_catalog.=) p_key AND NOT s.is_sensitive);
END
$$;
-- The hot authentication path: a session token's hash -> the active session and its user, before
-- any acting user is known. user_sessions is under FORCED row level security, so the lookup runs as
-- the owner with app.system on for this one read (restored after); it returns only an active
-- (unrevoked, unexpired) session matching the 32-byte hash, so it reveals nothing to a caller
-- without the token. One round trip instead of BEGIN / SELECT / COMMIT.
CREATE FUNCTION session_by_token_hash(p_token_hash bytea)
    RETURNS TABLE (id uuid, user_id uuid, ip inet, user_agent text, created_at timestamptz,
                   last_seen_at timestamptz, expires_at timestamptz, email text, full_name text, role user_role)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
DECLARE
    v_previous text := current_setting('app.system', true);
BEGIN
    PERFORM set_config('app.system', 'on', true);
    RETURN QUERY
        SELECT s.id, s.user_id, s.ip, s.user_agent, s.created_at, s.last_seen_at, s.expires_at,
               u.email::text, u.full_name, u.role
        FROM public.user_sessions s
        JOIN public.users u ON u.id = s.user_id
        WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now();
    PERFORM set_config('app.system', coalesce(v_previous, ''), true);
END
$$;
COMMENT ON FUNCTION session_by_token_hash(bytea) IS
    'Authentication lookup: the active session with this token hash and its user, without an acting user; one round trip.';
REVOKE ALL ON FUNCTION session_by_token_hash(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION session_by_token_hash(bytea) TO quotedb_app;

-- Risk scoring of admin activity needs to know whether a setting is sensitive without being
-- allowed to read it: same owner-side lookup as public_setting(), returning only the flag.
CREATE FUNCTION setting_is_sensitive(p_key text) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
DECLARE
    v_previous  text := current_setting('app.system', true);
    v_sensitive boolean;
BEGIN
    PERFORM set_config('app.system', 'on', true);
    SELECT s.is_sensitive INTO v_sensitive FROM public.system_settings s WHERE s.key = p_key;
    PERFORM set_config('app.system', coalesce(v_previous, ''), true);
    RETURN v_sensitive;
END
$$;
COMMENT ON FUNCTION setting_is_sensitive(text) IS
    'Whether a setting is sensitive (NULL when missing), for risk scoring; never returns the value.';
REVOKE ALL ON FUNCTION setting_is_sensitive(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION setting_is_sensitive(text) TO quotedb_app;

COMMENT ON FUNCTION public_setting(text) IS
    'The value of a NON-sensitive system setting (NULL when missing or sensitive), readable without an acting user: reference values such as rating.discount_cap.';
REVOKE ALL ON FUNCTION public_setting(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public_setting(text) TO quotedb_app, quotedb_readonly;


-- ---------------------------------------------------------------------------------------------
-- Actor-scoped reads in ONE round trip. A repository call on a row-level-secured table normally
-- costs three: BEGIN + SET LOCAL ROLE + settings, the query, COMMIT. For the hottest reads these
-- functions do all of it inside one statement: the SET role clause switches to quotedb_app for
-- the call (and back when it returns, even inside the caller's transaction); set_config() puts
-- the actor in app.user_id / app.system, and the caller's values are put back before the
-- function returns (on an error the transaction or savepoint rolls them back). The query in the
-- body is planned and run as quotedb_app, so the RLS policies decide exactly as in a begin_as()
-- transaction. p_user_id NULL is the system actor. No SET clause on app.*: a non-superuser owner
-- would need GRANT SET ON PARAMETER for that (see public_setting). SECURITY INVOKER on purpose:
-- the SET role clause succeeds only for a caller that is a member of quotedb_app - the same
-- privilege begin_as() needs - so the functions give nobody a way around the policies. No SET
-- search_path either (measured: ~50 us a call on the quote page): as invokers they run nothing
-- the caller could not run itself, and every relation in them is schema-qualified.
-- plpgsql keeps the plans for the session; plan_cache_mode applies to them as to any prepared
-- statement.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION app_quote_by_number(p_user_id uuid, p_quote_number text) RETURNS SETOF quotes
    LANGUAGE plpgsql
    SET role = 'quotedb_app'
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_system text := current_setting('app.system', true);
BEGIN
    PERFORM set_config('app.user_id', coalesce(p_user_id::text, ''), true),
            set_config('app.system', CASE WHEN p_user_id IS NULL THEN 'on' ELSE 'off' END, true);
    RETURN QUERY SELECT * FROM public.quotes q WHERE q.quote_number = p_quote_number;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('app.system', coalesce(v_system, ''), true);
END
$$;
COMMENT ON FUNCTION app_quote_by_number(uuid, text) IS
    'The quote with this number as the acting user p_user_id (NULL: the system actor) may see it under quotes'' RLS policies; one round trip (quotes_number_unique).';
REVOKE ALL ON FUNCTION app_quote_by_number(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_quote_by_number(uuid, text) TO quotedb_app;

-- Keyset pages of a customer's quotes, newest first (quotes_customer_id_created_at_id_idx):
-- the first page when p_after_created_at is NULL, else the rows strictly after the cursor
-- (p_after_created_at, p_after_id). Two statements, not one with an OR, so each keeps an index
-- range scan in its generic plan too.
CREATE FUNCTION app_customer_quotes_page(
    p_user_id uuid,
    p_customer_id uuid,
    p_after_created_at timestamptz,
    p_after_id uuid,
    p_limit bigint
) RETURNS SETOF quotes
    LANGUAGE plpgsql
    SET role = 'quotedb_app'
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_system text := current_setting('app.system', true);
BEGIN
    PERFORM set_config('app.user_id', coalesce(p_user_id::text, ''), true),
            set_config('app.system', CASE WHEN p_user_id IS NULL THEN 'on' ELSE 'off' END, true);
    IF p_after_created_at IS NULL THEN
        RETURN QUERY
            SELECT * FROM public.quotes q
            WHERE q.customer_id = p_customer_id
            ORDER BY q.created_at DESC, q.id DESC
            LIMIT p_limit;
    ELSE
        RETURN QUERY
            SELECT * FROM public.quotes q
            WHERE q.customer_id = p_customer_id
              AND (q.created_at, q.id) < (p_after_created_at, p_after_id)
            ORDER BY q.created_at DESC, q.id DESC
            LIMIT p_limit;
    END IF;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('app.system', coalesce(v_system, ''), true);
END
$$;
COMMENT ON FUNCTION app_customer_quotes_page(uuid, uuid, timestamptz, uuid, bigint) IS
    'A keyset page (newest first) of a customer''s quotes as the acting user p_user_id (NULL: the system actor) may see them under quotes'' RLS policies; first page when p_after_created_at is NULL; one round trip.';
REVOKE ALL ON FUNCTION app_customer_quotes_page(uuid, uuid, timestamptz, uuid, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_customer_quotes_page(uuid, uuid, timestamptz, uuid, bigint) TO quotedb_app;

-- Create a rated quote in ONE round trip: the quote (inserted directly as rated with
-- current_version 1: an INSERT is not a status move), its version 1 and its coverage lines with
-- their premiums, as the acting user p_user_id (NULL: the system actor) under the quotes' RLS
-- policies and every rule trigger, instead of BEGIN + actor / insert / COMMIT (three round trips).
-- expires_at = now() + setting quotes.validity_days (a JSON number > 0, read through
-- public_setting()); when it is missing or not a positive number nothing is inserted and no row is
-- returned. The deferred check quotes_current_version_in_step is run before the actor is restored
-- (SET CONSTRAINTS ... IMMEDIATE, then DEFERRED again): left for COMMIT it would run after this
-- function returned, as the session user with no actor, and RLS would hide the quote from it. So a
-- caller's own pending events of that constraint in the same transaction are checked here too:
-- call it in autocommit, as the repository does.
CREATE FUNCTION app_create_quote(
    p_user_id uuid,
    p_customer_id uuid,
    p_agent_id uuid,
    p_state_code text,
    p_zip text,
    p_premium numeric,
    p_effective_date date,
    p_metadata jsonb,
    p_rating_inputs jsonb,
    p_breakdown jsonb,
    p_coverage_types coverage_type[],
    p_limits numeric[],
    p_deductibles numeric[],
    p_premiums numeric[]
) RETURNS SETOF quotes
    LANGUAGE plpgsql VOLATILE
    SET role = 'quotedb_app'
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_system text := current_setting('app.system', true);
    v_days   numeric := (jsonb_path_query_first(public.public_setting('quotes.validity_days'),
                                                '$ ? (@.type() == "number" && @ > 0)') #>> '{}')::numeric;
    v_quote  public.quotes;
BEGIN
    IF v_days IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('app.user_id', coalesce(p_user_id::text, ''), true),
            set_config('app.system', CASE WHEN p_user_id IS NULL THEN 'on' ELSE 'off' END, true);
    INSERT INTO public.quotes (customer_id, agent_id, state_code, zip, status, premium, current_version,
                               effective_date, expires_at, metadata)
    VALUES (p_customer_id, p_agent_id, p_state_code, p_zip, 'rated', p_premium, 1,
            p_effective_date, now() + interval '1 day' * v_days::float8, p_metadata)
    RETURNING * INTO v_quote;
    INSERT INTO public.quote_versions (quote_id, version, premium, rating_inputs, breakdown)
    VALUES (v_quote.id, v_quote.current_version, v_quote.premium, p_rating_inputs, p_breakdown);
    INSERT INTO public.quote_coverages (quote_id, coverage_type, limit_amount, deductible, premium)
    SELECT v_quote.id, l.coverage_type, l.limit_amount, l.deductible, l.premium
    FROM unnest(p_coverage_types, p_limits, p_deductibles, p_premiums)
        AS l (coverage_type, limit_amount, deductible, premium);
    SET CONSTRAINTS public.quotes_current_version_in_step IMMEDIATE;
    SET CONSTRAINTS public.quotes_current_version_in_step DEFERRED;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('app.system', coalesce(v_system, ''), true);
    RETURN NEXT v_quote;
END
$$;
COMMENT ON FUNCTION app_create_quote(uuid, uuid, uuid, text, text, numeric, date, jsonb, jsonb, jsonb,
                                     coverage_type[], numeric[], numeric[], numeric[]) IS
    'Creates a rated quote with its version 1 and coverage lines as the acting user p_user_id (NULL: the system actor), under RLS and every rule; one round trip; no row when quotes.validity_days is not a positive number.';
REVOKE ALL ON FUNCTION app_create_quote(uuid, uuid, uuid, text, text, numeric, date, jsonb, jsonb, jsonb,
                                        coverage_type[], numeric[], numeric[], numeric[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_create_quote(uuid, uuid, uuid, text, text, numeric, date, jsonb, jsonb, jsonb,
                                           coverage_type[], numeric[], numeric[], numeric[]) TO quotedb_app;

-- The high-risk review queue (risk_score >= 70, newest first, strictly before the cursor
-- (p_before_at, p_before_id)) as the acting admin may read it under admin_activity_logs' RLS
-- policies, in one round trip. The literal predicate keeps the partial index
-- admin_activity_logs_occurred_at_high_risk_idx usable by the generic plan. And the generic plan
-- is forced (plan_cache_mode clause): left to choose, the plan cache kept planning the page afresh
-- on every call, because a generic plan with an unknown LIMIT looks dearer than a custom one with
-- LIMIT 21; that planning (policies included) was about half the server time of the call
-- (pgbench: 0.38 ms -> 0.2 ms above SELECT 1). The customer page gains nothing from it (its
-- generic plan is chosen anyway) and keeps the default.
CREATE FUNCTION app_high_risk_activity_page(
    p_user_id uuid,
    p_before_at timestamptz,
    p_before_id bigint,
    p_limit bigint
) RETURNS SETOF admin_activity_logs
    LANGUAGE plpgsql
    SET role = 'quotedb_app'
    SET plan_cache_mode = 'force_generic_plan'
AS $$
DECLARE
    v_user   text := current_setting('app.user_id', true);
    v_system text := current_setting('app.system', true);
BEGIN
    PERFORM set_config('app.user_id', coalesce(p_user_id::text, ''), true),
            set_config('app.system', CASE WHEN p_user_id IS NULL THEN 'on' ELSE 'off' END, true);
    RETURN QUERY
        SELECT * FROM public.admin_activity_logs a
        WHERE a.risk_score >= 70
          AND (a.occurred_at, a.id) < (p_before_at, p_before_id)
        ORDER BY a.occurred_at DESC, a.id DESC
        LIMIT p_limit;
    PERFORM set_config('app.user_id', coalesce(v_user, ''), true),
            set_config('app.system', coalesce(v_system, ''), true);
END
$$;
COMMENT ON FUNCTION app_high_risk_activity_page(uuid, timestamptz, bigint, bigint) IS
    'A keyset page of admin activity scored 70 or more, newest first, strictly before (p_before_at, p_before_id), as the acting user p_user_id (NULL: the system actor) may read it under the RLS policies; one round trip.';
REVOKE ALL ON FUNCTION app_high_risk_activity_page(uuid, timestamptz, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_high_risk_activity_page(uuid, timestamptz, bigint, bigint) TO quotedb_app;
