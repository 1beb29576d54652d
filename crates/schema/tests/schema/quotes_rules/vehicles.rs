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
async fn deleting_a_user_deletes_their_vehicles() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    try_vehicle(db.pool(), u, VIN, "Honda", "Accord", 2020)
        .await
        .expect("vehicle");
    assert_cascades(
        db.pool(),
        "DELETE FROM users WHERE id = $1",
        u,
        "SELECT count(*) FROM vehicles WHERE user_id = $1",
    )
    .await;
}

#[tokio::test]
async fn a_vin_cannot_contain_i_o_or_q() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    for vin in ["1HGCM82633A00435I", "1HGCM82633A00435O", "1HGCM82633A00435Q"] {
        assert_violates(
            try_vehicle(db.pool(), u, vin, "Honda", "Accord", 2020).await,
            rules::VEHICLES_VIN_FORMAT,
        );
    }
}

#[tokio::test]
async fn a_vin_must_be_17_upper_case_characters() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    for vin in ["1HGCM82633A00435", "1hgcm82633a004352", "1HGCM82633A0043-2"] {
        assert_violates(
            try_vehicle(db.pool(), u, vin, "Honda", "Accord", 2020).await,
            rules::VEHICLES_VIN_FORMAT,
        );
    }
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
async fn a_model_year_outside_1981_to_2100_is_refused() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    for year in [1980, 2101] {
        assert_violates(
            try_vehicle(db.pool(), u, VIN, "Honda", "Accord", year).await,
            rules::VEHICLES_MODEL_YEAR_RANGE,
        );
    }
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
async fn a_vehicle_must_have_a_make_and_model() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let u = customer(db.pool()).await;
    assert_violates(
        try_vehicle(db.pool(), u, VIN, " ", "Accord", 2020).await,
        rules::VEHICLES_MAKE_MODEL_NOT_BLANK,
    );
    assert_violates(
        try_vehicle(db.pool(), u, VIN, "Honda", "", 2020).await,
        rules::VEHICLES_MAKE_MODEL_NOT_BLANK,
    );
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
