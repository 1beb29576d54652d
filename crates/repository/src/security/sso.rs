//! SSO identity providers (SAML 2.0 / OIDC). An OIDC provider's client secret is sealed in Rust
//! with the keyring's current key (XChaCha20-Poly1305, random 24-byte nonce) and bound to its
//! row by the associated data `"sso_providers.client_secret:" || id`; the database holds the
//! ciphertext, the nonce and the key id, never the key. After a key rotation, rows still on an
//! older key id are the backlog [`SsoProviders::reencrypt_backlog`] works off.

use quotedb_schema::security::{SsoProtocol, rules};
use serde_json::Value as JsonValue;
use time::OffsetDateTime;

use super::crypto::{CryptoError, KeyId, KeyRing, Sealed, SecretString};
use crate::Db;
use crate::actor::{Actor, begin_as};
use crate::error::{InvalidInput, is_rls_refusal, rule_of};
use crate::ids::SsoProviderId;

/// An SSO provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// Caller input was refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such provider.
    #[error("SSO provider {0} not found")]
    NotFound(String),
    /// The actor may not configure identity providers: it needs the admin permission
    /// `sso_providers:manage` (row level security of `sso_providers`), or to be the system.
    #[error("configuring SSO providers needs sso_providers:manage")]
    Forbidden,
    /// The name is taken (`sso_providers_name_unique`).
    #[error("an SSO provider named {0} already exists")]
    NameTaken(String),
    /// Sealing or opening the client secret failed (tampered ciphertext or associated data,
    /// unknown key, …).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl SsoError {
    /// The one mapping of a database error to this module's errors (the rules by name, a
    /// refused value, else `Database`); `?` goes through it as well.
    pub(crate) fn from_db(err: sqlx::Error) -> Self {
        let invalid = |field, reason: &str| Self::Invalid(InvalidInput::new(field, reason));
        if is_rls_refusal(&err) {
            return Self::Forbidden;
        }
        if let Some(invalid) = crate::error::refused_value(&err) {
            return Self::Invalid(invalid);
        }
        match rule_of(&err) {
            Some(rules::SSO_PROVIDERS_NAME_FORMAT) => invalid("name", "a lowercase slug of 2-63 characters"),
            Some(rules::SSO_PROVIDERS_ISSUER_FORMAT) => invalid("issuer", "https URL (OIDC) or https URL / URN (SAML)"),
            Some(rules::SSO_PROVIDERS_CLIENT_ID_FORMAT) => invalid("client_id", "1-1024 characters, no whitespace"),
            Some(rules::SSO_PROVIDERS_METADATA_OBJECT) => invalid("metadata", "a JSON object"),
            Some(rules::SSO_PROVIDERS_OIDC_REQUIRES_CLIENT_SECRET) => {
                invalid("client_secret", "an OIDC provider needs a client secret")
            }
            _ => Self::Database(err),
        }
    }
}

impl From<sqlx::Error> for SsoError {
    fn from(err: sqlx::Error) -> Self {
        Self::from_db(err)
    }
}

/// What [`SsoProviders::register`] needs.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewSsoProvider {
    /// Login URL slug: lowercase letters, digits and hyphens, 2-63 characters.
    pub name: String,
    /// SAML or OIDC.
    pub protocol: SsoProtocol,
    /// OIDC issuer URL (https, no query/fragment) or SAML IdP entity id (https URL or URN).
    pub issuer: String,
    /// Our client id at the IdP (no whitespace, at most 1024 characters).
    pub client_id: String,
    /// The OIDC client secret (required for OIDC, refused for SAML).
    pub client_secret: Option<SecretString>,
    /// Protocol details as a JSON object (e.g. `{"domains": ["example.com"]}`).
    pub metadata: JsonValue,
    /// Whether users may sign in through it yet.
    pub enabled: bool,
}

/// A stored SSO provider (the secret stays sealed; see [`SsoProviders::client_secret`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SsoProvider {
    /// Provider id.
    pub id: SsoProviderId,
    /// Login URL slug.
    pub name: String,
    /// SAML or OIDC.
    pub protocol: SsoProtocol,
    /// Issuer.
    pub issuer: String,
    /// Our client id at the IdP.
    pub client_id: String,
    /// Id of the key sealing the client secret (`<keyring>:v<version>`), if there is one.
    pub client_secret_key_id: Option<String>,
    /// Protocol details.
    pub metadata: JsonValue,
    /// Whether sign-in is allowed.
    pub enabled: bool,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What a [`SsoProviders::reencrypt_backlog`] run did.
#[derive(Debug, Default)]
pub struct ReencryptReport {
    /// Secrets now sealed under the current key.
    pub reencrypted: u64,
    /// Rows whose secret could not be opened (unknown key, tampering); left unchanged.
    pub failed: Vec<(SsoProviderId, CryptoError)>,
}

/// The associated data binding a client secret to its row.
fn aad(id: SsoProviderId) -> Vec<u8> {
    format!("sso_providers.client_secret:{}", id.0).into_bytes()
}

fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    (2..=63).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// `https://host[/path]` with no whitespace anywhere, nothing of `/?#` in the host, and (for
/// OIDC) no `?` or `#` in the path.
fn is_https_issuer(issuer: &str, allow_query: bool) -> bool {
    let Some(rest) = issuer.strip_prefix("https://") else {
        return false;
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    let (host, path) = rest.split_at(host_end);
    !host.is_empty()
        && !host.chars().any(|c| c.is_whitespace() || matches!(c, '?' | '#'))
        && !path
            .chars()
            .any(|c| c.is_whitespace() || (!allow_query && matches!(c, '?' | '#')))
}

fn is_urn(issuer: &str) -> bool {
    let Some(rest) = issuer.strip_prefix("urn:") else {
        return false;
    };
    let Some((nid, nss)) = rest.split_once(':') else {
        return false;
    };
    let nb = nid.as_bytes();
    (1..=32).contains(&nb.len())
        && nb[0].is_ascii_alphanumeric()
        && nb.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && !nss.is_empty()
        && !nss.chars().any(char::is_whitespace)
}

fn validate(new: &NewSsoProvider) -> Result<(), InvalidInput> {
    if !is_valid_name(&new.name) {
        return Err(InvalidInput::new(
            "name",
            format!(
                "{:?} is not a lowercase slug of 2-63 letters, digits and hyphens",
                new.name
            ),
        ));
    }
    let issuer_ok = new.issuer.chars().count() <= 1024
        && match new.protocol {
            SsoProtocol::Oidc => is_https_issuer(&new.issuer, false),
            SsoProtocol::Saml => is_https_issuer(&new.issuer, true) || is_urn(&new.issuer),
        };
    if !issuer_ok {
        return Err(InvalidInput::new(
            "issuer",
            format!("{:?} is not a valid {} issuer", new.issuer, new.protocol),
        ));
    }
    if new.client_id.is_empty()
        || new.client_id.chars().count() > 1024
        || new.client_id.chars().any(|c| c.is_whitespace() || c == '\0')
    {
        return Err(InvalidInput::new("client_id", "1-1024 characters without whitespace"));
    }
    if !new.metadata.is_object() {
        return Err(InvalidInput::new("metadata", "must be a JSON object"));
    }
    crate::error::bounded_json("metadata", &new.metadata)?;
    match (new.protocol, &new.client_secret) {
        (SsoProtocol::Oidc, None) => Err(InvalidInput::new(
            "client_secret",
            "an OIDC provider needs a client secret",
        )),
        (SsoProtocol::Oidc, Some(s)) if s.expose_secret().is_empty() => {
            Err(InvalidInput::new("client_secret", "must not be empty"))
        }
        (SsoProtocol::Saml, Some(_)) => Err(InvalidInput::new(
            "client_secret",
            "SAML providers have no client secret",
        )),
        _ => Ok(()),
    }
}

/// `query_as!(SsoProvider, ...)` with the provider columns between `$head` and `$tail`.
macro_rules! query_provider {
    ($head:literal, $tail:literal $($args:tt)*) => {
        sqlx::query_as!(
            SsoProvider,
            $head
                + r#" id AS "id: SsoProviderId", name, protocol AS "protocol: SsoProtocol", issuer, client_id,
                      client_secret_key_id, metadata, enabled, created_at, updated_at "#
                + $tail
            $($args)*
        )
    };
}

/// The SSO providers API, from [`Security::sso_providers`](super::Security::sso_providers).
#[derive(Debug, Clone, Copy)]
pub struct SsoProviders<'a, 'k> {
    db: &'a Db,
    keys: &'k KeyRing,
}

impl<'a, 'k> SsoProviders<'a, 'k> {
    pub(crate) fn new(db: &'a Db, keys: &'k KeyRing) -> Self {
        Self { db, keys }
    }

    /// Register a provider as `actor` (an admin holding `sso_providers:manage`, or the system;
    /// [`SsoError::Forbidden`] otherwise); an OIDC client secret is sealed under the keyring's
    /// current key, bound to the new row's id.
    #[tracing::instrument(skip_all, fields(name = %new.name, protocol = %new.protocol), err)]
    pub async fn register(&self, actor: &Actor, new: NewSsoProvider) -> Result<SsoProvider, SsoError> {
        validate(&new)?;
        let id = SsoProviderId(uuid::Uuid::new_v4());
        let sealed = new
            .client_secret
            .as_ref()
            .map(|s| self.keys.seal(s.expose_secret().as_bytes(), &aad(id)))
            .transpose()?;
        let (ct, nonce, key_id) = match &sealed {
            Some(s) => (Some(&s.ciphertext[..]), Some(&s.nonce[..]), Some(s.key_id.to_string())),
            None => (None, None, None),
        };
        let mut tx = begin_as(self.db, actor).await?;
        let provider = query_provider!(
            "INSERT INTO sso_providers (id, name, protocol, issuer, client_id, client_secret_ciphertext,
                                        client_secret_nonce, client_secret_key_id, metadata, enabled)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING",
            "",
            id.0,
            new.name,
            new.protocol as SsoProtocol,
            new.issuer,
            new.client_id,
            ct,
            nonce,
            key_id,
            new.metadata,
            new.enabled,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match rule_of(&e) {
            Some(rules::SSO_PROVIDERS_NAME_UNIQUE) => SsoError::NameTaken(new.name.clone()),
            _ => SsoError::from(e),
        })?;
        tx.commit().await?;
        Ok(provider)
    }

    /// A provider by id.
    #[tracing::instrument(skip_all, fields(id = %id), err)]
    pub async fn get(&self, id: SsoProviderId) -> Result<SsoProvider, SsoError> {
        query_provider!("SELECT", "FROM sso_providers WHERE id = $1", id.0)
            .fetch_optional(self.db.exec())
            .await?
            .ok_or_else(|| SsoError::NotFound(id.to_string()))
    }

    /// A provider by its name (login URL slug).
    #[tracing::instrument(skip_all, fields(name = %name), err)]
    pub async fn get_by_name(&self, name: &str) -> Result<SsoProvider, SsoError> {
        query_provider!("SELECT", "FROM sso_providers WHERE name = $1", name)
            .fetch_optional(self.db.exec())
            .await?
            .ok_or_else(|| SsoError::NotFound(name.to_owned()))
    }

    /// Every provider, by name.
    #[tracing::instrument(skip_all, err)]
    pub async fn list(&self) -> Result<Vec<SsoProvider>, SsoError> {
        Ok(query_provider!("SELECT", "FROM sso_providers ORDER BY name")
            .fetch_all(self.db.exec())
            .await?)
    }

    /// The enabled providers routing an e-mail domain (`metadata @> {"domains": [domain]}`,
    /// served by the GIN index on metadata).
    #[tracing::instrument(skip_all, fields(domain = %domain), err)]
    pub async fn for_email_domain(&self, domain: &str) -> Result<Vec<SsoProvider>, SsoError> {
        let domain = domain.trim().to_ascii_lowercase();
        let probe = serde_json::json!({ "domains": [domain] });
        Ok(query_provider!(
            "SELECT",
            "FROM sso_providers WHERE enabled AND metadata @> $1 ORDER BY name",
            probe
        )
        .fetch_all(self.db.exec())
        .await?)
    }

    /// Enable or disable sign-in through a provider, as `actor` (see [`Self::register`]).
    /// [`SsoError::NotFound`] when there is no such provider or the actor may not change it.
    #[tracing::instrument(skip_all, fields(id = %id, enabled), err)]
    pub async fn set_enabled(&self, actor: &Actor, id: SsoProviderId, enabled: bool) -> Result<SsoProvider, SsoError> {
        let mut tx = begin_as(self.db, actor).await?;
        let provider = query_provider!(
            "UPDATE sso_providers SET enabled = $2 WHERE id = $1 RETURNING",
            "",
            id.0,
            enabled
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| SsoError::NotFound(id.to_string()))?;
        tx.commit().await?;
        Ok(provider)
    }

    /// Decrypt a provider's client secret on demand (`None` for SAML providers). Fails with
    /// [`CryptoError::Decryption`] when the stored ciphertext was altered or belongs to
    /// another row, and [`CryptoError::UnknownKey`] when the keyring lacks its key.
    #[tracing::instrument(skip_all, fields(id = %id), err)]
    pub async fn client_secret(&self, id: SsoProviderId) -> Result<Option<SecretString>, SsoError> {
        let row = sqlx::query!(
            "SELECT client_secret_ciphertext, client_secret_nonce, client_secret_key_id FROM sso_providers WHERE id = $1",
            id.0,
        )
        .fetch_optional(self.db.exec())
        .await?
        .ok_or_else(|| SsoError::NotFound(id.to_string()))?;
        match (
            row.client_secret_ciphertext,
            row.client_secret_nonce,
            row.client_secret_key_id,
        ) {
            (Some(ct), Some(nonce), Some(key_id)) => {
                let sealed = Sealed::from_parts(&key_id, &nonce, ct)?;
                Ok(Some(self.keys.open_secret(&sealed, &aad(id))?))
            }
            _ => Ok(None),
        }
    }

    /// Replace an OIDC provider's client secret (sealed under the current key), as `actor` (see
    /// [`Self::register`]). [`SsoError::NotFound`] when there is no such OIDC provider or the
    /// actor may not change it.
    #[tracing::instrument(skip_all, fields(id = %id), err)]
    pub async fn set_client_secret(
        &self,
        actor: &Actor,
        id: SsoProviderId,
        secret: &SecretString,
    ) -> Result<SsoProvider, SsoError> {
        if secret.expose_secret().is_empty() {
            return Err(InvalidInput::new("client_secret", "must not be empty").into());
        }
        let sealed = self.keys.seal(secret.expose_secret().as_bytes(), &aad(id))?;
        let mut tx = begin_as(self.db, actor).await?;
        let provider = query_provider!(
            "UPDATE sso_providers SET client_secret_ciphertext = $2, client_secret_nonce = $3,
                                      client_secret_key_id = $4
             WHERE id = $1 AND protocol = 'oidc' RETURNING",
            "",
            id.0,
            &sealed.ciphertext[..],
            &sealed.nonce[..],
            sealed.key_id.to_string(),
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| SsoError::NotFound(format!("OIDC provider {id}")))?;
        tx.commit().await?;
        Ok(provider)
    }

    /// Re-seal one provider's client secret under the keyring's current key (after a
    /// rotation). Returns the key id now sealing it, `None` when it has no secret. A secret
    /// already under the current key is left as is. Key rotation is system work: the
    /// connection's login must hold `quotedb_system`.
    #[tracing::instrument(skip_all, fields(id = %id), err)]
    pub async fn reencrypt(&self, id: SsoProviderId) -> Result<Option<KeyId>, SsoError> {
        let current = self.keys.current_key_id();
        let mut tx = begin_as(self.db, &Actor::System).await?;
        let row = sqlx::query!(
            "SELECT client_secret_ciphertext, client_secret_nonce, client_secret_key_id
             FROM sso_providers WHERE id = $1 FOR UPDATE",
            id.0,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| SsoError::NotFound(id.to_string()))?;
        let (Some(ct), Some(nonce), Some(key_id)) = (
            row.client_secret_ciphertext,
            row.client_secret_nonce,
            row.client_secret_key_id,
        ) else {
            tx.rollback().await?;
            return Ok(None);
        };
        if key_id == current.to_string() {
            tx.rollback().await?;
            return Ok(Some(current));
        }
        let resealed = Sealed::from_parts(&key_id, &nonce, ct)
            .and_then(|old| self.keys.open(&old, &aad(id)))
            .and_then(|plain| self.keys.seal(&plain, &aad(id)));
        let new = match resealed {
            Ok(new) => new,
            Err(e) => {
                // Release the row lock now, not whenever the pool flushes the implicit rollback
                // (a concurrent SKIP LOCKED backlog run would skip the row meanwhile).
                tx.rollback().await?;
                return Err(e.into());
            }
        };
        sqlx::query!(
            "UPDATE sso_providers SET client_secret_ciphertext = $2, client_secret_nonce = $3,
                                      client_secret_key_id = $4
             WHERE id = $1",
            id.0,
            &new.ciphertext[..],
            &new.nonce[..],
            new.key_id.to_string(),
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(new.key_id))
    }

    /// Work off the rotation backlog: re-seal up to `limit` secrets not under the current key
    /// (rows locked with SKIP LOCKED, so several runners share the work), in one transaction
    /// of two statements. Rows whose secret cannot be opened are reported and left unchanged.
    /// System work, like [`Self::reencrypt`].
    #[tracing::instrument(skip_all, fields(limit), err)]
    pub async fn reencrypt_backlog(&self, limit: u32) -> Result<ReencryptReport, SsoError> {
        if limit == 0 || limit > 10_000 {
            return Err(InvalidInput::new("limit", "between 1 and 10000").into());
        }
        let current = self.keys.current_key_id().to_string();
        let mut tx = begin_as(self.db, &Actor::System).await?;
        let rows = sqlx::query!(
            r#"
            SELECT id AS "id: SsoProviderId", client_secret_ciphertext AS "ct!", client_secret_nonce AS "nonce!",
                   client_secret_key_id AS "key_id!"
            FROM sso_providers
            WHERE client_secret_key_id IS NOT NULL AND client_secret_key_id <> $1
            ORDER BY id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
            "#,
            current,
            i64::from(limit),
        )
        .fetch_all(&mut *tx)
        .await?;

        let mut report = ReencryptReport::default();
        let (mut ids, mut cts, mut nonces) = (Vec::new(), Vec::new(), Vec::new());
        for row in rows {
            let resealed = Sealed::from_parts(&row.key_id, &row.nonce, row.ct)
                .and_then(|old| self.keys.open(&old, &aad(row.id)))
                .and_then(|plain| self.keys.seal(&plain, &aad(row.id)));
            match resealed {
                Ok(new) => {
                    ids.push(row.id.0);
                    cts.push(new.ciphertext);
                    nonces.push(new.nonce.to_vec());
                }
                Err(e) => report.failed.push((row.id, e)),
            }
        }
        if !ids.is_empty() {
            let done = sqlx::query!(
                "UPDATE sso_providers s
                 SET client_secret_ciphertext = u.ct, client_secret_nonce = u.nonce, client_secret_key_id = $4
                 FROM UNNEST($1::uuid[], $2::bytea[], $3::bytea[]) AS u(id, ct, nonce)
                 WHERE s.id = u.id",
                &ids,
                &cts,
                &nonces,
                current,
            )
            .execute(&mut *tx)
            .await?;
            report.reencrypted = done.rows_affected();
        }
        tx.commit().await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_follow_the_schema_rule() {
        assert!(is_https_issuer("https://login.example.com/tenant", false));
        assert!(!is_https_issuer("https://login.example.com/t?x=1", false));
        assert!(is_https_issuer("https://idp.example.com/saml?x=1", true));
        assert!(!is_https_issuer("http://login.example.com", false));
        assert!(is_urn("urn:example:idp"));
        assert!(!is_urn("urn::idp"));
        assert!(is_valid_name("acme-okta"));
        assert!(!is_valid_name("Acme"));
        assert!(!is_valid_name("a"));
    }
}
