//! OAuth2 clients of the platform's authorization server. A confidential client's secret is
//! returned once at registration and stored only as an Argon2id PHC string (argon2 crate
//! defaults); [`OAuthClients::verify`] checks it in constant time. Row level security: an owner
//! manages their clients, admins holding `oauth_clients:manage` every client, the system actor
//! (token endpoint) reads all.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use quotedb_schema::security::{OAuth2GrantType, rules};
use time::OffsetDateTime;

use super::crypto::{CryptoError, SecretString, random_bytes, random_token};
use crate::Db;
use crate::actor::{Actor, begin_as};
use crate::error::{InvalidInput, is_rls_refusal, read_retrying, rule_of};
use crate::ids::{OAuth2ClientRowId, UserId};

/// An OAuth2 client call failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// Caller input was refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No client with this id is visible to the actor.
    #[error("OAuth2 client {0} not found")]
    NotFound(String),
    /// The client id is taken (`oauth2_clients_client_id_unique`).
    #[error("OAuth2 client id {0} is already registered")]
    ClientIdTaken(String),
    /// The client was already revoked.
    #[error("OAuth2 client {0} is already revoked")]
    AlreadyRevoked(String),
    /// Unknown client, revoked client, public client or wrong secret — deliberately one answer.
    #[error("invalid client credentials")]
    InvalidCredentials,
    /// The owner does not exist (`oauth2_clients_owner_fk`).
    #[error("owner {0} does not exist")]
    UnknownOwner(UserId),
    /// Row level security refused the write (registering for another owner, …).
    #[error("not allowed to manage this OAuth2 client")]
    Forbidden,
    /// Hashing or random generation failed.
    #[error("secret hashing failed: {0}")]
    Crypto(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl OAuthError {
    /// The one mapping of a database error to this module's errors (the rules by name, a
    /// refused value, else `Database`); `?` goes through it as well.
    pub(crate) fn from_db(err: sqlx::Error) -> Self {
        if is_rls_refusal(&err) {
            return Self::Forbidden;
        }
        let invalid = |field, reason: &str| Self::Invalid(InvalidInput::new(field, reason));
        match rule_of(&err) {
            Some(rules::OAUTH2_CLIENTS_REDIRECT_URIS_VALID) => {
                invalid("redirect_uris", "https, or http on localhost / 127.0.0.1 / [::1]")
            }
            Some(rules::OAUTH2_CLIENTS_REDIRECT_URI_REQUIRED) => {
                invalid("redirect_uris", "the authorization code grant needs a redirect URI")
            }
            Some(rules::OAUTH2_CLIENTS_CLIENT_CREDENTIALS_NEEDS_SECRET) => invalid(
                "confidential",
                "the client credentials grant needs a confidential client",
            ),
            Some(rules::OAUTH2_CLIENTS_SCOPES_VALID) => invalid("scopes", "not RFC 6749 scope tokens"),
            Some(rules::OAUTH2_CLIENTS_GRANT_TYPES_PRESENT) => invalid("grant_types", "at least one"),
            Some(rules::OAUTH2_CLIENTS_NAME_PRESENT) => invalid("name", "non-blank, at most 200 characters"),
            Some(rules::OAUTH2_CLIENTS_CLIENT_ID_FORMAT) => invalid("client_id", "3-128 of A-Z a-z 0-9 . _ -"),
            _ => Self::Database(err),
        }
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(err: sqlx::Error) -> Self {
        Self::from_db(err)
    }
}

impl From<CryptoError> for OAuthError {
    fn from(err: CryptoError) -> Self {
        Self::Crypto(err.to_string())
    }
}

/// What [`OAuthClients::register`] needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewOAuthClient {
    /// Public client id; `None` = generated (`qc_` + 22 random base64url characters).
    pub client_id: Option<String>,
    /// Display name (non-blank, at most 200 characters).
    pub name: String,
    /// Confidential (gets a secret) or public (PKCE, no secret).
    pub confidential: bool,
    /// Exact redirect URIs: https, or http on localhost / 127.0.0.1 / `[::1]`; no fragment.
    pub redirect_uris: Vec<String>,
    /// Scopes the client may request (RFC 6749 scope tokens).
    pub scopes: Vec<String>,
    /// Allowed grant types (at least one).
    pub grant_types: Vec<OAuth2GrantType>,
    /// Owning user; `None` = a first-party client of the platform (admins and system only).
    pub owner_user_id: Option<UserId>,
}

/// A registered OAuth2 client (never its secret or hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OAuthClient {
    /// Row id.
    pub id: OAuth2ClientRowId,
    /// Public client id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Whether it has a secret.
    pub confidential: bool,
    /// Allowed redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Allowed scopes.
    pub scopes: Vec<String>,
    /// Allowed grant types.
    pub grant_types: Vec<OAuth2GrantType>,
    /// Owning user.
    pub owner_user_id: Option<UserId>,
    /// When it was revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Registration time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A newly registered client and its secret — the only time the secret is available.
#[derive(Debug)]
pub struct RegisteredOAuthClient {
    /// The stored client.
    pub client: OAuthClient,
    /// The client secret (confidential clients only).
    pub client_secret: Option<SecretString>,
}

/// Whether `uri` is an allowed redirect URI (`oauth2_clients_redirect_uris_valid`, plus a
/// port range check): `https://host[:port][/path]` with host of letters, digits, dots and
/// hyphens, or `http://` on `localhost`, `127.0.0.1` or `[::1]`; the path has no whitespace and
/// no fragment.
pub fn is_valid_redirect_uri(uri: &str) -> bool {
    let (rest, loopback_only) = if let Some(r) = uri.strip_prefix("https://") {
        (r, false)
    } else if let Some(r) = uri.strip_prefix("http://") {
        (r, true)
    } else {
        return false;
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let (host, port) = if let Some(h) = authority.strip_prefix("[::1]") {
        ("[::1]", h)
    } else {
        match authority.find(':') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        }
    };
    let host_ok = if loopback_only {
        matches!(host, "localhost" | "127.0.0.1" | "[::1]")
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    let port_ok = match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(p) => {
            (1..=5).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= 65535)
        }
    };
    let path_ok = !path.chars().any(|c| c.is_whitespace() || c == '#');
    host_ok && port_ok && path_ok
}

/// Whether `scope` is an RFC 6749 scope token (`%x21 / %x23-5B / %x5D-7E`, non-empty).
pub fn is_valid_scope(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn is_valid_client_id(id: &str) -> bool {
    let b = id.as_bytes();
    (3..=128).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

struct Validated {
    client_id: String,
    name: String,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
    grant_types: Vec<OAuth2GrantType>,
}

fn validate(new: NewOAuthClient) -> Result<Validated, OAuthError> {
    let client_id = match new.client_id {
        Some(id) if is_valid_client_id(&id) => id,
        Some(id) => {
            return Err(InvalidInput::new(
                "client_id",
                format!("{id:?} is not 3-128 of A-Z a-z 0-9 . _ - starting with a letter or digit"),
            )
            .into());
        }
        None => format!("qc_{}", &random_token()?[..22]),
    };
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(InvalidInput::new("name", "non-blank, at most 200 characters").into());
    }
    if let Some(bad) = new.redirect_uris.iter().find(|u| !is_valid_redirect_uri(u)) {
        return Err(InvalidInput::new(
            "redirect_uris",
            format!("{bad:?} is not https (or http on localhost / 127.0.0.1 / [::1]) without a fragment"),
        )
        .into());
    }
    if let Some(bad) = new.scopes.iter().find(|s| !is_valid_scope(s)) {
        return Err(InvalidInput::new("scopes", format!("{bad:?} is not an RFC 6749 scope token")).into());
    }
    let mut grant_types = Vec::with_capacity(new.grant_types.len());
    for g in new.grant_types {
        if !grant_types.contains(&g) {
            grant_types.push(g);
        }
    }
    if grant_types.is_empty() {
        return Err(InvalidInput::new("grant_types", "at least one grant type").into());
    }
    if grant_types.contains(&OAuth2GrantType::AuthorizationCode) && new.redirect_uris.is_empty() {
        return Err(InvalidInput::new("redirect_uris", "the authorization code grant needs a redirect URI").into());
    }
    if grant_types.contains(&OAuth2GrantType::ClientCredentials) && !new.confidential {
        return Err(InvalidInput::new(
            "confidential",
            "the client credentials grant needs a confidential client",
        )
        .into());
    }
    Ok(Validated {
        client_id,
        name,
        redirect_uris: new.redirect_uris,
        scopes: new.scopes,
        grant_types,
    })
}

/// Argon2id PHC hash of `secret`, with the argon2 crate's default parameters, off the async
/// runtime (it is deliberately slow).
async fn hash_secret(secret: SecretString) -> Result<String, OAuthError> {
    let mut salt = [0u8; 16];
    random_bytes(&mut salt)?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&salt).map_err(|e| OAuthError::Crypto(e.to_string()))?;
        Argon2::default()
            .hash_password(secret.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| OAuthError::Crypto(e.to_string()))
    })
    .await
    .map_err(|e| OAuthError::Crypto(e.to_string()))?
}

/// Constant-time Argon2 verification of `secret` against a PHC string, off the async runtime.
async fn verify_secret(secret: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc).is_ok_and(|h| Argon2::default().verify_password(secret.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the client is unknown, so the answer takes as long as for a
/// known client (no client-id enumeration by timing).
async fn dummy_hash() -> Option<String> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Some(h.clone());
    }
    let h = hash_secret(SecretString::new(random_token().ok()?)).await.ok()?;
    Some(DUMMY.get_or_init(|| h).clone())
}

/// `query_as!(OAuthClient, ...)` with the client columns between `$head` and `$tail`, so every
/// query returns the same shape (still one compile-time checked literal).
macro_rules! query_client {
    ($head:literal, $tail:literal $($args:tt)*) => {
        sqlx::query_as!(
            OAuthClient,
            $head
                + r#" id AS "id!: OAuth2ClientRowId", client_id AS "client_id!", name AS "name!",
                      secret_hash IS NOT NULL AS "confidential!", redirect_uris AS "redirect_uris!",
                      scopes AS "scopes!", grant_types AS "grant_types!: Vec<OAuth2GrantType>",
                      owner_user_id AS "owner_user_id: UserId", revoked_at, created_at AS "created_at!",
                      updated_at AS "updated_at!" "#
                + $tail
            $($args)*
        )
    };
}

/// The OAuth2 clients API, from [`Security::oauth_clients`](super::Security::oauth_clients).
#[derive(Debug, Clone, Copy)]
pub struct OAuthClients<'a> {
    db: &'a Db,
}

impl<'a> OAuthClients<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Register a client; a confidential one gets a random 256-bit secret, returned only here
    /// and stored as an Argon2id hash. The owner must be the acting user unless the actor is
    /// an admin holding `oauth_clients:manage` (or the system) — otherwise
    /// [`OAuthError::Forbidden`].
    #[tracing::instrument(skip_all, fields(name = %new.name), err)]
    pub async fn register(&self, actor: &Actor, new: NewOAuthClient) -> Result<RegisteredOAuthClient, OAuthError> {
        let confidential = new.confidential;
        let owner = new.owner_user_id;
        let v = validate(new)?;
        let (secret, secret_hash) = if confidential {
            let secret = SecretString::new(random_token()?);
            let hash = hash_secret(secret.clone()).await?;
            (Some(secret), Some(hash))
        } else {
            (None, None)
        };

        let mut tx = begin_as(self.db, actor).await?;
        let client = query_client!(
            "INSERT INTO oauth2_clients (client_id, name, secret_hash, redirect_uris, scopes, grant_types, owner_user_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING",
            "",
            v.client_id,
            v.name,
            secret_hash,
            &v.redirect_uris,
            &v.scopes,
            &v.grant_types as &[OAuth2GrantType],
            owner.map(|o| o.0),
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match rule_of(&e) {
            Some(rules::OAUTH2_CLIENTS_CLIENT_ID_UNIQUE) => OAuthError::ClientIdTaken(v.client_id.clone()),
            Some(rules::OAUTH2_CLIENTS_OWNER_FK) => match owner {
                Some(o) => OAuthError::UnknownOwner(o),
                None => OAuthError::from(e),
            },
            _ => OAuthError::from(e),
        })?;
        tx.commit().await?;
        Ok(RegisteredOAuthClient {
            client,
            client_secret: secret,
        })
    }

    /// Check a client's credentials (token endpoint, as the system actor). Unknown, revoked
    /// and public clients and wrong secrets all get [`OAuthError::InvalidCredentials`], after
    /// the same Argon2 work. Returns the client on success.
    #[tracing::instrument(skip_all, fields(client_id = %client_id), err)]
    pub async fn verify(&self, client_id: &str, secret: &SecretString) -> Result<OAuthClient, OAuthError> {
        let found = if is_valid_client_id(client_id) {
            // One round trip, as the system actor (NULL): the function switches role itself.
            read_retrying!(self.db, |conn| sqlx::query_as!(
                VerifiedClientRow,
                r#"
                SELECT id AS "id!: OAuth2ClientRowId", client_id AS "client_id!", name AS "name!", secret_hash,
                       redirect_uris AS "redirect_uris!", scopes AS "scopes!",
                       grant_types AS "grant_types!: Vec<OAuth2GrantType>",
                       owner_user_id AS "owner_user_id: UserId", revoked_at, created_at AS "created_at!",
                       updated_at AS "updated_at!"
                FROM app_oauth_client(NULL, $1)
                WHERE revoked_at IS NULL
                "#,
                client_id,
            )
            .fetch_optional(conn))?
        } else {
            None
        };
        let (client, phc) = match found {
            Some(r) => match r.secret_hash {
                Some(hash) => (
                    Some(OAuthClient {
                        id: r.id,
                        client_id: r.client_id,
                        name: r.name,
                        confidential: true,
                        redirect_uris: r.redirect_uris,
                        scopes: r.scopes,
                        grant_types: r.grant_types,
                        owner_user_id: r.owner_user_id,
                        revoked_at: r.revoked_at,
                        created_at: r.created_at,
                        updated_at: r.updated_at,
                    }),
                    Some(hash),
                ),
                None => (None, dummy_hash().await),
            },
            None => (None, dummy_hash().await),
        };
        let ok = match phc {
            Some(phc) => verify_secret(secret.expose_secret().to_owned(), phc).await,
            None => false,
        };
        match client {
            Some(c) if ok => Ok(c),
            _ => Err(OAuthError::InvalidCredentials),
        }
    }

    /// One client visible to the actor.
    #[tracing::instrument(skip_all, fields(client_id = %client_id), err)]
    pub async fn get(&self, actor: &Actor, client_id: &str) -> Result<OAuthClient, OAuthError> {
        // One round trip: the function switches to the actor's role and sets the actor itself.
        let client = read_retrying!(self.db, |conn| query_client!(
            "SELECT",
            "FROM app_oauth_client($1, $2)",
            actor.user_id() as Option<UserId>,
            client_id
        )
        .fetch_optional(conn))?;
        client.ok_or_else(|| OAuthError::NotFound(client_id.to_owned()))
    }

    /// The clients visible to the actor (own ones; every one for admins), oldest first.
    #[tracing::instrument(skip_all, err)]
    pub async fn list(&self, actor: &Actor) -> Result<Vec<OAuthClient>, OAuthError> {
        let clients = read_retrying!(self.db, |conn| query_client!(
            "SELECT",
            "FROM app_oauth_clients($1) ORDER BY created_at, client_id",
            actor.user_id() as Option<UserId>
        )
        .fetch_all(conn))?;
        Ok(clients)
    }

    /// Revoke a client: it gets no tokens and never verifies again.
    #[tracing::instrument(skip_all, fields(client_id = %client_id), err)]
    pub async fn revoke(&self, actor: &Actor, client_id: &str) -> Result<OAuthClient, OAuthError> {
        let mut tx = begin_as(self.db, actor).await?;
        let client = query_client!(
            "UPDATE oauth2_clients SET revoked_at = now() WHERE client_id = $1 AND revoked_at IS NULL RETURNING",
            "",
            client_id
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(client) = client {
            tx.commit().await?;
            return Ok(client);
        }
        // Failure path only: already revoked, or not visible.
        let revoked = sqlx::query_scalar!("SELECT revoked_at FROM oauth2_clients WHERE client_id = $1", client_id)
            .fetch_optional(&mut *tx)
            .await?;
        tx.rollback().await?;
        Err(match revoked {
            Some(_) => OAuthError::AlreadyRevoked(client_id.to_owned()),
            None => OAuthError::NotFound(client_id.to_owned()),
        })
    }
}

/// A client as `verify` reads it: with its secret's hash. (A named struct: the retrying read
/// expands its query twice.)
struct VerifiedClientRow {
    id: OAuth2ClientRowId,
    client_id: String,
    name: String,
    secret_hash: Option<String>,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
    grant_types: Vec<OAuth2GrantType>,
    owner_user_id: Option<UserId>,
    revoked_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_the_schema_rule() {
        for ok in [
            "https://app.example.com/cb",
            "https://app.example.com:8443/cb?x=1",
            "https://example.com",
            "http://localhost:3000/callback",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
        ] {
            assert!(is_valid_redirect_uri(ok), "{ok}");
        }
        for bad in [
            "http://example.com/cb",
            "https://example.com/cb#frag",
            "https://exa mple.com/cb",
            "ftp://example.com",
            "https://",
            "https://example.com:99999/cb",
            "http://localhost.evil.com/cb",
            "https://user@example.com/cb",
            "https://example.com?x=1",
        ] {
            assert!(!is_valid_redirect_uri(bad), "{bad}");
        }
    }

    #[test]
    fn scopes_are_rfc6749_tokens() {
        assert!(is_valid_scope("quotes:read"));
        assert!(!is_valid_scope("quotes read"));
        assert!(!is_valid_scope("a\"b"));
        assert!(!is_valid_scope(""));
    }
}
