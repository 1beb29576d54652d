//! The append-only audit log (`audit_logs`, partitioned by UTC month). There is no update or
//! delete here: the database refuses both (`audit_logs_append_only`).

use quotedb_domain::input::is_dotted_snake;
use std::net::IpAddr;

use quotedb_schema::security::rules;
use serde_json::Value as JsonValue;
use sqlx::types::ipnetwork::IpNetwork;
use time::OffsetDateTime;

use crate::Db;
use crate::actor::Actor;
use crate::error::{InvalidInput, rule_of};
use crate::ids::{AuditLogId, UserId};
use crate::page::{Cursor, Page, PageItem, PageRequest, into_page, sealed};

/// Most entries one [`AuditLog::append_batch`] call takes (`append_audit_logs()` refuses more).
pub const MAX_BATCH: usize = 10_000;

/// An audit log call failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Caller input was refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The acting user does not exist (`audit_logs_actor_user_fk`).
    #[error("actor {0} does not exist")]
    UnknownActor(UserId),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl AuditError {
    /// The one mapping of a database error to this module's errors (the rules by name, a
    /// refused value, else `Database`); `?` goes through it as well.
    pub(crate) fn from_db(err: sqlx::Error) -> Self {
        let invalid = |field, reason: &str| Self::Invalid(InvalidInput::new(field, reason));
        if let Some(invalid) = crate::error::refused_value(&err) {
            return Self::Invalid(invalid);
        }
        match rule_of(&err) {
            Some(rules::AUDIT_LOGS_ACTION_FORMAT) => invalid("action", "dotted snake_case, at most 100 characters"),
            Some(rules::AUDIT_LOGS_ENTITY_TYPE_FORMAT) => invalid("entity_type", "snake_case, at most 63 characters"),
            Some(rules::AUDIT_LOGS_ENTITY_ID_FORMAT) => invalid("entity_id", "1-200 characters, no whitespace"),
            Some(rules::AUDIT_LOGS_REQUEST_ID_FORMAT) => invalid("request_id", "1-128 of A-Z a-z 0-9 . _ : -"),
            Some(rules::AUDIT_LOGS_VALUES_ARE_OBJECTS) => invalid("old_values/new_values", "JSON objects"),
            _ => Self::Database(err),
        }
    }
}

impl From<sqlx::Error> for AuditError {
    fn from(err: sqlx::Error) -> Self {
        Self::from_db(err)
    }
}

/// What [`AuditLog::append`] records.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewAuditEntry {
    /// What happened, dotted snake_case (e.g. `session.revoked`).
    pub action: String,
    /// Kind of the affected entity, usually its table (e.g. `user_sessions`).
    pub entity_type: String,
    /// Its id as text.
    pub entity_id: String,
    /// Changed fields before (a JSON object), `None` for creations.
    pub old_values: Option<JsonValue>,
    /// Changed fields after (a JSON object), `None` for deletions.
    pub new_values: Option<JsonValue>,
    /// Client address.
    pub ip: Option<IpAddr>,
    /// Request or trace id, to correlate with application logs.
    pub request_id: Option<String>,
}

/// A recorded audit entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// Entry id.
    pub id: AuditLogId,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// Who acted (`None`: the system, or a since-deleted user).
    pub actor_user_id: Option<UserId>,
    /// What happened.
    pub action: String,
    /// Kind of entity.
    pub entity_type: String,
    /// Entity id.
    pub entity_id: String,
    /// Before.
    pub old_values: Option<JsonValue>,
    /// After.
    pub new_values: Option<JsonValue>,
    /// Client address.
    pub ip: Option<IpAddr>,
    /// Request id.
    pub request_id: Option<String>,
}

impl sealed::Sealed for AuditEntry {}

/// The history is ordered by `(occurred_at, id)`, newest first.
impl PageItem for AuditEntry {
    type Id = AuditLogId;
    fn cursor(&self) -> Option<Cursor<AuditLogId>> {
        Some(Cursor::new(self.occurred_at, self.id))
    }
}

/// The history of one entity in a time range, newest first, one page of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditQuery {
    /// Entity kind.
    pub entity_type: String,
    /// Entity id.
    pub entity_id: String,
    /// From (inclusive).
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    /// To (exclusive).
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    /// Which page: its size (1 to [`MAX_PAGE_SIZE`](crate::page::MAX_PAGE_SIZE)) and the
    /// [`Page::next`] of the previous page, if any.
    pub page: PageRequest<AuditLogId>,
}

fn is_snake(s: &str, max: usize) -> bool {
    !s.contains('.') && is_dotted_snake(s, max)
}

fn validate(e: &NewAuditEntry) -> Result<(), InvalidInput> {
    if !is_dotted_snake(&e.action, 100) {
        return Err(InvalidInput::new(
            "action",
            format!("{:?} is not dotted snake_case (≤ 100)", e.action),
        ));
    }
    validate_entity(&e.entity_type, &e.entity_id)?;
    for (field, v) in [("old_values", &e.old_values), ("new_values", &e.new_values)] {
        if v.as_ref().is_some_and(|v| !v.is_object()) {
            return Err(InvalidInput::new(field, "must be a JSON object"));
        }
        if let Some(v) = v {
            crate::error::bounded_json(field, v)?;
        }
    }
    if let Some(r) = &e.request_id {
        let ok = (1..=128).contains(&r.len())
            && r.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if !ok {
            return Err(InvalidInput::new("request_id", "1-128 of A-Z a-z 0-9 . _ : -"));
        }
    }
    Ok(())
}

fn validate_entity(entity_type: &str, entity_id: &str) -> Result<(), InvalidInput> {
    if !is_snake(entity_type, 63) {
        return Err(InvalidInput::new(
            "entity_type",
            format!("{entity_type:?} is not snake_case (≤ 63)"),
        ));
    }
    let n = entity_id.chars().count();
    if !(1..=200).contains(&n) || entity_id.chars().any(char::is_whitespace) {
        return Err(InvalidInput::new("entity_id", "1-200 characters without whitespace"));
    }
    Ok(())
}

struct EntryRow {
    id: AuditLogId,
    occurred_at: OffsetDateTime,
    actor_user_id: Option<UserId>,
    action: String,
    entity_type: String,
    entity_id: String,
    old_values: Option<JsonValue>,
    new_values: Option<JsonValue>,
    ip: Option<IpNetwork>,
    request_id: Option<String>,
}

impl From<EntryRow> for AuditEntry {
    fn from(r: EntryRow) -> Self {
        Self {
            id: r.id,
            occurred_at: r.occurred_at,
            actor_user_id: r.actor_user_id,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            old_values: r.old_values,
            new_values: r.new_values,
            ip: r.ip.map(|n| n.ip()),
            request_id: r.request_id,
        }
    }
}

/// The audit log API, from [`Security::audit`](super::Security::audit).
#[derive(Debug, Clone, Copy)]
pub struct AuditLog<'a> {
    db: &'a Db,
}

impl<'a> AuditLog<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Append an entry on behalf of `actor` (its user, or none for the system). One statement,
    /// through `append_audit_log()`: the database stamps `occurred_at` with its own time, and
    /// nothing but appending is open to the application.
    #[tracing::instrument(skip_all, fields(action = %entry.action, entity_type = %entry.entity_type), err)]
    pub async fn append(&self, actor: &Actor, entry: NewAuditEntry) -> Result<AuditEntry, AuditError> {
        validate(&entry)?;
        let actor_user = actor.user_id();
        let row = sqlx::query_as!(
            EntryRow,
            r#"
            SELECT id AS "id!: AuditLogId", occurred_at AS "occurred_at!", actor_user_id AS "actor_user_id: UserId",
                   action AS "action!", entity_type AS "entity_type!", entity_id AS "entity_id!", old_values, new_values,
                   ip, request_id
            FROM append_audit_log($1, $2, $3, $4, $5, $6, $7, $8)
            "#,
            actor_user.map(|u| u.0),
            entry.action,
            entry.entity_type,
            entry.entity_id,
            entry.old_values,
            entry.new_values,
            entry.ip.map(IpNetwork::from),
            entry.request_id,
        )
        .fetch_one(self.db.exec())
        .await
        .map_err(|e| match (rule_of(&e), actor_user) {
            (Some(rules::AUDIT_LOGS_ACTOR_USER_FK), Some(u)) => AuditError::UnknownActor(u),
            _ => AuditError::from(e),
        })?;
        Ok(row.into())
    }

    /// Append a batch of entries on behalf of `actor` (its user, or none for the system), all
    /// or none, in one statement through `append_audit_logs()` (migration 0016): the database
    /// stamps every row's `occurred_at` with its own time, and nothing but appending is open to
    /// the application. Every entry is checked first, under the rules of [`AuditLog::append`]: a
    /// refused entry refuses the batch before anything is sent, and the error's reason starts
    /// with its index (`entry 3: …`). An empty batch appends nothing (`Ok(0)`); more than
    /// [`MAX_BATCH`] entries is [`InvalidInput`]. Returns how many rows were appended.
    #[tracing::instrument(skip_all, fields(entries = entries.len()), err)]
    pub async fn append_batch(&self, actor: &Actor, entries: &[NewAuditEntry]) -> Result<u64, AuditError> {
        if entries.is_empty() {
            return Ok(0);
        }
        if entries.len() > MAX_BATCH {
            return Err(InvalidInput::new("entries", format!("at most {MAX_BATCH} per batch")).into());
        }
        for (i, e) in entries.iter().enumerate() {
            validate(e).map_err(|err| InvalidInput::new(err.field, format!("entry {i}: {}", err.reason)))?;
        }
        let n = entries.len();
        let (mut actions, mut types, mut ids, mut olds, mut news, mut ips, mut requests) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::<Option<JsonValue>>::with_capacity(n),
            Vec::<Option<JsonValue>>::with_capacity(n),
            Vec::<Option<IpNetwork>>::with_capacity(n),
            Vec::<Option<String>>::with_capacity(n),
        );
        for e in entries {
            actions.push(e.action.clone());
            types.push(e.entity_type.clone());
            ids.push(e.entity_id.clone());
            olds.push(e.old_values.clone());
            news.push(e.new_values.clone());
            ips.push(e.ip.map(IpNetwork::from));
            requests.push(e.request_id.clone());
        }
        let actor_user = actor.user_id();
        let appended = sqlx::query_scalar!(
            r#"
            SELECT append_audit_logs($1, $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::inet[], $8::text[])
                AS "appended!"
            "#,
            actor_user.map(|u| u.0),
            &actions,
            &types,
            &ids,
            &olds as &[Option<JsonValue>],
            &news as &[Option<JsonValue>],
            &ips as &[Option<IpNetwork>],
            &requests as &[Option<String>],
        )
        .fetch_one(self.db.pool())
        .await
        .map_err(|e| match (rule_of(&e), actor_user) {
            (Some(rules::AUDIT_LOGS_ACTOR_USER_FK), Some(u)) => AuditError::UnknownActor(u),
            _ => AuditError::from(e),
        })?;
        // A row count is never negative.
        Ok(u64::try_from(appended).unwrap_or_default())
    }

    /// One page of an entity's history in `[from, to)`, newest first (keyset pagination on
    /// `(occurred_at, id)`; served by `audit_logs_entity_type_entity_id_occurred_at_idx`, and
    /// partitions outside the range are pruned), as `actor` may read it: admins holding
    /// `audit:read` (and the system) see the entries, anyone else an empty page.
    #[tracing::instrument(skip_all, fields(entity_type = %q.entity_type, entity_id = %q.entity_id), err)]
    pub async fn history(&self, actor: &Actor, q: &AuditQuery) -> Result<Page<AuditEntry>, AuditError> {
        validate_entity(&q.entity_type, &q.entity_id)?;
        let fetch = q.page.fetch_limit()?;
        if q.from >= q.to {
            return Err(InvalidInput::new("to", "must be after from").into());
        }
        // Rows strictly before (upper_time, upper_id) in (occurred_at, id) order. Without a
        // cursor: (to, i64::MIN), i.e. occurred_at < to.
        let (upper_time, upper_id) = match q.page.after {
            Some(c) if c.at() < q.to => (c.at(), c.id().0),
            Some(_) | None => (q.to, i64::MIN),
        };
        // One round trip: the function switches to the actor's role and sets the actor itself.
        let rows = crate::error::read_retrying!(self.db, |conn| sqlx::query_as!(
            EntryRow,
            r#"
            SELECT id AS "id!: AuditLogId", occurred_at AS "occurred_at!", actor_user_id AS "actor_user_id: UserId",
                   action AS "action!", entity_type AS "entity_type!", entity_id AS "entity_id!", old_values,
                   new_values, ip, request_id
            FROM app_audit_history($1, $2, $3, $4, $5, $6, $7)
            ORDER BY occurred_at DESC, id DESC
            "#,
            actor.user_id() as Option<UserId>,
            q.entity_type,
            q.entity_id,
            q.from,
            upper_time,
            upper_id,
            fetch,
        )
        .fetch_all(conn))?;
        Ok(into_page(rows.into_iter().map(AuditEntry::from).collect(), q.page.size))
    }
}
