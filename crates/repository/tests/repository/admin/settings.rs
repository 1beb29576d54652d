//! Typed system settings under RLS: sensitive rows, writers, value types.

use quotedb_repository::Actor;
use quotedb_repository::admin::{SettingError, SettingKey};
use quotedb_repository::schema::admin::{SystemSettingValueType, permissions};
use serde::{Deserialize, Serialize};

use crate::common::admins::World;
use crate::common::unique;

fn key(section: &str) -> SettingKey {
    SettingKey::parse(&format!("{section}.{}", unique("k"))).expect("key")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Retry {
    max_attempts: u32,
    backoff_seconds: Vec<u32>,
}

#[tokio::test]
async fn a_writer_sets_typed_values_and_reads_them_back() {
    let w = World::new().await;
    let writer = w.admin_with(&[permissions::SETTINGS_WRITE]).await;
    let settings = w.admin().settings();

    let cap = key("rating");
    let stored = settings
        .set(&writer.actor, &cap, 0.25, "cap on stackable discounts", false)
        .await
        .expect("set number");
    assert_eq!(stored.value_type, SystemSettingValueType::Number);
    assert_eq!(stored.updated_by, Some(writer.account.id));
    assert!(!stored.is_sensitive);
    assert_eq!(settings.get::<f64>(&writer.actor, &cap).await.expect("get"), 0.25);

    let retry = key("notifications");
    let value = Retry {
        max_attempts: 5,
        backoff_seconds: vec![1, 10, 60],
    };
    let stored = settings
        .set(&writer.actor, &retry, &value, "retry policy", false)
        .await
        .expect("set object");
    assert_eq!(stored.value_type, SystemSettingValueType::Object);
    assert_eq!(settings.get::<Retry>(&writer.actor, &retry).await.expect("get"), value);

    // A value of the same type replaces it; another type is refused (settings are typed).
    let replaced = settings
        .set(&writer.actor, &cap, 0.3, "cap on stackable discounts", false)
        .await
        .expect("replace");
    assert_eq!(replaced.value_type, SystemSettingValueType::Number);
    let err = settings
        .set(&writer.actor, &cap, "none", "cap on stackable discounts", false)
        .await
        .expect_err("type change");
    assert!(
        matches!(
            err,
            SettingError::TypeChange {
                stored: SystemSettingValueType::Number,
                given: SystemSettingValueType::String,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(settings.get::<f64>(&writer.actor, &cap).await.expect("get"), 0.3);

    // Any authenticated user reads non-sensitive settings.
    let customer = Actor::Customer(w.user().await);
    assert_eq!(
        settings.get::<Retry>(&customer, &retry).await.expect("customer reads"),
        value
    );
    let listed = settings.list(&customer).await.expect("list");
    assert!(listed.iter().any(|s| s.key == retry.as_str()));
}

#[tokio::test]
async fn an_admin_without_the_permission_sees_no_sensitive_settings() {
    let w = World::new().await;
    let plain = w.admin_with(&[]).await;
    let reader = w.admin_with(&[permissions::SETTINGS_READ_SENSITIVE]).await;
    let settings = w.admin().settings();
    let secret = key("integrations");
    settings
        .set(&Actor::System, &secret, "s3cret", "partner API key", true)
        .await
        .expect("system sets");

    let err = settings.get::<String>(&plain.actor, &secret).await.expect_err("hidden");
    assert!(
        matches!(err, SettingError::NotFound(ref k) if k == secret.as_str()),
        "{err:?}"
    );
    let listed = settings.list(&plain.actor).await.expect("list");
    assert!(
        listed.iter().all(|s| !s.is_sensitive),
        "no sensitive setting listed: {listed:?}"
    );

    assert_eq!(
        settings.get::<String>(&reader.actor, &secret).await.expect("reader"),
        "s3cret"
    );
    let entry = settings.entry(&reader.actor, &secret).await.expect("entry");
    assert!(entry.is_sensitive);
    assert!(
        settings
            .list(&reader.actor)
            .await
            .expect("list")
            .iter()
            .any(|s| s.key == secret.as_str())
    );
}

#[tokio::test]
async fn writing_a_setting_needs_settings_write() {
    let w = World::new().await;
    let plain = w.admin_with(&[]).await;
    let writer = w.admin_with(&[permissions::SETTINGS_WRITE]).await;
    let settings = w.admin().settings();
    let k = key("quotes");
    let err = settings
        .set(&plain.actor, &k, 30, "quote validity days", false)
        .await
        .expect_err("plain");
    assert!(matches!(err, SettingError::Forbidden(_)), "{err:?}");
    let customer = Actor::Customer(w.user().await);
    let err = settings
        .set(&customer, &k, 30, "quote validity days", false)
        .await
        .expect_err("customer");
    assert!(matches!(err, SettingError::Forbidden(_)), "{err:?}");

    settings
        .set(&writer.actor, &k, 30, "quote validity days", false)
        .await
        .expect("writer");
    let err = settings.delete(&plain.actor, &k).await.expect_err("plain deletes");
    assert!(matches!(err, SettingError::Forbidden(_)), "{err:?}");
    assert_eq!(settings.get::<u32>(&plain.actor, &k).await.expect("still there"), 30);
    settings.delete(&writer.actor, &k).await.expect("writer deletes");
    let err = settings.get::<u32>(&writer.actor, &k).await.expect_err("gone");
    assert!(matches!(err, SettingError::NotFound(_)), "{err:?}");
    let err = settings.delete(&writer.actor, &k).await.expect_err("gone");
    assert!(matches!(err, SettingError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn a_writer_without_read_sensitive_cannot_overwrite_a_sensitive_setting() {
    let w = World::new().await;
    let writer = w.admin_with(&[permissions::SETTINGS_WRITE]).await;
    let settings = w.admin().settings();
    let secret = key("integrations");
    settings
        .set(&Actor::System, &secret, "s3cret", "partner API key", true)
        .await
        .expect("system sets");
    let err = settings
        .set(&writer.actor, &secret, "mine", "partner API key", false)
        .await
        .expect_err("overwrite");
    assert!(matches!(err, SettingError::Forbidden(_)), "{err:?}");
    let kept = settings.entry(&Actor::System, &secret).await.expect("system reads");
    assert_eq!(kept.value, serde_json::json!("s3cret"));
    assert!(kept.is_sensitive);
}

#[tokio::test]
async fn values_of_the_wrong_type_null_values_and_blank_descriptions_are_refused() {
    let w = World::new().await;
    let writer = w.admin_with(&[permissions::SETTINGS_WRITE]).await;
    let settings = w.admin().settings();
    let k = key("rating");
    settings
        .set(&writer.actor, &k, 0.25, "discount cap", false)
        .await
        .expect("set");
    let err = settings.get::<bool>(&writer.actor, &k).await.expect_err("not a bool");
    assert!(
        matches!(
            err,
            SettingError::WrongType {
                value_type: SystemSettingValueType::Number,
                ..
            }
        ),
        "{err:?}"
    );
    let err = settings
        .set(&writer.actor, &k, Option::<u32>::None, "discount cap", false)
        .await
        .expect_err("null");
    assert!(
        matches!(err, SettingError::Invalid(ref i) if i.field == "value"),
        "{err:?}"
    );
    let err = settings
        .set(&writer.actor, &k, 0.3, " ", false)
        .await
        .expect_err("blank description");
    assert!(
        matches!(err, SettingError::Invalid(ref i) if i.field == "description"),
        "{err:?}"
    );
    assert!(SettingKey::parse("Rating.Cap").is_err());
    assert_eq!(settings.get::<f64>(&writer.actor, &k).await.expect("unchanged"), 0.25);
}
