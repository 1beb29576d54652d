-- 0004 security and compliance: SSO providers and linked identities, OAuth2 clients, user
-- sessions, the drivers' encrypted licence number, and the append-only, monthly partitioned
-- audit log with its partition maintenance functions.
--
-- Secrets never reach the database in clear text:
--   * reversible secrets (SSO client secret, driver licence number) are AEAD ciphertexts
--     (XChaCha20-Poly1305: 24-byte nonce, ciphertext = plaintext || 16-byte tag) made in Rust,
--     with the id of the key that sealed them; the key stays in the application's keyring;
--   * verifiable secrets (OAuth2 client secret, session token) are stored as hashes only.

------------------------------------------------------------------------------------------------
-- Enumerations
------------------------------------------------------------------------------------------------

CREATE TYPE sso_protocol AS ENUM ('saml', 'oidc');
COMMENT ON TYPE sso_protocol IS 'Single sign-on protocol spoken by an identity provider: SAML 2.0 or OpenID Connect.';

CREATE TYPE oauth2_grant_type AS ENUM ('authorization_code', 'client_credentials', 'refresh_token', 'device_code');
COMMENT ON TYPE oauth2_grant_type IS 'OAuth2 grant types the platform''s authorization server supports (the implicit and password grants are deliberately absent).';

CREATE TYPE session_revoke_reason AS ENUM ('logout', 'password_changed', 'admin_revoked', 'suspicious_activity', 'account_locked');
COMMENT ON TYPE session_revoke_reason IS 'Why a user session was ended before its expiry.';

------------------------------------------------------------------------------------------------
-- Helpers
------------------------------------------------------------------------------------------------

CREATE FUNCTION text_array_all_match(items text[], pattern text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT NOT EXISTS (SELECT FROM unnest(items) AS item WHERE item IS NULL OR item !~ pattern) $$;
COMMENT ON FUNCTION text_array_all_match(text[], text) IS
    'True when every element of the array is non-NULL and matches the regular expression (true for an empty array). Lets a CHECK constraint validate array elements, which it cannot do with a subquery.';

------------------------------------------------------------------------------------------------
-- sso_providers
------------------------------------------------------------------------------------------------

CREATE TABLE sso_providers (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                     text NOT NULL
        CONSTRAINT sso_providers_name_unique UNIQUE
        CONSTRAINT sso_providers_name_format CHECK (name ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    protocol                 sso_protocol NOT NULL,
    issuer                   text NOT NULL,
    client_id                text NOT NULL
        CONSTRAINT sso_providers_client_id_format CHECK (client_id ~ '^\S+$' AND char_length(client_id) <= 1024),
    client_secret_ciphertext bytea,
    client_secret_nonce      bytea,
    client_secret_key_id     text,
    metadata                 jsonb NOT NULL
        CONSTRAINT sso_providers_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
    enabled                  boolean NOT NULL DEFAULT false,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sso_providers_issuer_format CHECK (
        char_length(issuer) <= 1024
        AND CASE protocol
            WHEN 'oidc' THEN issuer ~ '^https://[^\s/?#]+(/[^\s?#]*)?$'
            ELSE issuer ~ '^(https://[^\s/?#]+(/\S*)?|urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+)$'
        END),
    CONSTRAINT sso_providers_client_secret_complete CHECK (
        num_nulls(client_secret_ciphertext, client_secret_nonce, client_secret_key_id) IN (0, 3)),
    CONSTRAINT sso_providers_oidc_requires_client_secret CHECK (
        protocol <> 'oidc' OR client_secret_ciphertext IS NOT NULL),
    CONSTRAINT sso_providers_client_secret_nonce_length CHECK (octet_length(client_secret_nonce) = 24),
    CONSTRAINT sso_providers_client_secret_ciphertext_length CHECK (octet_length(client_secret_ciphertext) > 16),
    CONSTRAINT sso_providers_client_secret_key_id_format CHECK (
        client_secret_key_id ~ '^[a-z][a-z0-9_-]{0,31}:v[1-9][0-9]{0,5}$')
);

COMMENT ON TABLE sso_providers IS 'Enterprise identity providers (SAML 2.0 or OIDC) users can sign in with.';
COMMENT ON COLUMN sso_providers.name IS 'Stable slug used in login URLs (/sso/<name>).';
COMMENT ON COLUMN sso_providers.issuer IS 'OIDC issuer URL (https) or SAML IdP entity ID (https URL or URN); must match the iss / Issuer of received tokens and assertions.';
COMMENT ON COLUMN sso_providers.client_id IS 'Our client id at the IdP (OIDC) or our SP entity ID / audience (SAML).';
COMMENT ON COLUMN sso_providers.client_secret_ciphertext IS 'OIDC client secret sealed with XChaCha20-Poly1305 in Rust (ciphertext with its 16-byte tag; AAD = ''sso_providers.client_secret:'' || id). Never plaintext.';
COMMENT ON COLUMN sso_providers.client_secret_nonce IS '24-byte XChaCha20-Poly1305 nonce used to seal client_secret_ciphertext (random per encryption).';
COMMENT ON COLUMN sso_providers.client_secret_key_id IS 'Id of the application keyring key that sealed the secret, ''<keyring>:v<version>'' (e.g. ''sso:v2''); the key itself never reaches the database. Rows still on an old version are the rotation backlog.';
COMMENT ON COLUMN sso_providers.metadata IS 'Protocol details as a JSON object: IdP metadata/JWKS URLs, signing certificates, email domains routed to this IdP, attribute mapping, UI hints.';
COMMENT ON COLUMN sso_providers.enabled IS 'Whether users may sign in through this provider; new providers start disabled until configured and tested.';

COMMENT ON CONSTRAINT sso_providers_name_unique ON sso_providers IS 'Each identity provider has a unique name.';
COMMENT ON CONSTRAINT sso_providers_name_format ON sso_providers IS 'A provider name is a lowercase slug of 2-63 letters, digits and hyphens.';
COMMENT ON CONSTRAINT sso_providers_client_id_format ON sso_providers IS 'A provider''s client id is 1-1024 characters without whitespace.';
COMMENT ON CONSTRAINT sso_providers_metadata_object ON sso_providers IS 'Provider metadata is a JSON object.';
COMMENT ON CONSTRAINT sso_providers_issuer_format ON sso_providers IS 'An OIDC issuer is an https URL without query or fragment; a SAML issuer is an https URL or a URN.';
COMMENT ON CONSTRAINT sso_providers_client_secret_complete ON sso_providers IS 'A client secret is stored as ciphertext, nonce and key id together, or not at all.';
COMMENT ON CONSTRAINT sso_providers_oidc_requires_client_secret ON sso_providers IS 'An OIDC provider needs an (encrypted) client secret; SAML providers have none.';
COMMENT ON CONSTRAINT sso_providers_client_secret_nonce_length ON sso_providers IS 'The client secret nonce is a 24-byte XChaCha20-Poly1305 nonce.';
COMMENT ON CONSTRAINT sso_providers_client_secret_ciphertext_length ON sso_providers IS 'The client secret ciphertext holds at least one byte plus the 16-byte authentication tag.';
COMMENT ON CONSTRAINT sso_providers_client_secret_key_id_format ON sso_providers IS 'The client secret key id has the form <keyring>:v<version>.';

CREATE INDEX sso_providers_metadata_idx ON sso_providers USING gin (metadata jsonb_path_ops);
COMMENT ON INDEX sso_providers_metadata_idx IS 'Containment lookups on metadata, e.g. the provider for an email domain: metadata @> ''{"domains":["example.com"]}''.';

CREATE TRIGGER sso_providers_set_updated_at BEFORE UPDATE ON sso_providers
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

------------------------------------------------------------------------------------------------
-- user_identities
------------------------------------------------------------------------------------------------

CREATE TABLE user_identities (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id   uuid NOT NULL
        CONSTRAINT user_identities_provider_fk REFERENCES sso_providers (id) ON DELETE RESTRICT,
    subject       text NOT NULL
        CONSTRAINT user_identities_subject_format CHECK (subject ~ '\S' AND char_length(subject) <= 1024),
    user_id       uuid NOT NULL
        CONSTRAINT user_identities_user_fk REFERENCES users (id) ON DELETE CASCADE,
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_identities_provider_subject_unique UNIQUE (provider_id, subject),
    CONSTRAINT user_identities_one_per_provider UNIQUE (user_id, provider_id)
);

COMMENT ON TABLE user_identities IS 'Links a user to an account at an SSO identity provider (the IdP''s subject).';
COMMENT ON COLUMN user_identities.subject IS 'The IdP''s stable identifier of the account: OIDC sub claim or SAML NameID.';
COMMENT ON COLUMN user_identities.last_login_at IS 'Last successful sign-in through this identity.';

COMMENT ON CONSTRAINT user_identities_provider_fk ON user_identities IS 'An identity belongs to a provider; RESTRICT because removing a provider that users still sign in with must be a deliberate step (disable it, then unlink its identities), not a silent mass unlink.';
COMMENT ON CONSTRAINT user_identities_subject_format ON user_identities IS 'An identity subject is non-blank and at most 1024 characters.';
COMMENT ON CONSTRAINT user_identities_user_fk ON user_identities IS 'An identity belongs to a user; CASCADE because a link to a deleted user is meaningless and must not let anyone sign in.';
COMMENT ON CONSTRAINT user_identities_provider_subject_unique ON user_identities IS 'An account at a provider (provider, subject) is linked to at most one user.';
COMMENT ON CONSTRAINT user_identities_one_per_provider ON user_identities IS 'A user links at most one account per provider.';

CREATE TRIGGER user_identities_set_updated_at BEFORE UPDATE ON user_identities
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

------------------------------------------------------------------------------------------------
-- oauth2_clients
------------------------------------------------------------------------------------------------

CREATE TABLE oauth2_clients (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id     text NOT NULL
        CONSTRAINT oauth2_clients_client_id_unique UNIQUE
        CONSTRAINT oauth2_clients_client_id_format CHECK (client_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$'),
    name          text NOT NULL
        CONSTRAINT oauth2_clients_name_present CHECK (btrim(name) <> '' AND char_length(name) <= 200),
    secret_hash   text
        CONSTRAINT oauth2_clients_secret_hash_argon2 CHECK (
            secret_hash ~ '^\$argon2(id|i|d)\$v=[0-9]+\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$'),
    redirect_uris text[] NOT NULL
        CONSTRAINT oauth2_clients_redirect_uris_valid CHECK (text_array_all_match(redirect_uris,
            '^(https://[A-Za-z0-9.-]+(:[0-9]{1,5})?|http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?)(/[^\s#]*)?$')),
    scopes        text[] NOT NULL
        CONSTRAINT oauth2_clients_scopes_valid CHECK (text_array_all_match(scopes, '^[!#-\[\]-~]+$')),
    grant_types   oauth2_grant_type[] NOT NULL
        CONSTRAINT oauth2_clients_grant_types_present CHECK (
            cardinality(grant_types) >= 1 AND array_position(grant_types, NULL) IS NULL),
    owner_user_id uuid
        CONSTRAINT oauth2_clients_owner_fk REFERENCES users (id) ON DELETE RESTRICT,
    revoked_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT oauth2_clients_redirect_uri_required CHECK (
        cardinality(redirect_uris) >= 1 OR NOT ('authorization_code' = ANY (grant_types))),
    CONSTRAINT oauth2_clients_client_credentials_needs_secret CHECK (
        secret_hash IS NOT NULL OR NOT ('client_credentials' = ANY (grant_types)))
);

COMMENT ON TABLE oauth2_clients IS 'Applications registered with the platform''s OAuth2 authorization server.';
COMMENT ON COLUMN oauth2_clients.client_id IS 'Public client identifier sent in OAuth2 requests.';
COMMENT ON COLUMN oauth2_clients.secret_hash IS 'Argon2 PHC string of the client secret (the secret itself is shown once and never stored); NULL for public clients (PKCE).';
COMMENT ON COLUMN oauth2_clients.redirect_uris IS 'Exact redirect URIs allowed for the authorization code flow: https, or http only on the loopback host.';
COMMENT ON COLUMN oauth2_clients.scopes IS 'Scopes the client may request (RFC 6749 scope tokens, e.g. quotes:read).';
COMMENT ON COLUMN oauth2_clients.owner_user_id IS 'User responsible for the client; NULL for first-party clients owned by the platform.';
COMMENT ON COLUMN oauth2_clients.revoked_at IS 'When the client was revoked; a revoked client gets no tokens.';

COMMENT ON CONSTRAINT oauth2_clients_client_id_unique ON oauth2_clients IS 'Each OAuth2 client id is unique.';
COMMENT ON CONSTRAINT oauth2_clients_client_id_format ON oauth2_clients IS 'A client id is 3-128 letters, digits, dots, underscores or hyphens, starting with a letter or digit.';
COMMENT ON CONSTRAINT oauth2_clients_name_present ON oauth2_clients IS 'A client has a non-blank name of at most 200 characters.';
COMMENT ON CONSTRAINT oauth2_clients_secret_hash_argon2 ON oauth2_clients IS 'A client secret is stored only as an Argon2 PHC hash string.';
COMMENT ON CONSTRAINT oauth2_clients_redirect_uris_valid ON oauth2_clients IS 'Every redirect URI is https, or http on localhost / 127.0.0.1 / [::1], and has no fragment.';
COMMENT ON CONSTRAINT oauth2_clients_scopes_valid ON oauth2_clients IS 'Every scope is an RFC 6749 scope token (printable ASCII without space, quote or backslash).';
COMMENT ON CONSTRAINT oauth2_clients_grant_types_present ON oauth2_clients IS 'A client is allowed at least one grant type, from the fixed set.';
COMMENT ON CONSTRAINT oauth2_clients_owner_fk ON oauth2_clients IS 'A client may have an owning user; RESTRICT because a live credential must be reassigned or deleted before its owner goes, never left ownerless.';
COMMENT ON CONSTRAINT oauth2_clients_redirect_uri_required ON oauth2_clients IS 'A client allowed the authorization code grant has at least one redirect URI.';
COMMENT ON CONSTRAINT oauth2_clients_client_credentials_needs_secret ON oauth2_clients IS 'A client allowed the client credentials grant is confidential: it has a secret hash.';

CREATE INDEX oauth2_clients_owner_user_id_idx ON oauth2_clients (owner_user_id) WHERE owner_user_id IS NOT NULL;
COMMENT ON INDEX oauth2_clients_owner_user_id_idx IS 'A user''s clients, and the RESTRICT check when a user is deleted.';

CREATE TRIGGER oauth2_clients_set_updated_at BEFORE UPDATE ON oauth2_clients
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

------------------------------------------------------------------------------------------------
-- user_sessions
------------------------------------------------------------------------------------------------

CREATE TABLE user_sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL
        CONSTRAINT user_sessions_user_fk REFERENCES users (id) ON DELETE CASCADE,
    token_hash    bytea NOT NULL
        CONSTRAINT user_sessions_token_hash_unique UNIQUE
        CONSTRAINT user_sessions_token_hash_length CHECK (octet_length(token_hash) = 32),
    ip            inet,
    user_agent    text
        CONSTRAINT user_sessions_user_agent_length CHECK (char_length(user_agent) <= 1024),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason session_revoke_reason,
    CONSTRAINT user_sessions_last_seen_after_created CHECK (last_seen_at >= created_at),
    CONSTRAINT user_sessions_expires_after_created CHECK (expires_at > created_at),
    CONSTRAINT user_sessions_revocation_complete CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);

COMMENT ON TABLE user_sessions IS 'Signed-in sessions of users; the bearer token is held only by the client.';
COMMENT ON COLUMN user_sessions.token_hash IS 'SHA-256 of the session token (the token is 256 random bits, so a fast hash suffices); the token itself is never stored.';
COMMENT ON COLUMN user_sessions.ip IS 'Client address at sign-in, NULL when unknown.';
COMMENT ON COLUMN user_sessions.user_agent IS 'Client User-Agent at sign-in, truncated to 1024 characters by the application.';
COMMENT ON COLUMN user_sessions.last_seen_at IS 'Last request authenticated with this session (for idle timeouts and the session list).';
COMMENT ON COLUMN user_sessions.expires_at IS 'Absolute expiry, set from the session lifetime setting at sign-in.';
COMMENT ON COLUMN user_sessions.revoked_at IS 'When the session was ended early; a session is active while revoked_at IS NULL and expires_at > now().';

COMMENT ON CONSTRAINT user_sessions_user_fk ON user_sessions IS 'A session belongs to a user; CASCADE because a deleted user''s sessions must die with it.';
COMMENT ON CONSTRAINT user_sessions_token_hash_unique ON user_sessions IS 'A session token identifies exactly one session.';
COMMENT ON CONSTRAINT user_sessions_token_hash_length ON user_sessions IS 'A session token is stored only as its 32-byte SHA-256 hash.';
COMMENT ON CONSTRAINT user_sessions_user_agent_length ON user_sessions IS 'A stored user agent is at most 1024 characters.';
COMMENT ON CONSTRAINT user_sessions_last_seen_after_created ON user_sessions IS 'A session cannot be seen before it was created.';
COMMENT ON CONSTRAINT user_sessions_expires_after_created ON user_sessions IS 'A session expires after it was created.';
COMMENT ON CONSTRAINT user_sessions_revocation_complete ON user_sessions IS 'A session revocation records both when and why, or neither.';

CREATE INDEX user_sessions_active_user_id_expires_at_idx ON user_sessions (user_id, expires_at) WHERE revoked_at IS NULL;
COMMENT ON INDEX user_sessions_active_user_id_expires_at_idx IS 'A user''s active sessions (session list, revoke-all): WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now().';
CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id);
COMMENT ON INDEX user_sessions_user_id_idx IS 'All sessions of a user, revoked ones included: the CASCADE when a user is deleted.';
CREATE INDEX user_sessions_expires_at_idx ON user_sessions (expires_at);
COMMENT ON INDEX user_sessions_expires_at_idx IS 'Expiry sweep: DELETE FROM user_sessions WHERE expires_at < now() - <grace>.';

CREATE TRIGGER user_sessions_set_updated_at BEFORE UPDATE ON user_sessions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

------------------------------------------------------------------------------------------------
-- drivers: encrypted licence number with a blind index
------------------------------------------------------------------------------------------------

ALTER TABLE drivers
    ADD COLUMN license_number_ciphertext bytea,
    ADD COLUMN license_number_nonce      bytea,
    ADD COLUMN license_number_key_id     text,
    ADD COLUMN license_number_hash       bytea,
    ADD CONSTRAINT drivers_license_number_complete CHECK (
        num_nulls(license_number_ciphertext, license_number_nonce, license_number_key_id, license_number_hash) IN (0, 4)),
    ADD CONSTRAINT drivers_license_number_nonce_length CHECK (octet_length(license_number_nonce) = 24),
    ADD CONSTRAINT drivers_license_number_ciphertext_length CHECK (octet_length(license_number_ciphertext) > 16),
    ADD CONSTRAINT drivers_license_number_key_id_format CHECK (
        license_number_key_id ~ '^[a-z][a-z0-9_-]{0,31}:v[1-9][0-9]{0,5}$'),
    ADD CONSTRAINT drivers_license_number_hash_length CHECK (octet_length(license_number_hash) = 32);

COMMENT ON COLUMN drivers.license_number_ciphertext IS 'Driver licence number sealed with XChaCha20-Poly1305 in Rust (ciphertext with its 16-byte tag; AAD = ''drivers.license_number:'' || id). Never plaintext.';
COMMENT ON COLUMN drivers.license_number_nonce IS '24-byte XChaCha20-Poly1305 nonce used to seal the licence number.';
COMMENT ON COLUMN drivers.license_number_key_id IS 'Id of the keyring key that sealed the licence number, ''<keyring>:v<version>'' (e.g. ''pii:v1'').';
COMMENT ON COLUMN drivers.license_number_hash IS 'Blind index: HMAC-SHA256 of the normalised licence number under a separate keyring key, for equality lookups without decrypting.';

COMMENT ON CONSTRAINT drivers_license_number_complete ON drivers IS 'A licence number is stored as ciphertext, nonce, key id and blind index together, or not at all.';
COMMENT ON CONSTRAINT drivers_license_number_nonce_length ON drivers IS 'The licence number nonce is a 24-byte XChaCha20-Poly1305 nonce.';
COMMENT ON CONSTRAINT drivers_license_number_ciphertext_length ON drivers IS 'The licence number ciphertext holds at least one byte plus the 16-byte authentication tag.';
COMMENT ON CONSTRAINT drivers_license_number_key_id_format ON drivers IS 'The licence number key id has the form <keyring>:v<version>.';
COMMENT ON CONSTRAINT drivers_license_number_hash_length ON drivers IS 'The licence number blind index is a 32-byte HMAC-SHA256.';

CREATE INDEX drivers_license_number_hash_idx ON drivers (license_number_hash) WHERE license_number_hash IS NOT NULL;
COMMENT ON INDEX drivers_license_number_hash_idx IS 'Find drivers by licence number through its blind index: WHERE license_number_hash = hmac(normalised number).';

------------------------------------------------------------------------------------------------
-- audit_logs: append-only, partitioned by month of occurred_at (UTC months)
------------------------------------------------------------------------------------------------

CREATE TABLE audit_logs (
    id            bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    actor_user_id uuid
        CONSTRAINT audit_logs_actor_user_fk REFERENCES users (id) ON DELETE SET NULL,
    action        text NOT NULL
        CONSTRAINT audit_logs_action_format CHECK (
            action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' AND char_length(action) <= 100),
    entity_type   text NOT NULL
        CONSTRAINT audit_logs_entity_type_format CHECK (entity_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    entity_id     text NOT NULL
        CONSTRAINT audit_logs_entity_id_format CHECK (entity_id ~ '^\S{1,200}$'),
    old_values    jsonb,
    new_values    jsonb,
    ip            inet,
    request_id    text
        CONSTRAINT audit_logs_request_id_format CHECK (request_id ~ '^[A-Za-z0-9._:-]{1,128}$'),
    CONSTRAINT audit_logs_pkey PRIMARY KEY (id, occurred_at),
    CONSTRAINT audit_logs_values_are_objects CHECK (
        (old_values IS NULL OR jsonb_typeof(old_values) = 'object')
        AND (new_values IS NULL OR jsonb_typeof(new_values) = 'object'))
) PARTITION BY RANGE (occurred_at);

COMMENT ON TABLE audit_logs IS 'Append-only record of who changed what, partitioned by UTC month of occurred_at (audit_logs_yYYYYmMM, plus audit_logs_default for strays). Old months are detached, not deleted, by detach_audit_log_partitions().';
COMMENT ON COLUMN audit_logs.occurred_at IS 'When the audited action happened; the partition key.';
COMMENT ON COLUMN audit_logs.actor_user_id IS 'User who acted; NULL for system actors and once the user is deleted.';
COMMENT ON COLUMN audit_logs.action IS 'What happened, as dotted snake_case (e.g. quote.bound, session.revoked).';
COMMENT ON COLUMN audit_logs.entity_type IS 'Kind of the affected entity, usually its table name (e.g. quotes).';
COMMENT ON COLUMN audit_logs.entity_id IS 'Identifier of the affected entity as text (uuid, number or key).';
COMMENT ON COLUMN audit_logs.old_values IS 'Changed fields before the action (JSON object), NULL for creations.';
COMMENT ON COLUMN audit_logs.new_values IS 'Changed fields after the action (JSON object), NULL for deletions.';
COMMENT ON COLUMN audit_logs.request_id IS 'Id of the request or trace that caused the action, to correlate with application logs.';

COMMENT ON CONSTRAINT audit_logs_pkey ON audit_logs IS 'An audit row is identified by its id; occurred_at is part of the key because a partitioned table''s keys must contain the partition key.';
COMMENT ON CONSTRAINT audit_logs_actor_user_fk ON audit_logs IS 'The actor is a user; SET NULL because the audit trail must outlive the user (the row stays, anonymised).';
COMMENT ON CONSTRAINT audit_logs_action_format ON audit_logs IS 'An audit action is dotted snake_case of at most 100 characters.';
COMMENT ON CONSTRAINT audit_logs_entity_type_format ON audit_logs IS 'An audited entity type is a snake_case name of at most 63 characters.';
COMMENT ON CONSTRAINT audit_logs_entity_id_format ON audit_logs IS 'An audited entity id is 1-200 characters without whitespace.';
COMMENT ON CONSTRAINT audit_logs_request_id_format ON audit_logs IS 'A request id is 1-128 letters, digits, dots, underscores, colons or hyphens.';
COMMENT ON CONSTRAINT audit_logs_values_are_objects ON audit_logs IS 'Old and new values, when present, are JSON objects.';

CREATE TABLE audit_logs_default PARTITION OF audit_logs DEFAULT;
COMMENT ON TABLE audit_logs_default IS 'Catch-all partition of audit_logs for months without their own partition; should stay empty (see audit_log_default_partition_rows()).';

CREATE INDEX audit_logs_entity_type_entity_id_occurred_at_idx ON audit_logs (entity_type, entity_id, occurred_at DESC);
COMMENT ON INDEX audit_logs_entity_type_entity_id_occurred_at_idx IS 'History of one entity, newest first.';
CREATE INDEX audit_logs_actor_user_id_occurred_at_idx ON audit_logs (actor_user_id, occurred_at DESC) WHERE actor_user_id IS NOT NULL;
COMMENT ON INDEX audit_logs_actor_user_id_occurred_at_idx IS 'What a user did, newest first; also serves the SET NULL when a user is deleted.';
CREATE INDEX audit_logs_old_values_idx ON audit_logs USING gin (old_values);
COMMENT ON INDEX audit_logs_old_values_idx IS 'Search in old values; jsonb_ops because audits ask which rows touched a field (old_values ? ''premium'') as well as @>.';
CREATE INDEX audit_logs_new_values_idx ON audit_logs USING gin (new_values);
COMMENT ON INDEX audit_logs_new_values_idx IS 'Search in new values; jsonb_ops because audits ask which rows touched a field (new_values ? ''premium'') as well as @>.';

CREATE FUNCTION audit_logs_append_only_fn() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- The one change allowed: the FK's ON DELETE SET NULL anonymising the actor of a deleted
    -- user (it runs inside the RI trigger, hence depth > 1).
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1
       AND OLD.actor_user_id IS NOT NULL AND NEW.actor_user_id IS NULL
       AND to_jsonb(NEW) - 'actor_user_id' = to_jsonb(OLD) - 'actor_user_id' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'check_violation',
        CONSTRAINT = 'audit_logs_append_only',
        MESSAGE = format('audit_logs is append-only: %s refused', TG_OP),
        DETAIL = format('Row id %s in %s (occurred_at %s).', OLD.id, TG_TABLE_NAME, OLD.occurred_at),
        HINT = 'Old months leave the table by detach_audit_log_partitions(), never by UPDATE or DELETE.';
END
$$;
COMMENT ON FUNCTION audit_logs_append_only_fn() IS 'Trigger function of audit_logs_append_only: refuses UPDATE and DELETE on audit rows.';

CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only_fn();
COMMENT ON TRIGGER audit_logs_append_only ON audit_logs IS 'Audit rows are append-only: UPDATE and DELETE are refused (cloned onto every partition); only a deleted actor is anonymised by the FK.';

-- Partition maintenance. Months are UTC calendar months. The functions run as their owner
-- (SECURITY DEFINER) so the application's scheduler can call them without DDL rights.

CREATE FUNCTION create_audit_log_partitions(months_ahead integer DEFAULT 3) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    this_month constant timestamptz := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    lo         timestamptz;
    hi         timestamptz;
    part       text;
    created    integer := 0;
BEGIN
    IF months_ahead IS NULL OR months_ahead NOT BETWEEN 0 AND 36 THEN
        RAISE EXCEPTION 'months_ahead must be between 0 and 36, got %', months_ahead
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Concurrent callers would race to create the same partition.
    PERFORM pg_advisory_xact_lock(hashtext('create_audit_log_partitions'));

    FOR i IN 0 .. months_ahead LOOP
        lo := this_month + make_interval(months => i);
        hi := lo + interval '1 month';
        part := format('audit_logs_y%sm%s', to_char(lo AT TIME ZONE 'UTC', 'YYYY'), to_char(lo AT TIME ZONE 'UTC', 'MM'));
        CONTINUE WHEN to_regclass(format('public.%I', part)) IS NOT NULL;

        IF EXISTS (SELECT FROM audit_logs_default WHERE occurred_at >= lo AND occurred_at < hi) THEN
            -- The DEFAULT partition holds rows of this month: attaching the month would violate
            -- the default's new constraint. Move them into the new table first, then attach.
            EXECUTE format('CREATE TABLE %I (LIKE audit_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
            ALTER TABLE audit_logs_default DISABLE TRIGGER audit_logs_append_only;
            EXECUTE format(
                'WITH moved AS (DELETE FROM audit_logs_default WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
                 INSERT INTO %I SELECT * FROM moved', part) USING lo, hi;
            ALTER TABLE audit_logs_default ENABLE TRIGGER audit_logs_append_only;
            EXECUTE format('ALTER TABLE audit_logs ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
        ELSE
            EXECUTE format('CREATE TABLE %I PARTITION OF audit_logs FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
        END IF;
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION create_audit_log_partitions(integer) IS
    'Creates the audit_logs partitions (audit_logs_yYYYYmMM, UTC months) for the current month and the next months_ahead months if missing, moving any rows of those months out of audit_logs_default first. Idempotent; returns how many partitions it created. Run it at least monthly.';

CREATE FUNCTION detach_audit_log_partitions(retention_months integer) RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    cutoff constant timestamptz :=
        (date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') - make_interval(months => retention_months);
    part text;
BEGIN
    IF retention_months IS NULL OR retention_months < 1 THEN
        RAISE EXCEPTION 'retention_months must be at least 1, got %', retention_months
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR part IN
        SELECT c.relname
        FROM pg_inherits AS i
        JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'audit_logs'::regclass
          AND c.relname ~ '^audit_logs_y[0-9]{4}m[0-9]{2}$'
          AND make_timestamptz(substr(c.relname, 13, 4)::int, substr(c.relname, 18, 2)::int, 1, 0, 0, 0, 'UTC') < cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE audit_logs DETACH PARTITION %I', part);
        RETURN NEXT part;
    END LOOP;
END
$$;
COMMENT ON FUNCTION detach_audit_log_partitions(integer) IS
    'Retention step: detaches (does not drop) the monthly audit_logs partitions whose month started before the current UTC month minus retention_months, and returns their names for archiving. The caller passes the retention setting. Takes an ACCESS EXCLUSIVE lock on audit_logs briefly.';

CREATE FUNCTION audit_log_default_partition_rows()
    RETURNS TABLE (month_start timestamptz, row_count bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        SELECT date_trunc('month', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*)
        FROM audit_logs_default
        GROUP BY 1
        ORDER BY 1
    $$;
COMMENT ON FUNCTION audit_log_default_partition_rows() IS
    'Monitoring: rows that fell into audit_logs_default, per UTC month (no rows = healthy). Strays mean a month''s partition was missing; create_audit_log_partitions() moves those of the current and coming months.';

SELECT create_audit_log_partitions(3);

------------------------------------------------------------------------------------------------
-- Grants
------------------------------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE, DELETE ON sso_providers, user_identities, oauth2_clients, user_sessions TO quotedb_app;
GRANT SELECT, INSERT ON audit_logs TO quotedb_app;
GRANT USAGE ON SEQUENCE audit_logs_id_seq TO quotedb_app;

-- Reporting sees everything but secret material (ciphertexts, hashes).
GRANT SELECT (id, name, protocol, issuer, client_id, client_secret_key_id, metadata, enabled, created_at, updated_at)
    ON sso_providers TO quotedb_readonly;
GRANT SELECT (id, client_id, name, redirect_uris, scopes, grant_types, owner_user_id, revoked_at, created_at, updated_at)
    ON oauth2_clients TO quotedb_readonly;
GRANT SELECT (id, user_id, ip, user_agent, created_at, updated_at, last_seen_at, expires_at, revoked_at, revoke_reason)
    ON user_sessions TO quotedb_readonly;
GRANT SELECT ON user_identities, audit_logs TO quotedb_readonly;

REVOKE ALL ON FUNCTION create_audit_log_partitions(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION detach_audit_log_partitions(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_log_default_partition_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION create_audit_log_partitions(integer) TO quotedb_app;
GRANT EXECUTE ON FUNCTION detach_audit_log_partitions(integer) TO quotedb_app;
GRANT EXECUTE ON FUNCTION audit_log_default_partition_rows() TO quotedb_app, quotedb_readonly;
