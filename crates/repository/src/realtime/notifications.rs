//! The outgoing notification queue. Life of a row: pending → (claim) processing → sent; or →
//! failed (retried at `next_attempt_at`, exponential backoff) while attempts remain, → dead
//! after the last one. Workers claim with `FOR UPDATE SKIP LOCKED` in one statement; claims of
//! crashed workers are recovered by [`Notifications::recover_stuck`].

use std::time::Duration;

use quotedb_schema::realtime::{NotificationChannel, NotificationStatus, rules};
use serde_json::Value as JsonValue;
use time::OffsetDateTime;
use uuid::Uuid;

use super::timeout_secs;
use crate::Db;
use crate::error::{InvalidInput, rule_of};
use crate::ids::{NotificationId, UserId};
use quotedb_domain::input::is_dotted_snake;

/// The setting holding the default number of delivery attempts.
pub const MAX_ATTEMPTS_SETTING: &str = "notifications.max_attempts";
/// Most notifications one claim takes.
pub const MAX_CLAIM: u32 = 1000;
/// Most notifications one [`Notifications::enqueue_batch`] takes.
pub const MAX_BATCH: usize = 10_000;
/// Longest stored error message, in characters (longer ones are cut).
pub const MAX_ERROR_CHARS: usize = 2000;

/// A notification queue call failed.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// Caller input was refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such notification.
    #[error("notification {0} not found")]
    NotFound(NotificationId),
    /// The notification is not claimed by this worker (it was recovered, or already
    /// reported); the current status says what happened.
    #[error("notification {id} is not claimed by this worker (status {status})")]
    NotClaimed {
        /// The notification.
        id: NotificationId,
        /// Its current status.
        status: NotificationStatus,
    },
    /// The recipient user does not exist (`notification_queue_recipient_user_fk`).
    #[error("recipient user does not exist")]
    UnknownRecipient,
    /// The max attempts setting is missing or unusable and no max was given.
    #[error("setting {key} is unusable: {reason}")]
    Setting {
        /// The setting key.
        key: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl NotificationError {
    /// The one mapping of a database error to this module's errors (the rules by name, a
    /// refused value, else `Database`); `?` goes through it as well.
    pub(crate) fn from_db(err: sqlx::Error) -> Self {
        let invalid = |field, reason: &str| Self::Invalid(InvalidInput::new(field, reason));
        if let Some(invalid) = crate::error::refused_value(&err) {
            return Self::Invalid(invalid);
        }
        match rule_of(&err) {
            Some(rules::NOTIFICATION_QUEUE_RECIPIENT_USER_FK) => Self::UnknownRecipient,
            Some(rules::NOTIFICATION_QUEUE_RECIPIENT_VALID) => {
                invalid("recipient", "not a valid recipient for the channel")
            }
            Some(rules::NOTIFICATION_QUEUE_TEMPLATE_FORMAT) => invalid("template", "dotted snake_case, at most 100"),
            Some(rules::NOTIFICATION_QUEUE_PAYLOAD_OBJECT) => invalid("payload", "a JSON object"),
            Some(rules::NOTIFICATION_QUEUE_PRIORITY_RANGE) => invalid("priority", "between 0 and 9"),
            Some(rules::NOTIFICATION_QUEUE_MAX_ATTEMPTS_POSITIVE) => Self::Setting {
                key: MAX_ATTEMPTS_SETTING,
                reason: "not positive",
            },
            _ => Self::Database(err),
        }
    }
}

impl From<sqlx::Error> for NotificationError {
    fn from(err: sqlx::Error) -> Self {
        Self::from_db(err)
    }
}

/// Who receives a notification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recipient {
    /// A user; the channel address is resolved from the user at send time.
    User {
        /// The user.
        user_id: UserId,
    },
    /// An explicit address (email address, E.164 number or push device token).
    Address {
        /// The address.
        address: String,
    },
    /// A user at an explicit address.
    UserAt {
        /// The user.
        user_id: UserId,
        /// The address.
        address: String,
    },
}

impl Recipient {
    fn parts(&self) -> (Option<UserId>, Option<&str>) {
        match self {
            Self::User { user_id } => (Some(*user_id), None),
            Self::Address { address } => (None, Some(address)),
            Self::UserAt { user_id, address } => (Some(*user_id), Some(address)),
        }
    }
}

fn is_e164(a: &str) -> bool {
    let Some(digits) = a.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// The Rust side of `notification_queue_recipient_valid`: email, sms and push take a user or a
/// valid address (an address, when given, must be valid); websocket and in_app take a user and
/// no address.
pub fn check_recipient(channel: NotificationChannel, recipient: &Recipient) -> Result<(), InvalidInput> {
    let (user, address) = recipient.parts();
    let valid = match (channel, address) {
        (NotificationChannel::Websocket | NotificationChannel::InApp, a) => user.is_some() && a.is_none(),
        (_, None) => user.is_some(),
        (NotificationChannel::Email, Some(a)) => quotedb_domain::input::is_email(a),
        (NotificationChannel::Sms, Some(a)) => is_e164(a),
        (NotificationChannel::Push, Some(a)) => {
            !a.is_empty() && a.chars().count() <= 4096 && !a.chars().any(char::is_whitespace)
        }
    };
    if valid {
        Ok(())
    } else {
        Err(InvalidInput::new(
            "recipient",
            match channel {
                NotificationChannel::Email => "email needs a user or an e-mail address",
                NotificationChannel::Sms => "sms needs a user or an E.164 number (+15551234567)",
                NotificationChannel::Push => "push needs a user or a device token",
                NotificationChannel::Websocket | NotificationChannel::InApp => {
                    "websocket and in_app need a user and no address"
                }
            },
        ))
    }
}

/// A notification to queue.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewNotification {
    /// Delivery channel.
    pub channel: NotificationChannel,
    /// Recipient, valid for the channel.
    pub recipient: Recipient,
    /// Template name, dotted snake_case (e.g. `quote.ready`).
    pub template: String,
    /// Template variables, a JSON object.
    pub payload: JsonValue,
    /// 0 (lowest) to 9 (highest).
    pub priority: u8,
    /// Not sent before this time; `None` = now.
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_before: Option<OffsetDateTime>,
    /// Attempts before giving up; `None` = the `notifications.max_attempts` setting.
    pub max_attempts: Option<u16>,
}

fn validate(n: &NewNotification) -> Result<(), InvalidInput> {
    check_recipient(n.channel, &n.recipient)?;
    if !is_dotted_snake(&n.template, 100) {
        return Err(InvalidInput::new(
            "template",
            format!("{:?} is not dotted snake_case", n.template),
        ));
    }
    if !n.payload.is_object() {
        return Err(InvalidInput::new("payload", "must be a JSON object"));
    }
    crate::error::bounded_json("payload", &n.payload)?;
    if n.priority > 9 {
        return Err(InvalidInput::new("priority", "between 0 and 9"));
    }
    if n.max_attempts.is_some_and(|m| m == 0 || m > 100) {
        return Err(InvalidInput::new("max_attempts", "between 1 and 100"));
    }
    Ok(())
}

/// A queued notification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    /// Notification id.
    pub id: NotificationId,
    /// Channel.
    pub channel: NotificationChannel,
    /// Recipient user.
    pub recipient_user_id: Option<UserId>,
    /// Recipient address.
    pub recipient_address: Option<String>,
    /// Template.
    pub template: String,
    /// Template variables.
    pub payload: JsonValue,
    /// Delivery state.
    pub status: NotificationStatus,
    /// Priority 0-9.
    pub priority: i16,
    /// Attempts made (counted at claim).
    pub attempts: i16,
    /// Attempts allowed.
    pub max_attempts: i16,
    /// Not claimed before this time.
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    /// When a worker claimed it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_at: Option<OffsetDateTime>,
    /// Which worker holds it.
    pub locked_by: Option<String>,
    /// Delivery time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// Enqueue time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Retry delays after a failed attempt: `base * 2^(attempts - 1)`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Backoff {
    /// Delay after the first failed attempt.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    /// 30 seconds, doubling, at most one hour.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(30),
            max: Duration::from_secs(3600),
        }
    }
}

/// How a worker reports a failed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryDecision {
    /// Temporary failure: retry after the backoff while attempts remain, else dead.
    Retry,
    /// Permanent failure (bad address, template error): dead now.
    GiveUp,
}

fn worker_name(worker: &str) -> Result<(), InvalidInput> {
    if worker.trim().is_empty() || worker.chars().count() > 200 {
        return Err(InvalidInput::new("worker", "non-blank, at most 200 characters"));
    }
    Ok(())
}

/// `query_as!(Notification, ...)` with the notification columns between `$head` and `$tail`.
macro_rules! query_notification {
    ($head:literal, $tail:literal $($args:tt)*) => {
        sqlx::query_as!(
            Notification,
            $head
                + r#" id AS "id: NotificationId", channel AS "channel: NotificationChannel",
                      recipient_user_id AS "recipient_user_id: UserId", recipient_address, template, payload,
                      status AS "status: NotificationStatus", priority, attempts, max_attempts, next_attempt_at,
                      locked_at, locked_by, sent_at, last_error, created_at, updated_at "#
                + $tail
            $($args)*
        )
    };
}

/// The notification queue API, from [`Realtime::notifications`](super::Realtime::notifications).
#[derive(Debug, Clone, Copy)]
pub struct Notifications<'a> {
    db: &'a Db,
    backoff: Backoff,
}

impl<'a> Notifications<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self {
            db,
            backoff: Backoff::default(),
        }
    }

    /// The same API with another retry backoff.
    pub fn with_backoff(self, backoff: Backoff) -> Self {
        Self { backoff, ..self }
    }

    /// Queue a notification. `max_attempts` defaults to the `notifications.max_attempts`
    /// setting, read in the same statement.
    #[tracing::instrument(skip_all, fields(channel = %n.channel, template = %n.template), err)]
    pub async fn enqueue(&self, n: &NewNotification) -> Result<Notification, NotificationError> {
        validate(n)?;
        let (user, address) = n.recipient.parts();
        // Through enqueue_notifications(): the application may queue, not read or change the queue.
        let row = sqlx::query_as!(
            Notification,
            r#"SELECT id AS "id!: NotificationId", channel AS "channel!: NotificationChannel",
                      recipient_user_id AS "recipient_user_id: UserId", recipient_address, template AS "template!",
                      payload AS "payload!", status AS "status!: NotificationStatus", priority AS "priority!",
                      attempts AS "attempts!", max_attempts AS "max_attempts!", next_attempt_at AS "next_attempt_at!",
                      locked_at, locked_by, sent_at, last_error, created_at AS "created_at!", updated_at AS "updated_at!"
               FROM enqueue_notifications(ARRAY[$1::notification_channel], ARRAY[$2::uuid], ARRAY[$3::text],
                                          ARRAY[$4::text], ARRAY[$5::jsonb], ARRAY[$6::int2], ARRAY[$7::int2],
                                          ARRAY[$8::timestamptz])"#,
            n.channel as NotificationChannel,
            user.map(|u| u.0),
            address,
            n.template,
            n.payload,
            i16::from(n.priority),
            n.max_attempts.map(|m| m as i16),
            n.not_before,
        )
        .fetch_optional(self.db.exec())
        .await?;
        row.ok_or(NotificationError::Setting {
            key: MAX_ATTEMPTS_SETTING,
            reason: "missing, or not a number",
        })
    }

    /// Queue many notifications in ONE statement (`INSERT … SELECT FROM UNNEST`); all or
    /// nothing. Returns their ids in input order.
    #[tracing::instrument(skip_all, fields(notifications = batch.len()), err)]
    pub async fn enqueue_batch(&self, batch: &[NewNotification]) -> Result<Vec<NotificationId>, NotificationError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        if batch.len() > MAX_BATCH {
            return Err(InvalidInput::new("notifications", format!("at most {MAX_BATCH} per batch")).into());
        }
        for (i, n) in batch.iter().enumerate() {
            validate(n).map_err(|e| InvalidInput::new(e.field, format!("notification {i}: {}", e.reason)))?;
        }
        let len = batch.len();
        let mut channels = Vec::with_capacity(len);
        let mut users = Vec::<Option<Uuid>>::with_capacity(len);
        let mut addresses = Vec::<Option<String>>::with_capacity(len);
        let mut templates = Vec::with_capacity(len);
        let mut payloads = Vec::with_capacity(len);
        let mut priorities = Vec::with_capacity(len);
        let mut maxes = Vec::<Option<i16>>::with_capacity(len);
        let mut not_before = Vec::<Option<OffsetDateTime>>::with_capacity(len);
        for n in batch {
            let (user, address) = n.recipient.parts();
            channels.push(n.channel);
            users.push(user.map(|u| u.0));
            addresses.push(address.map(str::to_owned));
            templates.push(n.template.clone());
            payloads.push(n.payload.clone());
            priorities.push(i16::from(n.priority));
            maxes.push(n.max_attempts.map(|m| m as i16));
            not_before.push(n.not_before);
        }
        let mut tx = self.db.pool().begin_with(self.db.begin_statement()).await?;
        // WITH ORDINALITY keeps input order for the returned ids; rows lacking a max (no
        // override, no setting) are filtered out and detected by the count below.
        let ids = sqlx::query_scalar!(
            r#"
            SELECT id AS "id!: NotificationId"
            FROM enqueue_notifications($1::notification_channel[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[],
                                       $6::int2[], $7::int2[], $8::timestamptz[])
            "#,
            &channels as &[NotificationChannel],
            &users as &[Option<Uuid>],
            &addresses as &[Option<String>],
            &templates,
            &payloads,
            &priorities,
            &maxes as &[Option<i16>],
            &not_before as &[Option<OffsetDateTime>],
        )
        .fetch_all(&mut *tx)
        .await?;
        if ids.len() != len {
            tx.rollback().await?;
            return Err(NotificationError::Setting {
                key: MAX_ATTEMPTS_SETTING,
                reason: "missing, or not a number",
            });
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// A notification by id.
    #[tracing::instrument(skip_all, fields(id = %id), err)]
    pub async fn get(&self, id: NotificationId) -> Result<Notification, NotificationError> {
        query_notification!("SELECT", "FROM notification_queue WHERE id = $1", id.0)
            .fetch_optional(self.db.exec())
            .await?
            .ok_or(NotificationError::NotFound(id))
    }

    /// Claim up to `limit` due notifications for `worker` in ONE statement
    /// (`FOR UPDATE SKIP LOCKED`, highest priority first, then oldest due): they become
    /// processing, locked by `worker`, attempts + 1. Concurrent workers get disjoint rows.
    #[tracing::instrument(skip_all, fields(worker = %worker, limit), err)]
    pub async fn claim(&self, worker: &str, limit: u32) -> Result<Vec<Notification>, NotificationError> {
        worker_name(worker)?;
        if limit == 0 || limit > MAX_CLAIM {
            return Err(InvalidInput::new("limit", format!("between 1 and {MAX_CLAIM}")).into());
        }
        Ok(sqlx::query_file_as!(
            Notification,
            "src/realtime/claim_notifications.sql",
            i64::from(limit),
            worker
        )
        .fetch_all(self.db.exec())
        .await?)
    }

    /// Report a delivery: the notification held by `worker` becomes sent.
    #[tracing::instrument(skip_all, fields(id = %id, worker = %worker), err)]
    pub async fn mark_sent(&self, id: NotificationId, worker: &str) -> Result<Notification, NotificationError> {
        worker_name(worker)?;
        let row = query_notification!(
            "UPDATE notification_queue
                SET status = 'sent', sent_at = now(), locked_at = NULL, locked_by = NULL
              WHERE id = $1 AND status = 'processing' AND locked_by = $2
             RETURNING",
            "",
            id.0,
            worker
        )
        .fetch_optional(self.db.exec())
        .await?;
        match row {
            Some(n) => Ok(n),
            None => Err(self.not_claimed(id).await),
        }
    }

    /// Report a failed delivery by `worker`: with [`RetryDecision::Retry`] and attempts left it
    /// becomes failed, due again after the backoff (`base * 2^(attempts-1)`, capped); after the
    /// last attempt, or with [`RetryDecision::GiveUp`], it is dead. `error` is kept as
    /// `last_error`.
    #[tracing::instrument(skip_all, fields(id = %id, worker = %worker, ?decision), err)]
    pub async fn mark_failed(
        &self,
        id: NotificationId,
        worker: &str,
        error: &str,
        decision: RetryDecision,
    ) -> Result<Notification, NotificationError> {
        worker_name(worker)?;
        let error = error.trim();
        if error.is_empty() {
            return Err(InvalidInput::new("error", "must describe the failure").into());
        }
        let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
        let retry = decision == RetryDecision::Retry;
        let base = self.backoff.base.as_secs_f64();
        let cap = self.backoff.max.as_secs_f64();
        let row = query_notification!(
            "UPDATE notification_queue
                SET status = CASE WHEN $4 AND attempts < max_attempts
                                  THEN 'failed'::notification_status ELSE 'dead'::notification_status END,
                    next_attempt_at = CASE WHEN $4 AND attempts < max_attempts
                        THEN now() + make_interval(secs => least($6::float8,
                                                                 $5::float8 * power(2::float8, (attempts - 1)::float8)))
                        ELSE next_attempt_at END,
                    last_error = $3, locked_at = NULL, locked_by = NULL
              WHERE id = $1 AND status = 'processing' AND locked_by = $2
             RETURNING",
            "",
            id.0,
            worker,
            error,
            retry,
            base,
            cap,
        )
        .fetch_optional(self.db.exec())
        .await?;
        match row {
            Some(n) => Ok(n),
            None => Err(self.not_claimed(id).await),
        }
    }

    /// Maintenance: hand back claims older than `timeout` (the worker crashed or hung). The
    /// attempt counts as made: the row becomes failed (due now) while attempts remain, else
    /// dead. Returns how many were recovered.
    #[tracing::instrument(skip_all, err)]
    pub async fn recover_stuck(&self, timeout: Duration) -> Result<u64, NotificationError> {
        let secs = timeout_secs("timeout", timeout)?;
        let done = sqlx::query!(
            "UPDATE notification_queue
                SET status = CASE WHEN attempts < max_attempts
                                  THEN 'failed'::notification_status ELSE 'dead'::notification_status END,
                    last_error = 'claim by ' || locked_by || ' expired before the worker reported',
                    next_attempt_at = now(), locked_at = NULL, locked_by = NULL
              WHERE status = 'processing' AND locked_at < now() - make_interval(secs => $1)",
            secs,
        )
        .execute(self.db.exec())
        .await?;
        Ok(done.rows_affected())
    }

    /// How many notifications are in each status (queue monitoring), in status order. It reads the
    /// whole queue (sent notifications stay in it): a monitoring call, not a hot path.
    #[tracing::instrument(skip_all, err)]
    pub async fn status_counts(&self) -> Result<Vec<(NotificationStatus, i64)>, NotificationError> {
        let rows = sqlx::query!(
            r#"-- plan: seq scan of notification_queue allowed: counts every row by status (a small enum); any plan reads every row or index entry
               SELECT status AS "status!: NotificationStatus", count(*) AS "count!"
               FROM notification_queue GROUP BY status ORDER BY status"#
        )
        .fetch_all(self.db.exec())
        .await?;
        Ok(rows.into_iter().map(|r| (r.status, r.count)).collect())
    }

    /// Failure path of mark_sent / mark_failed: not found, or held by nobody / someone else.
    async fn not_claimed(&self, id: NotificationId) -> NotificationError {
        match sqlx::query_scalar!(
            r#"SELECT status AS "status: NotificationStatus" FROM notification_queue WHERE id = $1"#,
            id.0
        )
        .fetch_optional(self.db.exec())
        .await
        {
            Ok(Some(status)) => NotificationError::NotClaimed { id, status },
            Ok(None) => NotificationError::NotFound(id),
            Err(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_follow_the_schema_rule() {
        let user = UserId(Uuid::nil());
        let addr = |a: &str| Recipient::Address { address: a.into() };
        let ok = |c, r: &Recipient| check_recipient(c, r).is_ok();
        assert!(ok(NotificationChannel::Email, &addr("ann@example.com")));
        assert!(!ok(NotificationChannel::Email, &addr("ann@example")));
        assert!(!ok(NotificationChannel::Email, &addr("ann@.com")));
        assert!(!ok(NotificationChannel::Email, &addr("ann@é.")));
        assert!(ok(NotificationChannel::Sms, &addr("+15551234567")));
        assert!(!ok(NotificationChannel::Sms, &addr("5551234567")));
        assert!(!ok(NotificationChannel::Sms, &addr("+05551234567")));
        assert!(ok(NotificationChannel::Push, &addr("device-token")));
        assert!(!ok(NotificationChannel::Push, &addr("has space")));
        assert!(ok(NotificationChannel::InApp, &Recipient::User { user_id: user }));
        assert!(!ok(NotificationChannel::InApp, &addr("ann@example.com")));
        let both = Recipient::UserAt {
            user_id: user,
            address: "nope".into(),
        };
        assert!(!ok(NotificationChannel::Email, &both));
        assert!(!ok(NotificationChannel::Websocket, &both));
    }
}
