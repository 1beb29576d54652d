//! Websocket connections: live while `disconnected_at IS NULL`. The predicate stays literal in
//! every query so the partial indexes (`websocket_connections_active_*`) serve them.

use std::net::IpAddr;
use std::time::Duration;

use quotedb_schema::realtime::rules;
use serde_json::Value as JsonValue;
use sqlx::types::ipnetwork::IpNetwork;
use time::OffsetDateTime;

use super::timeout_secs;
use crate::Db;
use crate::error::{InvalidInput, rule_of};
use crate::ids::{ConnectionId, SessionId, UserId};

/// Most topics one connection may subscribe to.
pub const MAX_SUBSCRIPTIONS: usize = 256;
/// Longest topic, in characters.
pub const MAX_TOPIC_CHARS: usize = 256;

/// A connection call failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// Caller input was refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such connection.
    #[error("connection {0} not found")]
    NotFound(ConnectionId),
    /// The connection is already closed.
    #[error("connection {0} is closed")]
    Closed(ConnectionId),
    /// The user does not exist (`websocket_connections_user_fk`).
    #[error("user {0} does not exist")]
    UnknownUser(UserId),
    /// The session does not exist (`websocket_connections_session_fk`).
    #[error("session {0} does not exist")]
    UnknownSession(SessionId),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl ConnectionError {
    /// The one mapping of a database error to this module's errors (the rules by name, a
    /// refused value, else `Database`); `?` goes through it as well.
    pub(crate) fn from_db(err: sqlx::Error) -> Self {
        match rule_of(&err) {
            Some(rules::WEBSOCKET_CONNECTIONS_SERVER_NODE_FORMAT) => {
                Self::Invalid(InvalidInput::new("server_node", "1-128 of A-Z a-z 0-9 . _ : -"))
            }
            _ => Self::Database(err),
        }
    }
}

impl From<sqlx::Error> for ConnectionError {
    fn from(err: sqlx::Error) -> Self {
        Self::from_db(err)
    }
}

/// What [`Connections::open`] needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewConnection {
    /// The connected user.
    pub user_id: UserId,
    /// The session that authenticated the socket, if known.
    pub session_id: Option<SessionId>,
    /// Realtime server (host or pod name) holding the socket.
    pub server_node: String,
    /// Client address.
    pub ip: Option<IpAddr>,
    /// Topics to listen to (e.g. `quote:<uuid>`, `rates:CA`).
    pub subscriptions: Vec<String>,
}

/// A websocket connection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Connection {
    /// Connection id.
    pub id: ConnectionId,
    /// The user.
    pub user_id: UserId,
    /// Its session, if recorded.
    pub session_id: Option<SessionId>,
    /// Server node.
    pub server_node: String,
    /// Client address.
    pub ip: Option<IpAddr>,
    /// Subscribed topics.
    pub subscriptions: Vec<String>,
    /// Connect time.
    #[serde(with = "time::serde::rfc3339")]
    pub connected_at: OffsetDateTime,
    /// Last heartbeat.
    #[serde(with = "time::serde::rfc3339")]
    pub last_heartbeat_at: OffsetDateTime,
    /// Disconnect time; `None` while live.
    #[serde(with = "time::serde::rfc3339::option")]
    pub disconnected_at: Option<OffsetDateTime>,
}

struct Row {
    id: ConnectionId,
    user_id: UserId,
    session_id: Option<SessionId>,
    server_node: String,
    ip: Option<IpNetwork>,
    subscriptions: JsonValue,
    connected_at: OffsetDateTime,
    last_heartbeat_at: OffsetDateTime,
    disconnected_at: Option<OffsetDateTime>,
}

impl From<Row> for Connection {
    fn from(r: Row) -> Self {
        let subscriptions = match r.subscriptions {
            JsonValue::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    JsonValue::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Self {
            id: r.id,
            user_id: r.user_id,
            session_id: r.session_id,
            server_node: r.server_node,
            ip: r.ip.map(|n| n.ip()),
            subscriptions,
            connected_at: r.connected_at,
            last_heartbeat_at: r.last_heartbeat_at,
            disconnected_at: r.disconnected_at,
        }
    }
}

fn is_valid_server_node(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=128).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-'))
}

/// Validate and de-duplicate topics; the JSON array to store.
fn topics_json(topics: &[String]) -> Result<JsonValue, InvalidInput> {
    if topics.len() > MAX_SUBSCRIPTIONS {
        return Err(InvalidInput::new(
            "subscriptions",
            format!("at most {MAX_SUBSCRIPTIONS} topics"),
        ));
    }
    let mut seen: Vec<&str> = Vec::with_capacity(topics.len());
    for t in topics {
        if t.is_empty() || t.chars().count() > MAX_TOPIC_CHARS || t.chars().any(char::is_whitespace) {
            return Err(InvalidInput::new(
                "subscriptions",
                format!("{t:?} is not a topic (1-{MAX_TOPIC_CHARS} characters, no whitespace)"),
            ));
        }
        if !seen.contains(&t.as_str()) {
            seen.push(t);
        }
    }
    Ok(JsonValue::Array(
        seen.into_iter().map(|s| JsonValue::String(s.to_owned())).collect(),
    ))
}

/// `query_as!(Row, ...)` with the connection columns between `$head` and `$tail`.
macro_rules! query_connection {
    ($head:literal, $tail:literal $($args:tt)*) => {
        sqlx::query_as!(
            Row,
            $head
                + r#" id AS "id: ConnectionId", user_id AS "user_id: UserId", session_id AS "session_id: SessionId",
                      server_node, ip, subscriptions, connected_at, last_heartbeat_at, disconnected_at "#
                + $tail
            $($args)*
        )
    };
}

/// The connections API, from [`Realtime::connections`](super::Realtime::connections).
#[derive(Debug, Clone, Copy)]
pub struct Connections<'a> {
    db: &'a Db,
}

impl<'a> Connections<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Record a new live connection. One statement.
    #[tracing::instrument(skip_all, fields(user_id = %new.user_id, server_node = %new.server_node), err)]
    pub async fn open(&self, new: NewConnection) -> Result<Connection, ConnectionError> {
        if !is_valid_server_node(&new.server_node) {
            return Err(InvalidInput::new("server_node", "1-128 of A-Z a-z 0-9 . _ : -, starting alphanumeric").into());
        }
        let subscriptions = topics_json(&new.subscriptions)?;
        let row = query_connection!(
            "INSERT INTO websocket_connections (user_id, session_id, server_node, ip, subscriptions)
             VALUES ($1, $2, $3, $4, $5) RETURNING",
            "",
            new.user_id.0,
            new.session_id.map(|s| s.0),
            new.server_node,
            new.ip.map(IpNetwork::from),
            subscriptions,
        )
        .fetch_one(self.db.exec())
        .await
        .map_err(|e| match (rule_of(&e), new.session_id) {
            (Some(rules::WEBSOCKET_CONNECTIONS_USER_FK), _) => ConnectionError::UnknownUser(new.user_id),
            (Some(rules::WEBSOCKET_CONNECTIONS_SESSION_FK), Some(s)) => ConnectionError::UnknownSession(s),
            _ => ConnectionError::from(e),
        })?;
        Ok(row.into())
    }

    /// A connection by id.
    #[tracing::instrument(skip_all, fields(id = %id), err)]
    pub async fn get(&self, id: ConnectionId) -> Result<Connection, ConnectionError> {
        query_connection!("SELECT", "FROM websocket_connections WHERE id = $1", id.0)
            .fetch_optional(self.db.exec())
            .await?
            .map(Connection::from)
            .ok_or(ConnectionError::NotFound(id))
    }

    /// Record a heartbeat on a live connection; returns its time.
    #[tracing::instrument(skip_all, fields(id = %id), err)]
    pub async fn heartbeat(&self, id: ConnectionId) -> Result<OffsetDateTime, ConnectionError> {
        let at = sqlx::query_scalar!(
            "UPDATE websocket_connections SET last_heartbeat_at = greatest(now(), last_heartbeat_at)
             WHERE id = $1 AND disconnected_at IS NULL
             RETURNING last_heartbeat_at",
            id.0,
        )
        .fetch_optional(self.db.exec())
        .await?;
        match at {
            Some(at) => Ok(at),
            None => Err(self.missing_or_closed(id).await),
        }
    }

    /// Replace the topics of a live connection.
    #[tracing::instrument(skip_all, fields(id = %id), err)]
    pub async fn set_subscriptions(&self, id: ConnectionId, topics: &[String]) -> Result<Connection, ConnectionError> {
        let subscriptions = topics_json(topics)?;
        let row = query_connection!(
            "UPDATE websocket_connections SET subscriptions = $2
             WHERE id = $1 AND disconnected_at IS NULL RETURNING",
            "",
            id.0,
            subscriptions,
        )
        .fetch_optional(self.db.exec())
        .await?;
        match row {
            Some(row) => Ok(row.into()),
            None => Err(self.missing_or_closed(id).await),
        }
    }

    /// Close a connection (`disconnected_at = now()`). Returns `true` when this call closed it,
    /// `false` when it was already closed.
    #[tracing::instrument(skip_all, fields(id = %id), err)]
    pub async fn close(&self, id: ConnectionId) -> Result<bool, ConnectionError> {
        let closed = sqlx::query_scalar!(
            "UPDATE websocket_connections SET disconnected_at = greatest(now(), last_heartbeat_at)
             WHERE id = $1 AND disconnected_at IS NULL
             RETURNING id",
            id.0,
        )
        .fetch_optional(self.db.exec())
        .await?;
        if closed.is_some() {
            return Ok(true);
        }
        match self.missing_or_closed(id).await {
            ConnectionError::Closed(_) => Ok(false),
            other => Err(other),
        }
    }

    /// Close every live connection of a session (e.g. after revoking it). Returns how many.
    #[tracing::instrument(skip_all, fields(session_id = %session_id), err)]
    pub async fn close_for_session(&self, session_id: SessionId) -> Result<u64, ConnectionError> {
        let done = sqlx::query!(
            "UPDATE websocket_connections SET disconnected_at = greatest(now(), last_heartbeat_at)
             WHERE session_id = $1 AND disconnected_at IS NULL",
            session_id.0,
        )
        .execute(self.db.exec())
        .await?;
        Ok(done.rows_affected())
    }

    /// The live connections of a user, oldest first (partial index on active connections).
    #[tracing::instrument(skip_all, fields(user_id = %user_id), err)]
    pub async fn active_for_user(&self, user_id: UserId) -> Result<Vec<Connection>, ConnectionError> {
        let rows = query_connection!(
            "SELECT",
            "FROM websocket_connections WHERE user_id = $1 AND disconnected_at IS NULL ORDER BY connected_at, id",
            user_id.0
        )
        .fetch_all(self.db.exec())
        .await?;
        Ok(rows.into_iter().map(Connection::from).collect())
    }

    /// The live connections subscribed to `topic` (fan-out; partial GIN index).
    #[tracing::instrument(skip_all, fields(topic = %topic), err)]
    pub async fn subscribers(&self, topic: &str) -> Result<Vec<Connection>, ConnectionError> {
        let probe = JsonValue::Array(vec![JsonValue::String(topic.to_owned())]);
        let rows = query_connection!(
            "SELECT",
            "FROM websocket_connections WHERE disconnected_at IS NULL AND subscriptions @> $1 ORDER BY connected_at, id",
            probe
        )
        .fetch_all(self.db.exec())
        .await?;
        Ok(rows.into_iter().map(Connection::from).collect())
    }

    /// Maintenance: mark live connections whose last heartbeat is older than `timeout` as
    /// disconnected, at their last heartbeat (the best estimate of when they died). Returns
    /// how many.
    #[tracing::instrument(skip_all, err)]
    pub async fn sweep_stale(&self, timeout: Duration) -> Result<u64, ConnectionError> {
        let secs = timeout_secs("timeout", timeout)?;
        let done = sqlx::query!(
            "UPDATE websocket_connections SET disconnected_at = last_heartbeat_at
             WHERE disconnected_at IS NULL AND last_heartbeat_at < now() - make_interval(secs => $1)",
            secs,
        )
        .execute(self.db.exec())
        .await?;
        Ok(done.rows_affected())
    }

    /// Failure path of the single-row updates: closed, missing, or a database error.
    async fn missing_or_closed(&self, id: ConnectionId) -> ConnectionError {
        // The row exists but was not live: it is closed (connections are never reopened).
        match sqlx::query_scalar!("SELECT id FROM websocket_connections WHERE id = $1", id.0)
            .fetch_optional(self.db.exec())
            .await
        {
            Ok(Some(_)) => ConnectionError::Closed(id),
            Ok(None) => ConnectionError::NotFound(id),
            Err(e) => e.into(),
        }
    }
}
