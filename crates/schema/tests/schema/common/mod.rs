//! Helpers shared by the schema tests.

use quotedb_testkit::{TestDb, violated_rule};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// The outcome of a statement whose rows are not needed.
pub type Res = Result<(), sqlx::Error>;

/// Runs `sql` with `id` bound to `$1`.
pub async fn exec(pool: &PgPool, sql: &'static str, id: Uuid) -> Res {
    sqlx::query(sql).bind(id).execute(pool).await.map(drop)
}

/// `result` is a refusal by `rule`.
#[track_caller]
pub fn assert_violates<T: std::fmt::Debug>(result: Result<T, sqlx::Error>, rule: &str) {
    match result {
        Ok(value) => panic!("expected a violation of {rule}, but it succeeded: {value:?}"),
        Err(err) => assert_eq!(violated_rule(&err), Some(rule), "unexpected error: {err}"),
    }
}

/// `result`, of the table case named `case`, is a refusal by `rule`; a failure names the case.
#[track_caller]
pub fn assert_case_violates<T: std::fmt::Debug>(case: &str, result: Result<T, sqlx::Error>, rule: &str) {
    match result {
        Ok(value) => panic!("{case}: expected a violation of {rule}, but it succeeded: {value:?}"),
        Err(err) => assert_eq!(violated_rule(&err), Some(rule), "{case}: unexpected error: {err}"),
    }
}

/// The rule name of a refused statement.
pub fn refused<T: std::fmt::Debug>(result: Result<T, sqlx::Error>) -> String {
    let err = result.expect_err("the statement should have been refused");
    violated_rule(&err)
        .unwrap_or_else(|| panic!("no rule name in: {err}"))
        .to_owned()
}

/// Runs every statement; all but the last must succeed, the last must be refused by `rule`.
pub async fn refuses(db: &TestDb, statements: &[&'static str], rule: &str) {
    let (last, setup) = statements.split_last().expect("at least one statement");
    accepts(db, setup).await;
    match sqlx::query(*last).execute(db.pool()).await {
        Ok(_) => panic!("expected {rule} to refuse:\n{last}"),
        Err(err) => assert_eq!(violated_rule(&err), Some(rule), "unexpected error: {err}\n{last}"),
    }
}

/// Runs every statement; all must succeed.
pub async fn accepts(db: &TestDb, statements: &[&'static str]) {
    for sql in statements {
        if let Err(err) = sqlx::query(*sql).execute(db.pool()).await {
            panic!("expected success, got {err}:\n{sql}");
        }
    }
}

/// The single `bigint` that `sql` returns.
pub async fn count(db: &TestDb, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.expect(sql)
}

/// A test that runs statements on a fresh database from the calling module's `fixture()` and
/// expects the last one refused by a rule.
macro_rules! refused {
    ($name:ident: $rule:expr, [$($sql:expr),+ $(,)?]) => {
        #[tokio::test]
        async fn $name() {
            $crate::common::refuses(&fixture().await, &[$($sql),+], $rule).await;
        }
    };
}

/// A test that runs statements on a fresh database from the calling module's `fixture()`,
/// expects all of them accepted, and then each `then` count query to return its expected value.
macro_rules! accepted {
    ($name:ident: [$($sql:expr),+ $(,)?] $(then $check:literal == $expected:expr),*) => {
        #[tokio::test]
        async fn $name() {
            let db = fixture().await;
            $crate::common::accepts(&db, &[$($sql),+]).await;
            $(assert_eq!($crate::common::count(&db, $check).await, $expected, "{}", $check);)*
        }
    };
}

/// A transaction acting as `user` (None: no acting user) under quotedb_app, the way the repository
/// runs; rolled back when dropped.
pub async fn acting_as(pool: &PgPool, user: Option<Uuid>) -> Transaction<'static, Postgres> {
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("SET LOCAL ROLE quotedb_app")
        .execute(&mut *tx)
        .await
        .expect("role");
    sqlx::query("SELECT set_config('app.user_id', $1, true)")
        .bind(user.map(|u| u.to_string()).unwrap_or_default())
        .execute(&mut *tx)
        .await
        .expect("acting user");
    tx
}

/// A user with `role` (customer, agent) and `email`, which is also their name.
pub async fn user(pool: &PgPool, email: &str, role: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO users (email, full_name, role) VALUES ($1, $1, $2::user_role) RETURNING id")
        .bind(email)
        .bind(role)
        .fetch_one(pool)
        .await
        .expect("user")
}

/// Two settings: rating.discount_cap (0.25, not sensitive) and integrations.partner_api_key
/// ("s3cret", sensitive).
pub async fn two_settings(pool: &PgPool) {
    sqlx::query(
        "INSERT INTO system_settings (key, value, value_type, description, is_sensitive) VALUES
         ('rating.discount_cap', '0.25', 'number', 'cap on stackable discounts', false),
         ('integrations.partner_api_key', '\"s3cret\"', 'string', 'partner API key', true)",
    )
    .execute(pool)
    .await
    .expect("settings");
}
