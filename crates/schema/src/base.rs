//! Migration 0001 (initial schema): extensions, the application roles, the acting-user plumbing
//! used by Row Level Security, the shared `set_updated_at()` trigger function and `states`.

/// The role the application runs as (`SET LOCAL ROLE quotedb_app`): never owns tables, subject
/// to Row Level Security.
pub const APP_ROLE: &str = "quotedb_app";

/// The reporting / analytics role: read-only.
pub const READONLY_ROLE: &str = "quotedb_readonly";

/// Transaction-local setting carrying the acting user's id (read by `app_user_id()`):
/// `SELECT set_config('app.user_id', $1, true)`.
pub const ACTING_USER_SETTING: &str = "app.user_id";

/// The role that owns every object of the schema (migration 0007): NOLOGIN, not a superuser;
/// migrations run as a login that is a member of it.
pub const OWNER_ROLE: &str = "quotedb_owner";

/// The system actor (migration 0007): workers and maintenance switch to it
/// (`SET LOCAL ROLE quotedb_system`), which only a login GRANTed the role can do. Releases up to
/// 0006 used a setting, `app.system`, that any session could flip; it means nothing any more.
pub const SYSTEM_ROLE: &str = "quotedb_system";

/// Business-rule names of migration 0001 (constraint names; see `COMMENT ON CONSTRAINT`).
pub mod rules {
    /// A state code is exactly two upper-case letters (USPS abbreviation).
    pub const STATES_CODE_FORMAT: &str = "states_code_format";
    /// A state has a non-blank name.
    pub const STATES_NAME_NOT_BLANK: &str = "states_name_not_blank";
    /// Two state codes cannot share the same name.
    pub const STATES_NAME_UNIQUE: &str = "states_name_unique";

    /// Every rule name of this module.
    pub const ALL: &[&str] = &[STATES_CODE_FORMAT, STATES_NAME_NOT_BLANK, STATES_NAME_UNIQUE];
}

/// One constraint per table, `<table>_values_bounded` (migrations 0009/0010): every value can be
/// read back - numbers are not NaN or infinite; times and dates lie between 1900-01-01 and
/// 9999-12-31; e-mail addresses are at most [`MAX_EMAIL_CHARS`] characters, names and identifiers
/// [`MAX_NAME_CHARS`], other text [`MAX_TEXT_CHARS`]; arrays hold at most [`MAX_ARRAY_ITEMS`] items;
/// JSON documents are at most [`MAX_JSON_BYTES`] bytes in binary jsonb form.
pub const VALUES_BOUNDED: &[&str] = &[
    "admin_activity_logs_values_bounded",
    "admin_dashboards_values_bounded",
    "admin_permissions_values_bounded",
    "admin_role_held_permissions_values_bounded",
    "admin_role_permissions_values_bounded",
    "admin_roles_values_bounded",
    "admin_users_values_bounded",
    "analytics_events_values_bounded",
    "audit_logs_values_bounded",
    "base_rates_values_bounded",
    "discount_rules_values_bounded",
    "drivers_values_bounded",
    "notification_queue_values_bounded",
    "oauth2_clients_values_bounded",
    "quote_coverages_values_bounded",
    "quote_versions_values_bounded",
    "quotes_values_bounded",
    "rate_change_requests_values_bounded",
    "realtime_metrics_values_bounded",
    "reference_data_generation_values_bounded",
    "sso_providers_values_bounded",
    "states_values_bounded",
    "surcharge_rules_values_bounded",
    "system_settings_values_bounded",
    "territory_factors_values_bounded",
    "user_identities_values_bounded",
    "user_sessions_values_bounded",
    "users_values_bounded",
    "vehicles_values_bounded",
    "websocket_connections_values_bounded",
];

/// Longest e-mail address (characters), `*_values_bounded`.
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest name or identifier (characters), `*_values_bounded`.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest other text (characters), `*_values_bounded`.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Most items in an array column, `*_values_bounded`.
pub const MAX_ARRAY_ITEMS: usize = 50;
/// Largest JSON document, `*_values_bounded`: bytes of the stored jsonb value (the repository
/// checks the text form against the same number before sending).
pub const MAX_JSON_BYTES: usize = 65_536;
