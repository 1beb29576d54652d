//! Test fixtures shared by the users, rating and quotes tests: reference rates created the way
//! the database demands (rate change requests: draft → pending → approved by another admin →
//! `apply_rate_change_request`), discount/surcharge rules and the settings rating reads.
//!
//! Robust to the reference seeds being present: the fixtures use their own test state `XT`
//! (so seeded CA/TX/NY rates never interfere), give a state-specific rule for EVERY discount
//! and surcharge code (a state rule overrides any seeded countrywide rule of the same code) and
//! upsert the settings.

use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::users::NewUser;
use quotedb_repository::{Actor, Db, Email, StateCode, UserId, Zip};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::PgPool;
use uuid::Uuid;

/// The fixtures' own state.
pub const STATE: &str = "XT";
/// A ZIP of the test state with territory factor 1.200 ("Testville").
pub const ZIP: &str = "11111";
/// A second ZIP of the test state with territory factor 0.800 ("Lowtown").
pub const ZIP_LOW: &str = "22222";
/// First day of the fixture rates.
pub const EFFECTIVE_FROM: &str = "2020-01-01";

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

/// Two admins (admin_users ids): requester and reviewer of rate change requests.
#[derive(Debug, Clone, Copy)]
pub struct Admins {
    pub requester: Uuid,
    pub reviewer: Uuid,
}

/// A fresh, unique e-mail address.
pub fn email(tag: &str) -> Email {
    Email::parse(&format!("{tag}-{}@example.com", Uuid::new_v4().simple())).expect("valid e-mail")
}

pub fn state() -> StateCode {
    StateCode::parse(STATE).expect("state code")
}

pub fn zip() -> Zip {
    Zip::parse(ZIP).expect("zip")
}

/// The test state and two admins.
pub async fn admins(pool: &PgPool) -> Admins {
    sqlx::query("INSERT INTO states (code, name) VALUES ($1, 'Testland (fixtures)') ON CONFLICT DO NOTHING")
        .bind(STATE)
        .execute(pool)
        .await
        .expect("state");
    let role: Uuid = sqlx::query_scalar(
        "INSERT INTO admin_roles (name, description) VALUES ($1, 'rate desk (test fixtures)') RETURNING id",
    )
    .bind(format!("test_role_{}", Uuid::new_v4().simple()))
    .fetch_one(pool)
    .await
    .expect("admin role");
    let admin = "WITH u AS (INSERT INTO users (email, full_name, role) VALUES ($1, 'Rate Admin', 'agent') RETURNING id)
                 INSERT INTO admin_users (user_id, role_id, mfa_required) SELECT id, $2, false FROM u RETURNING id";
    let mut ids = Vec::new();
    for tag in ["requester", "reviewer"] {
        let id: Uuid = sqlx::query_scalar(admin)
            .bind(email(tag).as_str())
            .bind(role)
            .fetch_one(pool)
            .await
            .expect("admin user");
        ids.push(id);
    }
    Admins {
        requester: ids[0],
        reviewer: ids[1],
    }
}

/// Take a rate change request through the whole workflow; returns the activated row id.
pub async fn apply_change(pool: &PgPool, admins: Admins, kind: &str, proposal: serde_json::Value) -> Uuid {
    let mut tx = pool.begin().await.expect("begin");
    let request: Uuid = sqlx::query_scalar(
        "INSERT INTO rate_change_requests (kind, proposed_change, justification, requested_by)
         VALUES ($1::rate_change_kind, $2, 'test fixture rate', $3) RETURNING id",
    )
    .bind(kind)
    .bind(&proposal)
    .bind(admins.requester)
    .fetch_one(&mut *tx)
    .await
    .expect("draft request");
    sqlx::query("UPDATE rate_change_requests SET status = 'pending', submitted_at = now() WHERE id = $1")
        .bind(request)
        .execute(&mut *tx)
        .await
        .expect("submit request");
    sqlx::query(
        "UPDATE rate_change_requests SET status = 'approved', reviewed_by = $2, reviewed_at = now() WHERE id = $1",
    )
    .bind(request)
    .bind(admins.reviewer)
    .execute(&mut *tx)
    .await
    .expect("approve request");
    let activated: Uuid = sqlx::query_scalar("SELECT apply_rate_change_request($1, $2)")
        .bind(request)
        .bind(admins.reviewer)
        .fetch_one(&mut *tx)
        .await
        .expect("apply request");
    tx.commit().await.expect("commit");
    activated
}

/// Activate a base rate through the workflow.
pub async fn base_rate(
    pool: &PgPool,
    admins: Admins,
    state: &str,
    coverage: CoverageType,
    amount: Decimal,
    from: &str,
    to: Option<&str>,
) -> Uuid {
    let mut proposal = serde_json::json!({
        "state_code": state,
        "coverage_type": coverage.as_str(),
        "base_amount": amount.to_string(),
        "effective_from": from,
    });
    if let Some(to) = to {
        proposal["effective_to"] = serde_json::json!(to);
    }
    apply_change(pool, admins, "base_rate", proposal).await
}

/// Activate a territory factor through the workflow.
pub async fn territory(pool: &PgPool, admins: Admins, state: &str, zip: &str, city: &str, factor: &str) -> Uuid {
    apply_change(
        pool,
        admins,
        "territory_factor",
        serde_json::json!({
            "state_code": state, "zip": zip, "city": city, "factor": factor, "effective_from": EFFECTIVE_FROM,
        }),
    )
    .await
}

/// Upsert a non-sensitive number setting.
pub async fn number_setting(pool: &PgPool, key: &str, value: serde_json::Value) {
    sqlx::query(
        "INSERT INTO system_settings (key, value, value_type, description, is_sensitive)
         VALUES ($1, $2, 'number', 'set by the quotes test fixtures', false)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, value_type = 'number', is_sensitive = false",
    )
    .bind(key)
    .bind(value)
    .execute(pool)
    .await
    .expect("setting");
}

/// Remove a setting.
pub async fn delete_setting(pool: &PgPool, key: &str) {
    sqlx::query("DELETE FROM system_settings WHERE key = $1")
        .bind(key)
        .execute(pool)
        .await
        .expect("delete setting");
}

/// Everything rating needs in the test state: the 8 base rates, two territories, every discount
/// and surcharge code as an active state rule, discount cap 0.35, validity 30 days.
pub async fn install_rates(pool: &PgPool) -> Admins {
    let a = admins(pool).await;
    for (coverage, amount) in BASE_RATES {
        base_rate(pool, a, STATE, coverage, amount, EFFECTIVE_FROM, None).await;
    }
    territory(pool, a, STATE, ZIP, "Testville", "1.200").await;
    territory(pool, a, STATE, ZIP_LOW, "Lowtown", "0.800").await;
    for (code, percent, stackable) in DISCOUNTS {
        sqlx::query(
            "INSERT INTO discount_rules (code, state_code, percent, stackable, eligibility, description, active)
             VALUES ($1::discount_code, $2, $3::numeric, $4, '{\"fixture\": true}', 'test fixture discount', true)",
        )
        .bind(code)
        .bind(STATE)
        .bind(percent)
        .bind(stackable)
        .execute(pool)
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
        .execute(pool)
        .await
        .expect("surcharge rule");
    }
    number_setting(pool, "rating.discount_cap", serde_json::json!(0.35)).await;
    number_setting(pool, "quotes.validity_days", serde_json::json!(30)).await;
    a
}

/// A customer created through the public API.
pub async fn customer(db: &Db, tag: &str) -> UserId {
    db.users()
        .create_customer(&NewUser {
            email: email(tag),
            full_name: format!("Customer {tag}"),
            phone: None,
        })
        .await
        .expect("customer")
        .id
}

/// An agent created through the public API.
pub async fn agent(db: &Db, tag: &str) -> UserId {
    db.users()
        .create_agent(
            &Actor::System,
            &NewUser {
                email: email(tag),
                full_name: format!("Agent {tag}"),
                phone: None,
            },
        )
        .await
        .expect("agent")
        .id
}

/// The actor of a customer.
pub fn as_customer(id: UserId) -> Actor {
    Actor::Customer(id)
}
