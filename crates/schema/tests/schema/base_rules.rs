//! The business rules of migration 0001 (states, acting-user plumbing): each rule is violated
//! and seen refused by name, and its valid case is seen accepted.

use crate::common::assert_violates;
use quotedb_schema::base::rules;
use quotedb_testkit::TestDb;
use sqlx::PgPool;

async fn insert_state(pool: &PgPool, code: &str, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO states (code, name) VALUES ($1, $2)")
        .bind(code)
        .bind(name)
        .execute(pool)
        .await
        .map(drop)
}

#[tokio::test]
async fn a_state_code_must_be_two_upper_case_letters() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for code in ["ca", "C1", "C"] {
        assert_violates(
            insert_state(db.pool(), code, &format!("State {code}")).await,
            rules::STATES_CODE_FORMAT,
        );
    }
}

#[tokio::test]
async fn a_two_letter_upper_case_state_code_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    insert_state(db.pool(), "CA", "California")
        .await
        .expect("a valid state is accepted");
}

#[tokio::test]
async fn a_state_name_cannot_be_blank() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(insert_state(db.pool(), "CA", "  ").await, rules::STATES_NAME_NOT_BLANK);
}

#[tokio::test]
async fn two_states_cannot_share_a_name() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    insert_state(db.pool(), "CA", "California").await.expect("first state");
    assert_violates(
        insert_state(db.pool(), "CF", "California").await,
        rules::STATES_NAME_UNIQUE,
    );
}

#[tokio::test]
async fn states_with_different_names_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    insert_state(db.pool(), "CA", "California").await.expect("first state");
    insert_state(db.pool(), "TX", "Texas").await.expect("second state");
}

#[tokio::test]
async fn the_acting_user_comes_from_a_setting_and_the_system_from_the_role() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let mut tx = db.pool().begin().await.expect("begin");
    let none: Option<uuid::Uuid> = sqlx::query_scalar("SELECT app_user_id()")
        .fetch_one(&mut *tx)
        .await
        .expect("app_user_id without a setting");
    assert_eq!(none, None);
    let id = uuid::Uuid::new_v4();
    sqlx::raw_sql("SET LOCAL ROLE quotedb_app")
        .execute(&mut *tx)
        .await
        .expect("the application role");
    sqlx::query("SELECT set_config('app.user_id', $1, true), set_config('app.system', 'on', true)")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .expect("set_config");
    let (user, system): (Option<uuid::Uuid>, bool) = sqlx::query_as("SELECT app_user_id(), app_is_system()")
        .fetch_one(&mut *tx)
        .await
        .expect("read back");
    assert_eq!(user, Some(id));
    assert!(
        !system,
        "the app.system setting of releases up to 0006 makes nobody the system"
    );
    sqlx::raw_sql("SET LOCAL ROLE quotedb_system")
        .execute(&mut *tx)
        .await
        .expect("the system role");
    let system: bool = sqlx::query_scalar("SELECT app_is_system()")
        .fetch_one(&mut *tx)
        .await
        .expect("read back");
    assert!(system, "the system is the role quotedb_system");
    tx.rollback().await.expect("rollback");
}
