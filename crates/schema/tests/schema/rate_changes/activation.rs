//! activation: a rate becomes active only by applying an approved request

use super::*;

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
