//! The analytics event stream: batch insert in one `INSERT … SELECT FROM UNNEST(arrays)`
//! statement, events of a type in a time range (`analytics_events_event_type_occurred_at_idx`),
//! and the 24-hour dashboard (BRIN on `occurred_at`).

use quotedb_schema::realtime::rules;
use serde_json::Value as JsonValue;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Db;
use crate::error::{InvalidInput, rule_of};
use crate::ids::{AnalyticsEventId, QuoteId, SessionId, UserId};
use quotedb_domain::input::is_dotted_snake;

/// Most events one [`Events::record_batch`] call takes.
pub const MAX_BATCH: usize = 10_000;
/// Most events one [`Events::of_type`] call returns.
pub const MAX_PAGE: u32 = 10_000;

/// An analytics call failed.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Caller input was refused before reaching the database (`field` names the event index
    /// for batch input, e.g. `events[3].event_type`).
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// An event names a user, session or quote that does not exist; the rule says which.
    #[error("an event references a missing row ({0})")]
    UnknownReference(&'static str),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl EventError {
    /// The one mapping of a database error to this module's errors (the rules by name, a
    /// refused value, else `Database`); `?` goes through it as well.
    pub(crate) fn from_db(err: sqlx::Error) -> Self {
        if let Some(invalid) = crate::error::refused_value(&err) {
            return Self::Invalid(invalid);
        }
        match rule_of(&err) {
            Some(rules::ANALYTICS_EVENTS_USER_FK) => Self::UnknownReference(rules::ANALYTICS_EVENTS_USER_FK),
            Some(rules::ANALYTICS_EVENTS_SESSION_FK) => Self::UnknownReference(rules::ANALYTICS_EVENTS_SESSION_FK),
            Some(rules::ANALYTICS_EVENTS_QUOTE_FK) => Self::UnknownReference(rules::ANALYTICS_EVENTS_QUOTE_FK),
            Some(rules::ANALYTICS_EVENTS_EVENT_TYPE_FORMAT) => Self::Invalid(InvalidInput::new(
                "event_type",
                "dotted snake_case, at most 100 characters",
            )),
            Some(rules::ANALYTICS_EVENTS_PROPERTIES_OBJECT) => {
                Self::Invalid(InvalidInput::new("properties", "a JSON object"))
            }
            _ => Self::Database(err),
        }
    }
}

impl From<sqlx::Error> for EventError {
    fn from(err: sqlx::Error) -> Self {
        Self::from_db(err)
    }
}

/// One event to record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewEvent {
    /// Event name, dotted snake_case (e.g. `quote.viewed`).
    pub event_type: String,
    /// The user it concerns.
    pub user_id: Option<UserId>,
    /// The session it came from.
    pub session_id: Option<SessionId>,
    /// The quote it concerns.
    pub quote_id: Option<QuoteId>,
    /// Attributes, a JSON object.
    pub properties: JsonValue,
    /// When it happened; `None` = now.
    #[serde(with = "time::serde::rfc3339::option")]
    pub occurred_at: Option<OffsetDateTime>,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AnalyticsEvent {
    /// Event id.
    pub id: AnalyticsEventId,
    /// Event name.
    pub event_type: String,
    /// The user it concerns.
    pub user_id: Option<UserId>,
    /// The session it came from.
    pub session_id: Option<SessionId>,
    /// The quote it concerns.
    pub quote_id: Option<QuoteId>,
    /// Attributes.
    pub properties: JsonValue,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Number of events of one type in one UTC hour.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HourlyCount {
    /// Event type.
    pub event_type: String,
    /// Start of the hour (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub hour: OffsetDateTime,
    /// Events in that hour.
    pub count: i64,
}

/// The analytics API, from [`Realtime::events`](super::Realtime::events).
#[derive(Debug, Clone, Copy)]
pub struct Events<'a> {
    db: &'a Db,
}

fn check_event_type(field: &'static str, t: &str) -> Result<(), InvalidInput> {
    if is_dotted_snake(t, 100) {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!("{t:?} is not dotted snake_case (at most 100 characters)"),
        ))
    }
}

impl<'a> Events<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Record a batch of events in ONE statement (`INSERT … SELECT FROM UNNEST` of one array
    /// per column). Every event is validated first; the batch is all or nothing. Returns how
    /// many were recorded.
    #[tracing::instrument(skip_all, fields(events = events.len()), err)]
    pub async fn record_batch(&self, events: &[NewEvent]) -> Result<u64, EventError> {
        if events.is_empty() {
            return Ok(0);
        }
        if events.len() > MAX_BATCH {
            return Err(InvalidInput::new("events", format!("at most {MAX_BATCH} per batch")).into());
        }
        for (i, e) in events.iter().enumerate() {
            if !is_dotted_snake(&e.event_type, 100) {
                return Err(InvalidInput::new(
                    "event_type",
                    format!(
                        "event {i}: {:?} is not dotted snake_case (at most 100 characters)",
                        e.event_type
                    ),
                )
                .into());
            }
            if !e.properties.is_object() {
                return Err(InvalidInput::new("properties", format!("event {i}: must be a JSON object")).into());
            }
            if let Err(e) = crate::error::bounded_json("properties", &e.properties) {
                return Err(InvalidInput::new("properties", format!("event {i}: {}", e.reason)).into());
            }
        }
        let n = events.len();
        let (mut types, mut users, mut sessions, mut quotes, mut props, mut times) = (
            Vec::with_capacity(n),
            Vec::<Option<Uuid>>::with_capacity(n),
            Vec::<Option<Uuid>>::with_capacity(n),
            Vec::<Option<Uuid>>::with_capacity(n),
            Vec::with_capacity(n),
            Vec::<Option<OffsetDateTime>>::with_capacity(n),
        );
        for e in events {
            types.push(e.event_type.clone());
            users.push(e.user_id.map(|u| u.0));
            sessions.push(e.session_id.map(|s| s.0));
            quotes.push(e.quote_id.map(|q| q.0));
            props.push(e.properties.clone());
            times.push(e.occurred_at);
        }
        let done = sqlx::query!(
            r#"
            INSERT INTO analytics_events (event_type, user_id, session_id, quote_id, properties, occurred_at)
            SELECT t.event_type, t.user_id, t.session_id, t.quote_id, t.properties, coalesce(t.occurred_at, now())
            FROM UNNEST($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::jsonb[], $6::timestamptz[])
                 AS t(event_type, user_id, session_id, quote_id, properties, occurred_at)
            "#,
            &types,
            &users as &[Option<Uuid>],
            &sessions as &[Option<Uuid>],
            &quotes as &[Option<Uuid>],
            &props,
            &times as &[Option<OffsetDateTime>],
        )
        .execute(self.db.exec())
        .await?;
        Ok(done.rows_affected())
    }

    /// Events of one type with `from <= occurred_at < to`, newest first, at most `limit`.
    #[tracing::instrument(skip_all, fields(event_type = %event_type), err)]
    pub async fn of_type(
        &self,
        event_type: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AnalyticsEvent>, EventError> {
        check_event_type("event_type", event_type)?;
        if limit == 0 || limit > MAX_PAGE {
            return Err(InvalidInput::new("limit", format!("between 1 and {MAX_PAGE}")).into());
        }
        if from >= to {
            return Err(InvalidInput::new("to", "must be after from").into());
        }
        Ok(sqlx::query_as!(
            AnalyticsEvent,
            r#"
            SELECT id AS "id: AnalyticsEventId", event_type, user_id AS "user_id: UserId",
                   session_id AS "session_id: SessionId", quote_id AS "quote_id: QuoteId",
                   properties, occurred_at, created_at
            FROM analytics_events
            WHERE event_type = $1 AND occurred_at >= $2 AND occurred_at < $3
            ORDER BY occurred_at DESC, id DESC
            LIMIT $4
            "#,
            event_type,
            from,
            to,
            i64::from(limit),
        )
        .fetch_all(self.db.exec())
        .await?)
    }

    /// The dashboard: events per type per UTC hour over the last 24 hours (the 24 hourly
    /// buckets ending with the current one), oldest hour first, then by type.
    #[tracing::instrument(skip_all, err)]
    pub async fn dashboard_24h(&self) -> Result<Vec<HourlyCount>, EventError> {
        Ok(sqlx::query_as!(
            HourlyCount,
            r#"
            SELECT event_type AS "event_type!",
                   date_bin(interval '1 hour', occurred_at, timestamptz '2000-01-01 00:00:00+00') AS "hour!",
                   count(*) AS "count!"
            FROM analytics_events
            WHERE occurred_at >= date_bin(interval '1 hour', now() - interval '23 hours',
                                          timestamptz '2000-01-01 00:00:00+00')
              AND occurred_at <= now()
            GROUP BY 1, 2
            ORDER BY 2, 1
            "#,
        )
        .fetch_all(self.db.exec())
        .await?)
    }
}
