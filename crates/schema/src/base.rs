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

/// Transaction-local setting that marks the system actor (workers, maintenance) when `'on'`
/// (read by `app_is_system()`).
pub const SYSTEM_ACTOR_SETTING: &str = "app.system";

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
