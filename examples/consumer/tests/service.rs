//! The consumer's own tests, on quotedb's test kit: a fresh migrated and seeded database per
//! test, cloned from a template in milliseconds.

use quote_service_example::{QuoteService, ServiceError};
use quotedb_repository::Db;
use quotedb_testkit::TestDb;

#[tokio::test]
async fn a_customer_signs_up_gets_a_quote_and_reads_it_back() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let service = QuoteService::with_db(Db::new(db.pool().clone()));
    let customer = service
        .sign_up("ada@example.com", "Ada Lovelace")
        .await
        .expect("sign up");
    let quote = service.quote_collision(customer, "CA", "90001").await.expect("quote");
    assert!(quote.premium.is_some_and(|p| p > rust_decimal::Decimal::ZERO));
    let read = service
        .quote(customer, quote.quote_number.as_ref())
        .await
        .expect("read back");
    assert_eq!(read.id, quote.id);
}

#[tokio::test]
async fn another_customer_cannot_read_the_quote() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let service = QuoteService::with_db(Db::new(db.pool().clone()));
    let ada = service.sign_up("ada@example.com", "Ada").await.expect("ada");
    let bob = service.sign_up("bob@example.com", "Bob").await.expect("bob");
    let quote = service.quote_collision(ada, "CA", "90001").await.expect("quote");
    let err = service
        .quote(bob, quote.quote_number.as_ref())
        .await
        .expect_err("hidden");
    assert!(matches!(err, ServiceError::Quote(_)), "{err:?}");
    assert!(!err.is_retryable(), "not found is not worth retrying");
}

#[tokio::test]
async fn bad_input_is_a_typed_error() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let service = QuoteService::with_db(Db::new(db.pool().clone()));
    let err = service.sign_up("not an e-mail", "X").await.expect_err("invalid");
    assert!(matches!(err, ServiceError::Invalid(_)), "{err:?}");
}

#[tokio::test]
async fn start_migrates_and_seeds_an_empty_database_and_a_second_start_changes_nothing() {
    let db = TestDb::empty().await;
    let service = QuoteService::start(db.url()).await.expect("start on an empty database");
    QuoteService::start(db.url()).await.expect("start again");
    let customer = service.sign_up("cy@example.com", "Cy").await.expect("sign up");
    service.quote_collision(customer, "CA", "90001").await.expect("quote");
}

#[tokio::test]
async fn a_server_that_is_down_is_named_without_its_password() {
    let err = QuoteService::start("postgres://app:s3cret@127.0.0.1:1/quotes")
        .await
        .expect_err("nothing listens on port 1");
    let message = err.to_string();
    assert!(message.contains("postgres://app@127.0.0.1:1/quotes"), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
}
