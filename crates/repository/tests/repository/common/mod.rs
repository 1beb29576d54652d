//! Fixtures and helpers shared by the repository's tests, one submodule per topic: `users`
//! (customers and agents), `admins` (roles, permissions, admin accounts), `rates` (the rating
//! fixtures, activated through the four-eyes rate change workflow) and `settings`. They go through
//! the public API; raw SQL is left only where no API exists, each place saying why.

pub mod admins;
pub mod rates;
pub mod settings;
pub mod users;

use quotedb_repository::{Db, Email};
use quotedb_testkit::TestDb;

pub use settings::{delete_setting, set_setting};
pub use users::{agent, as_customer, customer};

/// A change to a valid input that makes it invalid.
pub type Change<T> = Box<dyn Fn(&mut T)>;

/// What a test (or a fixture of one) returning its failures with `?` returns.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A fresh seeded database and a repository handle on it.
pub async fn setup() -> (TestDb, Db) {
    let tdb = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let db = Db::new(tdb.pool().clone());
    (tdb, db)
}

/// A unique snake_case name with `prefix`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// A fresh, unique e-mail address.
pub fn email(tag: &str) -> Email {
    Email::parse(&format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple())).expect("valid e-mail")
}
