//! The error of the rate change API, [`RateChangeError`], and how a database error is mapped to
//! it by rule name.

use quotedb_schema::admin::{RateChangeStatus, rules};
use time::OffsetDateTime;

use crate::InvalidInput;
use crate::error::rule_of;
use crate::ids::RateChangeRequestId;

/// Errors of [`RateChanges`](super::RateChanges).
#[derive(Debug, thiserror::Error)]
pub enum RateChangeError {
    /// Input refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such request.
    #[error("rate change request {0} not found")]
    NotFound(RateChangeRequestId),
    /// The actor is not an active admin (deactivated, a customer or agent, or the System).
    #[error("only an active admin can act on rate change requests")]
    NotAnActiveAdmin,
    /// The acting admin is locked.
    #[error("the acting admin is locked until {until}")]
    Locked {
        /// When the lock ends.
        until: OffsetDateTime,
    },
    /// The acting admin lacks the permission the step needs (`rates:propose`, `rates:approve`,
    /// `rates:apply`).
    #[error("the acting admin does not hold {0}")]
    MissingPermission(&'static str),
    /// Only the requester submits or withdraws a request.

    #[error("only the requester can submit or withdraw rate change request {0}")]
    NotRequester(RateChangeRequestId),
    /// Four eyes: nobody reviews their own request (`rate_change_requests_four_eyes`).
    #[error("an admin cannot review their own rate change request")]
    SelfApprovalRefused,
    /// A rejection needs a non-blank note (`rate_change_requests_rejection_note`).
    #[error("rejecting a rate change request requires a note")]
    RejectionNoteRequired,
    /// The workflow refused the move (`rate_change_requests_status_transition`,
    /// `rate_change_requests_history_frozen`).
    #[error("refused by the rate change workflow: {0}")]
    TransitionRefused(String),
    /// Only an approved request is applied.
    #[error("rate change request {id} is {status}, not approved")]
    NotApproved {
        /// The request.
        id: RateChangeRequestId,
        /// Its status.
        status: RateChangeStatus,
    },
    /// The database refused to activate the rate (`*_activation_requires_approved_request`,
    /// overlaps, unknown state, …).
    #[error("the rate could not be activated: {0}")]
    ActivationRefused(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl RateChangeError {
    pub(super) fn from_db(err: sqlx::Error) -> Self {
        let message = || {
            err.as_database_error()
                .map(|e| e.message().to_owned())
                .unwrap_or_default()
        };
        match rule_of(&err) {
            Some(rules::RATE_CHANGE_REQUESTS_FOUR_EYES) => Self::SelfApprovalRefused,
            Some(rules::RATE_CHANGE_REQUESTS_REJECTION_NOTE) => Self::RejectionNoteRequired,
            Some(rules::RATE_CHANGE_REQUESTS_STATUS_TRANSITION | rules::RATE_CHANGE_REQUESTS_HISTORY_FROZEN) => {
                Self::TransitionRefused(message())
            }
            Some(rules::RATE_CHANGE_REQUESTS_PROPOSED_CHANGE_SHAPE) => {
                Self::Invalid(InvalidInput::new("proposed_change", message()))
            }
            Some(rules::RATE_CHANGE_REQUESTS_JUSTIFICATION_PRESENT) => {
                Self::Invalid(InvalidInput::new("justification", "must not be blank"))
            }
            Some(
                rules::BASE_RATES_ACTIVATION_REQUIRES_APPROVED_REQUEST
                | rules::TERRITORY_FACTORS_ACTIVATION_REQUIRES_APPROVED_REQUEST,
            ) => Self::ActivationRefused(message()),
            // Other refusals while applying (overlap, unknown state, bounds): the rate tables' rules.
            Some(_)
                if err
                    .as_database_error()
                    .is_some_and(|e| e.table().is_some_and(|t| t != "rate_change_requests")) =>
            {
                Self::ActivationRefused(message())
            }
            _ => Self::Database(err),
        }
    }
}
