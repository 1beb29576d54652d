//! drivers

use super::*;

#[tokio::test]
async fn a_driver_must_belong_to_an_existing_user() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_driver(db.pool(), Uuid::new_v4(), "Ann", "Lee", "1990-01-01", None).await,
        rules::DRIVERS_USER_FK,
    );
}

#[tokio::test]
async fn a_driver_must_have_a_first_and_last_name() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    assert_violates(
        try_driver(db.pool(), u, "", "Lee", "1990-01-01", None).await,
        rules::DRIVERS_NAME_NOT_BLANK,
    );
    assert_violates(
        try_driver(db.pool(), u, "Ann", " ", "1990-01-01", None).await,
        rules::DRIVERS_NAME_NOT_BLANK,
    );
}

#[tokio::test]
async fn a_driver_cannot_be_born_before_1900() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    assert_violates(
        try_driver(db.pool(), u, "Ann", "Lee", "1899-12-31", None).await,
        rules::DRIVERS_DATE_OF_BIRTH_RANGE,
    );
}

#[tokio::test]
async fn a_driver_born_on_or_after_1900_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_driver(db.pool(), u, "Ann", "Lee", "1900-01-01", None)
        .await
        .expect("1900");
    try_driver(db.pool(), u, "Bo", "Lee", "2001-05-05", None)
        .await
        .expect("2001");
}

#[tokio::test]
async fn a_driver_cannot_be_licensed_before_being_born() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    assert_violates(
        try_driver(db.pool(), u, "Ann", "Lee", "1990-01-01", Some("1989-12-31")).await,
        rules::DRIVERS_LICENSED_AFTER_BIRTH,
    );
}

#[tokio::test]
async fn a_driver_licensed_after_birth_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_driver(db.pool(), u, "Ann", "Lee", "1990-01-01", Some("2006-03-01"))
        .await
        .expect("licensed");
}
