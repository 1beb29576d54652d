//! A service-shaped consumer of quotedb: it migrates and seeds its database at start-up, signs up
//! customers, quotes them and reads their quotes back - all through `quotedb-repository`'s
//! public API. Its errors keep quotedb's `is_retryable()` so the caller can decide to try again.

use quotedb_repository::quotes::{CoverageRequest, NewQuote, Quote};
use quotedb_repository::rating::Eligibility;
use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::users::NewUser;
use quotedb_repository::{Actor, Db, Email, QuoteNumber, StateCode, UserId, Zip};
use rust_decimal::Decimal;

/// What can go wrong in the service.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The database could not be reached at start-up (the URL is named, without its password).
    #[error(transparent)]
    Connect(#[from] quotedb_repository::ConnectError),
    /// Migrating failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database refused a start-up step.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Seeding failed.
    #[error(transparent)]
    Seed(#[from] quotedb_seeds::SeedError),
    /// Signing a customer up failed.
    #[error(transparent)]
    User(#[from] quotedb_repository::users::UserError),
    /// Quoting failed.
    #[error(transparent)]
    Quote(#[from] quotedb_repository::quotes::QuoteError),
    /// A value the caller gave was refused.
    #[error(transparent)]
    Invalid(#[from] quotedb_repository::InvalidInput),
}

impl ServiceError {
    /// Whether the same call may succeed when tried again (a lost connection, a busy pool).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::User(e) => e.is_retryable(),
            Self::Quote(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// The service: one `Db` handle, cheap to clone.
#[derive(Debug, Clone)]
pub struct QuoteService {
    db: Db,
}

impl QuoteService {
    /// Connect, bring the schema up to date and make sure the reference data is there.
    pub async fn start(database_url: &str) -> Result<Self, ServiceError> {
        let db = Db::connect(database_url).await?;
        quotedb_schema::MIGRATOR.run(db.pool()).await?;
        let mut conn = db.pool().acquire().await?;
        quotedb_seeds::apply_reference(&mut conn).await?;
        Ok(Self { db })
    }

    /// Use an existing handle (the database is already migrated and seeded).
    pub fn with_db(db: Db) -> Self {
        Self { db }
    }

    /// Sign a customer up.
    pub async fn sign_up(&self, email: &str, name: &str) -> Result<UserId, ServiceError> {
        let user = self
            .db
            .users()
            .create_customer(&NewUser {
                email: Email::parse(email)?,
                full_name: name.to_owned(),
                phone: None,
            })
            .await?;
        Ok(user.id)
    }

    /// Quote collision cover for a customer's car in a ZIP code, starting in a week.
    pub async fn quote_collision(&self, customer: UserId, state: &str, zip: &str) -> Result<Quote, ServiceError> {
        let start = (time::OffsetDateTime::now_utc() + time::Duration::days(7)).date();
        let rated = self
            .db
            .quotes()
            .create(
                &Actor::Customer(customer),
                &NewQuote {
                    customer_id: customer,
                    agent_id: None,
                    state_code: StateCode::parse(state)?,
                    zip: Zip::parse(zip)?,
                    effective_date: start,
                    coverages: vec![CoverageRequest {
                        coverage_type: CoverageType::Collision,
                        limit_amount: None,
                        deductible: Decimal::from(500),
                    }],
                    eligibility: Eligibility::default(),
                    metadata: serde_json::Map::new(),
                },
            )
            .await?;
        Ok(rated.quote)
    }

    /// A customer's quote by its number, as that customer sees it.
    pub async fn quote(&self, customer: UserId, number: &str) -> Result<Quote, ServiceError> {
        let number = QuoteNumber::parse(number)?;
        Ok(self
            .db
            .quotes()
            .get_by_number(&Actor::Customer(customer), &number)
            .await?)
    }
}
