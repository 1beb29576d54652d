//! the request workflow: four eyes, transitions, the recorded trail

use super::*;

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
