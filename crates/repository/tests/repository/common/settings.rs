//! System settings, written by the System actor through `Db::admin().settings()`.

use quotedb_repository::admin::SettingKey;
use quotedb_repository::{Actor, Db};

fn parse_key(name: &str) -> SettingKey {
    SettingKey::parse(name).expect("setting key")
}

/// Create or replace the non-sensitive setting `name` (of the same JSON type if it exists).
pub async fn set_setting(db: &Db, name: &str, value: serde_json::Value) {
    db.admin()
        .settings()
        .set(&Actor::System, &parse_key(name), value, "set by a test", false)
        .await
        .unwrap_or_else(|e| panic!("set {name}: {e}"));
}

/// Remove the setting `name`.
pub async fn delete_setting(db: &Db, name: &str) {
    db.admin()
        .settings()
        .delete(&Actor::System, &parse_key(name))
        .await
        .unwrap_or_else(|e| panic!("delete {name}: {e}"));
}
