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
