//! Names and values the reference seeds (`data/*.sql`) define, for code and tests that rely on
//! them. The seeds' own tests (`tests/reference.rs`) check that every constant here matches the
//! seeded database.

/// The states the seeds create; each is fully rated (a base rate per coverage type, territory
/// factors for its major cities).
pub const STATES: &[&str] = &["CA", "NY", "TX"];

/// First day of the reference rate filing (base rates and territory factors, open-ended).
pub const RATES_EFFECTIVE_FROM: &str = "2025-01-01";

/// The seeded cities per state with their number of rated ZIP codes.
pub const CITIES: &[(&str, &str, usize)] = &[
    ("CA", "Los Angeles", 6),
    ("CA", "San Francisco", 7),
    ("CA", "San Diego", 5),
    ("CA", "Sacramento", 5),
    ("CA", "San Jose", 5),
    ("TX", "Houston", 6),
    ("TX", "Dallas", 5),
    ("TX", "Austin", 5),
    ("TX", "San Antonio", 5),
    ("TX", "Fort Worth", 5),
    ("NY", "Manhattan", 6),
    ("NY", "Brooklyn", 6),
    ("NY", "Queens", 5),
    ("NY", "Bronx", 5),
    ("NY", "Staten Island", 5),
    ("NY", "Buffalo", 5),
    ("NY", "Rochester", 5),
    ("NY", "Albany", 5),
    ("NY", "Syracuse", 5),
];

/// Admin role names (`admin_roles.name`): super_admin > admin > underwriter / support / analyst.
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

/// Permission codes the admin console checks in the application, beyond the RLS codes of
/// [`quotedb_schema::admin::permissions`] (which the seeds register too).
pub mod permissions {
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

    /// Every application-checked code above.
    pub const ALL: &[&str] = &[
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

/// System setting keys (`system_settings.key`) the seeds define. All values are JSON numbers
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
        (ADMIN_MAX_FAILED_LOGINS, false),
        (ADMIN_LOCKOUT_MINUTES, false),
        (ADMIN_IP_ALLOWLIST, true),
    ];
}

/// The system admin accounts that carry the reference rates through the rate change workflow
/// (`users.email`; role `agent`, with an `admin_users` row).
pub mod accounts {
    /// Drafts and submits the reference rate change requests (role underwriter).
    pub const RATES_PROPOSER_EMAIL: &str = "rates-proposer@quotedb.internal";
    /// Approves and applies them (role admin).
    pub const RATES_APPROVER_EMAIL: &str = "rates-approver@quotedb.internal";
}
