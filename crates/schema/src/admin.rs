//! Migration 0006 (admin system): admin roles (a tree) and permissions, admin users, system
//! settings, the append-only admin activity log, dashboards, rate change requests, and all Row
//! Level Security of the schema.
//!
//! # Permissions
//!
//! A role holds the permissions granted to it and to every role below it in the hierarchy
//! (`admin_roles.parent_id` points at the senior role; super_admin > admin > underwriter /
//! support / analyst gives super_admin everything and support only support's grants; view
//! `admin_role_effective_permissions`). `admin_has_permission(users.id, code)` answers for an
//! active, unlocked admin; RLS policies call it with the codes in [`permissions`].
//!
//! # Applying a rate change (the only way a rate becomes active)
//!
//! ```sql
//! INSERT INTO rate_change_requests (kind, proposed_change, justification, requested_by)
//! VALUES ('base_rate', '{"state_code":"CA","coverage_type":"collision","base_amount":"512.40",
//!         "effective_from":"2026-01-01"}', 'annual filing', $requester);        -- draft
//! UPDATE rate_change_requests SET status = 'pending', submitted_at = now() WHERE id = $1;
//! UPDATE rate_change_requests SET status = 'approved', reviewed_by = $reviewer, reviewed_at = now()
//!  WHERE id = $1;                                               -- reviewer <> requester
//! SELECT apply_rate_change_request($1, $admin);                 -- returns the activated rate id
//! ```
//!
//! `apply_rate_change_request` runs in the caller's transaction: it retires (or closes the
//! period of) the overlapping active rates, activates the proposed row named by
//! `base_rate_id`/`territory_factor_id` or inserts one from `proposed_change`, and marks the
//! request applied. [`rules::BASE_RATES_ACTIVATION_REQUIRES_APPROVED_REQUEST`] refuses any other
//! activation.
//!
//! # Row Level Security
//!
//! On `quotes`, `user_sessions`, `oauth2_clients`, `admin_users`, `admin_activity_logs` and
//! `system_settings`, ENABLEd and FORCEd. Run user work as
//! `BEGIN; SET LOCAL ROLE quotedb_app; SELECT set_config('app.user_id', $1, true); …`
//! (`app.user_id` is always a `users.id`, for admins too); workers act as the role `quotedb_system` (a membership, not a setting, since 0007).
//! A transaction with neither sees no row of those tables.

db_enum! {
    /// How much damage misuse of a permission can do (`admin_permission_risk_level`).
    pub enum AdminPermissionRiskLevel as "admin_permission_risk_level" {
        /// Read-only, non-sensitive.
        Low = "low",
        /// Changes customer-facing data.
        Medium = "medium",
        /// Changes pricing, settings or access.
        High = "high",
        /// Reads secrets or manages admins.
        Critical = "critical",
    }
}

db_enum! {
    /// Declared JSON type of a system setting (`system_setting_value_type`); the labels are the
    /// results of `jsonb_typeof`.
    pub enum SystemSettingValueType as "system_setting_value_type" {
        /// A JSON string.
        String = "string",
        /// A JSON number.
        Number = "number",
        /// `true` or `false`.
        Boolean = "boolean",
        /// A JSON object.
        Object = "object",
        /// A JSON array.
        Array = "array",
    }
}

db_enum! {
    /// Which rating table a rate change request changes (`rate_change_kind`).
    pub enum RateChangeKind as "rate_change_kind" {
        /// `base_rates`; proposal `{state_code, coverage_type, base_amount, effective_from, effective_to?}`.
        BaseRate = "base_rate",
        /// `territory_factors`; proposal `{state_code, zip, city, factor, effective_from, effective_to?}`.
        TerritoryFactor = "territory_factor",
    }
}

db_enum! {
    /// Rate change request workflow (`rate_change_status`); the allowed moves are the rows of
    /// `rate_change_request_transitions`: draft → pending | withdrawn; pending → approved | rejected
    /// | withdrawn; approved → applied.
    pub enum RateChangeStatus as "rate_change_status" {
        /// Being written by the requester; the only editable state.
        Draft = "draft",
        /// Submitted, waiting for a reviewer.
        Pending = "pending",
        /// Approved by a reviewer other than the requester; ready to apply.
        Approved = "approved",
        /// Refused with a note (terminal).
        Rejected = "rejected",
        /// Taken back by the requester (terminal).
        Withdrawn = "withdrawn",
        /// Its rate is active (terminal).
        Applied = "applied",
    }
}

/// Permission codes (`admin_permissions.code`), every one in one place: those a row level
/// security policy checks ([`permissions::CHECKED_BY_POLICIES`]) and those the application
/// checks ([`permissions::CHECKED_BY_APPLICATION`]; the repository itself checks `rates:*` and
/// `roles:manage`). The reference seeds register all of them (`crates/seeds/tests/reference.rs`).
pub mod permissions {
    // Checked by RLS policies (0006).

    /// See every quote.
    pub const QUOTES_READ: &str = "quotes:read";
    /// See and revoke every user session.
    pub const SESSIONS_MANAGE: &str = "sessions:manage";
    /// See and manage every OAuth2 client.
    pub const OAUTH_CLIENTS_MANAGE: &str = "oauth_clients:manage";
    /// See every admin account; create and change other admins' accounts.
    pub const ADMIN_USERS_MANAGE: &str = "admin_users:manage";
    /// Read every admin's activity.
    pub const ACTIVITY_READ: &str = "activity:read";
    /// Read sensitive system settings.
    pub const SETTINGS_READ_SENSITIVE: &str = "settings:read_sensitive";
    /// Create, change and delete system settings.
    pub const SETTINGS_WRITE: &str = "settings:write";

    // Checked by the application (registered by the seeds, `02_admin_roles_permissions.sql`).

    /// Change, re-rate, decline or cancel any quote (underwriter, support).
    pub const QUOTES_WRITE: &str = "quotes:write";
    /// Look up customer and agent accounts (underwriter, support).
    pub const USERS_READ: &str = "users:read";
    /// Correct customer and agent account details (support).
    pub const USERS_WRITE: &str = "users:write";
    /// Reveal decrypted driver licence numbers (underwriter).
    pub const DRIVERS_READ_PII: &str = "drivers:read_pii";
    /// Retry or cancel notifications (support).
    pub const NOTIFICATIONS_MANAGE: &str = "notifications:manage";
    /// Read rates and rate change requests (underwriter, analyst).
    pub const RATES_READ: &str = "rates:read";
    /// Draft, submit and withdraw rate change requests (underwriter).
    pub const RATES_PROPOSE: &str = "rates:propose";
    /// Approve or reject rate change requests (admin).
    pub const RATES_APPROVE: &str = "rates:approve";
    /// Apply approved rate change requests (admin).
    pub const RATES_APPLY: &str = "rates:apply";
    /// Manage discount and surcharge rules (admin).
    pub const RATING_RULES_MANAGE: &str = "rating_rules:manage";
    /// Read analytics events and realtime metrics (analyst).
    pub const ANALYTICS_READ: &str = "analytics:read";
    /// Read business reports (underwriter, analyst).
    pub const REPORTS_READ: &str = "reports:read";
    /// Export reports and data extracts (analyst).
    pub const REPORTS_EXPORT: &str = "reports:export";
    /// Create, change and share dashboards (underwriter, support, analyst).
    pub const DASHBOARDS_MANAGE: &str = "dashboards:manage";
    /// Read the audit log (admin).
    pub const AUDIT_READ: &str = "audit:read";
    /// Manage roles and grants (super_admin).
    pub const ROLES_MANAGE: &str = "roles:manage";
    /// Configure SSO providers (super_admin).
    pub const SSO_PROVIDERS_MANAGE: &str = "sso_providers:manage";

    /// Every code an RLS policy checks; the seeds must register these exactly.
    pub const CHECKED_BY_POLICIES: &[&str] = &[
        QUOTES_READ,
        SESSIONS_MANAGE,
        OAUTH_CLIENTS_MANAGE,
        ADMIN_USERS_MANAGE,
        ACTIVITY_READ,
        SETTINGS_READ_SENSITIVE,
        SETTINGS_WRITE,
    ];

    /// Every code the application checks.
    pub const CHECKED_BY_APPLICATION: &[&str] = &[
        QUOTES_WRITE,
        USERS_READ,
        USERS_WRITE,
        DRIVERS_READ_PII,
        NOTIFICATIONS_MANAGE,
        RATES_READ,
        RATES_PROPOSE,
        RATES_APPROVE,
        RATES_APPLY,
        RATING_RULES_MANAGE,
        ANALYTICS_READ,
        REPORTS_READ,
        REPORTS_EXPORT,
        DASHBOARDS_MANAGE,
        AUDIT_READ,
        ROLES_MANAGE,
        SSO_PROVIDERS_MANAGE,
    ];

    /// Every permission code.
    pub const ALL: &[&str] = &[
        QUOTES_READ,
        SESSIONS_MANAGE,
        OAUTH_CLIENTS_MANAGE,
        ADMIN_USERS_MANAGE,
        ACTIVITY_READ,
        SETTINGS_READ_SENSITIVE,
        SETTINGS_WRITE,
        QUOTES_WRITE,
        USERS_READ,
        USERS_WRITE,
        DRIVERS_READ_PII,
        NOTIFICATIONS_MANAGE,
        RATES_READ,
        RATES_PROPOSE,
        RATES_APPROVE,
        RATES_APPLY,
        RATING_RULES_MANAGE,
        ANALYTICS_READ,
        REPORTS_READ,
        REPORTS_EXPORT,
        DASHBOARDS_MANAGE,
        AUDIT_READ,
        ROLES_MANAGE,
        SSO_PROVIDERS_MANAGE,
    ];
}

/// Admin role names (`admin_roles.name`) the seeds create: super_admin > admin > underwriter / support / analyst.
pub mod roles {
    /// Root role: everything, plus admin accounts, roles, SSO and sensitive settings.
    pub const SUPER_ADMIN: &str = "super_admin";
    /// Day-to-day administration; holds every junior role's permissions.
    pub const ADMIN: &str = "admin";
    /// Prices risk, proposes rate changes.
    pub const UNDERWRITER: &str = "underwriter";
    /// Customer support.
    pub const SUPPORT: &str = "support";
    /// Read-only analytics and reporting.
    pub const ANALYST: &str = "analyst";

    /// Every seeded role with its parent.
    pub const HIERARCHY: &[(&str, Option<&str>)] = &[
        (SUPER_ADMIN, None),
        (ADMIN, Some(SUPER_ADMIN)),
        (UNDERWRITER, Some(ADMIN)),
        (SUPPORT, Some(ADMIN)),
        (ANALYST, Some(ADMIN)),
    ];
}

/// System setting keys (`system_settings.key`) the seeds define and the database's rules and
/// the application read. All values are JSON numbers
/// except [`settings::ADMIN_IP_ALLOWLIST`] (an array of CIDR strings, sensitive).
pub mod settings {
    /// Cap on the sum of stackable discounts, a fraction (0.35 = 35 %). Number.
    pub const DISCOUNT_CAP: &str = "rating.discount_cap";
    /// Days a new quote stays open (30). Number.
    pub const QUOTE_VALIDITY_DAYS: &str = "quotes.validity_days";
    /// Lifetime of a user session in hours (720). Number.
    pub const SESSION_LIFETIME_HOURS: &str = "sessions.lifetime_hours";
    /// Delivery attempts before a notification is dead (5). Number.
    pub const NOTIFICATION_MAX_ATTEMPTS: &str = "notifications.max_attempts";
    /// Months of audit log partitions kept attached (24). Number.
    pub const AUDIT_RETENTION_MONTHS: &str = "audit.retention_months";
    /// Months of analytics_events partitions kept; older months are dropped (13). Number.
    pub const ANALYTICS_RETENTION_MONTHS: &str = "analytics.retention_months";
    /// Months of admin_activity_logs partitions kept attached; older months are detached (24). Number.
    pub const ADMIN_ACTIVITY_RETENTION_MONTHS: &str = "admin_activity.retention_months";
    /// Months ahead `maintain_partitions()` keeps partitions ready (3, between 0 and 36). Number.
    pub const PARTITIONS_MONTHS_AHEAD: &str = "partitions.months_ahead";
    /// Consecutive failed admin logins before the account locks (5). Number.
    pub const ADMIN_MAX_FAILED_LOGINS: &str = "admin.max_failed_logins";
    /// Minutes an admin account stays locked (30). Number.
    pub const ADMIN_LOCKOUT_MINUTES: &str = "admin.lockout_minutes";
    /// Networks admin sign-in is accepted from. Array of CIDR strings; SENSITIVE.
    pub const ADMIN_IP_ALLOWLIST: &str = "security.admin_ip_allowlist";

    /// Every seeded key with its sensitive flag.
    pub const ALL: &[(&str, bool)] = &[
        (DISCOUNT_CAP, false),
        (QUOTE_VALIDITY_DAYS, false),
        (SESSION_LIFETIME_HOURS, false),
        (NOTIFICATION_MAX_ATTEMPTS, false),
        (AUDIT_RETENTION_MONTHS, false),
        (ANALYTICS_RETENTION_MONTHS, false),
        (ADMIN_ACTIVITY_RETENTION_MONTHS, false),
        (PARTITIONS_MONTHS_AHEAD, false),
        (ADMIN_MAX_FAILED_LOGINS, false),
        (ADMIN_LOCKOUT_MINUTES, false),
        (ADMIN_IP_ALLOWLIST, true),
    ];
}

/// Business-rule names of migration 0006 (constraint, rule trigger and rule index names; see
/// their `COMMENT`s).
pub mod rules {
    // admin_roles
    /// Admin role names are unique.
    pub const ADMIN_ROLES_NAME_UNIQUE: &str = "admin_roles_name_unique";
    /// An admin role name is a snake_case identifier of 2 to 63 characters.
    pub const ADMIN_ROLES_NAME_FORMAT: &str = "admin_roles_name_format";
    /// Every admin role says what it is for.
    pub const ADMIN_ROLES_DESCRIPTION_PRESENT: &str = "admin_roles_description_present";
    /// A role cannot be its own parent.
    pub const ADMIN_ROLES_NOT_OWN_PARENT: &str = "admin_roles_not_own_parent";
    /// A parent role exists (RESTRICT: deleting it would strip inherited permissions).
    pub const ADMIN_ROLES_PARENT_FK: &str = "admin_roles_parent_fk";
    /// A role can never become its own ancestor: the hierarchy stays a tree (trigger).
    pub const ADMIN_ROLES_NO_CYCLE: &str = "admin_roles_no_cycle";

    // admin_permissions
    /// A permission code is registered once.
    pub const ADMIN_PERMISSIONS_CODE_UNIQUE: &str = "admin_permissions_code_unique";
    /// A permission code is resource:action, both snake_case.
    pub const ADMIN_PERMISSIONS_CODE_FORMAT: &str = "admin_permissions_code_format";
    /// Every permission says what it allows.
    pub const ADMIN_PERMISSIONS_DESCRIPTION_PRESENT: &str = "admin_permissions_description_present";

    // admin_role_permissions
    /// A grant's role exists (CASCADE).
    pub const ADMIN_ROLE_PERMISSIONS_ROLE_FK: &str = "admin_role_permissions_role_fk";
    /// A grant's permission exists (CASCADE).
    pub const ADMIN_ROLE_PERMISSIONS_PERMISSION_FK: &str = "admin_role_permissions_permission_fk";
    /// The granting admin exists (RESTRICT: who granted stays known).
    pub const ADMIN_ROLE_PERMISSIONS_GRANTED_BY_FK: &str = "admin_role_permissions_granted_by_fk";

    // admin_users
    /// A user has at most one admin account.
    pub const ADMIN_USERS_USER_UNIQUE: &str = "admin_users_user_unique";
    /// An admin is a user (RESTRICT: deactivate the admin before erasing the user).
    pub const ADMIN_USERS_USER_FK: &str = "admin_users_user_fk";
    /// An admin has one existing role (RESTRICT).
    pub const ADMIN_USERS_ROLE_FK: &str = "admin_users_role_fk";
    /// The deactivating admin exists (RESTRICT: SET NULL would break the deactivation record).
    pub const ADMIN_USERS_DEACTIVATED_BY_FK: &str = "admin_users_deactivated_by_fk";
    /// Failed login attempts are never negative.
    pub const ADMIN_USERS_FAILED_LOGIN_ATTEMPTS_NON_NEGATIVE: &str = "admin_users_failed_login_attempts_non_negative";
    /// An IP allow-list, when present, names at least one network and no NULL entries.
    pub const ADMIN_USERS_ALLOWED_IP_RANGES_VALID: &str = "admin_users_allowed_ip_ranges_valid";
    /// A last login IP is recorded only together with the last login time.
    pub const ADMIN_USERS_LAST_LOGIN_COMPLETE: &str = "admin_users_last_login_complete";
    /// Deactivation records when, why and by whom — all three or none.
    pub const ADMIN_USERS_DEACTIVATION_COMPLETE: &str = "admin_users_deactivation_complete";
    /// A deactivation reason is real text: at least 10 characters once trimmed.
    pub const ADMIN_USERS_DEACTIVATION_REASON_MEANINGFUL: &str = "admin_users_deactivation_reason_meaningful";

    // system_settings
    /// A setting key is dotted snake_case (section.name).
    pub const SYSTEM_SETTINGS_KEY_FORMAT: &str = "system_settings_key_format";
    /// A setting value has the JSON type it declares (`jsonb_typeof(value) = value_type`).
    pub const SYSTEM_SETTINGS_VALUE_TYPE_MATCHES: &str = "system_settings_value_type_matches";
    /// Every setting says what it controls.
    pub const SYSTEM_SETTINGS_DESCRIPTION_PRESENT: &str = "system_settings_description_present";
    /// The last writer is an admin (SET NULL: the setting outlives the account).
    pub const SYSTEM_SETTINGS_UPDATED_BY_FK: &str = "system_settings_updated_by_fk";

    // admin_activity_logs
    /// The acting admin exists (RESTRICT: the trail keeps its admins).
    pub const ADMIN_ACTIVITY_LOGS_ADMIN_USER_FK: &str = "admin_activity_logs_admin_user_fk";
    /// Every entry names its action.
    pub const ADMIN_ACTIVITY_LOGS_ACTION_PRESENT: &str = "admin_activity_logs_action_present";
    /// Every entry names the kind of resource acted on.
    pub const ADMIN_ACTIVITY_LOGS_RESOURCE_TYPE_PRESENT: &str = "admin_activity_logs_resource_type_present";
    /// A risk score is between 0 and 100.
    pub const ADMIN_ACTIVITY_LOGS_RISK_SCORE_RANGE: &str = "admin_activity_logs_risk_score_range";
    /// Details are a JSON object.
    pub const ADMIN_ACTIVITY_LOGS_DETAILS_IS_OBJECT: &str = "admin_activity_logs_details_is_object";
    /// Risk factors are a JSON array of factor names.
    pub const ADMIN_ACTIVITY_LOGS_RISK_FACTORS_IS_ARRAY: &str = "admin_activity_logs_risk_factors_is_array";
    /// The admin activity log is append-only: UPDATE, DELETE and TRUNCATE are refused (trigger).
    pub const ADMIN_ACTIVITY_LOGS_APPEND_ONLY: &str = "admin_activity_logs_append_only";

    // admin_dashboards
    /// A dashboard belongs to an admin (CASCADE).
    pub const ADMIN_DASHBOARDS_ADMIN_USER_FK: &str = "admin_dashboards_admin_user_fk";
    /// An admin names each dashboard differently.
    pub const ADMIN_DASHBOARDS_NAME_UNIQUE: &str = "admin_dashboards_name_unique";
    /// A dashboard has a name.
    pub const ADMIN_DASHBOARDS_NAME_PRESENT: &str = "admin_dashboards_name_present";
    /// A dashboard layout is a JSON object.
    pub const ADMIN_DASHBOARDS_LAYOUT_IS_OBJECT: &str = "admin_dashboards_layout_is_object";
    /// An admin has at most one default dashboard (partial unique index).
    pub const ADMIN_DASHBOARDS_ONE_DEFAULT: &str = "admin_dashboards_one_default";

    // rate_change_requests
    /// The requester is an admin (RESTRICT).
    pub const RATE_CHANGE_REQUESTS_REQUESTED_BY_FK: &str = "rate_change_requests_requested_by_fk";
    /// The reviewer is an admin (RESTRICT).
    pub const RATE_CHANGE_REQUESTS_REVIEWED_BY_FK: &str = "rate_change_requests_reviewed_by_fk";
    /// The applier is an admin (RESTRICT).
    pub const RATE_CHANGE_REQUESTS_APPLIED_BY_FK: &str = "rate_change_requests_applied_by_fk";
    /// The base rate to activate exists (RESTRICT).
    pub const RATE_CHANGE_REQUESTS_BASE_RATE_FK: &str = "rate_change_requests_base_rate_fk";
    /// The territory factor to activate exists (RESTRICT).
    pub const RATE_CHANGE_REQUESTS_TERRITORY_FACTOR_FK: &str = "rate_change_requests_territory_factor_fk";
    /// A request names a row to activate only in the table of its kind.
    pub const RATE_CHANGE_REQUESTS_TARGET_MATCHES_KIND: &str = "rate_change_requests_target_matches_kind";
    /// The proposed change is an object holding every field its kind needs to be applied.
    pub const RATE_CHANGE_REQUESTS_PROPOSED_CHANGE_SHAPE: &str = "rate_change_requests_proposed_change_shape";
    /// Every rate change request says why.
    pub const RATE_CHANGE_REQUESTS_JUSTIFICATION_PRESENT: &str = "rate_change_requests_justification_present";
    /// Four eyes: nobody reviews their own rate change request.
    pub const RATE_CHANGE_REQUESTS_FOUR_EYES: &str = "rate_change_requests_four_eyes";
    /// Rejecting a rate change request requires a non-blank review note.
    pub const RATE_CHANGE_REQUESTS_REJECTION_NOTE: &str = "rate_change_requests_rejection_note";
    /// `submitted_at` is empty for a draft and set once submitted.
    pub const RATE_CHANGE_REQUESTS_SUBMISSION_RECORDED: &str = "rate_change_requests_submission_recorded";
    /// `reviewed_by`/`reviewed_at` are set exactly when approved, rejected or applied.
    pub const RATE_CHANGE_REQUESTS_REVIEW_RECORDED: &str = "rate_change_requests_review_recorded";
    /// `applied_at`/`applied_by` are set exactly when applied.
    pub const RATE_CHANGE_REQUESTS_APPLICATION_RECORDED: &str = "rate_change_requests_application_recorded";
    /// A request is reviewed after it was submitted and applied after it was reviewed.
    pub const RATE_CHANGE_REQUESTS_TIMELINE_ORDER: &str = "rate_change_requests_timeline_order";
    /// A request starts as draft and moves only along `rate_change_request_transitions` (trigger).
    pub const RATE_CHANGE_REQUESTS_STATUS_TRANSITION: &str = "rate_change_requests_status_transition";
    /// The four-eyes trail carries the database's times: created_at, submitted_at, reviewed_at and
    /// applied_at are now() when set by the application or a worker (trigger).
    pub const RATE_CHANGE_REQUESTS_STEP_TIMES_BY_DATABASE: &str = "rate_change_requests_step_times_by_database";
    /// A request's history is written once: the proposal freezes at submission, the review and
    /// the application once recorded (trigger).
    pub const RATE_CHANGE_REQUESTS_HISTORY_FROZEN: &str = "rate_change_requests_history_frozen";

    // base_rates / territory_factors (added by 0006)
    /// The request that activated a base rate exists (RESTRICT).
    pub const BASE_RATES_ACTIVATED_BY_REQUEST_FK: &str = "base_rates_activated_by_request_fk";
    /// A base rate becomes active only by applying an approved base_rate change request whose
    /// proposal it matches (trigger).
    pub const BASE_RATES_ACTIVATION_REQUIRES_APPROVED_REQUEST: &str = "base_rates_activation_requires_approved_request";
    /// The request that activated a territory factor exists (RESTRICT).
    pub const TERRITORY_FACTORS_ACTIVATED_BY_REQUEST_FK: &str = "territory_factors_activated_by_request_fk";
    /// A territory factor becomes active only by applying an approved territory_factor change
    /// request whose proposal it matches (trigger).
    pub const TERRITORY_FACTORS_ACTIVATION_REQUIRES_APPROVED_REQUEST: &str =
        "territory_factors_activation_requires_approved_request";

    /// Every rule name of this module.
    pub const ALL: &[&str] = &[
        ADMIN_ROLES_NAME_UNIQUE,
        ADMIN_ROLES_NAME_FORMAT,
        ADMIN_ROLES_DESCRIPTION_PRESENT,
        ADMIN_ROLES_NOT_OWN_PARENT,
        ADMIN_ROLES_PARENT_FK,
        ADMIN_ROLES_NO_CYCLE,
        ADMIN_PERMISSIONS_CODE_UNIQUE,
        ADMIN_PERMISSIONS_CODE_FORMAT,
        ADMIN_PERMISSIONS_DESCRIPTION_PRESENT,
        ADMIN_ROLE_PERMISSIONS_ROLE_FK,
        ADMIN_ROLE_PERMISSIONS_PERMISSION_FK,
        ADMIN_ROLE_PERMISSIONS_GRANTED_BY_FK,
        ADMIN_USERS_USER_UNIQUE,
        ADMIN_USERS_USER_FK,
        ADMIN_USERS_ROLE_FK,
        ADMIN_USERS_DEACTIVATED_BY_FK,
        ADMIN_USERS_FAILED_LOGIN_ATTEMPTS_NON_NEGATIVE,
        ADMIN_USERS_ALLOWED_IP_RANGES_VALID,
        ADMIN_USERS_LAST_LOGIN_COMPLETE,
        ADMIN_USERS_DEACTIVATION_COMPLETE,
        ADMIN_USERS_DEACTIVATION_REASON_MEANINGFUL,
        SYSTEM_SETTINGS_KEY_FORMAT,
        SYSTEM_SETTINGS_VALUE_TYPE_MATCHES,
        SYSTEM_SETTINGS_DESCRIPTION_PRESENT,
        SYSTEM_SETTINGS_UPDATED_BY_FK,
        ADMIN_ACTIVITY_LOGS_ADMIN_USER_FK,
        ADMIN_ACTIVITY_LOGS_ACTION_PRESENT,
        ADMIN_ACTIVITY_LOGS_RESOURCE_TYPE_PRESENT,
        ADMIN_ACTIVITY_LOGS_RISK_SCORE_RANGE,
        ADMIN_ACTIVITY_LOGS_DETAILS_IS_OBJECT,
        ADMIN_ACTIVITY_LOGS_RISK_FACTORS_IS_ARRAY,
        ADMIN_ACTIVITY_LOGS_APPEND_ONLY,
        ADMIN_DASHBOARDS_ADMIN_USER_FK,
        ADMIN_DASHBOARDS_NAME_UNIQUE,
        ADMIN_DASHBOARDS_NAME_PRESENT,
        ADMIN_DASHBOARDS_LAYOUT_IS_OBJECT,
        ADMIN_DASHBOARDS_ONE_DEFAULT,
        RATE_CHANGE_REQUESTS_REQUESTED_BY_FK,
        RATE_CHANGE_REQUESTS_REVIEWED_BY_FK,
        RATE_CHANGE_REQUESTS_APPLIED_BY_FK,
        RATE_CHANGE_REQUESTS_BASE_RATE_FK,
        RATE_CHANGE_REQUESTS_TERRITORY_FACTOR_FK,
        RATE_CHANGE_REQUESTS_TARGET_MATCHES_KIND,
        RATE_CHANGE_REQUESTS_PROPOSED_CHANGE_SHAPE,
        RATE_CHANGE_REQUESTS_JUSTIFICATION_PRESENT,
        RATE_CHANGE_REQUESTS_FOUR_EYES,
        RATE_CHANGE_REQUESTS_REJECTION_NOTE,
        RATE_CHANGE_REQUESTS_SUBMISSION_RECORDED,
        RATE_CHANGE_REQUESTS_REVIEW_RECORDED,
        RATE_CHANGE_REQUESTS_APPLICATION_RECORDED,
        RATE_CHANGE_REQUESTS_TIMELINE_ORDER,
        RATE_CHANGE_REQUESTS_STATUS_TRANSITION,
        RATE_CHANGE_REQUESTS_STEP_TIMES_BY_DATABASE,
        RATE_CHANGE_REQUESTS_HISTORY_FROZEN,
        BASE_RATES_ACTIVATED_BY_REQUEST_FK,
        BASE_RATES_ACTIVATION_REQUIRES_APPROVED_REQUEST,
        TERRITORY_FACTORS_ACTIVATED_BY_REQUEST_FK,
        TERRITORY_FACTORS_ACTIVATION_REQUIRES_APPROVED_REQUEST,
    ];
}
