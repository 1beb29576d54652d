//! users

use super::*;

#[tokio::test]
async fn two_users_cannot_share_an_email_even_in_different_case() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_user(db.pool(), "alice@example.com", "Alice", "customer", None)
        .await
        .expect("first");
    assert_violates(
        try_user(db.pool(), "ALICE@Example.com", "Alice Two", "customer", None).await,
        rules::USERS_EMAIL_UNIQUE,
    );
}

#[tokio::test]
async fn users_with_different_emails_are_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_user(db.pool(), "alice@example.com", "Alice", "customer", None)
        .await
        .expect("first");
    try_user(db.pool(), "bob@example.com", "Bob", "agent", None)
        .await
        .expect("second");
}

#[tokio::test]
async fn a_user_email_must_look_like_an_address() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for email in ["alice", "alice@example", "al ice@example.com", "@example.com"] {
        assert_violates(
            try_user(db.pool(), email, "Alice", "customer", None).await,
            rules::USERS_EMAIL_FORMAT,
        );
    }
}

#[tokio::test]
async fn a_user_name_cannot_be_blank() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    assert_violates(
        try_user(db.pool(), "alice@example.com", " ", "customer", None).await,
        rules::USERS_FULL_NAME_NOT_BLANK,
    );
}

#[tokio::test]
async fn a_user_phone_must_be_in_e164_form() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    for phone in ["555-123-4567", "+0123456789", "+1234"] {
        assert_violates(
            try_user(db.pool(), "alice@example.com", "Alice", "customer", Some(phone)).await,
            rules::USERS_PHONE_FORMAT,
        );
    }
}

#[tokio::test]
async fn a_user_with_an_e164_phone_or_no_phone_is_accepted() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    try_user(
        db.pool(),
        "alice@example.com",
        "Alice",
        "customer",
        Some("+15551234567"),
    )
    .await
    .expect("E.164 phone");
    try_user(db.pool(), "bob@example.com", "Bob", "customer", None)
        .await
        .expect("no phone");
}
