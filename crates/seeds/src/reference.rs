//! Values the reference seeds (`data/*.sql`) define, for code and tests that rely on them. The
//! seeds' own tests (`tests/reference.rs`) check that every constant here matches the seeded
//! database. The names the application and the database share - role names, permission codes,
//! setting keys - live in the schema crate (`quotedb_schema::admin::{roles, permissions,
//! settings}`), checked against the seeded database by the same tests.

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

/// The system admin accounts that carry the reference rates through the rate change workflow
/// (`users.email`; role `agent`, with an `admin_users` row).
pub mod accounts {
    /// Drafts and submits the reference rate change requests (role underwriter).
    pub const RATES_PROPOSER_EMAIL: &str = "rates-proposer@quotedb.internal";
    /// Approves and applies them (role admin).
    pub const RATES_APPROVER_EMAIL: &str = "rates-approver@quotedb.internal";
}
