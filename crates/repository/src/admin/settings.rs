//! Typed system settings (`system_settings`, under row level security).
//!
//! Any authenticated actor reads the non-sensitive settings; sensitive ones only admins holding
//! `settings:read_sensitive` (to anyone else a sensitive setting does not exist:
//! [`SettingError::NotFound`]); writes need `settings:write` ([`SettingError::Forbidden`]) and
//! record the writing admin in `updated_by`. The System actor reads and writes everything.
//!
//! The declared `value_type` is derived from the JSON value itself, so it always matches
//! `jsonb_typeof(value)` (`system_settings_value_type_matches`); JSON `null` has no type and is
//! refused. Once created, a setting keeps its type: replacing its value with one of another JSON
//! type is refused ([`SettingError::TypeChange`]).

use quotedb_schema::admin::{SystemSettingValueType, rules};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;

use super::{is_snake_ident, present};
use crate::actor::{Actor, begin_as};
use crate::error::{is_rls_refusal, rule_of};
use crate::ids::{AdminUserId, UserId};
use crate::{Db, InvalidInput};

quotedb_domain::validated!(
    /// A setting key: dotted snake_case, e.g. `rating.discount_cap` (`system_settings_key_format`).
    SettingKey,
    "setting_key",
    |raw| {
        let s = raw.trim();
        if s.split('.').all(is_snake_ident) {
            Ok(s.to_owned())
        } else {
            Err(format!("{raw:?} is not a dotted snake_case setting key"))
        }
    }
);

/// A setting with its value as `T`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Setting<T> {
    /// Its key.
    pub key: String,
    /// Its value.
    pub value: T,
    /// The JSON type of the value.
    pub value_type: SystemSettingValueType,
    /// What it controls.
    pub description: String,
    /// Readable only with `settings:read_sensitive`.
    pub is_sensitive: bool,
    /// The admin who last wrote it (`None`: seeds, the System, or a removed admin).
    pub updated_by: Option<AdminUserId>,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// Errors of [`Settings`].
#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    /// Input refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No such setting visible to the actor (missing, or sensitive and the actor may not read it).
    #[error("setting {0:?} not found")]
    NotFound(String),
    /// The actor may not write this setting (`settings:write`, and for a sensitive one also
    /// `settings:read_sensitive`).
    #[error("not allowed to write setting {0:?}")]
    Forbidden(String),
    /// The setting exists with another JSON type: settings are typed, a type change is a delete
    /// and a new setting (readers rely on the type, e.g. the rating engine on numbers).
    #[error("setting {key:?} holds a {stored}, not a {given}")]
    TypeChange {
        /// The key.
        key: String,
        /// Its stored type.
        stored: SystemSettingValueType,
        /// The type of the value given.
        given: SystemSettingValueType,
    },
    /// The stored value does not deserialize into the requested type.
    #[error("setting {key:?} holds a {value_type} that is not the requested type: {source}")]
    WrongType {
        /// The key.
        key: String,
        /// Its stored JSON type.
        value_type: SystemSettingValueType,
        /// The deserialization error.
        #[source]
        source: serde_json::Error,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl SettingError {
    fn from_db(err: sqlx::Error, key: &SettingKey) -> Self {
        match rule_of(&err) {
            Some(rules::SYSTEM_SETTINGS_KEY_FORMAT) => Self::Invalid(InvalidInput::new(
                "setting_key",
                format!("{key} is not dotted snake_case"),
            )),
            Some(rules::SYSTEM_SETTINGS_VALUE_TYPE_MATCHES) => {
                Self::Invalid(InvalidInput::new("value", "the value does not have its declared type"))
            }
            Some(rules::SYSTEM_SETTINGS_DESCRIPTION_PRESENT) => {
                Self::Invalid(InvalidInput::new("description", "must not be blank"))
            }
            _ if is_rls_refusal(&err) => Self::Forbidden(key.to_string()),
            _ => Self::Database(err),
        }
    }
}

/// The JSON type of `value` (`None` for null, which no setting may hold).
pub fn value_type_of(value: &Value) -> Option<SystemSettingValueType> {
    match value {
        Value::Null => None,
        Value::Bool(_) => Some(SystemSettingValueType::Boolean),
        Value::Number(_) => Some(SystemSettingValueType::Number),
        Value::String(_) => Some(SystemSettingValueType::String),
        Value::Array(_) => Some(SystemSettingValueType::Array),
        Value::Object(_) => Some(SystemSettingValueType::Object),
    }
}

/// Whether setting `key` is sensitive (`None`: no such setting), looked up by the SECURITY DEFINER
/// `setting_is_sensitive()` in one statement,
/// whatever the caller may see: risk scoring needs the fact even for admins who cannot read the
/// row. Reveals only the flag, never the value.
pub(crate) async fn is_sensitive(pool: impl sqlx::PgExecutor<'_>, key: &str) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT setting_is_sensitive($1) AS "sensitive""#, key)
        .fetch_one(pool)
        .await
}

/// Settings API, from [`Admin::settings`](super::Admin::settings).
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    db: &'a Db,
}

impl<'a> Settings<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// The value of `key` as `T` (a non-sensitive setting from the reference data cache: no
    /// round trip; see [`crate::reference`]).
    #[tracing::instrument(skip_all, fields(key = %key), err)]
    pub async fn get<T: DeserializeOwned>(&self, actor: &Actor, key: &SettingKey) -> Result<T, SettingError> {
        let setting = self.entry(actor, key).await?;
        serde_json::from_value(setting.value).map_err(|source| SettingError::WrongType {
            key: setting.key,
            value_type: setting.value_type,
            source,
        })
    }

    /// The whole setting, value as JSON.
    #[tracing::instrument(skip_all, fields(key = %key), err)]
    pub async fn entry(&self, actor: &Actor, key: &SettingKey) -> Result<Setting<Value>, SettingError> {
        // A non-sensitive setting is public (public_setting()): served from the reference data
        // cache when it holds it, whoever asks. Sensitive and unknown keys go to the database.
        if let Some(snapshot) = self.db.reference().snapshot(self.db.pool()).await
            && let Some(setting) = snapshot.setting(key.as_str())
        {
            return Ok(setting.clone());
        }
        // One round trip: the function switches to the actor's role and sets the actor itself.
        let setting = crate::error::read_retrying!(self.db, |conn| sqlx::query_as!(
            Setting::<Value>,
            r#"SELECT key AS "key!", value AS "value!", value_type AS "value_type!: SystemSettingValueType",
                      description AS "description!", is_sensitive AS "is_sensitive!",
                      updated_by AS "updated_by: AdminUserId", updated_at AS "updated_at!"
               FROM app_system_setting($1, $2)"#,
            actor.user_id() as Option<UserId>,
            key.as_str(),
        )
        .fetch_optional(conn))
        .map_err(SettingError::Database)?;
        setting.ok_or_else(|| SettingError::NotFound(key.to_string()))
    }

    /// Every setting the actor may read, by key.
    #[tracing::instrument(skip_all, err)]
    pub async fn list(&self, actor: &Actor) -> Result<Vec<Setting<Value>>, SettingError> {
        let settings = crate::error::read_retrying!(self.db, |conn| sqlx::query_as!(
            Setting::<Value>,
            r#"SELECT key AS "key!", value AS "value!", value_type AS "value_type!: SystemSettingValueType",
                      description AS "description!", is_sensitive AS "is_sensitive!",
                      updated_by AS "updated_by: AdminUserId", updated_at AS "updated_at!"
               FROM app_system_settings($1) ORDER BY key"#,
            actor.user_id() as Option<UserId>,
        )
        .fetch_all(conn))
        .map_err(SettingError::Database)?;
        Ok(settings)
    }

    /// Create `key` with `value` (its JSON type becomes the declared type), or replace the value
    /// of an existing setting of the same type ([`SettingError::TypeChange`] otherwise), with its
    /// description and sensitivity; `updated_by` records the acting admin.
    ///
    /// Mind the JSON a type produces: a `rust_decimal::Decimal` serializes as a JSON *string*;
    /// pass an `f64`, an integer or a `serde_json::Number` for a number setting.
    #[tracing::instrument(skip_all, fields(key = %key, sensitive), err)]
    pub async fn set(
        &self,
        actor: &Actor,
        key: &SettingKey,
        value: impl Serialize,
        description: &str,
        sensitive: bool,
    ) -> Result<Setting<Value>, SettingError> {
        let value = serde_json::to_value(value)
            .map_err(|e| InvalidInput::new("value", format!("does not serialize to JSON: {e}")))?;
        let value_type =
            value_type_of(&value).ok_or_else(|| InvalidInput::new("value", "null is not a setting value"))?;
        let description = present("description", description)?;
        let mut tx = begin_as(self.db, actor).await.map_err(SettingError::Database)?;
        let setting = sqlx::query_as!(
            Setting::<Value>,
            r#"INSERT INTO system_settings (key, value, value_type, description, is_sensitive, updated_by)
               VALUES ($1, $2, $3, $4, $5, app_admin_user_id())
               ON CONFLICT (key) DO UPDATE
               SET value = EXCLUDED.value, description = EXCLUDED.description,
                   is_sensitive = EXCLUDED.is_sensitive, updated_by = EXCLUDED.updated_by
               WHERE system_settings.value_type = EXCLUDED.value_type
               RETURNING key, value, value_type AS "value_type: SystemSettingValueType", description, is_sensitive,
                         updated_by AS "updated_by: AdminUserId", updated_at"#,
            key.as_str(),
            value,
            value_type as SystemSettingValueType,
            description,
            sensitive,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| SettingError::from_db(e, key))?;
        let Some(setting) = setting else {
            // The conflict's WHERE refused: the stored type differs.
            let stored = sqlx::query_scalar!(
                r#"SELECT value_type AS "value_type: SystemSettingValueType" FROM system_settings WHERE key = $1"#,
                key.as_str()
            )
            .fetch_optional(&mut *tx)
            .await
            .map_err(SettingError::Database)?;
            return Err(match stored {
                Some(stored) => SettingError::TypeChange {
                    key: key.to_string(),
                    stored,
                    given: value_type,
                },
                None => SettingError::Forbidden(key.to_string()),
            });
        };
        crate::reference::commit_change(self.db, tx)
            .await
            .map_err(SettingError::Database)?;
        Ok(setting)
    }

    /// Delete `key` (needs `settings:write`). A setting the actor cannot see is `NotFound`.
    #[tracing::instrument(skip_all, fields(key = %key), err)]
    pub async fn delete(&self, actor: &Actor, key: &SettingKey) -> Result<(), SettingError> {
        let mut tx = begin_as(self.db, actor).await.map_err(SettingError::Database)?;
        let deleted = sqlx::query_scalar!("DELETE FROM system_settings WHERE key = $1 RETURNING key", key.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| SettingError::from_db(e, key))?;
        if deleted.is_none() {
            let visible = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM system_settings WHERE key = $1) AS "visible!""#,
                key.as_str()
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(SettingError::Database)?;
            return Err(if visible {
                SettingError::Forbidden(key.to_string())
            } else {
                SettingError::NotFound(key.to_string())
            });
        }
        crate::reference::commit_change(self.db, tx)
            .await
            .map_err(SettingError::Database)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_dotted_snake_case() {
        assert!(SettingKey::parse("rating.discount_cap").is_ok());
        assert!(SettingKey::parse("session_lifetime").is_ok());
        assert!(SettingKey::parse("rating..cap").is_err());
        assert!(SettingKey::parse("Rating.cap").is_err());
        assert!(SettingKey::parse("rating.").is_err());
        assert!(SettingKey::parse("").is_err());
    }

    #[test]
    fn the_value_type_is_the_json_type() {
        use serde_json::json;
        assert_eq!(value_type_of(&json!(0.25)), Some(SystemSettingValueType::Number));
        assert_eq!(value_type_of(&json!("x")), Some(SystemSettingValueType::String));
        assert_eq!(value_type_of(&json!(true)), Some(SystemSettingValueType::Boolean));
        assert_eq!(value_type_of(&json!([1])), Some(SystemSettingValueType::Array));
        assert_eq!(value_type_of(&json!({"a": 1})), Some(SystemSettingValueType::Object));
        assert_eq!(value_type_of(&json!(null)), None);
    }
}
