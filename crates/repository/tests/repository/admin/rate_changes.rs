//! The four-eyes rate change workflow and applying (activating) rates.

use quotedb_repository::admin::rate_changes::ActivatedRate;
use quotedb_repository::admin::{
    BaseRateChange, DeactivationReason, ProposedChange, RateChangeError, RateChangeRequest, TerritoryFactorChange,
};
use quotedb_repository::schema::admin::permissions::{RATES_APPLY, RATES_APPROVE, RATES_PROPOSE};
use quotedb_repository::schema::admin::{RateChangeKind, RateChangeStatus, permissions};
use quotedb_repository::schema::quotes::CoverageType;
use quotedb_repository::{Actor, PageRequest, RateChangeRequestId, StateCode, Zip};
use rust_decimal_macros::dec;
use time::Date;
use time::macros::date;

use crate::common::admins::{TestAdmin, World};
use crate::common::rates as fx;

/// Two admins holding every rates permission (a requester and a reviewer) and state CA.
async fn desk(w: &World) -> (TestAdmin, TestAdmin) {
    fx::add_state(&w.repo, "CA", "California").await;
    let desk = fx::rate_desk(&w.repo).await;
    (desk.requester, desk.reviewer)
}

fn base_rate(coverage: CoverageType, from: Date) -> ProposedChange {
    fx::base_rate_change("CA", coverage, dec!(512.40), from, None)
}

/// A draft (proposed, not submitted) CA base rate change for `coverage` from 2031-01-01.
async fn proposed(w: &World, requester: &TestAdmin, coverage: CoverageType) -> RateChangeRequest {
    w.admin()
        .rate_changes()
        .propose(&requester.actor, &base_rate(coverage, date!(2031 - 01 - 01)), "filing")
        .await
        .expect("propose")
}

/// A pending (proposed and submitted) CA base rate change for `coverage` from `from`.
async fn pending(w: &World, requester: &TestAdmin, coverage: CoverageType, from: Date) -> RateChangeRequest {
    fx::pending(&w.repo, requester, &base_rate(coverage, from)).await
}

/// (status, activated_by_request, lower, upper) of a base rate row.
async fn base_rate_row(w: &World, id: uuid::Uuid) -> (String, Option<uuid::Uuid>, Date, Option<Date>) {
    sqlx::query_as(
        "SELECT status::text, activated_by_request, lower(effective), upper(effective) FROM base_rates WHERE id = $1",
    )
    .bind(id)
    .fetch_one(w.db.pool())
    .await
    .expect("base rate row")
}

#[tokio::test]
async fn a_rate_change_goes_from_draft_to_an_active_rate() {
    let w = World::new().await;
    let (requester, reviewer) = desk(&w).await;
    let rc = w.admin().rate_changes();
    let change = base_rate(CoverageType::Collision, date!(2031 - 01 - 01));

    let draft = rc
        .propose(&requester.actor, &change, "  annual filing ")
        .await
        .expect("propose");
    assert_eq!(draft.status, RateChangeStatus::Draft);
    assert_eq!(
        (draft.kind, draft.requested_by),
        (RateChangeKind::BaseRate, requester.account.id)
    );
    assert_eq!(draft.justification, "annual filing");
    assert_eq!(draft.proposal().expect("typed proposal"), change);
    assert_eq!(draft.submitted_at, None);

    let submitted = rc.submit(&requester.actor, draft.id).await.expect("submit");
    assert_eq!(submitted.status, RateChangeStatus::Pending);
    assert!(submitted.submitted_at.is_some());
    let queue = rc.list_pending(&PageRequest::first(100)).await.expect("queue");
    assert!(queue.items.iter().any(|r| r.id == draft.id));

    let approved = rc
        .approve(&reviewer.actor, draft.id, Some("matches the filing"))
        .await
        .expect("approve");
    assert_eq!(approved.status, RateChangeStatus::Approved);
    assert_eq!(approved.reviewed_by, Some(reviewer.account.id));
    assert_eq!(approved.review_note.as_deref(), Some("matches the filing"));
    assert!(
        !rc.list_pending(&PageRequest::first(100))
            .await
            .expect("queue")
            .items
            .iter()
            .any(|r| r.id == draft.id)
    );

    let ActivatedRate::BaseRate(rate) = rc.apply(&reviewer.actor, draft.id).await.expect("apply") else {
        panic!("a base rate request activates a base rate");
    };
    let (status, by, from, to) = base_rate_row(&w, rate.0).await;
    assert_eq!(status, "active");
    assert_eq!(by, Some(draft.id.0));
    assert_eq!((from, to), (date!(2031 - 01 - 01), None));
    let applied = rc.get(draft.id).await.expect("get");
    assert_eq!(applied.status, RateChangeStatus::Applied);
    assert_eq!(applied.applied_by, Some(reviewer.account.id));
}

#[tokio::test]
async fn applying_a_request_activates_the_rate_and_a_second_apply_is_refused() {
    let w = World::new().await;
    let (requester, reviewer) = desk(&w).await;
    let rc = w.admin().rate_changes();
    let first = pending(&w, &requester, CoverageType::Comprehensive, date!(2031 - 01 - 01)).await;
    rc.approve(&reviewer.actor, first.id, None).await.expect("approve");
    let ActivatedRate::BaseRate(first_rate) = rc.apply(&requester.actor, first.id).await.expect("apply") else {
        panic!("base rate expected");
    };

    let err = rc.apply(&requester.actor, first.id).await.expect_err("second apply");
    assert!(
        matches!(
            err,
            RateChangeError::NotApproved {
                status: RateChangeStatus::Applied,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        base_rate_row(&w, first_rate.0).await.0,
        "active",
        "the refused apply changed nothing"
    );

    // A later rate for the same state and coverage closes the earlier one where it starts.
    let second = pending(&w, &requester, CoverageType::Comprehensive, date!(2031 - 07 - 01)).await;
    rc.approve(&reviewer.actor, second.id, None).await.expect("approve");
    rc.apply(&reviewer.actor, second.id).await.expect("apply later rate");
    let (status, _, from, to) = base_rate_row(&w, first_rate.0).await;
    assert_eq!(
        (status.as_str(), from, to),
        ("active", date!(2031 - 01 - 01), Some(date!(2031 - 07 - 01)))
    );
}

#[tokio::test]
async fn a_territory_factor_change_is_applied() {
    let w = World::new().await;
    let (requester, reviewer) = desk(&w).await;
    let rc = w.admin().rate_changes();
    let change = ProposedChange::TerritoryFactor(TerritoryFactorChange {
        state_code: StateCode::parse("CA").expect("state"),
        zip: Zip::parse("90001").expect("zip"),
        city: "Los Angeles".into(),
        factor: dec!(1.350),
        effective_from: date!(2031 - 01 - 01),
        effective_to: Some(date!(2032 - 01 - 01)),
    });
    let request = fx::pending(&w.repo, &requester, &change).await;
    assert_eq!(request.kind, RateChangeKind::TerritoryFactor);
    rc.approve(&reviewer.actor, request.id, None).await.expect("approve");
    let ActivatedRate::TerritoryFactor(factor) = rc.apply(&reviewer.actor, request.id).await.expect("apply") else {
        panic!("territory factor expected");
    };
    let (status, value): (String, rust_decimal::Decimal) =
        sqlx::query_as("SELECT status::text, factor FROM territory_factors WHERE id = $1")
            .bind(factor.0)
            .fetch_one(w.db.pool())
            .await
            .expect("factor row");
    assert_eq!((status.as_str(), value), ("active", dec!(1.350)));
}

#[tokio::test]
async fn an_admin_cannot_approve_their_own_rate_change() {
    let w = World::new().await;
    let (requester, _) = desk(&w).await;
    let rc = w.admin().rate_changes();
    let request = pending(&w, &requester, CoverageType::Rental, date!(2031 - 01 - 01)).await;
    let err = rc
        .approve(&requester.actor, request.id, None)
        .await
        .expect_err("self approval");
    assert!(matches!(err, RateChangeError::SelfApprovalRefused), "{err:?}");
    let err = rc
        .reject(&requester.actor, request.id, "not good")
        .await
        .expect_err("self rejection");
    assert!(matches!(err, RateChangeError::SelfApprovalRefused), "{err:?}");
    assert_eq!(rc.get(request.id).await.expect("get").status, RateChangeStatus::Pending);
}

#[tokio::test]
async fn rejecting_a_rate_change_requires_a_note() {
    let w = World::new().await;
    let (requester, reviewer) = desk(&w).await;
    let rc = w.admin().rate_changes();
    let request = pending(&w, &requester, CoverageType::Roadside, date!(2031 - 01 - 01)).await;
    for blank in ["", "   "] {
        let err = rc
            .reject(&reviewer.actor, request.id, blank)
            .await
            .expect_err("no note");
        assert!(matches!(err, RateChangeError::RejectionNoteRequired), "{err:?}");
    }
    assert_eq!(rc.get(request.id).await.expect("get").status, RateChangeStatus::Pending);
    let rejected = rc
        .reject(&reviewer.actor, request.id, " loss ratio does not support +12% ")
        .await
        .expect("reject");
    assert_eq!(rejected.status, RateChangeStatus::Rejected);
    assert_eq!(
        rejected.review_note.as_deref(),
        Some("loss ratio does not support +12%")
    );
    let err = rc.apply(&reviewer.actor, request.id).await.expect_err("rejected");
    assert!(
        matches!(
            err,
            RateChangeError::NotApproved {
                status: RateChangeStatus::Rejected,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn only_the_requester_submits_or_withdraws() {
    let w = World::new().await;
    let (requester, reviewer) = desk(&w).await;
    let rc = w.admin().rate_changes();
    let draft = proposed(&w, &requester, CoverageType::MedicalPayments).await;
    let err = rc.submit(&reviewer.actor, draft.id).await.expect_err("not theirs");
    assert!(
        matches!(err, RateChangeError::NotRequester(id) if id == draft.id),
        "{err:?}"
    );
    let err = rc.withdraw(&reviewer.actor, draft.id).await.expect_err("not theirs");
    assert!(matches!(err, RateChangeError::NotRequester(_)), "{err:?}");
    assert_eq!(
        rc.withdraw(&requester.actor, draft.id).await.expect("withdraw").status,
        RateChangeStatus::Withdrawn
    );

    let request = pending(&w, &requester, CoverageType::MedicalPayments, date!(2032 - 01 - 01)).await;
    let withdrawn = rc
        .withdraw(&requester.actor, request.id)
        .await
        .expect("withdraw pending");
    assert_eq!(withdrawn.status, RateChangeStatus::Withdrawn);
    let err = rc
        .approve(&reviewer.actor, request.id, None)
        .await
        .expect_err("withdrawn");
    assert!(matches!(err, RateChangeError::TransitionRefused(_)), "{err:?}");
    let missing = RateChangeRequestId(uuid::Uuid::new_v4());
    let err = rc.submit(&requester.actor, missing).await.expect_err("missing");
    assert!(matches!(err, RateChangeError::NotFound(id) if id == missing), "{err:?}");
    let err = rc.apply(&requester.actor, missing).await.expect_err("missing");
    assert!(matches!(err, RateChangeError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn the_workflow_refuses_skipping_or_repeating_steps() {
    let w = World::new().await;
    let (requester, reviewer) = desk(&w).await;
    let rc = w.admin().rate_changes();
    let draft = proposed(&w, &requester, CoverageType::PropertyDamage).await;
    let err = rc
        .approve(&reviewer.actor, draft.id, None)
        .await
        .expect_err("approve a draft");
    assert!(matches!(err, RateChangeError::TransitionRefused(_)), "{err:?}");
    let err = rc.apply(&reviewer.actor, draft.id).await.expect_err("apply a draft");
    assert!(
        matches!(
            err,
            RateChangeError::NotApproved {
                status: RateChangeStatus::Draft,
                ..
            }
        ),
        "{err:?}"
    );
    rc.submit(&requester.actor, draft.id).await.expect("submit");
    let err = rc.submit(&requester.actor, draft.id).await.expect_err("submit twice");
    assert!(matches!(err, RateChangeError::TransitionRefused(_)), "{err:?}");
    let err = rc
        .apply(&reviewer.actor, draft.id)
        .await
        .expect_err("apply a pending one");
    assert!(
        matches!(
            err,
            RateChangeError::NotApproved {
                status: RateChangeStatus::Pending,
                ..
            }
        ),
        "{err:?}"
    );
    rc.approve(&reviewer.actor, draft.id, None).await.expect("approve");
    let err = rc
        .approve(&reviewer.actor, draft.id, None)
        .await
        .expect_err("approve twice");
    assert!(matches!(err, RateChangeError::TransitionRefused(_)), "{err:?}");
    let err = rc
        .withdraw(&requester.actor, draft.id)
        .await
        .expect_err("withdraw approved");
    assert!(matches!(err, RateChangeError::TransitionRefused(_)), "{err:?}");
}

#[tokio::test]
async fn each_step_needs_its_rates_permission() {
    let w = World::new().await;
    let (requester, _) = desk(&w).await;
    let nobody = w.admin_with(&[]).await;
    let proposer = w.admin_with(&[RATES_PROPOSE]).await;
    let approver = w.admin_with(&[RATES_APPROVE]).await;
    let rc = w.admin().rate_changes();
    let change = base_rate(CoverageType::Collision, date!(2033 - 01 - 01));

    let err = rc
        .propose(&nobody.actor, &change, "filing")
        .await
        .expect_err("no rates:propose");
    assert!(
        matches!(err, RateChangeError::MissingPermission(p) if p == RATES_PROPOSE),
        "{err:?}"
    );
    let draft = rc
        .propose(&proposer.actor, &change, "filing")
        .await
        .expect("proposer drafts");
    rc.submit(&proposer.actor, draft.id).await.expect("proposer submits");
    for actor in [&proposer.actor, &nobody.actor] {
        let err = rc.approve(actor, draft.id, None).await.expect_err("no rates:approve");
        assert!(
            matches!(err, RateChangeError::MissingPermission(p) if p == RATES_APPROVE),
            "{err:?}"
        );
        let err = rc.reject(actor, draft.id, "no").await.expect_err("no rates:approve");
        assert!(
            matches!(err, RateChangeError::MissingPermission(p) if p == RATES_APPROVE),
            "{err:?}"
        );
    }
    rc.approve(&approver.actor, draft.id, None)
        .await
        .expect("approver approves");
    let err = rc.apply(&approver.actor, draft.id).await.expect_err("no rates:apply");
    assert!(
        matches!(err, RateChangeError::MissingPermission(p) if p == RATES_APPLY),
        "{err:?}"
    );
    assert_eq!(rc.get(draft.id).await.expect("get").status, RateChangeStatus::Approved);
    rc.apply(&requester.actor, draft.id)
        .await
        .expect("an admin holding rates:apply applies");
}

#[tokio::test]
async fn only_an_active_unlocked_admin_acts_on_rate_changes() {
    let w = World::new().await;
    let (requester, reviewer) = desk(&w).await;
    let manager = w.admin_with(&[permissions::ADMIN_USERS_MANAGE]).await;
    let rc = w.admin().rate_changes();
    let change = base_rate(CoverageType::BodilyInjury, date!(2031 - 01 - 01));
    let request = fx::pending(&w.repo, &requester, &change).await;

    for actor in [Actor::System, Actor::Customer(w.user().await)] {
        let err = rc.propose(&actor, &change, "filing").await.expect_err("not an admin");
        assert!(matches!(err, RateChangeError::NotAnActiveAdmin), "{err:?}");
        let err = rc.approve(&actor, request.id, None).await.expect_err("not an admin");
        assert!(matches!(err, RateChangeError::NotAnActiveAdmin), "{err:?}");
    }

    let users = w.admin().users();
    for _ in 0..quotedb_repository::admin::users::DEFAULT_MAX_FAILED_LOGINS {
        users
            .record_login_failure(&Actor::System, reviewer.account.id)
            .await
            .expect("failure");
    }
    let err = rc.approve(&reviewer.actor, request.id, None).await.expect_err("locked");
    assert!(matches!(err, RateChangeError::Locked { .. }), "{err:?}");
    users.unlock(&Actor::System, reviewer.account.id).await.expect("unlock");
    rc.approve(&reviewer.actor, request.id, None)
        .await
        .expect("approve once unlocked");

    // Approved, but the would-be applier has been deactivated: refused before anything changes.
    let reason = DeactivationReason::parse("moved to another company").expect("reason");
    users
        .deactivate(&manager.actor, reviewer.account.id, &reason)
        .await
        .expect("deactivate");
    let err = rc.apply(&reviewer.actor, request.id).await.expect_err("deactivated");
    assert!(matches!(err, RateChangeError::NotAnActiveAdmin), "{err:?}");
    assert_eq!(
        rc.get(request.id).await.expect("get").status,
        RateChangeStatus::Approved
    );
}

#[tokio::test]
async fn invalid_proposals_are_refused_before_anything_is_written() {
    let w = World::new().await;
    let (requester, _) = desk(&w).await;
    let rc = w.admin().rate_changes();
    let bad = |amount| {
        ProposedChange::BaseRate(BaseRateChange {
            state_code: StateCode::parse("CA").expect("state"),
            coverage_type: CoverageType::Collision,
            base_amount: amount,
            effective_from: date!(2031 - 01 - 01),
            effective_to: None,
        })
    };
    for (change, field) in [(bad(dec!(0)), "base_amount"), (bad(dec!(10.001)), "base_amount")] {
        let err = rc.propose(&requester.actor, &change, "filing").await.expect_err(field);
        assert!(
            matches!(err, RateChangeError::Invalid(ref i) if i.field == field),
            "{err:?}"
        );
    }
    let err = rc
        .propose(&requester.actor, &bad(dec!(10)), "  ")
        .await
        .expect_err("no justification");
    assert!(
        matches!(err, RateChangeError::Invalid(ref i) if i.field == "justification"),
        "{err:?}"
    );
    let written: i64 = sqlx::query_scalar("SELECT count(*) FROM rate_change_requests WHERE requested_by = $1")
        .bind(requester.account.id.0)
        .fetch_one(w.db.pool())
        .await
        .expect("count");
    assert_eq!(written, 0, "nothing was written");
}

#[tokio::test]
async fn the_pending_queue_pages_oldest_submission_first() {
    let w = World::new().await;
    let (requester, _) = desk(&w).await;
    let rc = w.admin().rate_changes();
    let mut ours = Vec::new();
    for year in [2031, 2032, 2033] {
        let from = Date::from_calendar_date(year, time::Month::January, 1).expect("date");
        ours.push(
            fx::pending(&w.repo, &requester, &base_rate(CoverageType::UninsuredMotorist, from))
                .await
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut request = PageRequest::first(2);
    loop {
        let page = rc.list_pending(&request).await.expect("page");
        assert!(page.items.len() <= 2);
        assert!(page.items.iter().all(|r| r.status == RateChangeStatus::Pending));
        seen.extend(page.items.iter().map(|r| r.id).filter(|id| ours.contains(id)));
        match page.next_request(2) {
            Some(next) => request = next,
            None => break,
        }
    }
    assert_eq!(seen, ours, "submission order, each once");
}
