//! User sessions: a 256-bit bearer token handed to the client once and stored only as its
//! SHA-256 (`user_sessions.token_hash`). Row level security (0006) decides visibility: a user
//! sees and revokes their own sessions, admins holding `sessions:manage` every session, the
//! system actor (login flow, cleanup) all of them.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quotedb_schema::quotes::UserRole;
use quotedb_schema::security::{SessionRevokeReason, rules};
use sha2::{Digest as _, Sha256};
use sqlx::types::ipnetwork::IpNetwork;
use time::OffsetDateTime;

use super::crypto::{CryptoError, random_token};
use crate::actor::{Actor, begin_as};
use crate::error::{InvalidInput, is_rls_refusal, read_retrying, rule_of};
use crate::ids::{SessionId, UserId};
use crate::{Db, Email};

/// The setting holding the default session lifetime in hours.
pub const LIFETIME_SETTING: &str = "sessions.lifetime_hours";
/// Longest lifetime a caller may ask for.
pub const MAX_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);
/// User agents are cut to this many characters (`user_sessions_user_agent_length`).
pub const MAX_USER_AGENT_CHARS: usize = 1024;

/// A session call failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Caller input was refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such session visible to the actor (or, for `touch`, none that is still active).
    #[error("session {0} not found")]
    NotFound(SessionId),
    /// The session was already revoked.
    #[error("session {0} is already revoked")]
    AlreadyRevoked(SessionId),
    /// Row level security refused the write (e.g. a session for another user).
    #[error("not allowed to change this session")]
    Forbidden,
    /// The user does not exist (`user_sessions_user_fk`).
    #[error("user {0} does not exist")]
    UnknownUser(UserId),
    /// The session lifetime setting is missing or unusable and no lifetime was given.
    #[error("setting {key} is unusable: {reason}")]
    Setting {
        /// The setting key.
        key: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The token could not be generated.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl SessionError {
    fn from_db(err: sqlx::Error) -> Self {
        if is_rls_refusal(&err) {
            return Self::Forbidden;
        }
        match rule_of(&err) {
            Some(rules::USER_SESSIONS_EXPIRES_AFTER_CREATED) => Self::Setting {
                key: LIFETIME_SETTING,
                reason: "the lifetime is not positive",
            },
            Some(rules::USER_SESSIONS_USER_AGENT_LENGTH) => {
                Self::Invalid(InvalidInput::new("user_agent", "longer than 1024 characters"))
            }
            _ => Self::Database(err),
        }
    }
}

impl From<sqlx::Error> for SessionError {
    fn from(err: sqlx::Error) -> Self {
        Self::from_db(err)
    }
}

/// A session bearer token: 32 random bytes, base64url without padding (43 characters). Shown
/// to the client once; only its SHA-256 is stored. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken {
    text: String,
    hash: [u8; 32],
}

impl SessionToken {
    /// Parse a token presented by a client.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let bytes = URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .filter(|b| b.len() == 32 && raw.len() == 43)
            .ok_or_else(|| InvalidInput::new("session_token", "not a session token (43 base64url characters)"))?;
        Ok(Self {
            text: raw.to_owned(),
            hash: Sha256::digest(&bytes).into(),
        })
    }

    fn generate() -> Result<Self, CryptoError> {
        let text = random_token()?;
        Self::parse(&text).map_err(|_| CryptoError::Random("generated token did not parse".into()))
    }

    /// The token text to hand to the client. Do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.text
    }

    /// SHA-256 of the token's bytes: what `user_sessions.token_hash` holds.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// What [`Sessions::create`] needs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NewSession {
    /// The signed-in user.
    pub user_id: UserId,
    /// Client address, when known.
    pub ip: Option<IpAddr>,
    /// Client User-Agent, when known (cut to 1024 characters).
    pub user_agent: Option<String>,
    /// Lifetime; `None` = the `sessions.lifetime_hours` setting.
    pub lifetime: Option<Duration>,
}

/// A session as stored (never the token).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Session {
    /// Session id.
    pub id: SessionId,
    /// Owner.
    pub user_id: UserId,
    /// Client address at sign-in.
    pub ip: Option<IpAddr>,
    /// Client User-Agent at sign-in.
    pub user_agent: Option<String>,
    /// Sign-in time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last authenticated request.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    /// Absolute expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was ended early.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was ended early (set exactly when `revoked_at` is).
    pub revoke_reason: Option<SessionRevokeReason>,
}

impl Session {
    /// Active at `now`: not revoked and not expired.
    pub fn is_active_at(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// The user behind a valid session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionUser {
    /// User id.
    pub id: UserId,
    /// E-mail address.
    pub email: Email,
    /// Full name.
    pub full_name: String,
    /// Customer or agent.
    pub role: UserRole,
}

/// A token that authenticated: its active session and user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValidSession {
    /// The session (active).
    pub session: Session,
    /// Its user.
    pub user: SessionUser,
}

/// A new session and its token — the only time the token is available.
#[derive(Debug)]
pub struct CreatedSession {
    /// The stored session.
    pub session: Session,
    /// The bearer token for the client.
    pub token: SessionToken,
}

/// `query_as!(SessionRow, ...)` with the session columns between `$head` and `$tail`, so every
/// query returns the same shape (still one compile-time checked literal). The `!` overrides are
/// for the `app_session_by_id`/`app_active_sessions` functions, whose columns sqlx cannot see
/// are NOT NULL.
macro_rules! query_session {
    ($head:literal, $tail:literal $($args:tt)*) => {
        sqlx::query_as!(
            SessionRow,
            $head
                + r#" id AS "id!: SessionId", user_id AS "user_id!: UserId", ip, user_agent,
                      created_at AS "created_at!", last_seen_at AS "last_seen_at!", expires_at AS "expires_at!",
                      revoked_at, revoke_reason AS "revoke_reason: SessionRevokeReason" "#
                + $tail
            $($args)*
        )
    };
}

struct SessionRow {
    id: SessionId,
    user_id: UserId,
    ip: Option<IpNetwork>,
    user_agent: Option<String>,
    created_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    revoked_at: Option<OffsetDateTime>,
    revoke_reason: Option<SessionRevokeReason>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            ip: r.ip.map(|n| n.ip()),
            user_agent: r.user_agent,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            revoke_reason: r.revoke_reason,
        }
    }
}

struct ValidRow {
    id: SessionId,
    user_id: UserId,
    ip: Option<IpNetwork>,
    user_agent: Option<String>,
    created_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    email: String,
    full_name: String,
    role: UserRole,
}

/// Seconds of a caller-given duration, refused when zero or beyond `max`.
pub(crate) fn duration_secs(field: &'static str, d: Duration, max: Duration) -> Result<f64, InvalidInput> {
    if d.is_zero() || d > max {
        return Err(InvalidInput::new(
            field,
            format!("must be positive and at most {} seconds", max.as_secs()),
        ));
    }
    Ok(d.as_secs_f64())
}

/// The sessions API, from [`Security::sessions`](super::Security::sessions).
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    db: &'a Db,
}

impl<'a> Sessions<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Sign a user in: a new session and its token (returned only here). The lifetime defaults
    /// to the `sessions.lifetime_hours` setting. One statement.
    ///
    /// As a customer/agent the session must be the actor's own (RLS); the login flow uses
    /// [`Actor::System`].
    #[tracing::instrument(skip_all, fields(user_id = %new.user_id), err)]
    pub async fn create(&self, actor: &Actor, new: NewSession) -> Result<CreatedSession, SessionError> {
        let lifetime = new
            .lifetime
            .map(|d| duration_secs("lifetime", d, MAX_LIFETIME))
            .transpose()?;
        let user_agent: Option<String> = new.user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect());
        let ip = new.ip.map(IpNetwork::from);
        let token = SessionToken::generate()?;
        let hash = token.hash();

        let mut tx = begin_as(self.db, actor).await?;
        let row = query_session!(
            r#"
            INSERT INTO user_sessions (user_id, token_hash, ip, user_agent, expires_at)
            SELECT $1, $2, $3, $4, now() + make_interval(secs => coalesce($5::float8, l.hours * 3600))
            FROM (SELECT CASE WHEN jsonb_typeof(v) = 'number' THEN v::float8 END AS hours
                  FROM public_setting('sessions.lifetime_hours') AS v) AS l
            WHERE coalesce($5::float8, l.hours) IS NOT NULL
            RETURNING"#,
            "",
            new.user_id.0,
            &hash[..],
            ip,
            user_agent,
            lifetime,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| match rule_of(&e) {
            Some(rules::USER_SESSIONS_USER_FK) => SessionError::UnknownUser(new.user_id),
            _ => SessionError::from_db(e),
        })?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(SessionError::Setting {
                key: LIFETIME_SETTING,
                reason: "missing, or not a number",
            });
        };
        tx.commit().await?;
        Ok(CreatedSession {
            session: row.into(),
            token,
        })
    }

    /// The hot authentication path: the active (not revoked, not expired) session of `token`
    /// and its user, or `None`. One round trip: `session_by_token_hash()` looks it up by the unique token hash.
    #[tracing::instrument(skip_all, err)]
    pub async fn validate(&self, token: &SessionToken) -> Result<Option<ValidSession>, SessionError> {
        let hash = token.hash();
        let row = sqlx::query_file_as!(ValidRow, "src/security/validate_session.sql", &hash[..])
            .fetch_optional(self.db.exec())
            .await?;
        Ok(row.map(|r| ValidSession {
            session: Session {
                id: r.id,
                user_id: r.user_id,
                ip: r.ip.map(|n| n.ip()),
                user_agent: r.user_agent,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
                expires_at: r.expires_at,
                revoked_at: None,
                revoke_reason: None,
            },
            user: SessionUser {
                id: r.user_id,
                email: Email::from_db(r.email),
                full_name: r.full_name,
                role: r.role,
            },
        }))
    }

    /// One session visible to the actor (active or not).
    #[tracing::instrument(skip_all, fields(session_id = %id), err)]
    pub async fn get(&self, actor: &Actor, id: SessionId) -> Result<Session, SessionError> {
        // One round trip: the function switches to the actor's role and sets the actor itself.
        let row = read_retrying!(self.db, |conn| query_session!(
            "SELECT",
            "FROM app_session_by_id($1, $2)",
            actor.user_id() as Option<UserId>,
            id.0,
        )
        .fetch_optional(conn))?;
        row.map(Session::from).ok_or(SessionError::NotFound(id))
    }

    /// Record activity on an active session (`last_seen_at = now()`); returns the new time.
    /// [`SessionError::NotFound`] when the session is not visible to the actor or no longer
    /// active.
    #[tracing::instrument(skip_all, fields(session_id = %id), err)]
    pub async fn touch(&self, actor: &Actor, id: SessionId) -> Result<OffsetDateTime, SessionError> {
        let mut tx = begin_as(self.db, actor).await?;
        let seen = sqlx::query_scalar!(
            r#"
            UPDATE user_sessions SET last_seen_at = now()
            WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()
            RETURNING last_seen_at
            "#,
            id.0,
        )
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        seen.ok_or(SessionError::NotFound(id))
    }

    /// End a session early, recording when and why. A customer can revoke only their own
    /// sessions (another's is [`SessionError::NotFound`]); admins with `sessions:manage` any.
    #[tracing::instrument(skip_all, fields(session_id = %id, reason = %reason), err)]
    pub async fn revoke(
        &self,
        actor: &Actor,
        id: SessionId,
        reason: SessionRevokeReason,
    ) -> Result<Session, SessionError> {
        let mut tx = begin_as(self.db, actor).await?;
        let row = query_session!(
            r#"
            UPDATE user_sessions SET revoked_at = now(), revoke_reason = $2
            WHERE id = $1 AND revoked_at IS NULL
            RETURNING"#,
            "",
            id.0,
            reason as SessionRevokeReason,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = row {
            tx.commit().await?;
            return Ok(row.into());
        }
        // Nothing updated: tell "already revoked" from "not visible" (failure path only).
        let revoked = sqlx::query_scalar!("SELECT revoked_at FROM user_sessions WHERE id = $1", id.0)
            .fetch_optional(&mut *tx)
            .await?;
        tx.rollback().await?;
        Err(match revoked {
            Some(_) => SessionError::AlreadyRevoked(id),
            None => SessionError::NotFound(id),
        })
    }

    /// End every active session of `user_id` (e.g. on password change), except `keep` if
    /// given (the session making the change). Returns how many were revoked; sessions the
    /// actor cannot see are untouched.
    #[tracing::instrument(skip_all, fields(user_id = %user_id, reason = %reason), err)]
    pub async fn revoke_all(
        &self,
        actor: &Actor,
        user_id: UserId,
        reason: SessionRevokeReason,
        keep: Option<SessionId>,
    ) -> Result<u64, SessionError> {
        let mut tx = begin_as(self.db, actor).await?;
        let done = sqlx::query!(
            r#"
            UPDATE user_sessions SET revoked_at = now(), revoke_reason = $2
            WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
              AND id IS DISTINCT FROM $3
            "#,
            user_id.0,
            reason as SessionRevokeReason,
            keep.map(|k| k.0),
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// The active sessions of `user_id` visible to the actor, newest first.
    #[tracing::instrument(skip_all, fields(user_id = %user_id), err)]
    pub async fn list_active(&self, actor: &Actor, user_id: UserId) -> Result<Vec<Session>, SessionError> {
        let rows = read_retrying!(self.db, |conn| query_session!(
            "SELECT",
            "FROM app_active_sessions($1, $2) ORDER BY created_at DESC, id",
            actor.user_id() as Option<UserId>,
            user_id.0,
        )
        .fetch_all(conn))?;
        Ok(rows.into_iter().map(Session::from).collect())
    }

    /// Maintenance (system actor): delete sessions that expired more than `grace` ago.
    /// Returns how many were deleted.
    #[tracing::instrument(skip_all, err)]
    pub async fn sweep_expired(&self, grace: Duration) -> Result<u64, SessionError> {
        let grace = grace.as_secs_f64();
        let mut tx = begin_as(self.db, &Actor::System).await?;
        let done = sqlx::query!(
            "DELETE FROM user_sessions WHERE expires_at < now() - make_interval(secs => $1)",
            grace,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
