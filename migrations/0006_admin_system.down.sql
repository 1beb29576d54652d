-- Reverts 0006_admin_system (reverse order of creation). Dropping a table drops its policies,
-- triggers, indexes, constraints, comments and grants; the tables of 0002/0004 that 0006 put under
-- Row Level Security lose their policies here and get RLS switched off again.

DROP FUNCTION app_high_risk_activity_page(uuid, timestamptz, bigint, bigint);
DROP FUNCTION app_create_quote(uuid, uuid, uuid, text, text, numeric, date, jsonb, jsonb, jsonb,
                               coverage_type[], numeric[], numeric[], numeric[]);
DROP FUNCTION app_customer_quotes_page(uuid, uuid, timestamptz, uuid, bigint);
DROP FUNCTION app_quote_by_number(uuid, text);

DROP POLICY system_settings_owner_public_select ON system_settings;
DROP POLICY system_settings_readonly_select ON system_settings;
DROP POLICY system_settings_system_all ON system_settings;
DROP POLICY system_settings_writer_delete ON system_settings;
DROP POLICY system_settings_writer_update ON system_settings;
DROP POLICY system_settings_writer_insert ON system_settings;
DROP POLICY system_settings_sensitive_select ON system_settings;
DROP POLICY system_settings_public_select ON system_settings;

DROP POLICY oauth2_clients_system_all ON oauth2_clients;
DROP POLICY oauth2_clients_admin_all ON oauth2_clients;
DROP POLICY oauth2_clients_owner_all ON oauth2_clients;
ALTER TABLE oauth2_clients NO FORCE ROW LEVEL SECURITY;
ALTER TABLE oauth2_clients DISABLE ROW LEVEL SECURITY;

DROP POLICY user_sessions_system_all ON user_sessions;
DROP POLICY user_sessions_admin_update ON user_sessions;
DROP POLICY user_sessions_admin_select ON user_sessions;
DROP POLICY user_sessions_own_all ON user_sessions;
ALTER TABLE user_sessions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE user_sessions DISABLE ROW LEVEL SECURITY;

DROP POLICY quote_coverages_readonly_select ON quote_coverages;
DROP POLICY quote_coverages_via_quote_delete ON quote_coverages;
DROP POLICY quote_coverages_via_quote_update ON quote_coverages;
DROP POLICY quote_coverages_via_quote_insert ON quote_coverages;
DROP POLICY quote_coverages_via_quote_select ON quote_coverages;
ALTER TABLE quote_coverages NO FORCE ROW LEVEL SECURITY;
ALTER TABLE quote_coverages DISABLE ROW LEVEL SECURITY;
DROP POLICY quote_versions_readonly_select ON quote_versions;
DROP POLICY quote_versions_via_quote_insert ON quote_versions;
DROP POLICY quote_versions_via_quote_select ON quote_versions;
ALTER TABLE quote_versions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE quote_versions DISABLE ROW LEVEL SECURITY;
DROP FUNCTION quote_is_visible(uuid);
DROP POLICY quotes_readonly_select ON quotes;
DROP POLICY quotes_system_all ON quotes;
DROP POLICY quotes_admin_select ON quotes;
DROP POLICY quotes_agent_update ON quotes;
DROP POLICY quotes_agent_select ON quotes;
DROP POLICY quotes_customer_update ON quotes;
DROP POLICY quotes_customer_insert ON quotes;
DROP POLICY quotes_customer_select ON quotes;
ALTER TABLE quotes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE quotes DISABLE ROW LEVEL SECURITY;

DROP FUNCTION apply_rate_change_request(uuid, uuid);

DROP TRIGGER territory_factors_activation_requires_approved_request ON territory_factors;
DROP TRIGGER base_rates_activation_requires_approved_request ON base_rates;
DROP FUNCTION rate_activation_requires_approved_request_fn();
DROP INDEX territory_factors_activated_by_request_idx;
ALTER TABLE territory_factors DROP COLUMN activated_by_request;   -- drops territory_factors_activated_by_request_fk
DROP INDEX base_rates_activated_by_request_idx;
ALTER TABLE base_rates DROP COLUMN activated_by_request;          -- drops base_rates_activated_by_request_fk

DROP TABLE rate_change_requests;
DROP FUNCTION rate_change_requests_history_frozen_fn();
DROP FUNCTION rate_change_requests_status_transition_fn();
DROP TABLE rate_change_request_transitions;

DROP TABLE admin_dashboards;
DROP TABLE admin_activity_logs;
DROP FUNCTION admin_activity_logs_append_only_fn();
DROP FUNCTION public_setting(text);
DROP FUNCTION setting_is_sensitive(text);
DROP FUNCTION session_by_token_hash(bytea);
DROP TABLE system_settings;

DROP TRIGGER admin_permissions_maintain_held_permissions ON admin_permissions;
DROP TRIGGER admin_role_permissions_maintain_held_permissions ON admin_role_permissions;
DROP TRIGGER admin_roles_maintain_held_permissions ON admin_roles;
DROP FUNCTION admin_role_held_permissions_rebuild();
DROP TABLE admin_role_held_permissions;
DROP VIEW admin_role_effective_permissions;
DROP TABLE admin_role_permissions;
DROP TABLE admin_users;                      -- its policies call the two functions below
DROP FUNCTION app_admin_user_id();
DROP FUNCTION admin_has_permission(uuid, text);
DROP TABLE admin_permissions;
DROP TRIGGER admin_roles_no_cycle ON admin_roles;
DROP FUNCTION admin_roles_no_cycle_fn();
DROP VIEW admin_role_ancestry;
DROP TABLE admin_roles;

DROP TYPE rate_change_status;
DROP TYPE rate_change_kind;
DROP TYPE system_setting_value_type;
DROP TYPE admin_permission_risk_level;
