//! Keyset pages of a customer's quotes, and the bounds on a quote's metadata.

use std::collections::HashSet;

use quotedb_repository::page::MAX_PAGE_SIZE;
use quotedb_repository::quotes::{Quote, QuoteError};
use quotedb_repository::{Actor, Cursor, PageRequest, QuoteId};
use time::OffsetDateTime;

use super::{new_quote, own_quote};
use crate::common::rates::setup;
use crate::common::{self};

#[tokio::test]
async fn pagination_walks_every_page_without_duplicates_or_gaps() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "pages").await;
    let other = common::customer(&repo, "other").await;
    let actor = Actor::Customer(customer);
    let mut created = Vec::new();
    for _ in 0..8 {
        created.push(own_quote(&repo, customer).await);
    }
    own_quote(&repo, other).await; // another customer's quote, never on these pages
    // Four quotes share one created_at, so the id tie-break is exercised across page borders.
    let same: Vec<uuid::Uuid> = created[2..6].iter().map(|q| q.id.0).collect();
    // Raw SQL: back-dating (the API never back-dates a quote).
    sqlx::query("UPDATE quotes SET created_at = now() - interval '1 hour' WHERE id = ANY($1)")
        .bind(&same)
        .execute(db.pool())
        .await
        .expect("same created_at");

    let mut seen: Vec<Quote> = Vec::new();
    let mut request = PageRequest::first(3);
    let mut pages = 0;
    loop {
        let page = repo
            .quotes()
            .list_for_customer(&actor, customer, &request)
            .await
            .expect("page");
        pages += 1;
        assert!(page.items.len() <= 3);
        seen.extend(page.items);
        match page.next {
            Some(next) => {
                // The cursor survives a trip through its string form.
                let next = Cursor::decode(&next.encode()).expect("cursor");
                request = PageRequest {
                    size: 3,
                    after: Some(next),
                };
            }
            None => break,
        }
        assert!(pages < 10, "pagination does not terminate");
    }
    assert_eq!(pages, 3);
    let ids: Vec<QuoteId> = seen.iter().map(|q| q.id).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 8, "no duplicates");
    let mut expected: Vec<(OffsetDateTime, QuoteId)> =
        sqlx::query_as::<_, (OffsetDateTime, uuid::Uuid)>("SELECT created_at, id FROM quotes WHERE customer_id = $1")
            .bind(customer.0)
            .fetch_all(db.pool())
            .await
            .expect("all")
            .into_iter()
            .map(|(t, id)| (t, QuoteId(id)))
            .collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        ids,
        expected.into_iter().map(|(_, id)| id).collect::<Vec<_>>(),
        "newest first, no gaps"
    );

    // An exact multiple of the page size ends with an empty `next`, not an empty page.
    let page = repo
        .quotes()
        .list_for_customer(&actor, customer, &PageRequest::first(8))
        .await
        .expect("one page");
    assert_eq!((page.items.len(), page.next), (8, None));
}

#[tokio::test]
async fn page_sizes_and_cursors_are_validated() {
    let (_db, repo) = setup().await;
    let customer = common::customer(&repo, "sizes").await;
    let actor = Actor::Customer(customer);
    for size in [0, MAX_PAGE_SIZE + 1] {
        let err = repo
            .quotes()
            .list_for_customer(&actor, customer, &PageRequest::first(size))
            .await
            .expect_err("size");
        assert!(
            matches!(err, QuoteError::Invalid(ref e) if e.field == "size"),
            "{err:?}"
        );
    }
    assert!(
        repo.quotes()
            .list_for_customer(&actor, customer, &PageRequest::first(MAX_PAGE_SIZE))
            .await
            .is_ok()
    );
    assert_eq!(
        Cursor::<QuoteId>::decode("not a cursor").map_err(|e| e.field),
        Err("cursor")
    );
    assert!(serde_json::from_str::<Cursor<QuoteId>>("\"bm9wZQ\"").is_err());
}

/// `quotes_values_bounded`: metadata is at most 64 KiB of JSON without NUL characters - refused
/// as InvalidInput before the round trip, and nothing is written.
#[tokio::test]
async fn oversized_or_nul_metadata_is_invalid_input_and_writes_nothing() {
    let (db, repo) = setup().await;
    let customer = common::customer(&repo, "meta").await;
    for value in [
        serde_json::json!("x".repeat(quotedb_repository::schema::base::MAX_JSON_BYTES)),
        serde_json::json!("a\u{0}b"),
    ] {
        let mut new = new_quote(customer, None);
        new.metadata.insert("note".into(), value);
        let err = repo
            .quotes()
            .create(&common::as_customer(customer), &new)
            .await
            .expect_err("refused");
        assert!(
            matches!(err, QuoteError::Invalid(ref e) if e.field == "metadata"),
            "{err:?}"
        );
    }
    let quotes: i64 = sqlx::query_scalar("SELECT count(*) FROM quotes")
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(quotes, 0);
}
