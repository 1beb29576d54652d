//! Security: user sessions, OAuth2 clients, SSO providers (secrets sealed with a [`KeyRing`]),
//! and the append-only audit log.
//!
//! - [`Sessions`]: bearer tokens returned once and stored only as SHA-256; the hot
//!   [`Sessions::validate`] is one statement by the unique hash. Row level security decides
//!   who sees and revokes which session, so every call takes an [`Actor`](crate::Actor).
//! - [`OAuthClients`]: client secrets returned once, stored as Argon2id PHC strings, verified
//!   in constant time; redirect URIs checked in Rust before the database checks them again.
//! - [`SsoProviders`]: the client secret is sealed in Rust with XChaCha20-Poly1305 under the
//!   keyring's current key, bound to its row by the associated data
//!   `"sso_providers.client_secret:" || id`; rotation re-seals under the new key.
//! - [`AuditLog`]: append and read an entity's history, newest first (keyset pages).

pub mod audit;
pub mod crypto;
pub mod oauth;
pub mod sessions;
pub mod sso;

pub use audit::{AuditEntry, AuditError, AuditLog, AuditQuery, NewAuditEntry};
pub use crypto::{CryptoError, KEY_LEN, KeyId, KeyRing, NONCE_LEN, Sealed, SecretKey, SecretString, TAG_LEN};
pub use oauth::{NewOAuthClient, OAuthClient, OAuthClients, OAuthError, RegisteredOAuthClient};
pub use sessions::{
    CreatedSession, NewSession, Session, SessionError, SessionToken, SessionUser, Sessions, ValidSession,
};
pub use sso::{NewSsoProvider, ReencryptReport, SsoError, SsoProvider, SsoProviders};

use crate::Db;

/// The security API, from [`Db::security`].
#[derive(Debug, Clone, Copy)]
pub struct Security<'a> {
    db: &'a Db,
}

impl<'a> Security<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// User sessions: create, validate, touch, revoke, sweep.
    pub fn sessions(&self) -> Sessions<'a> {
        Sessions::new(self.db)
    }

    /// OAuth2 clients: register, verify, revoke.
    pub fn oauth_clients(&self) -> OAuthClients<'a> {
        OAuthClients::new(self.db)
    }

    /// SSO providers, their client secrets sealed and opened with `keys`.
    pub fn sso_providers<'k>(&self, keys: &'k KeyRing) -> SsoProviders<'a, 'k> {
        SsoProviders::new(self.db, keys)
    }

    /// The append-only audit log.
    pub fn audit(&self) -> AuditLog<'a> {
        AuditLog::new(self.db)
    }
}
