//! SSO providers: client secrets sealed with the keyring, rotation and re-encryption, tampering, lookup by domain.

use quotedb_repository::schema::security::SsoProtocol;
use quotedb_repository::security::{
    CryptoError, KeyId, KeyRing, NewSsoProvider, SecretKey, SecretString, SsoError, SsoProvider,
};
use quotedb_repository::{Actor, Db};
use quotedb_testkit::TestDb;
use serde_json::json;

use crate::common::{TestResult, setup};

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

/// A seeded database with the OIDC provider "acme-okta" (client secret `secret`) registered
/// under the first key of a fresh keyring, then the keyring rotated: returns the new key's id.
async fn registered_then_rotated(secret: &str) -> TestResult<(TestDb, Db, KeyRing, SsoProvider, KeyId)> {
    let (tdb, db) = setup().await;
    let mut keys = keyring()?;
    let p = db
        .security()
        .sso_providers(&keys)
        .register(&Actor::System, oidc("acme-okta", secret))
        .await?;
    let v2 = keys.rotate(SecretKey::generate()?)?;
    Ok((tdb, db, keys, p, v2))
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
    let (tdb, db, keys, p, v2) = registered_then_rotated("rotate-me").await?;
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
    only_v2.retire(&KeyId::parse("sso:v1")?)?;
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
    let (tdb, db, keys, p, _v2) = registered_then_rotated("tamper-proof").await?;
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
