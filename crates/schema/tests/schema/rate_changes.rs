//! Rules of migration 0006 on rate change requests and on activating rates: the workflow, four
//! eyes, and "a rate becomes active only by applying an approved request".

use crate::common::refused;
use quotedb_schema::admin::rules;
use quotedb_testkit::TestDb;
use sqlx::PgPool;
use uuid::Uuid;

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

#[tokio::test]
async fn an_admin_cannot_approve_their_own_rate_change() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let a = admins(db.pool()).await;
    let id = draft(db.pool(), &a, "base_rate", BASE_PROPOSAL).await;
    submit(db.pool(), id).await.expect("submit");
    assert_eq!(
        refused(review(db.pool(), id, "approved", a.requester, None).await),
        rules::RATE_CHANGE_REQUESTS_FOUR_EYES
    );
    review(db.pool(), id, "approved", a.reviewer, None)
        .await
        .expect("another admin approves");
}

#[tokio::test]
async fn rejecting_a_rate_change_requires_a_note() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let a = admins(db.pool()).await;
    let id = draft(db.pool(), &a, "base_rate", BASE_PROPOSAL).await;
    submit(db.pool(), id).await.expect("submit");
    for note in [None, Some("   ")] {
        assert_eq!(
            refused(review(db.pool(), id, "rejected", a.reviewer, note).await),
            rules::RATE_CHANGE_REQUESTS_REJECTION_NOTE
        );
    }
    review(
        db.pool(),
        id,
        "rejected",
        a.reviewer,
        Some("loss ratio does not support it"),
    )
    .await
    .expect("reject with a note");
}

#[tokio::test]
async fn a_rate_change_request_starts_as_draft_and_moves_only_along_the_allowed_transitions() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let a = admins(p).await;
    let insert_pending =
        "INSERT INTO rate_change_requests (kind, proposed_change, justification, requested_by, status, submitted_at)
                          VALUES ('base_rate', $1::jsonb, 'x', $2, 'pending', now())";
    assert_eq!(
        refused(
            sqlx::query(insert_pending)
                .bind(BASE_PROPOSAL)
                .bind(a.requester)
                .execute(p)
                .await
        ),
        rules::RATE_CHANGE_REQUESTS_STATUS_TRANSITION
    );
    let skip = draft(p, &a, "base_rate", BASE_PROPOSAL).await;
    let err = sqlx::query("UPDATE rate_change_requests SET status = 'approved', submitted_at = now(), reviewed_by = $2, reviewed_at = now() WHERE id = $1")
        .bind(skip).bind(a.reviewer).execute(p).await;
    assert_eq!(
        refused(err),
        rules::RATE_CHANGE_REQUESTS_STATUS_TRANSITION,
        "draft cannot jump to approved"
    );
    let withdrawn = draft(p, &a, "base_rate", BASE_PROPOSAL).await;
    submit(p, withdrawn).await.expect("submit");
    sqlx::query("UPDATE rate_change_requests SET status = 'withdrawn' WHERE id = $1")
        .bind(withdrawn)
        .execute(p)
        .await
        .expect("pending -> withdrawn");
    let resubmit = sqlx::query("UPDATE rate_change_requests SET status = 'pending' WHERE id = $1")
        .bind(withdrawn)
        .execute(p)
        .await;
    assert_eq!(
        refused(resubmit),
        rules::RATE_CHANGE_REQUESTS_STATUS_TRANSITION,
        "withdrawn is terminal"
    );
    let done = approved(p, &a, BASE_PROPOSAL).await;
    apply(p, done, a.requester).await.expect("approved -> applied");
    let back = sqlx::query("UPDATE rate_change_requests SET status = 'approved' WHERE id = $1")
        .bind(done)
        .execute(p)
        .await;
    assert_eq!(
        refused(back),
        rules::RATE_CHANGE_REQUESTS_STATUS_TRANSITION,
        "applied is terminal"
    );
}

#[tokio::test]
async fn submission_review_and_application_are_recorded_in_order() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let a = admins(p).await;
    let id = draft(p, &a, "base_rate", BASE_PROPOSAL).await;
    let set = |sql: &'static str| sqlx::query(sql).bind(id).bind(a.reviewer);
    let no_time = set("UPDATE rate_change_requests SET status = 'pending' WHERE id = $1 AND $2 IS NOT NULL")
        .execute(p)
        .await;
    assert_eq!(refused(no_time), rules::RATE_CHANGE_REQUESTS_SUBMISSION_RECORDED);
    submit(p, id).await.expect("submit");
    let unnamed = set("UPDATE rate_change_requests SET status = 'approved' WHERE id = $1 AND $2 IS NOT NULL")
        .execute(p)
        .await;
    assert_eq!(refused(unnamed), rules::RATE_CHANGE_REQUESTS_REVIEW_RECORDED);
    let premature = set("UPDATE rate_change_requests SET reviewed_by = $2, reviewed_at = now() WHERE id = $1")
        .execute(p)
        .await;
    assert_eq!(
        refused(premature),
        rules::RATE_CHANGE_REQUESTS_REVIEW_RECORDED,
        "a pending request has no reviewer"
    );
    let backdated = set("UPDATE rate_change_requests SET status = 'approved', reviewed_by = $2, reviewed_at = submitted_at - interval '1 day' WHERE id = $1").execute(p).await;
    assert_eq!(refused(backdated), rules::RATE_CHANGE_REQUESTS_TIMELINE_ORDER);
    review(p, id, "approved", a.reviewer, None).await.expect("approve");
    let unapplied = set("UPDATE rate_change_requests SET status = 'applied' WHERE id = $1 AND $2 IS NOT NULL")
        .execute(p)
        .await;
    assert_eq!(refused(unapplied), rules::RATE_CHANGE_REQUESTS_APPLICATION_RECORDED);
}

#[tokio::test]
async fn a_submitted_proposal_and_a_recorded_review_cannot_be_rewritten() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let a = admins(p).await;
    let id = draft(p, &a, "base_rate", BASE_PROPOSAL).await;
    let edit = "UPDATE rate_change_requests SET proposed_change = jsonb_set(proposed_change, '{base_amount}', to_jsonb($2::text)) WHERE id = $1";
    sqlx::query(edit)
        .bind(id)
        .bind("530.00")
        .execute(p)
        .await
        .expect("a draft is editable");
    submit(p, id).await.expect("submit");
    assert_eq!(
        refused(sqlx::query(edit).bind(id).bind("999.00").execute(p).await),
        rules::RATE_CHANGE_REQUESTS_HISTORY_FROZEN
    );
    review(p, id, "approved", a.reviewer, None).await.expect("approve");
    let swap = sqlx::query("UPDATE rate_change_requests SET review_note = 'changed my mind' WHERE id = $1")
        .bind(id)
        .execute(p)
        .await;
    assert_eq!(refused(swap), rules::RATE_CHANGE_REQUESTS_HISTORY_FROZEN);
}

#[tokio::test]
async fn a_request_carries_what_applying_it_needs() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let a = admins(p).await;
    let insert = "INSERT INTO rate_change_requests (kind, proposed_change, justification, requested_by, base_rate_id, territory_factor_id)
                  VALUES ($1::rate_change_kind, $2::jsonb, $3, $4, $5, $6)";
    let territory =
        r#"{"state_code":"CA","zip":"90001","city":"Los Angeles","factor":1.25,"effective_from":"2026-01-01"}"#;
    let none = None::<Uuid>;
    let proposed_rate: Uuid = sqlx::query_scalar("INSERT INTO base_rates (state_code, coverage_type, base_amount, effective) VALUES ('CA', 'collision', 512.40, '[2026-01-01,)') RETURNING id")
        .fetch_one(p).await.expect("proposed rate");
    for (kind, proposal, why, who, base, terr, rule) in [
        (
            "base_rate",
            r#"{"state_code":"CA"}"#,
            "x",
            a.requester,
            none,
            none,
            rules::RATE_CHANGE_REQUESTS_PROPOSED_CHANGE_SHAPE,
        ),
        (
            "territory_factor",
            BASE_PROPOSAL,
            "x",
            a.requester,
            none,
            none,
            rules::RATE_CHANGE_REQUESTS_PROPOSED_CHANGE_SHAPE,
        ),
        (
            "base_rate",
            BASE_PROPOSAL,
            " ",
            a.requester,
            none,
            none,
            rules::RATE_CHANGE_REQUESTS_JUSTIFICATION_PRESENT,
        ),
        (
            "territory_factor",
            territory,
            "x",
            a.requester,
            Some(proposed_rate),
            none,
            rules::RATE_CHANGE_REQUESTS_TARGET_MATCHES_KIND,
        ),
        (
            "base_rate",
            BASE_PROPOSAL,
            "x",
            Uuid::new_v4(),
            none,
            none,
            rules::RATE_CHANGE_REQUESTS_REQUESTED_BY_FK,
        ),
        (
            "base_rate",
            BASE_PROPOSAL,
            "x",
            a.requester,
            Some(Uuid::new_v4()),
            none,
            rules::RATE_CHANGE_REQUESTS_BASE_RATE_FK,
        ),
        (
            "territory_factor",
            territory,
            "x",
            a.requester,
            none,
            Some(Uuid::new_v4()),
            rules::RATE_CHANGE_REQUESTS_TERRITORY_FACTOR_FK,
        ),
    ] {
        let err = sqlx::query(insert)
            .bind(kind)
            .bind(proposal)
            .bind(why)
            .bind(who)
            .bind(base)
            .bind(terr)
            .execute(p)
            .await;
        assert_eq!(refused(err), rule, "{kind} {proposal}");
    }
    sqlx::query(insert)
        .bind("base_rate")
        .bind(BASE_PROPOSAL)
        .bind("x")
        .bind(a.requester)
        .bind(Some(proposed_rate))
        .bind(none)
        .execute(p)
        .await
        .expect("valid request naming its proposed row");
    let err = sqlx::query("DELETE FROM base_rates WHERE id = $1")
        .bind(proposed_rate)
        .execute(p)
        .await;
    assert_eq!(
        refused(err),
        rules::RATE_CHANGE_REQUESTS_BASE_RATE_FK,
        "a rate named by a request stays"
    );
}

#[tokio::test]
async fn admins_with_rate_change_history_cannot_be_deleted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let a = admins(p).await;
    let id = approved(p, &a, BASE_PROPOSAL).await;
    let delete = "DELETE FROM admin_users WHERE id = $1";
    assert_eq!(
        refused(sqlx::query(delete).bind(a.requester).execute(p).await),
        rules::RATE_CHANGE_REQUESTS_REQUESTED_BY_FK
    );
    assert_eq!(
        refused(sqlx::query(delete).bind(a.reviewer).execute(p).await),
        rules::RATE_CHANGE_REQUESTS_REVIEWED_BY_FK
    );
    assert_eq!(
        refused(apply(p, id, Uuid::new_v4()).await),
        rules::RATE_CHANGE_REQUESTS_APPLIED_BY_FK
    );
}

#[tokio::test]
async fn a_base_rate_cannot_be_activated_without_an_approved_request() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let a = admins(p).await;
    let pending = draft(p, &a, "base_rate", BASE_PROPOSAL).await;
    submit(p, pending).await.expect("submit");
    let ok = approved(p, &a, BASE_PROPOSAL).await;
    for (request, coverage, amount, period, why) in [
        (None, "collision", "512.40", "[2026-01-01,)", "no request"),
        (
            Some(pending),
            "collision",
            "512.40",
            "[2026-01-01,)",
            "request still pending",
        ),
        (
            Some(ok),
            "collision",
            "600.00",
            "[2026-01-01,)",
            "amount not the approved one",
        ),
        (
            Some(ok),
            "comprehensive",
            "512.40",
            "[2026-01-01,)",
            "coverage not the approved one",
        ),
        (
            Some(ok),
            "collision",
            "512.40",
            "[2026-02-01,)",
            "period not the approved one",
        ),
    ] {
        let err = sqlx::query(ACTIVE_BASE_RATE)
            .bind(request)
            .bind(coverage)
            .bind(amount)
            .bind(period)
            .execute(p)
            .await;
        assert_eq!(
            refused(err),
            rules::BASE_RATES_ACTIVATION_REQUIRES_APPROVED_REQUEST,
            "{why}"
        );
    }
    assert_eq!(
        refused(apply(p, pending, a.requester).await),
        rules::BASE_RATES_ACTIVATION_REQUIRES_APPROVED_REQUEST
    );
    let unknown = "INSERT INTO base_rates (state_code, coverage_type, base_amount, effective, activated_by_request)
                   VALUES ('CA', 'collision', 1, '[2030-01-01,)', $1)";
    assert_eq!(
        refused(sqlx::query(unknown).bind(Uuid::new_v4()).execute(p).await),
        rules::BASE_RATES_ACTIVATED_BY_REQUEST_FK
    );
}

#[tokio::test]
async fn an_approved_request_activates_exactly_the_rate_it_describes_and_only_once() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let a = admins(p).await;
    let id = approved(p, &a, BASE_PROPOSAL).await;
    let rate = apply(p, id, a.reviewer).await.expect("apply");
    let (status, amount, request_status): (String, rust_decimal::Decimal, String) = sqlx::query_as(
        "SELECT b.status::text, b.base_amount, r.status::text FROM base_rates b JOIN rate_change_requests r ON r.id = b.activated_by_request WHERE b.id = $1",
    )
    .bind(rate)
    .fetch_one(p)
    .await
    .expect("activated rate");
    assert_eq!(
        (status.as_str(), amount.to_string().as_str(), request_status.as_str()),
        ("active", "512.40", "applied")
    );
    let again = sqlx::query(ACTIVE_BASE_RATE)
        .bind(Some(id))
        .bind("collision")
        .bind("512.40")
        .bind("[2027-01-01,)")
        .execute(p)
        .await;
    assert_eq!(
        refused(again),
        rules::BASE_RATES_ACTIVATION_REQUIRES_APPROVED_REQUEST,
        "an applied request is spent"
    );
}

#[tokio::test]
async fn applying_a_newer_rate_closes_the_running_one_and_retires_a_superseded_future_one() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let a = admins(p).await;
    let running = approved(
        p,
        &a,
        r#"{"state_code":"CA","coverage_type":"collision","base_amount":"500","effective_from":"2025-01-01"}"#,
    )
    .await;
    let future = approved(
        p,
        &a,
        r#"{"state_code":"CA","coverage_type":"collision","base_amount":"520","effective_from":"2026-06-01"}"#,
    )
    .await;
    let newer = approved(p, &a, BASE_PROPOSAL).await;
    for id in [running, future, newer] {
        apply(p, id, a.reviewer).await.expect("apply");
    }
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT base_amount::text, effective::text, status::text FROM base_rates ORDER BY lower(effective)",
    )
    .fetch_all(p)
    .await
    .expect("rates");
    let expected = [
        ("500.00", "[2025-01-01,2026-01-01)", "active"),
        ("512.40", "[2026-01-01,)", "active"),
        ("520.00", "[2026-06-01,)", "retired"),
    ];
    let rows: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(a, e, s)| (a.as_str(), e.as_str(), s.as_str()))
        .collect();
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn a_territory_factor_cannot_be_activated_without_an_approved_request() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let a = admins(p).await;
    let insert =
        "INSERT INTO territory_factors (state_code, zip, city, factor, effective, status, activated_by_request)
                  VALUES ('CA', '90001', 'Los Angeles', 1.250, '[2026-01-01,)', $1::rate_status, $2)";
    let wrong_kind = approved(p, &a, BASE_PROPOSAL).await;
    for request in [None, Some(wrong_kind)] {
        let err = sqlx::query(insert).bind("active").bind(request).execute(p).await;
        assert_eq!(
            refused(err),
            rules::TERRITORY_FACTORS_ACTIVATION_REQUIRES_APPROVED_REQUEST
        );
    }
    let err = sqlx::query(insert)
        .bind("proposed")
        .bind(Some(Uuid::new_v4()))
        .execute(p)
        .await;
    assert_eq!(refused(err), rules::TERRITORY_FACTORS_ACTIVATED_BY_REQUEST_FK);
}

#[tokio::test]
async fn applying_a_territory_request_activates_the_proposed_row_it_names() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let p = db.pool();
    let a = admins(p).await;
    let row: Uuid = sqlx::query_scalar(
        "INSERT INTO territory_factors (state_code, zip, city, factor, effective) VALUES ('CA', '90001', 'Los Angeles', 1.250, '[2026-01-01,)') RETURNING id",
    )
    .fetch_one(p)
    .await
    .expect("proposed factor");
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO rate_change_requests (kind, proposed_change, justification, requested_by, territory_factor_id)
         VALUES ('territory_factor', '{\"state_code\":\"CA\",\"zip\":\"90001\",\"city\":\"Los Angeles\",\"factor\":1.25,\"effective_from\":\"2026-01-01\"}', 'new territory', $1, $2)
         RETURNING id",
    )
    .bind(a.requester)
    .bind(row)
    .fetch_one(p)
    .await
    .expect("request");
    submit(p, id).await.expect("submit");
    review(p, id, "approved", a.reviewer, None).await.expect("approve");
    assert_eq!(apply(p, id, a.requester).await.expect("apply"), row);
    let status: String = sqlx::query_scalar("SELECT status::text FROM territory_factors WHERE id = $1")
        .bind(row)
        .fetch_one(p)
        .await
        .expect("status");
    assert_eq!(status, "active");
}
