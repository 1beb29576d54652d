//! Realtime: live websocket connections, the analytics event stream, pre-aggregated metric
//! buckets and the outgoing notification queue.
//!
//! - [`Connections`]: open / heartbeat / close, a user's live connections and a topic's
//!   subscribers (partial indexes on `disconnected_at IS NULL`), the stale sweep.
//! - [`Events`]: batch insert in ONE `INSERT … SELECT FROM UNNEST(arrays)` statement, events of
//!   a type in a time range, the 24-hour dashboard.
//! - [`Metrics`]: atomic bucket upserts (`ON CONFLICT … DO UPDATE`), buckets aligned in SQL with
//!   `date_bin`; range reads.
//! - [`Notifications`]: enqueue (recipient checked for the channel), claim with
//!   `FOR UPDATE SKIP LOCKED` in one statement, sent / failed with exponential backoff / dead
//!   after the last attempt, recovery of stuck claims.
//!
//! None of these tables is under row level security; the calls take no actor.

pub mod connections;
pub mod events;
pub mod metrics;
pub mod notifications;

pub use connections::{Connection, ConnectionError, Connections, NewConnection};
pub use events::{AnalyticsEvent, EventError, Events, HourlyCount, NewEvent};
pub use metrics::{MetricBucket, MetricError, MetricSample, Metrics, Observation};
pub use notifications::{
    Backoff, NewNotification, Notification, NotificationError, Notifications, Recipient, RetryDecision,
};

use std::time::Duration;

use crate::Db;
use crate::error::InvalidInput;

/// The realtime API, from [`Db::realtime`].
#[derive(Debug, Clone, Copy)]
pub struct Realtime<'a> {
    db: &'a Db,
}

impl<'a> Realtime<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Websocket connections.
    pub fn connections(&self) -> Connections<'a> {
        Connections::new(self.db)
    }

    /// Analytics events.
    pub fn events(&self) -> Events<'a> {
        Events::new(self.db)
    }

    /// Realtime metric buckets.
    pub fn metrics(&self) -> Metrics<'a> {
        Metrics::new(self.db)
    }

    /// The notification queue, with the default retry [`Backoff`].
    pub fn notifications(&self) -> Notifications<'a> {
        Notifications::new(self.db)
    }
}

/// Seconds of a caller-given timeout, refused when zero or above a year.
pub(crate) fn timeout_secs(field: &'static str, d: Duration) -> Result<f64, InvalidInput> {
    const YEAR: Duration = Duration::from_secs(366 * 24 * 3600);
    if d.is_zero() || d > YEAR {
        return Err(InvalidInput::new(field, "must be positive and at most a year"));
    }
    Ok(d.as_secs_f64())
}
