//! Reading quotes, and who may see and change which (row level security).

use quotedb_repository::quotes::{QuoteError, QuoteKey};
use quotedb_repository::rating::Eligibility;
use quotedb_repository::schema::admin::permissions::QUOTES_READ;
use quotedb_repository::schema::quotes::QuoteStatus;
use quotedb_repository::schema::rating::DiscountCode;
use quotedb_repository::{Actor, PageRequest, QuoteId, QuoteNumber};

use super::{new_quote, own_quote};
use crate::common::admins::admin_with;
use crate::common::rates::setup;
use crate::common::{self};

#[tokio::test]
async fn a_customer_reads_their_quote_by_id_and_by_number() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "reader").await;
    let actor = Actor::Customer(customer);
    let created = own_quote(&repo, customer).await;
    let by_id = repo.quotes().get(&actor, created.id).await.expect("by id");
    let by_number = repo
        .quotes()
        .get_by_number(&actor, &created.quote_number)
        .await
        .expect("by number");
    assert_eq!(by_id, created);
    assert_eq!(by_number, created);

    let missing = QuoteId(uuid::Uuid::new_v4());
    assert!(
        matches!(repo.quotes().get(&actor, missing).await, Err(QuoteError::NotFound(QuoteKey::Id(id))) if id == missing)
    );
    let number = QuoteNumber::parse("Q-20200101-ZZZZZZ").expect("number");
    assert!(matches!(
        repo.quotes().get_by_number(&actor, &number).await,
        Err(QuoteError::NotFound(QuoteKey::Number(_)))
    ));
}

#[tokio::test]
async fn a_customer_cannot_read_or_change_another_customers_quote() {
    let (_db, repo) = setup().await;
    let alice = common::customer(&repo, "alice").await;
    let bob = common::customer(&repo, "bob").await;
    let quote = own_quote(&repo, alice).await;
    let intruder = Actor::Customer(bob);
    let not_found = |r: Result<_, QuoteError>| matches!(r, Err(QuoteError::NotFound(_)));
    assert!(not_found(repo.quotes().get(&intruder, quote.id).await.map(|_| ())));
    assert!(not_found(
        repo.quotes()
            .get_by_number(&intruder, &quote.quote_number)
            .await
            .map(|_| ())
    ));
    assert!(not_found(
        repo.quotes().coverages(&intruder, quote.id).await.map(|_| ())
    ));
    assert!(not_found(repo.quotes().versions(&intruder, quote.id).await.map(|_| ())));
    assert!(not_found(
        repo.quotes()
            .rerate(&intruder, quote.id, 1, &Eligibility::default())
            .await
            .map(|_| ())
    ));
    assert!(not_found(repo.quotes().present(&intruder, quote.id).await.map(|_| ())));
    assert!(not_found(repo.quotes().cancel(&intruder, quote.id).await.map(|_| ())));
    let page = repo
        .quotes()
        .list_for_customer(&intruder, alice, &PageRequest::first(10))
        .await
        .expect("list");
    assert!(page.items.is_empty() && page.next.is_none());

    // Nothing changed.
    let after = repo
        .quotes()
        .get(&Actor::Customer(alice), quote.id)
        .await
        .expect("owner reads");
    assert_eq!(after, quote);
}

#[tokio::test]
async fn an_agent_sees_and_works_only_the_quotes_assigned_to_them() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "assigned").await;
    let agent = common::agent(&repo, "mine").await;
    let other_agent = common::agent(&repo, "other").await;
    let actor = Actor::Customer(customer);
    let assigned = repo
        .quotes()
        .create(&actor, &new_quote(customer, Some(agent)))
        .await
        .expect("assigned")
        .quote;
    let unassigned = repo
        .quotes()
        .create(&actor, &new_quote(customer, None))
        .await
        .expect("unassigned")
        .quote;

    let me = Actor::Agent(agent);
    assert_eq!(
        repo.quotes().get(&me, assigned.id).await.expect("sees assigned").id,
        assigned.id
    );
    assert!(matches!(
        repo.quotes().get(&me, unassigned.id).await,
        Err(QuoteError::NotFound(_))
    ));
    assert!(matches!(
        repo.quotes().get(&Actor::Agent(other_agent), assigned.id).await,
        Err(QuoteError::NotFound(_))
    ));
    let page = repo
        .quotes()
        .list_for_customer(&me, customer, &PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(page.items.iter().map(|q| q.id).collect::<Vec<_>>(), vec![assigned.id]);
    let pipeline = repo
        .quotes()
        .list_for_agent(&me, agent, &PageRequest::first(10))
        .await
        .expect("pipeline");
    assert_eq!(
        pipeline.items.iter().map(|q| q.id).collect::<Vec<_>>(),
        vec![assigned.id]
    );
    assert_eq!(pipeline.next, None);
    let peek = repo
        .quotes()
        .list_for_agent(&Actor::Agent(other_agent), agent, &PageRequest::first(10))
        .await
        .expect("another agent's pipeline");
    assert!(peek.items.is_empty(), "another agent sees none of it");

    // The agent re-rates and presents the assigned quote.
    let rerated = repo
        .quotes()
        .rerate(
            &me,
            assigned.id,
            1,
            &Eligibility {
                discounts: vec![DiscountCode::Paperless],
                surcharges: vec![],
            },
        )
        .await
        .expect("agent re-rates");
    assert_eq!(rerated.quote.current_version, 2);
    let presented = repo.quotes().present(&me, assigned.id).await.expect("agent presents");
    assert_eq!(presented.status, QuoteStatus::Presented);
    assert!(matches!(
        repo.quotes().present(&Actor::Agent(other_agent), unassigned.id).await,
        Err(QuoteError::NotFound(_))
    ));
}

#[tokio::test]
async fn an_admin_with_quotes_read_sees_every_quote_but_cannot_change_it() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "watched").await;
    let quote = own_quote(&repo, customer).await;
    let admin = admin_with(&repo, &[QUOTES_READ]).await.actor;
    assert_eq!(
        repo.quotes().get(&admin, quote.id).await.expect("admin reads").id,
        quote.id
    );
    assert!(matches!(
        repo.quotes().present(&admin, quote.id).await,
        Err(QuoteError::Forbidden)
    ));
    assert!(matches!(
        repo.quotes().rerate(&admin, quote.id, 1, &Eligibility::default()).await,
        Err(QuoteError::Forbidden)
    ));
    assert_eq!(repo.quotes().get(&admin, quote.id).await.expect("unchanged"), quote);
}
