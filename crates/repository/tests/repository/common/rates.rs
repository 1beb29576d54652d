//! The rating fixtures: reference rates activated the way the database demands, through the
//! four-eyes rate change workflow of `Db::admin().rate_changes()` (a requester proposes and
//! submits, a second admin approves and applies), discount/surcharge rules and the settings
//! rating reads.
//!
//! Robust to the reference seeds being present: the fixtures use their own test state `XT`
//! (so seeded CA/TX/NY rates never interfere), give a state-specific rule for EVERY discount
//! and surcharge code (a state rule overrides any seeded countrywide rule of the same code) and
//! upsert the settings.

use quotedb_repository::admin::rate_changes::ActivatedRate;
use quotedb_repository::admin::{BaseRateChange, ProposedChange, RateChangeRequest, TerritoryFactorChange};
use quotedb_repository::schema::admin::permissions::{RATES_APPLY, RATES_APPROVE, RATES_PROPOSE};
use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::{BaseRateId, Db, StateCode, TerritoryFactorId, Zip};
use quotedb_testkit::TestDb;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use time::Date;
use time::macros::date;

use super::admins::{TestAdmin, admin_in, role};
use super::set_setting;

/// The fixtures' own state.
pub const STATE: &str = "XT";
/// A ZIP of the test state with territory factor 1.200 ("Testville").
pub const ZIP: &str = "11111";
/// A second ZIP of the test state with territory factor 0.800 ("Lowtown").
pub const ZIP_LOW: &str = "22222";
/// First day of the fixture rates.
pub const EFFECTIVE_FROM: Date = date!(2020 - 01 - 01);

/// The fixture base rates (annual, dollars).
pub const BASE_RATES: [(CoverageType, Decimal); 8] = [
    (CoverageType::BodilyInjury, dec!(500.00)),
    (CoverageType::PropertyDamage, dec!(300.00)),
    (CoverageType::Collision, dec!(400.00)),
    (CoverageType::Comprehensive, dec!(200.00)),
    (CoverageType::UninsuredMotorist, dec!(100.00)),
    (CoverageType::MedicalPayments, dec!(50.00)),
    (CoverageType::Rental, dec!(30.00)),
    (CoverageType::Roadside, dec!(20.00)),
];

/// (code, percent, stackable) of the fixture discounts in the test state.
pub const DISCOUNTS: [(&str, &str, bool); 7] = [
    ("multi_policy", "10", true),
    ("good_driver", "15", true),
    ("good_student", "10", true),
    ("safe_vehicle", "5", true),
    ("anti_theft", "5", true),
    ("paperless", "3", true),
    ("loyalty", "20", false),
];

/// (code, percent) of the fixture surcharges in the test state.
pub const SURCHARGES: [(&str, &str); 5] = [
    ("at_fault_accident", "30"),
    ("speeding_violation", "15"),
    ("dui", "100"),
    ("young_driver", "25"),
    ("coverage_lapse", "10"),
];

/// Every rates permission.
pub const RATES: [&str; 3] = [RATES_PROPOSE, RATES_APPROVE, RATES_APPLY];

/// Two admins of one role holding every rates permission: the requester and the reviewer of
/// rate change requests (four eyes: nobody reviews their own).
#[derive(Debug, Clone)]
pub struct RateDesk {
    pub requester: TestAdmin,
    pub reviewer: TestAdmin,
}

pub fn state() -> StateCode {
    StateCode::parse(STATE).expect("state code")
}

pub fn zip() -> Zip {
    Zip::parse(ZIP).expect("zip")
}

/// State `code` exists. Raw SQL: the API has no call that creates a state (reference data).
pub async fn add_state(db: &Db, code: &str, name: &str) {
    sqlx::query("INSERT INTO states (code, name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(code)
        .bind(name)
        .execute(db.pool())
        .await
        .expect("state");
}

/// A new rate desk.
pub async fn rate_desk(db: &Db) -> RateDesk {
    let role = role(db, None, &RATES).await;
    RateDesk {
        requester: admin_in(db, &role).await,
        reviewer: admin_in(db, &role).await,
    }
}

/// `change` proposed and submitted by `requester`: a pending request.
pub async fn pending(db: &Db, requester: &TestAdmin, change: &ProposedChange) -> RateChangeRequest {
    let rc = db.admin().rate_changes();
    let draft = rc
        .propose(&requester.actor, change, "annual filing")
        .await
        .expect("propose");
    rc.submit(&requester.actor, draft.id).await.expect("submit")
}

/// Take `change` through the whole workflow: proposed and submitted by the requester, approved
/// and applied by the reviewer. Returns the activated rate.
pub async fn apply_change(db: &Db, desk: &RateDesk, change: &ProposedChange) -> ActivatedRate {
    let rc = db.admin().rate_changes();
    let request = pending(db, &desk.requester, change).await;
    rc.approve(&desk.reviewer.actor, request.id, Some("test fixture rate"))
        .await
        .expect("approve");
    rc.apply(&desk.reviewer.actor, request.id).await.expect("apply")
}

/// A base rate change in `state` from `from` (to `to`, exclusive).
pub fn base_rate_change(
    state: &str,
    coverage: CoverageType,
    amount: Decimal,
    from: Date,
    to: Option<Date>,
) -> ProposedChange {
    ProposedChange::BaseRate(BaseRateChange {
        state_code: StateCode::parse(state).expect("state"),
        coverage_type: coverage,
        base_amount: amount,
        effective_from: from,
        effective_to: to,
    })
}

/// Activate a base rate through the workflow.
pub async fn base_rate(
    db: &Db,
    desk: &RateDesk,
    state: &str,
    coverage: CoverageType,
    amount: Decimal,
    from: Date,
    to: Option<Date>,
) -> BaseRateId {
    let change = base_rate_change(state, coverage, amount, from, to);
    match apply_change(db, desk, &change).await {
        ActivatedRate::BaseRate(id) => id,
        other => panic!("a base rate change activated {other:?}"),
    }
}

/// Activate a territory factor (from [`EFFECTIVE_FROM`]) through the workflow.
pub async fn territory(
    db: &Db,
    desk: &RateDesk,
    state: &str,
    zip: &str,
    city: &str,
    factor: Decimal,
) -> TerritoryFactorId {
    let change = ProposedChange::TerritoryFactor(TerritoryFactorChange {
        state_code: StateCode::parse(state).expect("state"),
        zip: Zip::parse(zip).expect("zip"),
        city: city.into(),
        factor,
        effective_from: EFFECTIVE_FROM,
        effective_to: None,
    });
    match apply_change(db, desk, &change).await {
        ActivatedRate::TerritoryFactor(id) => id,
        other => panic!("a territory factor change activated {other:?}"),
    }
}

/// A second state, `XU` ("Second Testland"), with one territory (ZIP `33333`, "Onlytown",
/// factor 1.000) and a collision base rate of 100 only: no other coverage, no rules of its own.
pub async fn collision_only_state(db: &Db) {
    add_state(db, "XU", "Second Testland").await;
    let desk = rate_desk(db).await;
    territory(db, &desk, "XU", "33333", "Onlytown", dec!(1.000)).await;
    base_rate(
        db,
        &desk,
        "XU",
        CoverageType::Collision,
        dec!(100),
        EFFECTIVE_FROM,
        None,
    )
    .await;
}

/// A fresh seeded database with the fixtures of [`install_rates`].
pub async fn setup() -> (TestDb, Db) {
    let (tdb, db) = super::setup().await;
    install_rates(&db).await;
    (tdb, db)
}

/// Everything rating needs in the test state: the state, the 8 base rates, two territories,
/// every discount and surcharge code as an active state rule, discount cap 0.35, validity 30 days.
pub async fn install_rates(db: &Db) -> RateDesk {
    add_state(db, STATE, "Testland (fixtures)").await;
    let desk = rate_desk(db).await;
    for (coverage, amount) in BASE_RATES {
        base_rate(db, &desk, STATE, coverage, amount, EFFECTIVE_FROM, None).await;
    }
    territory(db, &desk, STATE, ZIP, "Testville", dec!(1.200)).await;
    territory(db, &desk, STATE, ZIP_LOW, "Lowtown", dec!(0.800)).await;
    // Raw SQL: the API reads discount and surcharge rules (`rating().resolve`) but has no call
    // that writes one.
    for (code, percent, stackable) in DISCOUNTS {
        sqlx::query(
            "INSERT INTO discount_rules (code, state_code, percent, stackable, eligibility, description, active)
             VALUES ($1::discount_code, $2, $3::numeric, $4, '{\"fixture\": true}', 'test fixture discount', true)",
        )
        .bind(code)
        .bind(STATE)
        .bind(percent)
        .bind(stackable)
        .execute(db.pool())
        .await
        .expect("discount rule");
    }
    for (code, percent) in SURCHARGES {
        sqlx::query(
            "INSERT INTO surcharge_rules (code, state_code, percent, conditions, description, active)
             VALUES ($1::surcharge_code, $2, $3::numeric, '{\"fixture\": true}', 'test fixture surcharge', true)",
        )
        .bind(code)
        .bind(STATE)
        .bind(percent)
        .execute(db.pool())
        .await
        .expect("surcharge rule");
    }
    set_setting(db, "rating.discount_cap", serde_json::json!(0.35)).await;
    set_setting(db, "quotes.validity_days", serde_json::json!(30)).await;
    desk
}
