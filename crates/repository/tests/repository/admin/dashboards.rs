//! Dashboards: CRUD per admin and the single default.

use quotedb_repository::admin::DashboardError;
use quotedb_repository::{Actor, DashboardId, UserId};
use serde_json::json;

use crate::common::admins::World;

#[tokio::test]
async fn an_admin_creates_lists_updates_and_deletes_dashboards() {
    let w = World::new().await;
    let admin = w.admin_with(&[]).await.actor;
    let boards = w.admin().dashboards();
    let risk = boards
        .create(&admin, " Risk ", json!({"widgets": ["high_risk_queue"]}))
        .await
        .expect("create");
    assert_eq!((risk.name.as_str(), risk.is_default), ("Risk", false));
    let rates = boards
        .create(&admin, "Rates", json!({"widgets": []}))
        .await
        .expect("create");
    let names: Vec<_> = boards
        .list(&admin)
        .await
        .expect("list")
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["Rates", "Risk"]);

    let updated = boards
        .update_layout(
            &admin,
            rates.id,
            json!({"widgets": ["pending_rate_changes"], "columns": 2}),
        )
        .await
        .expect("update");
    assert_eq!(updated.layout["columns"], 2);
    boards.delete(&admin, risk.id).await.expect("delete");
    let left: Vec<_> = boards
        .list(&admin)
        .await
        .expect("list")
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(left, [rates.id]);
    let err = boards.delete(&admin, risk.id).await.expect_err("deleted");
    assert!(matches!(err, DashboardError::NotFound(id) if id == risk.id), "{err:?}");
    let missing = DashboardId(uuid::Uuid::new_v4());
    let err = boards
        .update_layout(&admin, missing, json!({}))
        .await
        .expect_err("missing");
    assert!(matches!(err, DashboardError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn an_admin_has_at_most_one_default_dashboard() {
    let w = World::new().await;
    let admin = w.admin_with(&[]).await.actor;
    let boards = w.admin().dashboards();
    let a = boards.create(&admin, "A", json!({})).await.expect("a");
    let b = boards.create(&admin, "B", json!({})).await.expect("b");
    assert!(boards.set_default(&admin, a.id).await.expect("default a").is_default);
    assert!(boards.set_default(&admin, b.id).await.expect("default b").is_default);
    let list = boards.list(&admin).await.expect("list");
    let defaults: Vec<_> = list.iter().filter(|d| d.is_default).map(|d| d.id).collect();
    assert_eq!(defaults, [b.id]);
    assert_eq!(list[0].id, b.id, "the default comes first");
    // Setting the current default again changes nothing.
    assert!(boards.set_default(&admin, b.id).await.expect("again").is_default);
    assert_eq!(
        boards
            .list(&admin)
            .await
            .expect("list")
            .iter()
            .filter(|d| d.is_default)
            .count(),
        1
    );
}

#[tokio::test]
async fn another_admins_dashboard_is_not_found_and_a_failed_set_default_changes_nothing() {
    let w = World::new().await;
    let owner = w.admin_with(&[]).await.actor;
    let other = w.admin_with(&[]).await.actor;
    let boards = w.admin().dashboards();
    let mine = boards.create(&owner, "Mine", json!({})).await.expect("mine");
    let theirs = boards.create(&other, "Theirs", json!({})).await.expect("theirs");
    boards.set_default(&owner, mine.id).await.expect("default");

    let err = boards.set_default(&owner, theirs.id).await.expect_err("not mine");
    assert!(
        matches!(err, DashboardError::NotFound(id) if id == theirs.id),
        "{err:?}"
    );
    assert!(
        boards.list(&owner).await.expect("list")[0].is_default,
        "the old default survives the failure"
    );
    let err = boards
        .update_layout(&owner, theirs.id, json!({"x": 1}))
        .await
        .expect_err("not mine");
    assert!(matches!(err, DashboardError::NotFound(_)), "{err:?}");
    let err = boards.delete(&owner, theirs.id).await.expect_err("not mine");
    assert!(matches!(err, DashboardError::NotFound(_)), "{err:?}");
    assert_eq!(boards.list(&other).await.expect("list")[0].layout, json!({}));
}

#[tokio::test]
async fn dashboard_names_are_unique_per_admin_and_layouts_are_objects() {
    let w = World::new().await;
    let admin = w.admin_with(&[]).await.actor;
    let other = w.admin_with(&[]).await.actor;
    let boards = w.admin().dashboards();
    boards.create(&admin, "Main", json!({})).await.expect("first");
    let err = boards.create(&admin, "Main", json!({})).await.expect_err("duplicate");
    assert!(
        matches!(err, DashboardError::NameTaken(ref n) if n == "Main"),
        "{err:?}"
    );
    boards
        .create(&other, "Main", json!({}))
        .await
        .expect("another admin may use the name");
    let err = boards
        .create(&admin, "List", json!([1, 2]))
        .await
        .expect_err("array layout");
    assert!(
        matches!(err, DashboardError::Invalid(ref i) if i.field == "layout"),
        "{err:?}"
    );
    let err = boards.create(&admin, "  ", json!({})).await.expect_err("blank name");
    assert!(
        matches!(err, DashboardError::Invalid(ref i) if i.field == "name"),
        "{err:?}"
    );
    // Not an admin: a customer, or an id with no admin account.
    for ghost in [
        Actor::Customer(UserId(uuid::Uuid::new_v4())),
        Actor::Admin(UserId(uuid::Uuid::new_v4())),
    ] {
        let err = boards.create(&ghost, "Main", json!({})).await.expect_err("no admin");
        assert!(matches!(err, DashboardError::NotAnAdmin), "{err:?}");
        assert!(boards.list(&ghost).await.expect("list").is_empty());
    }
}
