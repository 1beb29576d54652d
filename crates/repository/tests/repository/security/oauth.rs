//! OAuth2 clients: secrets, verification, revocation and who manages which client.

use quotedb_repository::schema::security::OAuth2GrantType;
use quotedb_repository::security::{NewOAuthClient, OAuthError, SecretString};
use quotedb_repository::{Actor, UserId};

use crate::common::admins::admin_with;
use crate::common::{TestResult, customer, setup};

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
