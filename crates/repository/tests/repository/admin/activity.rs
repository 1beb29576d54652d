//! The risk-scored activity log: explainable scores, the high-risk page, RLS.
//!
//! Scores may include `off_hours` depending on when the test runs, so assertions hold either way.

use std::net::IpAddr;

use quotedb_repository::admin::activity::SETTINGS_RESOURCE;
use quotedb_repository::admin::risk::HIGH_RISK_THRESHOLD;
use quotedb_repository::admin::{ActivityEntry, ActivityError, NewActivity, RiskFactorCode, SettingKey};
use quotedb_repository::schema::admin::{AdminPermissionRiskLevel, permissions};
use quotedb_repository::{Actor, AdminUserId, PageRequest};

use crate::common::admins::{TestAdmin, World};
use crate::common::unique;

/// A sensitive setting (written by the System) to act on.
async fn sensitive_setting(w: &World) -> SettingKey {
    let key = SettingKey::parse(&format!("test.{}", unique("secret"))).expect("key");
    w.admin()
        .settings()
        .set(&Actor::System, &key, "s3cret", "a partner API key", true)
        .await
        .expect("set sensitive");
    key
}

fn explained_sum(entry: &ActivityEntry) -> u32 {
    entry
        .risk_explanation
        .as_ref()
        .expect("explanation stored")
        .iter()
        .map(|f| u32::from(f.weight))
        .sum()
}

/// An admin holding a fresh critical permission; returns the admin and the code.
async fn critical_admin(w: &World) -> (TestAdmin, String) {
    let code = unique("secrets") + ":delete";
    w.permission(&code, AdminPermissionRiskLevel::Critical).await;
    (w.admin_with(&[&code]).await, code)
}

#[tokio::test]
async fn risk_scoring_is_explainable_and_a_high_risk_action_lands_on_the_high_risk_page() {
    let w = World::new().await;
    let (admin, code) = critical_admin(&w).await;
    let key = sensitive_setting(&w).await;
    let activity = w.admin().activity();

    let risky = activity
        .record(
            &admin.actor,
            admin.account.id,
            &NewActivity::new("settings.delete", SETTINGS_RESOURCE)
                .permission(&code)
                .resource_id(key.as_str())
                .detail("ticket", "OPS-42"),
        )
        .await
        .expect("record risky");
    let assessment = risky.assessment().expect("assessment");
    let codes: Vec<_> = assessment.factors.iter().map(|f| f.code).collect();
    for expected in [
        RiskFactorCode::CriticalPermission,
        RiskFactorCode::DestructiveAction,
        RiskFactorCode::SensitiveSetting,
    ] {
        assert!(codes.contains(&expected), "{expected} missing from {codes:?}");
    }
    assert!(assessment.factors.iter().all(|f| !f.reason.is_empty()));
    assert_eq!(
        u32::from(risky.risk_score),
        explained_sum(&risky).min(100),
        "the factors sum to the score"
    );
    assert!(risky.risk_score >= HIGH_RISK_THRESHOLD);
    assert_eq!(
        risky.risk_factors,
        assessment
            .factor_codes()
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>(),
        "risk_factors stores the factor names"
    );
    assert_eq!(risky.permission.as_deref(), Some(code.as_str()));
    assert_eq!(risky.details.get("ticket").and_then(|v| v.as_str()), Some("OPS-42"));

    let routine = activity
        .record(
            &admin.actor,
            admin.account.id,
            &NewActivity::new("quotes.view", "quotes"),
        )
        .await
        .expect("record routine");
    assert!(routine.risk_score < HIGH_RISK_THRESHOLD);
    assert_eq!(u32::from(routine.risk_score), explained_sum(&routine));

    let page = activity
        .high_risk_page(&admin.actor, &PageRequest::first(50))
        .await
        .expect("high-risk page");
    let ids: Vec<_> = page.items.iter().map(|e| e.id).collect();
    assert!(ids.contains(&risky.id), "the risky action is on the page");
    assert!(!ids.contains(&routine.id), "the routine one is not");
    assert_eq!(
        page.items.iter().find(|e| e.id == risky.id),
        Some(&risky),
        "read back as written"
    );
    assert!(page.items.iter().all(ActivityEntry::is_high_risk));
}

#[tokio::test]
async fn the_score_is_capped_at_100() {
    let w = World::new().await;
    let admin = w.admin_with(&[]).await;
    let key = sensitive_setting(&w).await;
    let code = unique("vault") + ":purge";
    w.permission(&code, AdminPermissionRiskLevel::Critical).await;
    // Critical (40) + not held (30) + destructive (20) + sensitive (25) + bulk (15) = 130.
    let entry = w
        .admin()
        .activity()
        .record(
            &Actor::System,
            admin.account.id,
            &NewActivity::new("settings.purge", SETTINGS_RESOURCE)
                .permission(&code)
                .resource_id(key.as_str())
                .affected(10_000),
        )
        .await
        .expect("record");
    assert!(explained_sum(&entry) >= 130);
    assert_eq!(entry.risk_score, 100);
    assert_eq!(entry.affected_count, Some(10_000));
    let codes = entry.risk_factors;
    assert!(codes.iter().any(|c| c == "permission_not_held") && codes.iter().any(|c| c == "bulk_action"));
}

#[tokio::test]
async fn login_history_and_addresses_raise_the_score() {
    let w = World::new().await;
    let admin = w.admin_with(&[]).await;
    let users = w.admin().users();
    let home: IpAddr = [10, 1, 1, 1].into();
    users
        .record_login_success(&Actor::System, admin.account.id, home)
        .await
        .expect("login");
    users
        .record_login_failure(&Actor::System, admin.account.id)
        .await
        .expect("failure");
    users
        .record_login_failure(&Actor::System, admin.account.id)
        .await
        .expect("failure");
    let activity = w.admin().activity();
    let same = activity
        .record(
            &admin.actor,
            admin.account.id,
            &NewActivity::new("quotes.view", "quotes").ip(home),
        )
        .await
        .expect("same ip");
    assert!(same.risk_factors.contains(&"failed_logins".to_owned()));
    assert!(!same.risk_factors.contains(&"new_ip".to_owned()));
    let failed = same
        .risk_explanation
        .as_ref()
        .and_then(|f| f.iter().find(|f| f.code == RiskFactorCode::FailedLogins))
        .expect("failed_logins factor");
    assert_eq!(failed.weight, 10, "5 per failed login");
    let elsewhere = activity
        .record(
            &admin.actor,
            admin.account.id,
            &NewActivity::new("quotes.view", "quotes").ip([203, 0, 113, 5].into()),
        )
        .await
        .expect("new ip");
    assert!(elsewhere.risk_factors.contains(&"new_ip".to_owned()));
    assert_eq!(elsewhere.ip, Some([203, 0, 113, 5].into()));
}

#[tokio::test]
async fn an_admin_logs_and_reads_only_their_own_activity_unless_they_hold_activity_read() {
    let w = World::new().await;
    let alice = w.admin_with(&[]).await;
    let bob = w.admin_with(&[]).await;
    let manager = w.admin_with(&[permissions::ADMIN_USERS_MANAGE]).await;
    let reader = w.admin_with(&[permissions::ACTIVITY_READ]).await;
    let activity = w.admin().activity();
    let entry = NewActivity::new("quotes.view", "quotes");

    let alices = activity
        .record(&alice.actor, alice.account.id, &entry)
        .await
        .expect("own");
    let err = activity
        .record(&alice.actor, bob.account.id, &entry)
        .await
        .expect_err("bob's");
    assert!(
        matches!(err, ActivityError::AdminNotFound(id) if id == bob.account.id),
        "{err:?}"
    );
    // A manager sees bob's account, but still cannot log in bob's name.
    let err = activity
        .record(&manager.actor, bob.account.id, &entry)
        .await
        .expect_err("bob's");
    assert!(
        matches!(err, ActivityError::Forbidden(id) if id == bob.account.id),
        "{err:?}"
    );
    let bobs = activity
        .record(&Actor::System, bob.account.id, &entry)
        .await
        .expect("system logs for bob");

    let alice_sees = activity
        .admin_page(&alice.actor, bob.account.id, &PageRequest::first(10))
        .await
        .expect("page");
    assert!(alice_sees.items.is_empty(), "bob's activity is hidden from alice");
    let own = activity
        .admin_page(&alice.actor, alice.account.id, &PageRequest::first(10))
        .await
        .expect("page");
    assert_eq!(own.items, vec![alices]);
    let read = activity
        .admin_page(&reader.actor, bob.account.id, &PageRequest::first(10))
        .await
        .expect("page");
    assert_eq!(read.items, vec![bobs]);
}

#[tokio::test]
async fn a_deactivated_admin_cannot_log_activity() {
    let w = World::new().await;
    let manager = w.admin_with(&[permissions::ADMIN_USERS_MANAGE]).await;
    let gone = w.admin_with(&[]).await;
    let reason = quotedb_repository::admin::DeactivationReason::parse("contract ended last week").expect("reason");
    w.admin()
        .users()
        .deactivate(&manager.actor, gone.account.id, &reason)
        .await
        .expect("deactivate");
    let err = w
        .admin()
        .activity()
        .record(&gone.actor, gone.account.id, &NewActivity::new("quotes.view", "quotes"))
        .await
        .expect_err("deactivated");
    assert!(matches!(err, ActivityError::Forbidden(_)), "{err:?}");
}

#[tokio::test]
async fn pages_continue_from_the_cursor_newest_first() {
    let w = World::new().await;
    let admin = w.admin_with(&[]).await;
    let activity = w.admin().activity();
    let mut written = Vec::new();
    for n in 0..5 {
        let e = activity
            .record(
                &admin.actor,
                admin.account.id,
                &NewActivity::new(format!("step.{n}"), "quotes"),
            )
            .await
            .expect("record");
        written.push(e.id);
    }
    written.reverse();
    let first = activity
        .admin_page(&admin.actor, admin.account.id, &PageRequest::first(2))
        .await
        .expect("page 1");
    let second = activity
        .admin_page(
            &admin.actor,
            admin.account.id,
            &PageRequest {
                size: 2,
                after: first.next,
            },
        )
        .await
        .expect("page 2");
    let third = activity
        .admin_page(
            &admin.actor,
            admin.account.id,
            &PageRequest {
                size: 2,
                after: second.next,
            },
        )
        .await
        .expect("page 3");
    let seen: Vec<_> = [&first, &second, &third]
        .iter()
        .flat_map(|p| p.items.iter().map(|e| e.id))
        .collect();
    assert_eq!(seen, written);
    assert!(first.next.is_some() && second.next.is_some());
    assert_eq!(third.next, None);
    let err = activity
        .admin_page(&admin.actor, admin.account.id, &PageRequest::first(0))
        .await
        .expect_err("size 0");
    assert!(
        matches!(err, ActivityError::Invalid(ref i) if i.field == "size"),
        "{err:?}"
    );
}

#[tokio::test]
async fn blank_actions_bad_permission_codes_and_reserved_detail_keys_are_refused() {
    let w = World::new().await;
    let admin = w.admin_with(&[]).await;
    let activity = w.admin().activity();
    let cases = [
        (NewActivity::new("  ", "quotes"), "action"),
        (NewActivity::new("quotes.view", ""), "resource_type"),
        (
            NewActivity::new("quotes.view", "quotes").permission("not a code"),
            "permission_code",
        ),
        (
            NewActivity::new("quotes.view", "quotes").detail("risk_explanation", "forged"),
            "details",
        ),
    ];
    for (entry, field) in cases {
        let err = activity
            .record(&admin.actor, admin.account.id, &entry)
            .await
            .expect_err(field);
        assert!(
            matches!(err, ActivityError::Invalid(ref i) if i.field == field),
            "{field}: {err:?}"
        );
    }
    let missing = AdminUserId(uuid::Uuid::new_v4());
    let err = activity
        .record(&Actor::System, missing, &NewActivity::new("quotes.view", "quotes"))
        .await
        .expect_err("missing admin");
    assert!(
        matches!(err, ActivityError::AdminNotFound(id) if id == missing),
        "{err:?}"
    );
    let page = activity
        .admin_page(&admin.actor, admin.account.id, &PageRequest::first(10))
        .await
        .expect("page");
    assert!(page.items.is_empty(), "nothing was written");
}
