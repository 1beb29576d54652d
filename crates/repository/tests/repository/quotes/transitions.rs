//! Status transitions (present, bind, decline, cancel) and the expiry of quotes past their validity.

use quotedb_repository::quotes::{QuoteError, QuoteKey};
use quotedb_repository::rating::Eligibility;
use quotedb_repository::schema::quotes::QuoteStatus;
use quotedb_repository::{Actor, QuoteId};
use sqlx::PgPool;

use super::own_quote;
use crate::common::rates::setup;
use crate::common::{self};

#[tokio::test]
async fn a_quote_is_presented_then_bound_and_bound_is_final() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "bind").await;
    let actor = Actor::Customer(customer);
    let quote = own_quote(&repo, customer).await;

    // Binding straight from rated is not a move of the status machine.
    let err = repo.quotes().bind(&actor, quote.id).await.expect_err("bind rated");
    assert!(
        matches!(
            err,
            QuoteError::TransitionRefused {
                to: QuoteStatus::Bound,
                ..
            }
        ),
        "{err:?}"
    );

    let presented = repo.quotes().present(&actor, quote.id).await.expect("present");
    assert_eq!(presented.status, QuoteStatus::Presented);
    assert_eq!(presented.bound_at, None);
    let bound = repo.quotes().bind(&actor, quote.id).await.expect("bind");
    assert_eq!(bound.status, QuoteStatus::Bound);
    let bound_at = bound.bound_at.expect("bound_at set");
    assert!(bound_at >= bound.created_at && bound_at <= bound.expires_at);
    assert_eq!(bound.premium, quote.premium);

    for (to, result) in [
        (QuoteStatus::Cancelled, repo.quotes().cancel(&actor, quote.id).await),
        (QuoteStatus::Declined, repo.quotes().decline(&actor, quote.id).await),
        (QuoteStatus::Presented, repo.quotes().present(&actor, quote.id).await),
    ] {
        assert!(
            matches!(result, Err(QuoteError::TransitionRefused { to: t, .. }) if t == to),
            "{to}: {result:?}"
        );
    }
}

#[tokio::test]
async fn declined_and_cancelled_quotes_are_terminal() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "terminal").await;
    let actor = Actor::Customer(customer);
    let declined = own_quote(&repo, customer).await;
    let cancelled = own_quote(&repo, customer).await;
    assert_eq!(
        repo.quotes()
            .decline(&actor, declined.id)
            .await
            .expect("decline")
            .status,
        QuoteStatus::Declined
    );
    let presented = repo.quotes().present(&actor, cancelled.id).await.expect("present");
    assert_eq!(presented.status, QuoteStatus::Presented);
    assert_eq!(
        repo.quotes().cancel(&actor, cancelled.id).await.expect("cancel").status,
        QuoteStatus::Cancelled
    );

    assert!(matches!(
        repo.quotes().present(&actor, declined.id).await,
        Err(QuoteError::TransitionRefused { .. })
    ));
    assert!(matches!(
        repo.quotes().bind(&actor, cancelled.id).await,
        Err(QuoteError::TransitionRefused { .. })
    ));
    assert!(matches!(
        repo.quotes()
            .rerate(&actor, declined.id, 1, &Eligibility::default())
            .await,
        Err(QuoteError::TransitionRefused { .. })
    ));
}

/// Move a quote's validity into the past (test fixture: the API never back-dates).
async fn make_overdue(pool: &PgPool, id: QuoteId) {
    sqlx::query(
        "UPDATE quotes SET created_at = now() - interval '40 days', expires_at = now() - interval '10 days' WHERE id = $1",
    )
    .bind(id.0)
    .execute(pool)
    .await
    .expect("back-date");
}

#[tokio::test]
async fn a_quote_past_its_validity_cannot_be_bound() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "late").await;
    let actor = Actor::Customer(customer);
    let quote = own_quote(&repo, customer).await;
    repo.quotes().present(&actor, quote.id).await.expect("present");
    make_overdue(db.pool(), quote.id).await;
    let err = repo.quotes().bind(&actor, quote.id).await.expect_err("too late");
    assert!(
        matches!(err, QuoteError::ValidityExpired(QuoteKey::Id(id)) if id == quote.id),
        "{err:?}"
    );
    assert_eq!(
        repo.quotes().get(&actor, quote.id).await.expect("get").status,
        QuoteStatus::Presented
    );
}

#[tokio::test]
async fn the_expiry_sweep_expires_overdue_open_quotes_in_batches() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "sweep").await;
    let actor = Actor::Customer(customer);
    let mut quotes = Vec::new();
    for _ in 0..4 {
        quotes.push(own_quote(&repo, customer).await);
    }
    // quotes[0] rated and overdue, quotes[1] presented and overdue, quotes[2] cancelled and
    // overdue (terminal: untouched), quotes[3] rated and still valid.
    repo.quotes().present(&actor, quotes[1].id).await.expect("present");
    repo.quotes().cancel(&actor, quotes[2].id).await.expect("cancel");
    for q in &quotes[..3] {
        make_overdue(db.pool(), q.id).await;
    }
    assert!(matches!(
        repo.quotes().expire_overdue(&Actor::System, 0).await,
        Err(QuoteError::Invalid(_))
    ));
    assert_eq!(
        repo.quotes().expire_overdue(&Actor::System, 1).await.expect("batch 1"),
        1
    );
    assert_eq!(
        repo.quotes().expire_overdue(&Actor::System, 10).await.expect("batch 2"),
        1
    );
    assert_eq!(
        repo.quotes().expire_overdue(&Actor::System, 10).await.expect("batch 3"),
        0
    );
    let status = |i: usize| {
        let repo = repo.clone();
        let id = quotes[i].id;
        async move { repo.quotes().get(&actor, id).await.expect("get").status }
    };
    assert_eq!(status(0).await, QuoteStatus::Expired);
    assert_eq!(status(1).await, QuoteStatus::Expired);
    assert_eq!(status(2).await, QuoteStatus::Cancelled);
    assert_eq!(status(3).await, QuoteStatus::Rated);
}

#[tokio::test]
async fn a_customer_sweeping_expires_only_their_own_quotes() {
    let (db, repo) = setup().await;
    let alice = common::customer(&repo, "alice").await;
    let bob = common::customer(&repo, "bob").await;
    let a = own_quote(&repo, alice).await;
    let b = own_quote(&repo, bob).await;
    make_overdue(db.pool(), a.id).await;
    make_overdue(db.pool(), b.id).await;
    assert_eq!(
        repo.quotes()
            .expire_overdue(&Actor::Customer(alice), 10)
            .await
            .expect("alice sweeps"),
        1
    );
    assert_eq!(
        repo.quotes().get(&Actor::Customer(bob), b.id).await.expect("b").status,
        QuoteStatus::Rated
    );
    assert_eq!(
        repo.quotes()
            .expire_overdue(&Actor::System, 10)
            .await
            .expect("system sweeps"),
        1
    );
}
