//! Security API: sessions, OAuth2 clients, SSO providers with their keyring, audit log —
//! through the public API against a real database. Fixtures come from `common` (through the
//! API); back-dating and deliberate tampering, which the API cannot do, use plain SQL.

mod audit;
mod audit_batch;
mod oauth;
mod sessions;
mod sso;
