//! Migration 0004 (security and compliance): SSO providers and linked identities, OAuth2
//! clients, user sessions, the drivers' encrypted licence number and the append-only audit log.
//!
//! # Secrets
//!
//! Nothing secret is stored in clear text, and no key ever reaches the database:
//! - reversible secrets (`sso_providers.client_secret_*`, `drivers.license_number_*`) are sealed
//!   in Rust with XChaCha20-Poly1305: a random 24-byte nonce, the ciphertext with its 16-byte
//!   tag, and the key id `<keyring>:v<version>` (e.g. `sso:v2`, `pii:v1`); bind the row with the
//!   AAD `"<table>.<column>:" || id` so a ciphertext cannot be moved to another row;
//! - `drivers.license_number_hash` is a blind index: HMAC-SHA256 of the normalised licence number
//!   under a separate keyring key, for `WHERE license_number_hash = $1` lookups;
//! - `oauth2_clients.secret_hash` is an Argon2 PHC string; `user_sessions.token_hash` is the
//!   SHA-256 of a 256-bit random token.
//!
//! # Audit log partitions
//!
//! `audit_logs` is range-partitioned by UTC month of `occurred_at` (`audit_logs_yYYYYmMM`, plus
//! `audit_logs_default` for strays). A scheduled job (as `quotedb_app`) calls
//! `SELECT create_audit_log_partitions(3)` at least monthly (idempotent; moves strays of those
//! months out of the default partition), and the retention step
//! `SELECT * FROM detach_audit_log_partitions($retention_months)` detaches older months for
//! archiving. `SELECT * FROM audit_log_default_partition_rows()` should return no rows.

db_enum! {
    /// Single sign-on protocol of an identity provider (`sso_protocol`).
    pub enum SsoProtocol as "sso_protocol" {
        /// SAML 2.0.
        Saml = "saml",
        /// OpenID Connect.
        Oidc = "oidc",
    }
}

db_enum! {
    /// OAuth2 grant type a client may use (`oauth2_grant_type`).
    pub enum OAuth2GrantType as "oauth2_grant_type" {
        /// Authorization code (with PKCE); needs a redirect URI.
        AuthorizationCode = "authorization_code",
        /// Client credentials; needs a client secret.
        ClientCredentials = "client_credentials",
        /// Refresh token.
        RefreshToken = "refresh_token",
        /// Device authorization (RFC 8628).
        DeviceCode = "device_code",
    }
}

db_enum! {
    /// Why a session ended before its expiry (`session_revoke_reason`).
    pub enum SessionRevokeReason as "session_revoke_reason" {
        /// The user signed out.
        Logout = "logout",
        /// The user's password changed (all other sessions end).
        PasswordChanged = "password_changed",
        /// An administrator ended it.
        AdminRevoked = "admin_revoked",
        /// Security monitoring ended it.
        SuspiciousActivity = "suspicious_activity",
        /// The account was locked.
        AccountLocked = "account_locked",
    }
}

/// Business-rule names of migration 0004: constraint and trigger names, each documented with
/// the rule it enforces.
pub mod rules {
    // sso_providers
    /// Each identity provider has a unique name.
    pub const SSO_PROVIDERS_NAME_UNIQUE: &str = "sso_providers_name_unique";
    /// A provider name is a lowercase slug of 2-63 letters, digits and hyphens.
    pub const SSO_PROVIDERS_NAME_FORMAT: &str = "sso_providers_name_format";
    /// A provider's client id is 1-1024 characters without whitespace.
    pub const SSO_PROVIDERS_CLIENT_ID_FORMAT: &str = "sso_providers_client_id_format";
    /// Provider metadata is a JSON object.
    pub const SSO_PROVIDERS_METADATA_OBJECT: &str = "sso_providers_metadata_object";
    /// An OIDC issuer is an https URL without query or fragment; a SAML issuer is an https URL or a URN.
    pub const SSO_PROVIDERS_ISSUER_FORMAT: &str = "sso_providers_issuer_format";
    /// A client secret is stored as ciphertext, nonce and key id together, or not at all.
    pub const SSO_PROVIDERS_CLIENT_SECRET_COMPLETE: &str = "sso_providers_client_secret_complete";
    /// An OIDC provider needs an (encrypted) client secret; SAML providers have none.
    pub const SSO_PROVIDERS_OIDC_REQUIRES_CLIENT_SECRET: &str = "sso_providers_oidc_requires_client_secret";
    /// The client secret nonce is a 24-byte XChaCha20-Poly1305 nonce.
    pub const SSO_PROVIDERS_CLIENT_SECRET_NONCE_LENGTH: &str = "sso_providers_client_secret_nonce_length";
    /// The client secret ciphertext holds at least one byte plus the 16-byte authentication tag.
    pub const SSO_PROVIDERS_CLIENT_SECRET_CIPHERTEXT_LENGTH: &str = "sso_providers_client_secret_ciphertext_length";
    /// The client secret key id has the form `<keyring>:v<version>`.
    pub const SSO_PROVIDERS_CLIENT_SECRET_KEY_ID_FORMAT: &str = "sso_providers_client_secret_key_id_format";

    // user_identities
    /// An identity belongs to a provider; RESTRICT because removing a provider that users still sign in with must be a deliberate step (disable it, then unlink its identities), not a silent mass unlink.
    pub const USER_IDENTITIES_PROVIDER_FK: &str = "user_identities_provider_fk";
    /// An identity subject is non-blank and at most 1024 characters.
    pub const USER_IDENTITIES_SUBJECT_FORMAT: &str = "user_identities_subject_format";
    /// An identity belongs to a user; CASCADE because a link to a deleted user is meaningless and must not let anyone sign in.
    pub const USER_IDENTITIES_USER_FK: &str = "user_identities_user_fk";
    /// An account at a provider (provider, subject) is linked to at most one user.
    pub const USER_IDENTITIES_PROVIDER_SUBJECT_UNIQUE: &str = "user_identities_provider_subject_unique";
    /// A user links at most one account per provider.
    pub const USER_IDENTITIES_ONE_PER_PROVIDER: &str = "user_identities_one_per_provider";

    // oauth2_clients
    /// Each OAuth2 client id is unique.
    pub const OAUTH2_CLIENTS_CLIENT_ID_UNIQUE: &str = "oauth2_clients_client_id_unique";
    /// A client id is 3-128 letters, digits, dots, underscores or hyphens, starting with a letter or digit.
    pub const OAUTH2_CLIENTS_CLIENT_ID_FORMAT: &str = "oauth2_clients_client_id_format";
    /// A client has a non-blank name of at most 200 characters.
    pub const OAUTH2_CLIENTS_NAME_PRESENT: &str = "oauth2_clients_name_present";
    /// A client secret is stored only as an Argon2 PHC hash string.
    pub const OAUTH2_CLIENTS_SECRET_HASH_ARGON2: &str = "oauth2_clients_secret_hash_argon2";
    /// Every redirect URI is https, or http on localhost / 127.0.0.1 / `[::1]`, and has no fragment.
    pub const OAUTH2_CLIENTS_REDIRECT_URIS_VALID: &str = "oauth2_clients_redirect_uris_valid";
    /// Every scope is an RFC 6749 scope token (printable ASCII without space, quote or backslash).
    pub const OAUTH2_CLIENTS_SCOPES_VALID: &str = "oauth2_clients_scopes_valid";
    /// A client is allowed at least one grant type, from the fixed set.
    pub const OAUTH2_CLIENTS_GRANT_TYPES_PRESENT: &str = "oauth2_clients_grant_types_present";
    /// A client may have an owning user; RESTRICT because a live credential must be reassigned or deleted before its owner goes, never left ownerless.
    pub const OAUTH2_CLIENTS_OWNER_FK: &str = "oauth2_clients_owner_fk";
    /// A client allowed the authorization code grant has at least one redirect URI.
    pub const OAUTH2_CLIENTS_REDIRECT_URI_REQUIRED: &str = "oauth2_clients_redirect_uri_required";
    /// A client allowed the client credentials grant is confidential: it has a secret hash.
    pub const OAUTH2_CLIENTS_CLIENT_CREDENTIALS_NEEDS_SECRET: &str = "oauth2_clients_client_credentials_needs_secret";

    // user_sessions
    /// A session belongs to a user; CASCADE because a deleted user's sessions must die with it.
    pub const USER_SESSIONS_USER_FK: &str = "user_sessions_user_fk";
    /// A session token identifies exactly one session.
    pub const USER_SESSIONS_TOKEN_HASH_UNIQUE: &str = "user_sessions_token_hash_unique";
    /// A session token is stored only as its 32-byte SHA-256 hash.
    pub const USER_SESSIONS_TOKEN_HASH_LENGTH: &str = "user_sessions_token_hash_length";
    /// A stored user agent is at most 1024 characters.
    pub const USER_SESSIONS_USER_AGENT_LENGTH: &str = "user_sessions_user_agent_length";
    /// A session cannot be seen before it was created.
    pub const USER_SESSIONS_LAST_SEEN_AFTER_CREATED: &str = "user_sessions_last_seen_after_created";
    /// A session expires after it was created.
    pub const USER_SESSIONS_EXPIRES_AFTER_CREATED: &str = "user_sessions_expires_after_created";
    /// A session revocation records both when and why, or neither.
    pub const USER_SESSIONS_REVOCATION_COMPLETE: &str = "user_sessions_revocation_complete";
    /// A revoked session stays revoked: revoked_at and revoke_reason never change again (trigger).
    pub const USER_SESSIONS_REVOCATION_FINAL: &str = "user_sessions_revocation_final";
    /// A revoked OAuth2 client stays revoked (trigger).
    pub const OAUTH2_CLIENTS_REVOCATION_FINAL: &str = "oauth2_clients_revocation_final";
    /// A client secret hash uses at least OWASP's minimum Argon2 cost: m=19456 KiB, t=2, p=1.
    pub const OAUTH2_CLIENTS_SECRET_HASH_OWASP_MINIMUM: &str = "oauth2_clients_secret_hash_owasp_minimum";

    // drivers
    /// A licence number is stored as ciphertext, nonce, key id and blind index together, or not at all.
    pub const DRIVERS_LICENSE_NUMBER_COMPLETE: &str = "drivers_license_number_complete";
    /// The licence number nonce is a 24-byte XChaCha20-Poly1305 nonce.
    pub const DRIVERS_LICENSE_NUMBER_NONCE_LENGTH: &str = "drivers_license_number_nonce_length";
    /// The licence number ciphertext holds at least one byte plus the 16-byte authentication tag.
    pub const DRIVERS_LICENSE_NUMBER_CIPHERTEXT_LENGTH: &str = "drivers_license_number_ciphertext_length";
    /// The licence number key id has the form `<keyring>:v<version>`.
    pub const DRIVERS_LICENSE_NUMBER_KEY_ID_FORMAT: &str = "drivers_license_number_key_id_format";
    /// The licence number blind index is a 32-byte HMAC-SHA256.
    pub const DRIVERS_LICENSE_NUMBER_HASH_LENGTH: &str = "drivers_license_number_hash_length";

    // audit_logs
    /// The actor is a user; SET NULL because the audit trail must outlive the user (the row stays, anonymised).
    pub const AUDIT_LOGS_ACTOR_USER_FK: &str = "audit_logs_actor_user_fk";
    /// An audit action is dotted snake_case of at most 100 characters.
    pub const AUDIT_LOGS_ACTION_FORMAT: &str = "audit_logs_action_format";
    /// An audited entity type is a snake_case name of at most 63 characters.
    pub const AUDIT_LOGS_ENTITY_TYPE_FORMAT: &str = "audit_logs_entity_type_format";
    /// An audited entity id is 1-200 characters without whitespace.
    pub const AUDIT_LOGS_ENTITY_ID_FORMAT: &str = "audit_logs_entity_id_format";
    /// A request id is 1-128 letters, digits, dots, underscores, colons or hyphens.
    pub const AUDIT_LOGS_REQUEST_ID_FORMAT: &str = "audit_logs_request_id_format";
    /// Old and new values, when present, are JSON objects.
    pub const AUDIT_LOGS_VALUES_ARE_OBJECTS: &str = "audit_logs_values_are_objects";
    /// Audit rows are append-only: UPDATE and DELETE are refused (cloned onto every partition); only a deleted actor is anonymised by the FK.
    pub const AUDIT_LOGS_APPEND_ONLY: &str = "audit_logs_append_only";
    /// Audit rows are append-only: TRUNCATE is refused on audit_logs and every partition, for the owner too (trigger).
    pub const AUDIT_LOGS_NO_TRUNCATE: &str = "audit_logs_no_truncate";

    /// Every rule of this migration.
    pub const ALL: &[&str] = &[
        SSO_PROVIDERS_NAME_UNIQUE,
        SSO_PROVIDERS_NAME_FORMAT,
        SSO_PROVIDERS_CLIENT_ID_FORMAT,
        SSO_PROVIDERS_METADATA_OBJECT,
        SSO_PROVIDERS_ISSUER_FORMAT,
        SSO_PROVIDERS_CLIENT_SECRET_COMPLETE,
        SSO_PROVIDERS_OIDC_REQUIRES_CLIENT_SECRET,
        SSO_PROVIDERS_CLIENT_SECRET_NONCE_LENGTH,
        SSO_PROVIDERS_CLIENT_SECRET_CIPHERTEXT_LENGTH,
        SSO_PROVIDERS_CLIENT_SECRET_KEY_ID_FORMAT,
        USER_IDENTITIES_PROVIDER_FK,
        USER_IDENTITIES_SUBJECT_FORMAT,
        USER_IDENTITIES_USER_FK,
        USER_IDENTITIES_PROVIDER_SUBJECT_UNIQUE,
        USER_IDENTITIES_ONE_PER_PROVIDER,
        OAUTH2_CLIENTS_CLIENT_ID_UNIQUE,
        OAUTH2_CLIENTS_CLIENT_ID_FORMAT,
        OAUTH2_CLIENTS_NAME_PRESENT,
        OAUTH2_CLIENTS_SECRET_HASH_ARGON2,
        OAUTH2_CLIENTS_REDIRECT_URIS_VALID,
        OAUTH2_CLIENTS_SCOPES_VALID,
        OAUTH2_CLIENTS_GRANT_TYPES_PRESENT,
        OAUTH2_CLIENTS_OWNER_FK,
        OAUTH2_CLIENTS_REDIRECT_URI_REQUIRED,
        OAUTH2_CLIENTS_CLIENT_CREDENTIALS_NEEDS_SECRET,
        USER_SESSIONS_USER_FK,
        USER_SESSIONS_TOKEN_HASH_UNIQUE,
        USER_SESSIONS_TOKEN_HASH_LENGTH,
        USER_SESSIONS_USER_AGENT_LENGTH,
        USER_SESSIONS_LAST_SEEN_AFTER_CREATED,
        USER_SESSIONS_EXPIRES_AFTER_CREATED,
        USER_SESSIONS_REVOCATION_COMPLETE,
        USER_SESSIONS_REVOCATION_FINAL,
        OAUTH2_CLIENTS_REVOCATION_FINAL,
        OAUTH2_CLIENTS_SECRET_HASH_OWASP_MINIMUM,
        DRIVERS_LICENSE_NUMBER_COMPLETE,
        DRIVERS_LICENSE_NUMBER_NONCE_LENGTH,
        DRIVERS_LICENSE_NUMBER_CIPHERTEXT_LENGTH,
        DRIVERS_LICENSE_NUMBER_KEY_ID_FORMAT,
        DRIVERS_LICENSE_NUMBER_HASH_LENGTH,
        AUDIT_LOGS_ACTOR_USER_FK,
        AUDIT_LOGS_ACTION_FORMAT,
        AUDIT_LOGS_ENTITY_TYPE_FORMAT,
        AUDIT_LOGS_ENTITY_ID_FORMAT,
        AUDIT_LOGS_REQUEST_ID_FORMAT,
        AUDIT_LOGS_VALUES_ARE_OBJECTS,
        AUDIT_LOGS_APPEND_ONLY,
        AUDIT_LOGS_NO_TRUNCATE,
    ];
}
