//! Security API: sessions, OAuth2 clients, SSO providers with their keyring, audit log —
//! through the public API against a real database. Fixtures come from `common` (through the
//! API); back-dating and deliberate tampering, which the API cannot do, use plain SQL.

use std::time::Duration;

use quotedb_repository::schema::security::{OAuth2GrantType, SessionRevokeReason, SsoProtocol};
use quotedb_repository::security::{
    AuditError, AuditQuery, CryptoError, KeyRing, NewAuditEntry, NewOAuthClient, NewSession, NewSsoProvider,
    OAuthError, SecretKey, SecretString, SessionError, SessionToken, SsoError,
};
use quotedb_repository::{Actor, PageRequest, UserId};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::common::admins::admin_with;
use crate::common::{TestResult, customer, delete_setting, set_setting, setup};

fn new_session(user_id: UserId) -> NewSession {
    NewSession {
        user_id,
        ip: Some("203.0.113.7".parse().expect("literal ip")),
        user_agent: Some("Mozilla/5.0 (test)".into()),
        lifetime: Some(Duration::from_secs(3600)),
    }
}

// ------------------------------------------------------------------------------------------
// Sessions
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_session_token_is_returned_once_and_only_its_sha256_is_stored() -> TestResult {
    let (tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let created = db
        .security()
        .sessions()
        .create(&Actor::Customer(uid), new_session(uid))
        .await?;
    let token = created.token.expose_secret().to_owned();
    assert_eq!(token.len(), 43);
    assert!(
        !format!("{created:?}").contains(&token),
        "Debug must not print the token"
    );

    let (hash, row_text): (Vec<u8>, String) =
        sqlx::query_as("SELECT token_hash, row_to_json(s)::text FROM user_sessions s WHERE id = $1")
            .bind(created.session.id.0)
            .fetch_one(tdb.pool())
            .await?;
    let raw = base64_url_decode(&token);
    assert_eq!(hash, Sha256::digest(&raw).to_vec());
    assert!(!row_text.contains(&token), "the row must never contain the token");
    Ok(())
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    // Tiny decoder so the test does not depend on the library's own encoding code.
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        _ => 63,
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        acc = (acc << 6) | u32::from(val(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[tokio::test]
async fn validate_returns_the_active_session_and_its_user() -> TestResult {
    let (_tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let sessions = db.security().sessions();
    let created = sessions.create(&Actor::System, new_session(uid)).await?;
    let token = SessionToken::parse(created.token.expose_secret())?;
    let valid = sessions.validate(&token).await?.ok_or("the session should validate")?;
    assert_eq!(valid.session.id, created.session.id);
    assert_eq!(valid.user.id, uid);
    assert_eq!(valid.session.ip, Some("203.0.113.7".parse()?));
    assert_eq!(valid.session.user_agent.as_deref(), Some("Mozilla/5.0 (test)"));
    assert!(valid.session.is_active_at(OffsetDateTime::now_utc()));

    let unknown = SessionToken::parse(&"A".repeat(43))?;
    assert!(sessions.validate(&unknown).await?.is_none());
    Ok(())
}

#[tokio::test]
async fn validate_refuses_revoked_and_expired_sessions() -> TestResult {
    let (tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let sessions = db.security().sessions();
    let actor = Actor::Customer(uid);

    let revoked = sessions.create(&actor, new_session(uid)).await?;
    sessions
        .revoke(&actor, revoked.session.id, SessionRevokeReason::Logout)
        .await?;
    assert!(sessions.validate(&revoked.token).await?.is_none());

    let expired = sessions.create(&actor, new_session(uid)).await?;
    // Raw SQL: back-dating (the API never back-dates a session).
    sqlx::query(
        "UPDATE user_sessions SET created_at = now() - interval '2 days', last_seen_at = now() - interval '2 days',
                                  expires_at = now() - interval '1 day' WHERE id = $1",
    )
    .bind(expired.session.id.0)
    .execute(tdb.pool())
    .await?;
    assert!(sessions.validate(&expired.token).await?.is_none());
    Ok(())
}

#[tokio::test]
async fn a_malformed_token_is_refused_before_any_lookup() {
    for bad in ["", "short", &"A".repeat(44), &format!("{}!", "A".repeat(42))] {
        assert!(SessionToken::parse(bad).is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn the_lifetime_defaults_to_the_sessions_lifetime_hours_setting() -> TestResult {
    let (_tdb, db) = setup().await;
    set_setting(&db, "sessions.lifetime_hours", json!(2)).await;
    let uid = customer(&db, "user").await;
    let s = db
        .security()
        .sessions()
        .create(
            &Actor::Customer(uid),
            NewSession {
                lifetime: None,
                ..new_session(uid)
            },
        )
        .await?
        .session;
    assert_eq!(s.expires_at - s.created_at, time::Duration::hours(2));
    Ok(())
}

#[tokio::test]
async fn a_session_without_lifetime_fails_when_the_setting_is_missing() -> TestResult {
    let (tdb, db) = setup().await;
    delete_setting(&db, "sessions.lifetime_hours").await;
    let uid = customer(&db, "user").await;
    let err = db
        .security()
        .sessions()
        .create(
            &Actor::Customer(uid),
            NewSession {
                lifetime: None,
                ..new_session(uid)
            },
        )
        .await
        .err()
        .ok_or("create should fail")?;
    assert!(matches!(err, SessionError::Setting { .. }), "{err:?}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM user_sessions")
        .fetch_one(tdb.pool())
        .await?;
    assert_eq!(count, 0);
    Ok(())
}

#[tokio::test]
async fn a_zero_lifetime_is_refused_and_a_long_user_agent_is_cut() -> TestResult {
    let (_tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let sessions = db.security().sessions();
    let err = sessions
        .create(
            &Actor::System,
            NewSession {
                lifetime: Some(Duration::ZERO),
                ..new_session(uid)
            },
        )
        .await
        .err()
        .ok_or("zero lifetime should fail")?;
    assert!(
        matches!(err, SessionError::Invalid(ref e) if e.field == "lifetime"),
        "{err:?}"
    );

    let s = sessions
        .create(
            &Actor::System,
            NewSession {
                user_agent: Some("x".repeat(5000)),
                ..new_session(uid)
            },
        )
        .await?;
    assert_eq!(s.session.user_agent.map(|u| u.chars().count()), Some(1024));
    Ok(())
}

#[tokio::test]
async fn a_customer_cannot_create_a_session_for_someone_else_and_unknown_users_are_refused() -> TestResult {
    let (_tdb, db) = setup().await;
    let alice = customer(&db, "user").await;
    let bob = customer(&db, "user").await;
    let sessions = db.security().sessions();
    let err = sessions
        .create(&Actor::Customer(alice), new_session(bob))
        .await
        .err()
        .ok_or("must fail")?;
    assert!(matches!(err, SessionError::Forbidden), "{err:?}");

    let ghost = UserId(uuid::Uuid::new_v4());
    let err = sessions
        .create(&Actor::System, new_session(ghost))
        .await
        .err()
        .ok_or("must fail")?;
    assert!(matches!(err, SessionError::UnknownUser(u) if u == ghost), "{err:?}");
    Ok(())
}

#[tokio::test]
async fn touch_moves_last_seen_and_refuses_revoked_sessions() -> TestResult {
    let (_tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let actor = Actor::Customer(uid);
    let sessions = db.security().sessions();
    let s = sessions.create(&actor, new_session(uid)).await?.session;
    let seen = sessions.touch(&actor, s.id).await?;
    assert!(seen >= s.last_seen_at);
    assert_eq!(sessions.get(&actor, s.id).await?.last_seen_at, seen);

    sessions.revoke(&actor, s.id, SessionRevokeReason::Logout).await?;
    let err = sessions.touch(&actor, s.id).await.err().ok_or("must fail")?;
    assert!(matches!(err, SessionError::NotFound(id) if id == s.id), "{err:?}");
    Ok(())
}

#[tokio::test]
async fn revoke_records_when_and_why_and_a_second_revoke_is_refused() -> TestResult {
    let (_tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let actor = Actor::Customer(uid);
    let sessions = db.security().sessions();
    let s = sessions.create(&actor, new_session(uid)).await?.session;
    let revoked = sessions
        .revoke(&actor, s.id, SessionRevokeReason::SuspiciousActivity)
        .await?;
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.revoke_reason, Some(SessionRevokeReason::SuspiciousActivity));
    let err = sessions
        .revoke(&actor, s.id, SessionRevokeReason::Logout)
        .await
        .err()
        .ok_or("must fail")?;
    assert!(matches!(err, SessionError::AlreadyRevoked(id) if id == s.id), "{err:?}");
    // The first reason stands.
    assert_eq!(
        sessions.get(&actor, s.id).await?.revoke_reason,
        Some(SessionRevokeReason::SuspiciousActivity)
    );
    Ok(())
}

#[tokio::test]
async fn a_customer_cannot_read_or_revoke_another_customers_session() -> TestResult {
    let (_tdb, db) = setup().await;
    let alice = customer(&db, "user").await;
    let mallory = customer(&db, "user").await;
    let sessions = db.security().sessions();
    let victim = sessions.create(&Actor::Customer(alice), new_session(alice)).await?;
    let id = victim.session.id;
    let m = Actor::Customer(mallory);

    assert!(matches!(sessions.get(&m, id).await, Err(SessionError::NotFound(_))));
    assert!(matches!(
        sessions.revoke(&m, id, SessionRevokeReason::Logout).await,
        Err(SessionError::NotFound(_))
    ));
    assert!(matches!(sessions.touch(&m, id).await, Err(SessionError::NotFound(_))));
    assert!(sessions.list_active(&m, alice).await?.is_empty());
    assert_eq!(
        sessions
            .revoke_all(&m, alice, SessionRevokeReason::Logout, None)
            .await?,
        0
    );
    // Alice's session is untouched.
    assert!(sessions.validate(&victim.token).await?.is_some());
    assert_eq!(sessions.list_active(&Actor::Customer(alice), alice).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn an_admin_with_sessions_manage_revokes_any_session_and_one_without_cannot() -> TestResult {
    let (_tdb, db) = setup().await;
    let alice = customer(&db, "user").await;
    let manager = admin_with(&db, &["sessions:manage"]).await.user;
    let other_admin = admin_with(&db, &["quotes:read"]).await.user;
    let sessions = db.security().sessions();
    let s = sessions
        .create(&Actor::Customer(alice), new_session(alice))
        .await?
        .session;

    assert!(matches!(
        sessions
            .revoke(&Actor::Admin(other_admin), s.id, SessionRevokeReason::AdminRevoked)
            .await,
        Err(SessionError::NotFound(_))
    ));
    assert_eq!(sessions.list_active(&Actor::Admin(manager), alice).await?.len(), 1);
    let revoked = sessions
        .revoke(&Actor::Admin(manager), s.id, SessionRevokeReason::AdminRevoked)
        .await?;
    assert_eq!(revoked.revoke_reason, Some(SessionRevokeReason::AdminRevoked));
    Ok(())
}

#[tokio::test]
async fn revoke_all_ends_every_other_active_session_of_the_user() -> TestResult {
    let (_tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let bystander = customer(&db, "user").await;
    let actor = Actor::Customer(uid);
    let sessions = db.security().sessions();
    let keep = sessions.create(&actor, new_session(uid)).await?;
    let a = sessions.create(&actor, new_session(uid)).await?;
    let b = sessions.create(&actor, new_session(uid)).await?;
    let other = sessions
        .create(&Actor::Customer(bystander), new_session(bystander))
        .await?;

    let n = sessions
        .revoke_all(&actor, uid, SessionRevokeReason::PasswordChanged, Some(keep.session.id))
        .await?;
    assert_eq!(n, 2);
    assert!(sessions.validate(&keep.token).await?.is_some());
    assert!(sessions.validate(&a.token).await?.is_none());
    assert!(sessions.validate(&b.token).await?.is_none());
    assert!(sessions.validate(&other.token).await?.is_some());
    assert_eq!(
        sessions.get(&actor, a.session.id).await?.revoke_reason,
        Some(SessionRevokeReason::PasswordChanged)
    );
    Ok(())
}

#[tokio::test]
async fn the_expiry_sweep_deletes_only_sessions_expired_beyond_the_grace() -> TestResult {
    let (tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let sessions = db.security().sessions();
    let old = sessions.create(&Actor::System, new_session(uid)).await?;
    let recent = sessions.create(&Actor::System, new_session(uid)).await?;
    let live = sessions.create(&Actor::System, new_session(uid)).await?;
    // Raw SQL: back-dating (the API never back-dates a session).
    for (id, ago) in [(old.session.id, "10 days"), (recent.session.id, "1 hour")] {
        sqlx::query(
            "UPDATE user_sessions SET created_at = now() - interval '30 days', last_seen_at = now() - interval '30 days',
                                      expires_at = now() - $2::interval WHERE id = $1",
        )
        .bind(id.0)
        .bind(ago)
        .execute(tdb.pool())
        .await?;
    }
    let deleted = sessions.sweep_expired(Duration::from_secs(24 * 3600)).await?;
    assert_eq!(deleted, 1);
    assert!(matches!(
        sessions.get(&Actor::System, old.session.id).await,
        Err(SessionError::NotFound(_))
    ));
    sessions.get(&Actor::System, recent.session.id).await?;
    sessions.get(&Actor::System, live.session.id).await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------
// OAuth2 clients
// ------------------------------------------------------------------------------------------

fn new_client(owner: Option<UserId>) -> NewOAuthClient {
    NewOAuthClient {
        client_id: None,
        name: "Partner portal".into(),
        confidential: true,
        redirect_uris: vec![
            "https://partner.example.com/callback".into(),
            "http://localhost:3000/cb".into(),
        ],
        scopes: vec!["quotes:read".into(), "quotes:write".into()],
        grant_types: vec![OAuth2GrantType::AuthorizationCode, OAuth2GrantType::ClientCredentials],
        owner_user_id: owner,
    }
}

#[tokio::test]
async fn a_client_secret_is_returned_once_stored_as_argon2id_and_verifies() -> TestResult {
    let (tdb, db) = setup().await;
    let owner = customer(&db, "user").await;
    let clients = db.security().oauth_clients();
    let reg = clients
        .register(&Actor::Customer(owner), new_client(Some(owner)))
        .await?;
    let secret = reg.client_secret.clone().ok_or("a confidential client gets a secret")?;
    assert!(
        !format!("{reg:?}").contains(secret.expose_secret()),
        "Debug must not print the secret"
    );
    assert!(reg.client.confidential);
    assert_eq!(
        reg.client.grant_types,
        vec![OAuth2GrantType::AuthorizationCode, OAuth2GrantType::ClientCredentials]
    );

    let (hash, row_text): (String, String) =
        sqlx::query_as("SELECT secret_hash, row_to_json(c)::text FROM oauth2_clients c WHERE id = $1")
            .bind(reg.client.id.0)
            .fetch_one(tdb.pool())
            .await?;
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!row_text.contains(secret.expose_secret()));

    let verified = clients.verify(&reg.client.client_id, &secret).await?;
    assert_eq!(verified.id, reg.client.id);
    Ok(())
}

#[tokio::test]
async fn verify_refuses_a_wrong_secret_an_unknown_client_and_a_public_client() -> TestResult {
    let (_tdb, db) = setup().await;
    let owner = customer(&db, "user").await;
    let clients = db.security().oauth_clients();
    let actor = Actor::Customer(owner);
    let reg = clients.register(&actor, new_client(Some(owner))).await?;
    let wrong = SecretString::new("not-the-secret");
    assert!(matches!(
        clients.verify(&reg.client.client_id, &wrong).await,
        Err(OAuthError::InvalidCredentials)
    ));
    let secret = reg.client_secret.ok_or("secret")?;
    assert!(matches!(
        clients.verify("no-such-client", &secret).await,
        Err(OAuthError::InvalidCredentials)
    ));
    let public = clients
        .register(
            &actor,
            NewOAuthClient {
                confidential: false,
                grant_types: vec![OAuth2GrantType::AuthorizationCode, OAuth2GrantType::RefreshToken],
                ..new_client(Some(owner))
            },
        )
        .await?;
    assert!(public.client_secret.is_none());
    assert!(!public.client.confidential);
    assert!(matches!(
        clients.verify(&public.client.client_id, &secret).await,
        Err(OAuthError::InvalidCredentials)
    ));
    Ok(())
}

#[tokio::test]
async fn a_revoked_client_never_verifies_and_cannot_be_revoked_twice() -> TestResult {
    let (_tdb, db) = setup().await;
    let owner = customer(&db, "user").await;
    let clients = db.security().oauth_clients();
    let actor = Actor::Customer(owner);
    let reg = clients.register(&actor, new_client(Some(owner))).await?;
    let secret = reg.client_secret.ok_or("secret")?;
    let revoked = clients.revoke(&actor, &reg.client.client_id).await?;
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        clients.verify(&reg.client.client_id, &secret).await,
        Err(OAuthError::InvalidCredentials)
    ));
    assert!(matches!(
        clients.revoke(&actor, &reg.client.client_id).await,
        Err(OAuthError::AlreadyRevoked(_))
    ));
    assert!(matches!(
        clients.revoke(&actor, "no-such-client").await,
        Err(OAuthError::NotFound(_))
    ));
    Ok(())
}

#[tokio::test]
async fn client_registration_input_is_checked_before_the_database() -> TestResult {
    let (tdb, db) = setup().await;
    let owner = customer(&db, "user").await;
    let clients = db.security().oauth_clients();
    let actor = Actor::Customer(owner);
    let base = new_client(Some(owner));
    let cases: Vec<(&str, NewOAuthClient)> = vec![
        (
            "redirect_uris",
            NewOAuthClient {
                redirect_uris: vec!["http://partner.example.com/cb".into()],
                ..base.clone()
            },
        ),
        (
            "redirect_uris",
            NewOAuthClient {
                redirect_uris: vec!["https://partner.example.com/cb#x".into()],
                ..base.clone()
            },
        ),
        (
            "redirect_uris",
            NewOAuthClient {
                redirect_uris: vec![],
                ..base.clone()
            },
        ),
        (
            "scopes",
            NewOAuthClient {
                scopes: vec!["quotes read".into()],
                ..base.clone()
            },
        ),
        (
            "grant_types",
            NewOAuthClient {
                grant_types: vec![],
                ..base.clone()
            },
        ),
        (
            "confidential",
            NewOAuthClient {
                confidential: false,
                ..base.clone()
            },
        ),
        (
            "name",
            NewOAuthClient {
                name: "   ".into(),
                ..base.clone()
            },
        ),
        (
            "client_id",
            NewOAuthClient {
                client_id: Some("-bad".into()),
                ..base.clone()
            },
        ),
    ];
    for (field, input) in cases {
        match clients.register(&actor, input).await {
            Err(OAuthError::Invalid(e)) => assert_eq!(e.field, field),
            other => panic!("expected Invalid({field}), got {other:?}"),
        }
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth2_clients")
        .fetch_one(tdb.pool())
        .await?;
    assert_eq!(count, 0);
    Ok(())
}

#[tokio::test]
async fn a_customer_manages_only_the_clients_they_own() -> TestResult {
    let (_tdb, db) = setup().await;
    let alice = customer(&db, "user").await;
    let bob = customer(&db, "user").await;
    let clients = db.security().oauth_clients();
    let a = Actor::Customer(alice);
    assert!(matches!(
        clients.register(&a, new_client(Some(bob))).await,
        Err(OAuthError::Forbidden)
    ));
    assert!(matches!(
        clients.register(&a, new_client(None)).await,
        Err(OAuthError::Forbidden)
    ));

    let mine = clients.register(&a, new_client(Some(alice))).await?;
    let bobs = clients.register(&Actor::Customer(bob), new_client(Some(bob))).await?;
    let listed: Vec<_> = clients.list(&a).await?.into_iter().map(|c| c.id).collect();
    assert_eq!(listed, vec![mine.client.id]);
    assert!(matches!(
        clients.get(&a, &bobs.client.client_id).await,
        Err(OAuthError::NotFound(_))
    ));
    assert!(matches!(
        clients.revoke(&a, &bobs.client.client_id).await,
        Err(OAuthError::NotFound(_))
    ));
    assert_eq!(clients.get(&a, &mine.client.client_id).await?.id, mine.client.id);
    Ok(())
}

#[tokio::test]
async fn an_admin_registers_first_party_clients_and_ids_and_owners_are_checked() -> TestResult {
    let (_tdb, db) = setup().await;
    let admin = admin_with(&db, &["oauth_clients:manage"]).await.user;
    let clients = db.security().oauth_clients();
    let actor = Actor::Admin(admin);
    let reg = clients
        .register(
            &actor,
            NewOAuthClient {
                client_id: Some("quotedb-web".into()),
                ..new_client(None)
            },
        )
        .await?;
    assert_eq!(reg.client.client_id, "quotedb-web");
    assert_eq!(reg.client.owner_user_id, None);
    assert!(matches!(
        clients.register(&actor, NewOAuthClient { client_id: Some("quotedb-web".into()), ..new_client(None) }).await,
        Err(OAuthError::ClientIdTaken(id)) if id == "quotedb-web"
    ));
    let ghost = UserId(uuid::Uuid::new_v4());
    assert!(matches!(
        clients.register(&Actor::System, new_client(Some(ghost))).await,
        Err(OAuthError::UnknownOwner(u)) if u == ghost
    ));
    assert_eq!(clients.list(&actor).await?.len(), 1);
    Ok(())
}

// ------------------------------------------------------------------------------------------
// SSO providers and the keyring
// ------------------------------------------------------------------------------------------

fn keyring() -> Result<KeyRing, CryptoError> {
    KeyRing::new("sso", SecretKey::generate()?)
}

fn oidc(name: &str, secret: &str) -> NewSsoProvider {
    NewSsoProvider {
        name: name.into(),
        protocol: SsoProtocol::Oidc,
        issuer: "https://login.example.com/tenant-1".into(),
        client_id: "quotedb-sp".into(),
        client_secret: Some(SecretString::new(secret)),
        metadata: json!({ "domains": ["example.com"] }),
        enabled: true,
    }
}

#[tokio::test]
async fn an_oidc_client_secret_is_stored_sealed_and_decrypts_on_demand() -> TestResult {
    let (tdb, db) = setup().await;
    let keys = keyring()?;
    let sso = db.security().sso_providers(&keys);
    let p = sso
        .register(&Actor::System, oidc("acme-okta", "s3cr3t-value-123"))
        .await?;
    assert_eq!(p.client_secret_key_id.as_deref(), Some("sso:v1"));

    let (ct, nonce, row_text): (Vec<u8>, Vec<u8>, String) = sqlx::query_as(
        "SELECT client_secret_ciphertext, client_secret_nonce, row_to_json(p)::text FROM sso_providers p WHERE id = $1",
    )
    .bind(p.id.0)
    .fetch_one(tdb.pool())
    .await?;
    assert_eq!(nonce.len(), 24);
    assert_eq!(ct.len(), "s3cr3t-value-123".len() + 16);
    assert!(!row_text.contains("s3cr3t-value-123"));

    let secret = sso.client_secret(p.id).await?.ok_or("an OIDC provider has a secret")?;
    assert_eq!(secret.expose_secret(), "s3cr3t-value-123");
    assert!(!format!("{secret:?}").contains("s3cr3t"));
    assert_eq!(sso.get_by_name("acme-okta").await?.id, p.id);
    Ok(())
}

#[tokio::test]
async fn after_rotation_old_ciphertext_still_decrypts_and_reencryption_moves_it_to_the_new_key() -> TestResult {
    let (tdb, db) = setup().await;
    let mut keys = keyring()?;
    let p = db
        .security()
        .sso_providers(&keys)
        .register(&Actor::System, oidc("acme-okta", "rotate-me"))
        .await?;

    let v2 = keys.rotate(SecretKey::generate()?)?;
    assert_eq!(v2.to_string(), "sso:v2");
    let sso = db.security().sso_providers(&keys);
    assert_eq!(
        sso.client_secret(p.id).await?.ok_or("secret")?.expose_secret(),
        "rotate-me"
    );
    assert_eq!(sso.get(p.id).await?.client_secret_key_id.as_deref(), Some("sso:v1"));

    assert_eq!(sso.reencrypt(p.id).await?, Some(v2.clone()));
    assert_eq!(sso.get(p.id).await?.client_secret_key_id.as_deref(), Some("sso:v2"));
    assert_eq!(sso.reencrypt(p.id).await?, Some(v2.clone()), "a second run is a no-op");

    // v1 can go now: the secret opens with v2 alone.
    let mut only_v2 = keys.clone();
    only_v2.retire(&quotedb_repository::security::KeyId::parse("sso:v1")?)?;
    let sso = db.security().sso_providers(&only_v2);
    assert_eq!(
        sso.client_secret(p.id).await?.ok_or("secret")?.expose_secret(),
        "rotate-me"
    );
    let _ = tdb;
    Ok(())
}

#[tokio::test]
async fn the_rotation_backlog_is_reencrypted_in_one_run() -> TestResult {
    let (tdb, db) = setup().await;
    let mut keys = keyring()?;
    for (i, name) in ["idp-a", "idp-b", "idp-c"].iter().enumerate() {
        db.security()
            .sso_providers(&keys)
            .register(&Actor::System, oidc(name, &format!("secret-{i}")))
            .await?;
    }
    keys.rotate(SecretKey::generate()?)?;
    let sso = db.security().sso_providers(&keys);
    let report = sso.reencrypt_backlog(100).await?;
    assert_eq!(report.reencrypted, 3);
    assert!(report.failed.is_empty());
    for (i, p) in sso.list().await?.into_iter().enumerate() {
        assert_eq!(p.client_secret_key_id.as_deref(), Some("sso:v2"));
        assert_eq!(
            sso.client_secret(p.id).await?.ok_or("secret")?.expose_secret(),
            format!("secret-{i}")
        );
    }
    assert_eq!(sso.reencrypt_backlog(100).await?.reencrypted, 0);
    let _ = tdb;
    Ok(())
}

#[tokio::test]
async fn tampering_with_the_ciphertext_fails_decryption_with_a_typed_error() -> TestResult {
    let (tdb, db) = setup().await;
    let mut keys = keyring()?;
    let p = db
        .security()
        .sso_providers(&keys)
        .register(&Actor::System, oidc("acme-okta", "tamper-proof"))
        .await?;
    keys.rotate(SecretKey::generate()?)?;
    let sso = db.security().sso_providers(&keys);
    // Raw SQL: deliberate tampering, which the API cannot do.
    sqlx::query(
        "UPDATE sso_providers SET client_secret_ciphertext = set_byte(client_secret_ciphertext, 0,
                 get_byte(client_secret_ciphertext, 0) # 1) WHERE id = $1",
    )
    .bind(p.id.0)
    .execute(tdb.pool())
    .await?;
    let err = sso.client_secret(p.id).await.err().ok_or("decryption must fail")?;
    assert!(matches!(err, SsoError::Crypto(CryptoError::Decryption)), "{err:?}");
    let err = sso.reencrypt(p.id).await.err().ok_or("re-encryption must fail too")?;
    assert!(matches!(err, SsoError::Crypto(CryptoError::Decryption)), "{err:?}");
    let report = sso.reencrypt_backlog(10).await?;
    assert_eq!(report.reencrypted, 0);
    assert!(matches!(report.failed.as_slice(), [(id, CryptoError::Decryption)] if *id == p.id));
    assert_eq!(
        sso.get(p.id).await?.client_secret_key_id.as_deref(),
        Some("sso:v1"),
        "left unchanged"
    );
    Ok(())
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_row_fails_decryption() -> TestResult {
    let (tdb, db) = setup().await;
    let keys = keyring()?;
    let sso = db.security().sso_providers(&keys);
    let a = sso.register(&Actor::System, oidc("idp-a", "secret-of-a")).await?;
    let b = sso.register(&Actor::System, oidc("idp-b", "secret-of-b")).await?;
    // Raw SQL: deliberate tampering, which the API cannot do.
    sqlx::query(
        "UPDATE sso_providers b SET client_secret_ciphertext = a.client_secret_ciphertext,
                client_secret_nonce = a.client_secret_nonce, client_secret_key_id = a.client_secret_key_id
         FROM sso_providers a WHERE a.id = $1 AND b.id = $2",
    )
    .bind(a.id.0)
    .bind(b.id.0)
    .execute(tdb.pool())
    .await?;
    let err = sso
        .client_secret(b.id)
        .await
        .err()
        .ok_or("the associated data binds the row")?;
    assert!(matches!(err, SsoError::Crypto(CryptoError::Decryption)), "{err:?}");
    let report = sso.reencrypt_backlog(10).await?;
    assert_eq!(report.reencrypted, 0, "both rows are on the current key already");
    Ok(())
}

#[tokio::test]
async fn the_keyring_refuses_other_associated_data_and_unknown_keys() -> TestResult {
    let keys = keyring()?;
    let sealed = keys.seal(b"payload", b"table.column:1")?;
    assert_eq!(keys.open(&sealed, b"table.column:1")?, b"payload");
    assert_eq!(keys.open(&sealed, b"table.column:2"), Err(CryptoError::Decryption));
    let stranger = KeyRing::new("sso", SecretKey::generate()?)?;
    assert_eq!(stranger.open(&sealed, b"table.column:1"), Err(CryptoError::Decryption));
    let other_ring = KeyRing::new("pii", SecretKey::generate()?)?;
    assert!(matches!(
        other_ring.open(&sealed, b"table.column:1"),
        Err(CryptoError::UnknownKey(_))
    ));
    assert!(format!("{keys:?}").contains("sso"));
    Ok(())
}

#[tokio::test]
async fn provider_registration_input_is_checked() -> TestResult {
    let (tdb, db) = setup().await;
    let keys = keyring()?;
    let sso = db.security().sso_providers(&keys);
    let cases = [
        (
            "client_secret",
            NewSsoProvider {
                client_secret: None,
                ..oidc("idp-a", "x")
            },
        ),
        (
            "client_secret",
            NewSsoProvider {
                protocol: SsoProtocol::Saml,
                ..oidc("idp-a", "x")
            },
        ),
        ("name", oidc("Bad Name", "x")),
        (
            "issuer",
            NewSsoProvider {
                issuer: "http://login.example.com".into(),
                ..oidc("idp-a", "x")
            },
        ),
        (
            "metadata",
            NewSsoProvider {
                metadata: json!([1]),
                ..oidc("idp-a", "x")
            },
        ),
    ];
    for (field, input) in cases {
        match sso.register(&Actor::System, input).await {
            Err(SsoError::Invalid(e)) => assert_eq!(e.field, field),
            other => panic!("expected Invalid({field}), got {other:?}"),
        }
    }
    let saml = sso
        .register(
            &Actor::System,
            NewSsoProvider {
                protocol: SsoProtocol::Saml,
                issuer: "urn:example:idp".into(),
                client_secret: None,
                enabled: false,
                ..oidc("corp-saml", "x")
            },
        )
        .await?;
    assert_eq!(saml.client_secret_key_id, None);
    assert!(sso.client_secret(saml.id).await?.is_none());
    assert!(matches!(
        sso.register(&Actor::System, oidc("corp-saml", "x")).await,
        Err(SsoError::NameTaken(_))
    ));
    let _ = tdb;
    Ok(())
}

#[tokio::test]
async fn providers_are_found_by_email_domain_once_enabled() -> TestResult {
    let (_tdb, db) = setup().await;
    let keys = keyring()?;
    let sso = db.security().sso_providers(&keys);
    let p = sso
        .register(
            &Actor::System,
            NewSsoProvider {
                enabled: false,
                ..oidc("acme-okta", "x-secret")
            },
        )
        .await?;
    assert!(sso.for_email_domain("example.com").await?.is_empty());
    assert!(sso.set_enabled(&Actor::System, p.id, true).await?.enabled);
    let found: Vec<_> = sso
        .for_email_domain("Example.COM")
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(found, vec![p.id]);
    assert!(sso.for_email_domain("other.org").await?.is_empty());
    let unknown = quotedb_repository::SsoProviderId(uuid::Uuid::new_v4());
    assert!(matches!(sso.get(unknown).await, Err(SsoError::NotFound(_))));
    assert!(matches!(
        sso.set_enabled(&Actor::System, unknown, true).await,
        Err(SsoError::NotFound(_))
    ));

    let updated = sso
        .set_client_secret(&Actor::System, p.id, &SecretString::new("new-secret"))
        .await?;
    assert_eq!(updated.client_secret_key_id.as_deref(), Some("sso:v1"));
    assert_eq!(
        sso.client_secret(p.id).await?.ok_or("secret")?.expose_secret(),
        "new-secret"
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Audit log
// ------------------------------------------------------------------------------------------

fn entry(entity_id: &str, n: i32) -> NewAuditEntry {
    NewAuditEntry {
        action: "quote.rated".into(),
        entity_type: "quotes".into(),
        entity_id: entity_id.into(),
        old_values: Some(json!({ "premium": n })),
        new_values: Some(json!({ "premium": n + 1 })),
        ip: Some("198.51.100.4".parse().expect("literal ip")),
        request_id: Some(format!("req-{n}")),
    }
}

#[tokio::test]
async fn an_entitys_history_comes_newest_first_in_keyset_pages() -> TestResult {
    let (_tdb, db) = setup().await;
    let uid = customer(&db, "user").await;
    let audit = db.security().audit();
    let start = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let mut appended = Vec::new();
    for n in 0..5 {
        appended.push(audit.append(&Actor::Customer(uid), entry("q-1", n)).await?.id);
    }
    audit.append(&Actor::System, entry("q-2", 99)).await?;
    let end = OffsetDateTime::now_utc() + time::Duration::minutes(1);

    let mut q = AuditQuery {
        entity_type: "quotes".into(),
        entity_id: "q-1".into(),
        from: start,
        to: end,
        page: PageRequest::first(2),
    };
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = audit.history(&Actor::System, &q).await?;
        pages += 1;
        for e in &page.items {
            assert_eq!(e.actor_user_id, Some(uid));
            assert_eq!(e.entity_id, "q-1");
        }
        seen.extend(page.items.iter().map(|e| (e.occurred_at, e.id)));
        match page.next {
            Some(c) => q.page.after = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut expected = seen.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, expected, "newest first");
    let mut ids: Vec<_> = seen.iter().map(|(_, id)| *id).collect();
    ids.sort();
    appended.sort();
    assert_eq!(ids, appended, "every entry exactly once");

    // A range before the entries holds none of them.
    let before = AuditQuery {
        from: start - time::Duration::hours(2),
        to: start,
        page: PageRequest::first(2),
        ..q
    };
    assert!(audit.history(&Actor::System, &before).await?.items.is_empty());
    Ok(())
}

#[tokio::test]
async fn the_system_appends_without_an_actor_and_bad_entries_are_refused() -> TestResult {
    let (tdb, db) = setup().await;
    let audit = db.security().audit();
    let e = audit.append(&Actor::System, entry("q-1", 1)).await?;
    assert_eq!(e.actor_user_id, None);
    assert_eq!(e.request_id.as_deref(), Some("req-1"));
    assert_eq!(e.ip, Some("198.51.100.4".parse()?));

    let cases = [
        (
            "action",
            NewAuditEntry {
                action: "Quote Rated".into(),
                ..entry("q-1", 1)
            },
        ),
        (
            "entity_type",
            NewAuditEntry {
                entity_type: "quote.rows".into(),
                ..entry("q-1", 1)
            },
        ),
        (
            "entity_id",
            NewAuditEntry {
                entity_id: "has space".into(),
                ..entry("q-1", 1)
            },
        ),
        (
            "old_values",
            NewAuditEntry {
                old_values: Some(json!([1])),
                ..entry("q-1", 1)
            },
        ),
        (
            "request_id",
            NewAuditEntry {
                request_id: Some("bad id!".into()),
                ..entry("q-1", 1)
            },
        ),
    ];
    for (field, input) in cases {
        match audit.append(&Actor::System, input).await {
            Err(AuditError::Invalid(err)) => assert_eq!(err.field, field),
            other => panic!("expected Invalid({field}), got {other:?}"),
        }
    }
    let ghost = UserId(uuid::Uuid::new_v4());
    assert!(matches!(
        audit.append(&Actor::Customer(ghost), entry("q-1", 1)).await,
        Err(AuditError::UnknownActor(u)) if u == ghost
    ));
    let now = OffsetDateTime::now_utc();
    let bad_size = AuditQuery {
        entity_type: "quotes".into(),
        entity_id: "q-1".into(),
        from: now - time::Duration::hours(1),
        to: now,
        page: PageRequest::first(0),
    };
    assert!(matches!(
        audit.history(&Actor::System, &bad_size).await,
        Err(AuditError::Invalid(ref e)) if e.field == "size"
    ));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(tdb.pool())
        .await?;
    assert_eq!(count, 1);
    Ok(())
}
