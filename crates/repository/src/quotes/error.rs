//! The error of the quotes API: [`QuoteError`], the [`QuoteKey`] it names, and how a database
//! error of a write is mapped to it (row level security refusal, then the rules by name).

use std::fmt;

use quotedb_schema::quotes::{QuoteStatus, rules};

use crate::error::{InvalidInput, is_rls_refusal, rule_of};
use crate::ids::QuoteId;
use crate::rating::{PricingError, RatingError};
use crate::types::QuoteNumber;

/// Which quote an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteKey {
    /// By id.
    Id(QuoteId),
    /// By human number.
    Number(QuoteNumber),
}

impl fmt::Display for QuoteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "{id}"),
            Self::Number(n) => write!(f, "{n}"),
        }
    }
}

/// Why a quotes call failed.
#[derive(Debug, thiserror::Error)]
pub enum QuoteError {
    /// Input refused before anything was written.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such quote, or the actor may not see it (never revealed which).
    #[error("quote {0} not found")]
    NotFound(QuoteKey),
    /// The actor may see the quote but not change it, or row level security refused the write
    /// (e.g. a customer creating a quote for someone else).
    #[error("not allowed for this actor")]
    Forbidden,
    /// Someone else rated the quote since `expected` was read: reload and retry.
    #[error("quote was changed concurrently (expected version {expected})")]
    Conflict {
        /// The version the caller expected.
        expected: i32,
    },
    /// The status machine refused the move (rule `quotes_status_transition`): e.g. binding a
    /// rated quote, re-rating a presented one, leaving a terminal status.
    #[error("transition to {to} refused by rule quotes_status_transition: {message}")]
    TransitionRefused {
        /// The status asked for.
        to: QuoteStatus,
        /// The database's explanation.
        message: String,
    },
    /// The quote's validity ran out: it can no longer be bound (rule `quotes_bound_within_validity`).
    #[error("quote {0} is past its validity and cannot be bound")]
    ValidityExpired(QuoteKey),
    /// A party of the quote is wrong: the customer is not a customer, the agent not an agent,
    /// or either does not exist (rules `quotes_customer_is_customer`, `quotes_agent_is_agent`,
    /// `quotes_customer_fk`, `quotes_agent_fk`).
    #[error("refused by rule {rule}: {message}")]
    Party {
        /// The rule name.
        rule: &'static str,
        /// The database's message.
        message: String,
    },
    /// The rates could not be resolved (no base rate, territory or discount cap).
    #[error(transparent)]
    Rating(#[from] RatingError),
    /// The premium could not be computed.
    #[error(transparent)]
    Pricing(#[from] PricingError),
    /// The reference data (rates, rules, settings) changed while the price was computed, twice
    /// in a row (rule `quote_versions_reference_data_current`; the first time the repository
    /// reloads and prices again by itself). Nothing was written; retrying is safe
    /// (`is_retryable()`: SQLSTATE 40001).
    #[error("refused by rule quote_versions_reference_data_current: the rates changed while pricing")]
    ReferenceDataNotCurrent(#[source] sqlx::Error),
    /// A setting the call needs is missing or has the wrong type/value.
    #[error("setting {key} is missing or not a positive number")]
    Setting {
        /// The setting key.
        key: &'static str,
    },
    /// Another business rule of the database refused the write; `rule` is its name.
    #[error("refused by rule {rule}: {message}")]
    Rule {
        /// The rule (constraint or rule trigger) name.
        rule: &'static str,
        /// The database's message.
        message: String,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

/// `?` on a read: no rule applies, the error is wrapped. Writes map through
/// `QuoteError::from_db`, which needs to know the quote and the transition.
impl From<sqlx::Error> for QuoteError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err)
    }
}

fn db_message(err: &sqlx::Error) -> String {
    err.as_database_error()
        .map(|e| e.message().to_string())
        .unwrap_or_default()
}

impl QuoteError {
    /// The one mapping of a write's database error: RLS refusal, a refused value, then the rules
    /// by name, else `Database`. `key` names the quote, `to` the transition asked for.
    pub(super) fn from_db(err: sqlx::Error, key: impl FnOnce() -> QuoteKey, to: Option<QuoteStatus>) -> QuoteError {
        if is_rls_refusal(&err) {
            return QuoteError::Forbidden;
        }
        if let Some(invalid) = crate::error::refused_value(&err) {
            return QuoteError::Invalid(invalid);
        }
        let Some(rule) = rule_of(&err).and_then(|r| rules::ALL.iter().copied().find(|known| *known == r)) else {
            return QuoteError::Database(err);
        };
        let message = db_message(&err);
        match rule {
            rules::QUOTES_STATUS_TRANSITION => QuoteError::TransitionRefused {
                to: to.unwrap_or(QuoteStatus::Rated),
                message,
            },
            rules::QUOTES_BOUND_WITHIN_VALIDITY => QuoteError::ValidityExpired(key()),
            rules::QUOTE_VERSIONS_REFERENCE_DATA_CURRENT => QuoteError::ReferenceDataNotCurrent(err),
            rules::QUOTES_CUSTOMER_IS_CUSTOMER
            | rules::QUOTES_AGENT_IS_AGENT
            | rules::QUOTES_CUSTOMER_FK
            | rules::QUOTES_AGENT_FK => QuoteError::Party { rule, message },
            _ => QuoteError::Rule { rule, message },
        }
    }
}
