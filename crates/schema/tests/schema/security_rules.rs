//! The business rules of migration 0004 (SSO, OAuth2 clients, sessions, encrypted licence
//! numbers, the append-only audit log): each rule is violated and seen refused by name, and its
//! valid case is seen accepted. Every test gets a fresh database holding the fixture below.

use quotedb_schema::security::rules;
use quotedb_testkit::TestDb;

/// Alice and Bob (customers), an OIDC provider (`acme-okta`, with an encrypted secret), a SAML
/// provider (`acme-adfs`), and a live session of Alice. Ids are fixed: each test has its own
/// database.
const FIXTURE: &str = r"
INSERT INTO users (id, email, full_name, role) VALUES
    ('a0000000-0000-4000-8000-000000000001', 'alice@example.com', 'Alice Adams', 'customer'),
    ('b0000000-0000-4000-8000-000000000002', 'bob@example.com', 'Bob Brown', 'customer');
INSERT INTO sso_providers (id, name, protocol, issuer, client_id, client_secret_ciphertext,
                           client_secret_nonce, client_secret_key_id, metadata) VALUES
    ('f0000000-0000-4000-8000-000000000001', 'acme-okta', 'oidc', 'https://acme.okta.com', 'quotedb',
     decode(repeat('ab', 40), 'hex'), decode(repeat('cd', 24), 'hex'), 'sso:v1', '{}'),
    ('f0000000-0000-4000-8000-000000000002', 'acme-adfs', 'saml', 'urn:acme:adfs',
     'https://quotedb.example/saml', NULL, NULL, NULL, '{}');
INSERT INTO user_sessions (id, user_id, token_hash, expires_at) VALUES
    ('d0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001',
     sha256('alice-token'), now() + interval '1 day');
";

async fn fixture() -> TestDb {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    sqlx::raw_sql(FIXTURE).execute(db.pool()).await.expect("fixture");
    db
}

// ---- sso_providers ----------------------------------------------------------------------------

accepted!(an_oidc_provider_with_an_encrypted_secret_is_accepted: [
    "INSERT INTO sso_providers (name, protocol, issuer, client_id, client_secret_ciphertext, client_secret_nonce,
                                client_secret_key_id, metadata)
     VALUES ('globex-oidc', 'oidc', 'https://login.globex.com/tenant-1', 'quotedb-prod',
             decode(repeat('ab', 17), 'hex'), decode(repeat('cd', 24), 'hex'), 'sso:v12', '{\"domains\": [\"globex.com\"]}')",
]);
accepted!(a_saml_provider_needs_no_client_secret: [
    "INSERT INTO sso_providers (name, protocol, issuer, client_id, metadata)
     VALUES ('globex-saml', 'saml', 'https://idp.globex.com/saml/metadata', 'urn:quotedb:sp', '{}')",
]);
refused!(two_providers_cannot_share_a_name: rules::SSO_PROVIDERS_NAME_UNIQUE, [
    "INSERT INTO sso_providers (name, protocol, issuer, client_id, metadata)
     VALUES ('acme-adfs', 'saml', 'urn:acme:other', 'sp', '{}')",
]);
refused!(a_provider_name_is_a_lowercase_slug: rules::SSO_PROVIDERS_NAME_FORMAT, [
    "INSERT INTO sso_providers (name, protocol, issuer, client_id, metadata)
     VALUES ('Acme ADFS', 'saml', 'urn:acme:other', 'sp', '{}')",
]);
refused!(an_oidc_issuer_must_be_an_https_url: rules::SSO_PROVIDERS_ISSUER_FORMAT, [
    "INSERT INTO sso_providers (name, protocol, issuer, client_id, client_secret_ciphertext, client_secret_nonce,
                                client_secret_key_id, metadata)
     VALUES ('plain-oidc', 'oidc', 'http://login.example.com', 'quotedb',
             decode(repeat('ab', 17), 'hex'), decode(repeat('cd', 24), 'hex'), 'sso:v1', '{}')",
]);
refused!(a_saml_issuer_must_be_a_url_or_a_urn: rules::SSO_PROVIDERS_ISSUER_FORMAT, [
    "INSERT INTO sso_providers (name, protocol, issuer, client_id, metadata)
     VALUES ('odd-saml', 'saml', 'Acme IdP', 'sp', '{}')",
]);
refused!(a_provider_client_id_has_no_whitespace: rules::SSO_PROVIDERS_CLIENT_ID_FORMAT, [
    "INSERT INTO sso_providers (name, protocol, issuer, client_id, metadata)
     VALUES ('odd-saml', 'saml', 'urn:acme:other', 'quote db', '{}')",
]);
refused!(provider_metadata_must_be_an_object: rules::SSO_PROVIDERS_METADATA_OBJECT, [
    "INSERT INTO sso_providers (name, protocol, issuer, client_id, metadata)
     VALUES ('odd-saml', 'saml', 'urn:acme:other', 'sp', '[\"acme.com\"]')",
]);
refused!(a_client_secret_needs_its_nonce_and_key_id: rules::SSO_PROVIDERS_CLIENT_SECRET_COMPLETE, [
    "UPDATE sso_providers SET client_secret_key_id = NULL WHERE name = 'acme-okta'",
]);
refused!(an_oidc_provider_needs_a_client_secret: rules::SSO_PROVIDERS_OIDC_REQUIRES_CLIENT_SECRET, [
    "INSERT INTO sso_providers (name, protocol, issuer, client_id, metadata)
     VALUES ('secretless', 'oidc', 'https://login.example.com', 'quotedb', '{}')",
]);
refused!(a_client_secret_nonce_is_24_bytes: rules::SSO_PROVIDERS_CLIENT_SECRET_NONCE_LENGTH, [
    "UPDATE sso_providers SET client_secret_nonce = decode(repeat('cd', 12), 'hex') WHERE name = 'acme-okta'",
]);
refused!(a_client_secret_ciphertext_holds_more_than_its_tag: rules::SSO_PROVIDERS_CLIENT_SECRET_CIPHERTEXT_LENGTH, [
    "UPDATE sso_providers SET client_secret_ciphertext = decode(repeat('ab', 16), 'hex') WHERE name = 'acme-okta'",
]);
refused!(a_client_secret_key_id_names_keyring_and_version: rules::SSO_PROVIDERS_CLIENT_SECRET_KEY_ID_FORMAT, [
    "UPDATE sso_providers SET client_secret_key_id = 'the-sso-key' WHERE name = 'acme-okta'",
]);

// ---- user_identities --------------------------------------------------------------------------

accepted!(a_user_links_one_account_per_provider: [
    "INSERT INTO user_identities (provider_id, subject, user_id) VALUES
        ('f0000000-0000-4000-8000-000000000001', 'okta|alice', 'a0000000-0000-4000-8000-000000000001'),
        ('f0000000-0000-4000-8000-000000000002', 'alice@acme.com', 'a0000000-0000-4000-8000-000000000001'),
        ('f0000000-0000-4000-8000-000000000001', 'okta|bob', 'b0000000-0000-4000-8000-000000000002')",
]);
refused!(an_idp_account_links_to_only_one_user: rules::USER_IDENTITIES_PROVIDER_SUBJECT_UNIQUE, [
    "INSERT INTO user_identities (provider_id, subject, user_id)
     VALUES ('f0000000-0000-4000-8000-000000000001', 'okta|alice', 'a0000000-0000-4000-8000-000000000001')",
    "INSERT INTO user_identities (provider_id, subject, user_id)
     VALUES ('f0000000-0000-4000-8000-000000000001', 'okta|alice', 'b0000000-0000-4000-8000-000000000002')",
]);
refused!(a_user_links_only_one_account_per_provider: rules::USER_IDENTITIES_ONE_PER_PROVIDER, [
    "INSERT INTO user_identities (provider_id, subject, user_id)
     VALUES ('f0000000-0000-4000-8000-000000000001', 'okta|alice', 'a0000000-0000-4000-8000-000000000001')",
    "INSERT INTO user_identities (provider_id, subject, user_id)
     VALUES ('f0000000-0000-4000-8000-000000000001', 'okta|alice2', 'a0000000-0000-4000-8000-000000000001')",
]);
refused!(an_identity_subject_cannot_be_blank: rules::USER_IDENTITIES_SUBJECT_FORMAT, [
    "INSERT INTO user_identities (provider_id, subject, user_id)
     VALUES ('f0000000-0000-4000-8000-000000000001', '  ', 'a0000000-0000-4000-8000-000000000001')",
]);
refused!(a_provider_with_linked_identities_cannot_be_deleted: rules::USER_IDENTITIES_PROVIDER_FK, [
    "INSERT INTO user_identities (provider_id, subject, user_id)
     VALUES ('f0000000-0000-4000-8000-000000000001', 'okta|alice', 'a0000000-0000-4000-8000-000000000001')",
    "DELETE FROM sso_providers WHERE name = 'acme-okta'",
]);
accepted!(a_provider_without_identities_can_be_deleted: [
    "DELETE FROM sso_providers WHERE name = 'acme-okta'",
]);
refused!(an_identity_belongs_to_an_existing_user: rules::USER_IDENTITIES_USER_FK, [
    "INSERT INTO user_identities (provider_id, subject, user_id)
     VALUES ('f0000000-0000-4000-8000-000000000001', 'okta|ghost', gen_random_uuid())",
]);

// ---- oauth2_clients ---------------------------------------------------------------------------

accepted!(a_confidential_web_client_is_accepted: [
    "INSERT INTO oauth2_clients (client_id, name, secret_hash, redirect_uris, scopes, grant_types, owner_user_id)
     VALUES ('partner-portal', 'Partner portal',
             '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
             '{https://partner.example/cb,http://localhost:8080/cb,http://127.0.0.1/cb,http://[::1]:3000/cb}',
             '{openid,quotes:read}', '{authorization_code,refresh_token,client_credentials}',
             'a0000000-0000-4000-8000-000000000001')",
]);
accepted!(a_public_device_client_needs_no_redirect_uri_or_secret: [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('tv-app', 'TV app', '{}', '{}', '{device_code,refresh_token}')",
]);
refused!(two_clients_cannot_share_a_client_id: rules::OAUTH2_CLIENTS_CLIENT_ID_UNIQUE, [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('tv-app', 'TV app', '{}', '{}', '{device_code}')",
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('tv-app', 'Other TV app', '{}', '{}', '{device_code}')",
]);
refused!(a_client_id_has_no_spaces: rules::OAUTH2_CLIENTS_CLIENT_ID_FORMAT, [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('tv app', 'TV app', '{}', '{}', '{device_code}')",
]);
refused!(a_client_needs_a_name: rules::OAUTH2_CLIENTS_NAME_PRESENT, [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('tv-app', '   ', '{}', '{}', '{device_code}')",
]);
refused!(a_client_secret_is_stored_only_as_an_argon2_hash: rules::OAUTH2_CLIENTS_SECRET_HASH_ARGON2, [
    "INSERT INTO oauth2_clients (client_id, name, secret_hash, redirect_uris, scopes, grant_types)
     VALUES ('batch-job', 'Batch job', 'correct horse battery staple', '{}', '{}', '{client_credentials}')",
]);
refused!(a_redirect_uri_uses_https_away_from_localhost: rules::OAUTH2_CLIENTS_REDIRECT_URIS_VALID, [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('spa', 'SPA', '{http://partner.example/cb}', '{}', '{authorization_code}')",
]);
refused!(a_redirect_uri_cannot_pose_as_localhost: rules::OAUTH2_CLIENTS_REDIRECT_URIS_VALID, [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('spa', 'SPA', '{https://partner.example/cb,http://localhost.evil.example/cb}', '{}', '{authorization_code}')",
]);
refused!(a_redirect_uri_has_no_fragment: rules::OAUTH2_CLIENTS_REDIRECT_URIS_VALID, [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('spa', 'SPA', '{https://partner.example/cb#top}', '{}', '{authorization_code}')",
]);
refused!(an_authorization_code_client_needs_a_redirect_uri: rules::OAUTH2_CLIENTS_REDIRECT_URI_REQUIRED, [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('spa', 'SPA', '{}', '{}', '{authorization_code}')",
]);
refused!(a_scope_is_an_rfc_6749_scope_token: rules::OAUTH2_CLIENTS_SCOPES_VALID, [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('tv-app', 'TV app', '{}', '{\"quotes read\"}', '{device_code}')",
]);
refused!(a_client_needs_at_least_one_grant_type: rules::OAUTH2_CLIENTS_GRANT_TYPES_PRESENT, [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('tv-app', 'TV app', '{}', '{}', '{}')",
]);
refused!(a_client_credentials_client_needs_a_secret: rules::OAUTH2_CLIENTS_CLIENT_CREDENTIALS_NEEDS_SECRET, [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types)
     VALUES ('batch-job', 'Batch job', '{}', '{}', '{client_credentials}')",
]);
refused!(a_client_owner_cannot_be_deleted_while_the_client_exists: rules::OAUTH2_CLIENTS_OWNER_FK, [
    "INSERT INTO oauth2_clients (client_id, name, redirect_uris, scopes, grant_types, owner_user_id)
     VALUES ('tv-app', 'TV app', '{}', '{}', '{device_code}', 'b0000000-0000-4000-8000-000000000002')",
    "DELETE FROM users WHERE email = 'bob@example.com'",
]);

// ---- user_sessions ----------------------------------------------------------------------------

accepted!(a_session_keyed_by_a_sha256_token_hash_is_accepted: [
    "INSERT INTO user_sessions (user_id, token_hash, ip, user_agent, expires_at)
     VALUES ('b0000000-0000-4000-8000-000000000002', sha256('bob-token'), '203.0.113.7', 'Mozilla/5.0',
             now() + interval '30 days')",
    "UPDATE user_sessions SET last_seen_at = now() + interval '1 minute' WHERE user_id = 'b0000000-0000-4000-8000-000000000002'",
]);
accepted!(a_session_revocation_with_time_and_reason_is_accepted: [
    "UPDATE user_sessions SET revoked_at = now(), revoke_reason = 'logout'
     WHERE id = 'd0000000-0000-4000-8000-000000000001'",
]);
refused!(a_session_revocation_needs_a_reason: rules::USER_SESSIONS_REVOCATION_COMPLETE, [
    "UPDATE user_sessions SET revoked_at = now() WHERE id = 'd0000000-0000-4000-8000-000000000001'",
]);
refused!(a_session_revoke_reason_needs_a_revocation_time: rules::USER_SESSIONS_REVOCATION_COMPLETE, [
    "UPDATE user_sessions SET revoke_reason = 'admin_revoked' WHERE id = 'd0000000-0000-4000-8000-000000000001'",
]);
refused!(a_session_token_is_stored_as_a_32_byte_hash: rules::USER_SESSIONS_TOKEN_HASH_LENGTH, [
    "INSERT INTO user_sessions (user_id, token_hash, expires_at)
     VALUES ('b0000000-0000-4000-8000-000000000002', 'bob-token'::bytea, now() + interval '1 day')",
]);
refused!(two_sessions_cannot_share_a_token: rules::USER_SESSIONS_TOKEN_HASH_UNIQUE, [
    "INSERT INTO user_sessions (user_id, token_hash, expires_at)
     VALUES ('b0000000-0000-4000-8000-000000000002', sha256('alice-token'), now() + interval '1 day')",
]);
refused!(a_session_expires_after_it_was_created: rules::USER_SESSIONS_EXPIRES_AFTER_CREATED, [
    "INSERT INTO user_sessions (user_id, token_hash, expires_at)
     VALUES ('b0000000-0000-4000-8000-000000000002', sha256('bob-token'), now())",
]);
refused!(a_session_cannot_be_seen_before_it_was_created: rules::USER_SESSIONS_LAST_SEEN_AFTER_CREATED, [
    "UPDATE user_sessions SET last_seen_at = created_at - interval '1 second'
     WHERE id = 'd0000000-0000-4000-8000-000000000001'",
]);
refused!(a_stored_user_agent_is_at_most_1024_characters: rules::USER_SESSIONS_USER_AGENT_LENGTH, [
    "UPDATE user_sessions SET user_agent = repeat('x', 1025) WHERE id = 'd0000000-0000-4000-8000-000000000001'",
]);
refused!(a_session_belongs_to_an_existing_user: rules::USER_SESSIONS_USER_FK, [
    "INSERT INTO user_sessions (user_id, token_hash, expires_at)
     VALUES (gen_random_uuid(), sha256('ghost-token'), now() + interval '1 day')",
]);

accepted!(deleting_a_user_ends_their_sessions_and_unlinks_their_identities: [
    "INSERT INTO user_identities (provider_id, subject, user_id)
     VALUES ('f0000000-0000-4000-8000-000000000001', 'okta|alice', 'a0000000-0000-4000-8000-000000000001')",
    "DELETE FROM users WHERE email = 'alice@example.com'",
] then "SELECT count(*) FROM user_sessions" == 0, then "SELECT count(*) FROM user_identities" == 0);

// ---- drivers: encrypted licence number --------------------------------------------------------

accepted!(a_driver_with_an_encrypted_licence_number_and_blind_index_is_accepted: [
    "INSERT INTO drivers (user_id, first_name, last_name, date_of_birth, license_number_ciphertext,
                          license_number_nonce, license_number_key_id, license_number_hash)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'Alice', 'Adams', '1985-04-12',
             decode(repeat('ab', 24), 'hex'), decode(repeat('cd', 24), 'hex'), 'pii:v1', sha256('CA:D1234567'))",
    "INSERT INTO drivers (user_id, first_name, last_name, date_of_birth)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'Sam', 'Adams', '2007-09-01')",
]);
refused!(a_licence_number_needs_its_blind_index: rules::DRIVERS_LICENSE_NUMBER_COMPLETE, [
    "INSERT INTO drivers (user_id, first_name, last_name, date_of_birth, license_number_ciphertext,
                          license_number_nonce, license_number_key_id)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'Alice', 'Adams', '1985-04-12',
             decode(repeat('ab', 24), 'hex'), decode(repeat('cd', 24), 'hex'), 'pii:v1')",
]);
refused!(a_licence_number_nonce_is_24_bytes: rules::DRIVERS_LICENSE_NUMBER_NONCE_LENGTH, [
    "INSERT INTO drivers (user_id, first_name, last_name, date_of_birth, license_number_ciphertext,
                          license_number_nonce, license_number_key_id, license_number_hash)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'Alice', 'Adams', '1985-04-12',
             decode(repeat('ab', 24), 'hex'), decode(repeat('cd', 12), 'hex'), 'pii:v1', sha256('CA:D1234567'))",
]);
refused!(a_licence_number_ciphertext_holds_more_than_its_tag: rules::DRIVERS_LICENSE_NUMBER_CIPHERTEXT_LENGTH, [
    "INSERT INTO drivers (user_id, first_name, last_name, date_of_birth, license_number_ciphertext,
                          license_number_nonce, license_number_key_id, license_number_hash)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'Alice', 'Adams', '1985-04-12',
             decode(repeat('ab', 16), 'hex'), decode(repeat('cd', 24), 'hex'), 'pii:v1', sha256('CA:D1234567'))",
]);
refused!(a_licence_number_key_id_names_keyring_and_version: rules::DRIVERS_LICENSE_NUMBER_KEY_ID_FORMAT, [
    "INSERT INTO drivers (user_id, first_name, last_name, date_of_birth, license_number_ciphertext,
                          license_number_nonce, license_number_key_id, license_number_hash)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'Alice', 'Adams', '1985-04-12',
             decode(repeat('ab', 24), 'hex'), decode(repeat('cd', 24), 'hex'), 'pii', sha256('CA:D1234567'))",
]);
refused!(a_licence_number_blind_index_is_an_hmac_sha256: rules::DRIVERS_LICENSE_NUMBER_HASH_LENGTH, [
    "INSERT INTO drivers (user_id, first_name, last_name, date_of_birth, license_number_ciphertext,
                          license_number_nonce, license_number_key_id, license_number_hash)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'Alice', 'Adams', '1985-04-12',
             decode(repeat('ab', 24), 'hex'), decode(repeat('cd', 24), 'hex'), 'pii:v1', decode(md5('x'), 'hex'))",
]);

// ---- audit_logs -------------------------------------------------------------------------------

const AUDIT_ROW: &str =
    "INSERT INTO audit_logs (actor_user_id, action, entity_type, entity_id, old_values, new_values, ip, request_id)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'quote.bound', 'quotes', 'Q-20260101-ABCDEF',
             '{\"status\": \"presented\"}', '{\"status\": \"bound\"}', '203.0.113.7', 'req-01J9Z')";

accepted!(an_audit_log_row_is_accepted: [AUDIT_ROW]);
refused!(an_audit_action_is_dotted_snake_case: rules::AUDIT_LOGS_ACTION_FORMAT, [
    "INSERT INTO audit_logs (action, entity_type, entity_id) VALUES ('Quote Bound', 'quotes', 'q1')",
]);
refused!(an_audited_entity_type_is_snake_case: rules::AUDIT_LOGS_ENTITY_TYPE_FORMAT, [
    "INSERT INTO audit_logs (action, entity_type, entity_id) VALUES ('quote.bound', 'Quotes', 'q1')",
]);
refused!(an_audited_entity_id_cannot_be_empty: rules::AUDIT_LOGS_ENTITY_ID_FORMAT, [
    "INSERT INTO audit_logs (action, entity_type, entity_id) VALUES ('quote.bound', 'quotes', '')",
]);
refused!(an_audit_request_id_has_no_spaces: rules::AUDIT_LOGS_REQUEST_ID_FORMAT, [
    "INSERT INTO audit_logs (action, entity_type, entity_id, request_id) VALUES ('quote.bound', 'quotes', 'q1', 'req 1')",
]);
refused!(audited_values_are_json_objects: rules::AUDIT_LOGS_VALUES_ARE_OBJECTS, [
    "INSERT INTO audit_logs (action, entity_type, entity_id, new_values) VALUES ('quote.bound', 'quotes', 'q1', '[\"bound\"]')",
]);
refused!(an_audit_actor_is_an_existing_user: rules::AUDIT_LOGS_ACTOR_USER_FK, [
    "INSERT INTO audit_logs (actor_user_id, action, entity_type, entity_id) VALUES (gen_random_uuid(), 'quote.bound', 'quotes', 'q1')",
]);
refused!(an_audit_log_row_cannot_be_updated: rules::AUDIT_LOGS_APPEND_ONLY, [
    AUDIT_ROW,
    "UPDATE audit_logs SET action = 'quote.declined'",
]);
refused!(an_audit_log_row_cannot_be_deleted: rules::AUDIT_LOGS_APPEND_ONLY, [AUDIT_ROW, "DELETE FROM audit_logs"]);
refused!(an_audit_log_row_cannot_be_deleted_through_its_monthly_partition: rules::AUDIT_LOGS_APPEND_ONLY, [
    AUDIT_ROW,
    "DO $$ BEGIN EXECUTE format('DELETE FROM %s', (SELECT tableoid::regclass FROM audit_logs LIMIT 1)); END $$",
]);
refused!(an_audit_log_row_cannot_be_updated_in_the_default_partition: rules::AUDIT_LOGS_APPEND_ONLY, [
    "INSERT INTO audit_logs (action, entity_type, entity_id, occurred_at) VALUES ('quote.bound', 'quotes', 'q1', '1999-12-31 23:00:00+00')",
    "UPDATE audit_logs_default SET entity_id = 'q2'",
]);
refused!(an_audit_actor_cannot_be_erased_by_hand: rules::AUDIT_LOGS_APPEND_ONLY, [
    AUDIT_ROW,
    "UPDATE audit_logs SET actor_user_id = NULL",
]);

accepted!(deleting_a_user_anonymises_their_audit_rows: [
    AUDIT_ROW,
    "DELETE FROM users WHERE email = 'alice@example.com'",
] then "SELECT count(*) FROM audit_logs WHERE actor_user_id IS NULL" == 1);

#[tokio::test]
async fn the_app_role_may_only_read_audit_logs_and_append_through_the_function() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let privileges: Vec<(String, bool)> = sqlx::query_as(
        "SELECT p, has_table_privilege('quotedb_app', 'audit_logs', p)
         FROM unnest('{SELECT,INSERT,UPDATE,DELETE,TRUNCATE}'::text[]) AS p",
    )
    .fetch_all(db.pool())
    .await
    .expect("privileges");
    let granted: Vec<&str> = privileges.iter().filter(|(_, g)| *g).map(|(p, _)| p.as_str()).collect();
    // Appending goes through append_audit_log() (0007), which stamps occurred_at itself.
    assert_eq!(granted, ["SELECT"]);
    let append: bool = sqlx::query_scalar(
        "SELECT has_function_privilege('quotedb_app', 'append_audit_log(uuid, text, text, text, jsonb, jsonb, inet, text)', 'EXECUTE')",
    )
    .fetch_one(db.pool())
    .await
    .expect("function privilege");
    assert!(append);
}
