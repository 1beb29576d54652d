//! Rules of migration 0006 on rate change requests and on activating rates: the workflow, four
//! eyes, and "a rate becomes active only by applying an approved request".
//!
//! The admins and request helpers are here; the tests in `workflow` and `activation`.

use crate::common::refused;
use quotedb_schema::admin::rules;
use quotedb_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

mod activation;
mod workflow;

/// Two admins (admin_users ids): a requester and a reviewer; state CA exists.
struct Admins {
    requester: Uuid,
    reviewer: Uuid,
}

async fn admins(pool: &PgPool) -> Admins {
    sqlx::query("INSERT INTO states (code, name) VALUES ('CA', 'California') ON CONFLICT DO NOTHING")
        .execute(pool)
        .await
        .expect("state");
    let role: Uuid =
        sqlx::query_scalar("INSERT INTO admin_roles (name, description) VALUES ('rates', 'rate desk') RETURNING id")
            .fetch_one(pool)
            .await
            .expect("role");
    let admin = "WITH u AS (INSERT INTO users (email, full_name, role) VALUES ($1, $1, 'agent') RETURNING id)
                 INSERT INTO admin_users (user_id, role_id, mfa_required) SELECT id, $2, true FROM u RETURNING id";
    let requester = sqlx::query_scalar(admin)
        .bind("req@example.com")
        .bind(role)
        .fetch_one(pool)
        .await
        .expect("requester");
    let reviewer = sqlx::query_scalar(admin)
        .bind("rev@example.com")
        .bind(role)
        .fetch_one(pool)
        .await
        .expect("reviewer");
    Admins { requester, reviewer }
}

const BASE_PROPOSAL: &str =
    r#"{"state_code":"CA","coverage_type":"collision","base_amount":"512.40","effective_from":"2026-01-01"}"#;

/// A draft request proposing `proposal` for `kind`.
async fn draft(pool: &PgPool, a: &Admins, kind: &str, proposal: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO rate_change_requests (kind, proposed_change, justification, requested_by)
         VALUES ($1::rate_change_kind, $2::jsonb, 'annual filing', $3) RETURNING id",
    )
    .bind(kind)
    .bind(proposal)
    .bind(a.requester)
    .fetch_one(pool)
    .await
    .expect("draft request")
}

async fn submit(pool: &PgPool, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE rate_change_requests SET status = 'pending', submitted_at = now() WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(drop)
}

async fn review(pool: &PgPool, id: Uuid, status: &str, reviewer: Uuid, note: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE rate_change_requests SET status = $2::rate_change_status, reviewed_by = $3, reviewed_at = now(), review_note = $4
         WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(reviewer)
    .bind(note)
    .execute(pool)
    .await
    .map(drop)
}

/// A base-rate request taken to approved.
async fn approved(pool: &PgPool, a: &Admins, proposal: &str) -> Uuid {
    let id = draft(pool, a, "base_rate", proposal).await;
    submit(pool, id).await.expect("submit");
    review(pool, id, "approved", a.reviewer, None).await.expect("approve");
    id
}

async fn apply(pool: &PgPool, id: Uuid, by: Uuid) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar("SELECT apply_rate_change_request($1, $2)")
        .bind(id)
        .bind(by)
        .fetch_one(pool)
        .await
}

const ACTIVE_BASE_RATE: &str =
    "INSERT INTO base_rates (state_code, coverage_type, base_amount, effective, status, activated_by_request)
     VALUES ('CA', $2::coverage_type, $3::numeric, $4::daterange, 'active', $1)";
