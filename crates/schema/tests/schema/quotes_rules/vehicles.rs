//! vehicles

use super::*;

#[tokio::test]
async fn a_vehicle_must_belong_to_an_existing_user() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_vehicle(db.pool(), Uuid::new_v4(), VIN, "Honda", "Accord", 2020).await,
        rules::VEHICLES_USER_FK,
    );
}

#[tokio::test]
async fn a_well_formed_vin_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_vehicle(db.pool(), u, VIN, "Honda", "Accord", 2020)
        .await
        .expect("valid VIN");
}

#[tokio::test]
async fn model_years_1981_and_2100_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_vehicle(db.pool(), u, VIN, "Honda", "Accord", 1981)
        .await
        .expect("1981");
    try_vehicle(db.pool(), u, "JH4KA8260MC000000", "Acura", "Legend", 2100)
        .await
        .expect("2100");
}

#[tokio::test]
async fn a_user_cannot_register_the_same_vin_twice() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_vehicle(db.pool(), u, VIN, "Honda", "Accord", 2020)
        .await
        .expect("first");
    assert_violates(
        try_vehicle(db.pool(), u, VIN, "Honda", "Accord", 2020).await,
        rules::VEHICLES_USER_VIN_UNIQUE,
    );
}

#[tokio::test]
async fn two_users_can_register_the_same_vin() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let a = customer(db.pool()).await;
    let b = customer(db.pool()).await;
    try_vehicle(db.pool(), a, VIN, "Honda", "Accord", 2020)
        .await
        .expect("first owner");
    try_vehicle(db.pool(), b, VIN, "Honda", "Accord", 2020)
        .await
        .expect("second owner");
}
