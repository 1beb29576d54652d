//! Sessions: tokens, validation, lifetime, revocation and the expiry sweep.

use std::time::Duration;

use quotedb_repository::schema::security::SessionRevokeReason;
use quotedb_repository::security::{NewSession, SessionError, SessionToken};
use quotedb_repository::{Actor, UserId};
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
