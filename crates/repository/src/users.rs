//! Users: customers and agents, the drivers and vehicles they want insured.
//!
//! `users`, `drivers` and `vehicles` carry no row level security (who may manage whom is the
//! service's decision), so these calls take no [`crate::Actor`]. Input is validated in Rust
//! before any write ([`InvalidInput`]); the database rules that depend on other rows
//! (`users_email_unique`, `vehicles_user_vin_unique`, the owner foreign keys) map to typed
//! variants of [`UserError`].

use std::fmt;

use quotedb_schema::quotes::{UserRole, rules};
use time::{Date, OffsetDateTime};

use crate::Db;
use crate::actor::{Actor, begin_as};
use crate::error::{InvalidInput, bounded_text, is_rls_refusal, read_retrying, refused_value, rule_of};
use crate::ids::{DriverId, UserId, VehicleId};
use crate::types::{Email, Vin};
use quotedb_schema::base::MAX_NAME_CHARS;

/// Why a users call failed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// Input refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// Another user already has this e-mail address (compared case-insensitively):
    /// rule `users_email_unique`.
    #[error("e-mail address {0} is already taken")]
    EmailTaken(Email),
    /// The user already registered a vehicle with this VIN: rule `vehicles_user_vin_unique`.
    #[error("vehicle {0} is already registered for this user")]
    VinTaken(Vin),
    /// No such user (also: the owner of a new driver or vehicle does not exist), or the actor
    /// may not see it (row level security).
    #[error("user not found")]
    NotFound,
    /// The actor may not make this change (row level security refused it): for example a
    /// customer adding a driver to someone else's account, or creating an agent without
    /// `users:write`.
    #[error("not allowed for this actor")]
    Forbidden,
    /// Another business rule of the database refused the write (normally caught by the Rust
    /// validation first); `rule` is its name (a `quotedb_schema::quotes::rules` constant).
    #[error("refused by rule {rule}: {message}")]
    Rule {
        /// The rule (constraint) name.
        rule: &'static str,
        /// The database's message.
        message: String,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for UserError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err)
    }
}

impl UserError {
    /// The one mapping of a write's database error: RLS refusal, a refused value, then the rules
    /// by name (`email` / `vin`: what the caller tried to register), else `Database`.
    fn from_db(err: sqlx::Error, email: Option<&Email>, vin: Option<&Vin>) -> UserError {
        if is_rls_refusal(&err) {
            return UserError::Forbidden;
        }
        if let Some(invalid) = refused_value(&err) {
            return UserError::Invalid(invalid);
        }
        let Some(rule) = rule_of(&err) else {
            return UserError::Database(err);
        };
        if rule == rules::USERS_EMAIL_UNIQUE
            && let Some(email) = email
        {
            return UserError::EmailTaken(email.clone());
        }
        if rule == rules::VEHICLES_USER_VIN_UNIQUE
            && let Some(vin) = vin
        {
            return UserError::VinTaken(vin.clone());
        }
        if rule == rules::DRIVERS_USER_FK || rule == rules::VEHICLES_USER_FK {
            return UserError::NotFound;
        }
        match rules::ALL.iter().copied().find(|r| *r == rule) {
            Some(rule) => {
                let message = err
                    .as_database_error()
                    .map(|e| e.message().to_string())
                    .unwrap_or_default();
                UserError::Rule { rule, message }
            }
            None => UserError::Database(err),
        }
    }
}

/// A phone number in E.164 form: `+`, then 7 to 15 digits, the first not 0 (rule `users_phone_format`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Validate `raw` (surrounding blanks are trimmed; nothing else is rewritten).
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let s = raw.trim();
        let digits = s.strip_prefix('+').unwrap_or("");
        let ok =
            (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(InvalidInput::new(
                "phone",
                format!("{raw:?} is not an E.164 phone number (+ then 7 to 15 digits)"),
            ))
        }
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = InvalidInput;
    fn try_from(raw: String) -> Result<Self, InvalidInput> {
        Self::parse(&raw)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user to create (customer or agent).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewUser {
    /// Login and contact address (unique, case-insensitive).
    pub email: Email,
    /// Full name (non-blank; surrounding blanks are trimmed).
    pub full_name: String,
    /// Optional contact number.
    #[serde(default)]
    pub phone: Option<Phone>,
}

/// A platform user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct User {
    /// Identity.
    pub id: UserId,
    /// E-mail address as stored.
    pub email: Email,
    /// Full name.
    pub full_name: String,
    /// Customer or agent.
    pub role: UserRole,
    /// Contact number.
    pub phone: Option<Phone>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// `query_as!(UserRow, ...)` with the user columns between `$head` and `$tail`, so every query
/// returns the same shape (still one compile-time checked literal). The `!` overrides are for the
/// `app_user_by_*` functions, whose columns sqlx cannot see are NOT NULL.
macro_rules! query_user {
    ($head:literal, $tail:literal $($args:tt)*) => {
        sqlx::query_as!(
            UserRow,
            $head
                + r#" id AS "id!: UserId", email::text AS "email!", full_name AS "full_name!",
                      role AS "role!: UserRole", phone, created_at AS "created_at!", updated_at AS "updated_at!" "#
                + $tail
            $($args)*
        )
    };
}

struct UserRow {
    id: UserId,
    email: String,
    full_name: String,
    role: UserRole,
    phone: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            email: Email::from_db(r.email),
            full_name: r.full_name,
            role: r.role,
            // Checked by users_phone_format on the way in.
            phone: r.phone.map(Phone),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A driver to add to a user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewDriver {
    /// First name (non-blank).
    pub first_name: String,
    /// Last name (non-blank).
    pub last_name: String,
    /// Date of birth: from 1900-01-01, not in the future.
    pub date_of_birth: Date,
    /// First licensed: after the date of birth, not in the future; `None` = not known yet.
    #[serde(default)]
    pub licensed_since: Option<Date>,
}

/// A driver of a user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Driver {
    /// Identity.
    pub id: DriverId,
    /// The user the driver belongs to.
    pub user_id: UserId,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Date of birth.
    pub date_of_birth: Date,
    /// First licensed.
    pub licensed_since: Option<Date>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A vehicle to add to a user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewVehicle {
    /// Vehicle identification number.
    pub vin: Vin,
    /// Manufacturer (non-blank).
    pub make: String,
    /// Model (non-blank).
    pub model: String,
    /// Model year: 1981 (17-character VIN era) up to next year (one model year ahead).
    pub model_year: i16,
}

/// A vehicle of a user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vehicle {
    /// Identity.
    pub id: VehicleId,
    /// The user the vehicle belongs to.
    pub user_id: UserId,
    /// Vehicle identification number.
    pub vin: Vin,
    /// Manufacturer.
    pub make: String,
    /// Model.
    pub model: String,
    /// Model year.
    pub model_year: i16,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

struct VehicleRow {
    id: VehicleId,
    user_id: UserId,
    vin: String,
    make: String,
    model: String,
    model_year: i16,
    created_at: OffsetDateTime,
}

impl From<VehicleRow> for Vehicle {
    fn from(r: VehicleRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            vin: Vin::from_db(r.vin),
            make: r.make,
            model: r.model,
            model_year: r.model_year,
            created_at: r.created_at,
        }
    }
}

/// The earliest date of birth the database accepts (rule `drivers_date_of_birth_range`).
const MIN_DATE_OF_BIRTH: Date = time::macros::date!(1900 - 01 - 01);
/// The first model year of the 17-character VIN (rule `vehicles_model_year_range`).
const MIN_MODEL_YEAR: i16 = 1981;

/// A name: trimmed, non-blank, at most `MAX_NAME_CHARS` characters, no NUL (`*_values_bounded`).
fn non_blank(field: &'static str, value: &str) -> Result<String, InvalidInput> {
    bounded_text(field, value, MAX_NAME_CHARS)
}

/// The users API (customers, agents, their drivers and vehicles), from [`Db::users`].
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    db: &'a Db,
}

impl<'a> Users<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Sign up a customer. [`UserError::EmailTaken`] if the address is in use.
    ///
    /// The new customer creates their own account: the call acts as the new user id (row level
    /// security lets a customer insert only themself, and only as a customer).
    #[tracing::instrument(skip_all, err)]
    pub async fn create_customer(&self, new: &NewUser) -> Result<User, UserError> {
        let id = UserId(uuid::Uuid::new_v4());
        self.create(&Actor::Customer(id), id, new, UserRole::Customer).await
    }

    /// Create an agent: `actor` is an admin holding `users:write` (or the system);
    /// [`UserError::Forbidden`] otherwise, [`UserError::EmailTaken`] if the address is in use.
    #[tracing::instrument(skip_all, err)]
    pub async fn create_agent(&self, actor: &Actor, new: &NewUser) -> Result<User, UserError> {
        self.create(actor, UserId(uuid::Uuid::new_v4()), new, UserRole::Agent)
            .await
    }

    async fn create(&self, actor: &Actor, id: UserId, new: &NewUser, role: UserRole) -> Result<User, UserError> {
        let full_name = non_blank("full_name", &new.full_name)?;
        let mut tx = begin_as(self.db, actor).await?;
        let row = query_user!(
            r#"INSERT INTO users (id, email, full_name, role, phone)
               VALUES ($1, $2::text, $3, $4, $5)
               RETURNING"#,
            "",
            id.0,
            new.email.as_str(),
            full_name,
            role as UserRole,
            new.phone.as_ref().map(Phone::as_str),
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| UserError::from_db(e, Some(&new.email), None))?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// The user with this id as `actor` may see it (themself; admins holding `users:read`);
    /// [`UserError::NotFound`] if none.
    #[tracing::instrument(skip_all, fields(user = %id), err)]
    pub async fn get(&self, actor: &Actor, id: UserId) -> Result<User, UserError> {
        // One round trip: the function switches to the actor's role and sets the actor itself.
        let row = read_retrying!(self.db, |conn| query_user!(
            "SELECT",
            "FROM app_user_by_id($1, $2)",
            actor.user_id() as Option<UserId>,
            id.0,
        )
        .fetch_optional(conn))?;
        row.map(User::from).ok_or(UserError::NotFound)
    }

    /// The user with this e-mail address (compared case-insensitively) as `actor` may see it;
    /// [`UserError::NotFound`] if none.
    #[tracing::instrument(skip_all, err)]
    pub async fn get_by_email(&self, actor: &Actor, email: &Email) -> Result<User, UserError> {
        // One round trip; the function compares users.email_key = lower($2), which an index
        // serves under row level security too (citext equality is not leakproof).
        let row = read_retrying!(self.db, |conn| query_user!(
            "SELECT",
            "FROM app_user_by_email($1, $2)",
            actor.user_id() as Option<UserId>,
            email.as_str(),
        )
        .fetch_optional(conn))?;
        row.map(User::from).ok_or(UserError::NotFound)
    }

    /// Add a driver to user `user_id` as `actor` (the user themself, or the system):
    /// [`UserError::NotFound`] if there is no such user, [`UserError::Forbidden`] for anyone else.
    #[tracing::instrument(skip_all, fields(user = %user_id), err)]
    pub async fn add_driver(&self, actor: &Actor, user_id: UserId, new: &NewDriver) -> Result<Driver, UserError> {
        let first_name = non_blank("first_name", &new.first_name)?;
        let last_name = non_blank("last_name", &new.last_name)?;
        let today = OffsetDateTime::now_utc().date();
        if new.date_of_birth < MIN_DATE_OF_BIRTH || new.date_of_birth > today {
            return Err(InvalidInput::new(
                "date_of_birth",
                format!("{} is not between {MIN_DATE_OF_BIRTH} and today", new.date_of_birth),
            )
            .into());
        }
        if let Some(licensed) = new.licensed_since
            && (licensed <= new.date_of_birth || licensed > today)
        {
            return Err(InvalidInput::new(
                "licensed_since",
                format!("{licensed} is not after the date of birth and not after today"),
            )
            .into());
        }
        let mut tx = begin_as(self.db, actor).await?;
        let driver = sqlx::query_as!(
            Driver,
            r#"INSERT INTO drivers (user_id, first_name, last_name, date_of_birth, licensed_since)
               VALUES ($1, $2, $3, $4, $5)
               RETURNING id AS "id: DriverId", user_id AS "user_id: UserId", first_name, last_name,
                         date_of_birth, licensed_since, created_at"#,
            user_id.0,
            first_name,
            last_name,
            new.date_of_birth,
            new.licensed_since,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| UserError::from_db(e, None, None))?;
        tx.commit().await?;
        Ok(driver)
    }

    /// Add a vehicle to user `user_id` as `actor` (the user themself, or the system):
    /// [`UserError::NotFound`] if there is no such user, [`UserError::VinTaken`] if the user
    /// already registered this VIN, [`UserError::Forbidden`] for anyone else.
    #[tracing::instrument(skip_all, fields(user = %user_id), err)]
    pub async fn add_vehicle(&self, actor: &Actor, user_id: UserId, new: &NewVehicle) -> Result<Vehicle, UserError> {
        let make = non_blank("make", &new.make)?;
        let model = non_blank("model", &new.model)?;
        // One model year ahead at most: a CHECK cannot read the clock, so this rule lives here.
        let max_year = i16::try_from(OffsetDateTime::now_utc().year() + 1).unwrap_or(i16::MAX);
        if !(MIN_MODEL_YEAR..=max_year).contains(&new.model_year) {
            return Err(InvalidInput::new(
                "model_year",
                format!("{} is not between {MIN_MODEL_YEAR} and {max_year}", new.model_year),
            )
            .into());
        }
        let mut tx = begin_as(self.db, actor).await?;
        let row = sqlx::query_as!(
            VehicleRow,
            r#"INSERT INTO vehicles (user_id, vin, make, model, model_year)
               VALUES ($1, $2, $3, $4, $5)
               RETURNING id AS "id: VehicleId", user_id AS "user_id: UserId", vin::text AS "vin!", make, model,
                         model_year, created_at"#,
            user_id.0,
            new.vin.as_str(),
            make,
            model,
            new.model_year,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| UserError::from_db(e, None, Some(&new.vin)))?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// The drivers of user `user_id` that `actor` may see (their own; admins holding
    /// `drivers:read_pii`), oldest entry first (empty if none or no such user).
    #[tracing::instrument(skip_all, fields(user = %user_id), err)]
    pub async fn drivers(&self, actor: &Actor, user_id: UserId) -> Result<Vec<Driver>, UserError> {
        let drivers = read_retrying!(self.db, |conn| sqlx::query_as!(
            Driver,
            r#"SELECT id AS "id!: DriverId", user_id AS "user_id!: UserId", first_name AS "first_name!",
                      last_name AS "last_name!", date_of_birth AS "date_of_birth!", licensed_since,
                      created_at AS "created_at!"
               FROM app_user_drivers($1, $2)
               ORDER BY created_at, id"#,
            actor.user_id() as Option<UserId>,
            user_id.0,
        )
        .fetch_all(conn))?;
        Ok(drivers)
    }

    /// The vehicles of user `user_id` that `actor` may see (their own; admins holding
    /// `users:read`), oldest entry first (empty if none or no such user).
    #[tracing::instrument(skip_all, fields(user = %user_id), err)]
    pub async fn vehicles(&self, actor: &Actor, user_id: UserId) -> Result<Vec<Vehicle>, UserError> {
        let rows = read_retrying!(self.db, |conn| sqlx::query_as!(
            VehicleRow,
            r#"SELECT id AS "id!: VehicleId", user_id AS "user_id!: UserId", vin::text AS "vin!", make AS "make!",
                      model AS "model!", model_year AS "model_year!", created_at AS "created_at!"
               FROM app_user_vehicles($1, $2)
               ORDER BY created_at, id"#,
            actor.user_id() as Option<UserId>,
            user_id.0,
        )
        .fetch_all(conn))?;
        Ok(rows.into_iter().map(Vehicle::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_checked_in_e164_form() {
        assert!(Phone::parse("+15551234567").is_ok());
        assert!(Phone::parse(" +4930123456 ").is_ok());
        for bad in [
            "15551234567",
            "+0555123456",
            "+12345",
            "+1234567890123456",
            "+1555-123-4567",
            "",
        ] {
            assert_eq!(Phone::parse(bad).map_err(|e| e.field), Err("phone"), "{bad}");
        }
    }
}
