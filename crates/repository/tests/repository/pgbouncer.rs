//! The main paths through a real PgBouncer in transaction pooling mode (the test kit's; skipped
//! without the binary, required with CI=true): more client connections than PgBouncer has server
//! connections, so consecutive transactions of one client connection run on different server
//! connections and each server connection serves several clients.

use std::collections::HashSet;
use std::time::Duration;

use quotedb_repository::admin::SettingKey;
use quotedb_repository::realtime::{NewNotification, Recipient};
use quotedb_repository::schema::quotes::QuoteStatus;
use quotedb_repository::schema::realtime::NotificationChannel;
use quotedb_repository::security::NewSession;
use quotedb_repository::{Actor, Db, PageRequest};
use serde_json::json;
use sqlx::{Connection as _, Row as _};

use crate::common::admins::admin_with;
use crate::common::rates::setup;
use crate::common::{self};
use crate::quotes::new_quote;

const TASKS: usize = 12;

/// A call retried while it fails with a retryable error (stale reference data), up to 5 times.
macro_rules! retry {
    ($call:expr) => {{
        let mut attempt = 0;
        loop {
            match $call.await {
                Err(e) if e.is_retryable() && attempt < 5 => attempt += 1,
                other => break other,
            }
        }
    }};
}
const ROUNDS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_main_paths_work_through_pgbouncer_in_transaction_mode() {
    let (tdb, direct) = setup().await;
    let Some(url) = tdb.pgbouncer_url().await else { return };
    // 12 client connections on PgBouncer's 4 server connections.
    let db = Db::connect_via_pgbouncer_with(&url, Db::pool_options().max_connections(TASKS as u32))
        .await
        .expect("connect through PgBouncer");
    assert!(db.transaction_pooling());
    let holder = admin_with(&direct, &[quotedb_repository::schema::admin::permissions::QUOTES_READ]).await;

    // Settings are reference data: one write (it moves the generation every quote is priced
    // from), before the concurrent part.
    let key = SettingKey::parse("pgbouncer.answer").expect("key");
    db.admin()
        .settings()
        .set(&Actor::System, &key, json!(42), "through PgBouncer", false)
        .await
        .expect("set setting");
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let db = db.clone();
        let direct = direct.clone();
        let key = key.clone();
        let holder_user = holder.user;
        tasks.push(tokio::spawn(async move {
            let customer = common::customer(&direct, &format!("pgb{t}")).await;
            let actor = Actor::Customer(customer);
            let mut backends = HashSet::new();
            for round in 0..ROUNDS {
                let created = db
                    .quotes()
                    .create(&actor, &new_quote(customer, None))
                    .await
                    .expect("create");
                let quote = created.quote;
                let by_number = db
                    .quotes()
                    .get_by_number(&actor, &quote.quote_number)
                    .await
                    .expect("by number");
                assert_eq!(by_number.id, quote.id);
                let page = db
                    .quotes()
                    .list_for_customer(&actor, customer, &PageRequest::first(2))
                    .await
                    .expect("page");
                assert!(!page.items.is_empty());
                let rerated = retry!(db.quotes().rerate(&actor, quote.id, 1, &Default::default())).expect("rerate");
                assert_eq!(rerated.quote.id, quote.id);
                let presented = db.quotes().present(&actor, quote.id).await.expect("present");
                assert_eq!(presented.status, QuoteStatus::Presented);
                assert!(
                    db.admin()
                        .has_permission(holder_user, quotedb_repository::schema::admin::permissions::QUOTES_READ)
                        .await
                        .expect("has_permission")
                );
                let value: i64 = db
                    .admin()
                    .settings()
                    .get(&Actor::System, &key)
                    .await
                    .expect("get setting");
                assert_eq!(value, 42);
                let session = db
                    .security()
                    .sessions()
                    .create(
                        &actor,
                        NewSession {
                            user_id: customer,
                            ip: None,
                            user_agent: None,
                            lifetime: Some(Duration::from_secs(600)),
                        },
                    )
                    .await
                    .expect("session");
                let valid = db
                    .security()
                    .sessions()
                    .validate(&session.token)
                    .await
                    .expect("validate")
                    .expect("a valid session");
                assert_eq!(valid.session.user_id, customer);
                db.realtime()
                    .notifications()
                    .enqueue(&NewNotification {
                        channel: NotificationChannel::Email,
                        recipient: Recipient::Address {
                            address: format!("t{t}r{round}@example.com"),
                        },
                        template: "quote.ready".into(),
                        payload: json!({ "quote_number": quote.quote_number.to_string() }),
                        priority: 5,
                        not_before: None,
                        max_attempts: None,
                    })
                    .await
                    .expect("enqueue");
                db.realtime()
                    .notifications()
                    .claim(&format!("worker-{t}"), 5)
                    .await
                    .expect("claim");
                // Which server connection served this (a statement without parameters: simple
                // protocol, safe anywhere).
                let pid = sqlx::raw_sql("SELECT pg_backend_pid()")
                    .fetch_one(db.pool())
                    .await
                    .expect("pid")
                    .get::<i32, _>(0);
                backends.insert(pid);
            }
            backends
        }));
    }
    let mut backends = HashSet::new();
    for task in tasks {
        backends.extend(task.await.expect("task"));
    }
    // 12 client connections, at most 4 server connections behind them: shared.
    let mut admin = sqlx::PgConnection::connect(
        &quotedb_testkit::pgbouncer()
            .await
            .expect("pgbouncer")
            .expect("running")
            .admin_url(),
    )
    .await
    .expect("admin console");
    let servers = sqlx::raw_sql("SHOW SERVERS")
        .fetch_all(&mut admin)
        .await
        .expect("SHOW SERVERS");
    let ours = servers
        .iter()
        .filter(|r| r.try_get::<String, _>("database").is_ok_and(|d| d == tdb.name()))
        .count();
    eprintln!(
        "through PgBouncer: {TASKS} client connections, {} distinct server backends seen, {ours} server connections in SHOW SERVERS",
        backends.len()
    );
    assert!(
        ours <= quotedb_testkit::pgbouncer::POOL_SIZE as usize,
        "{ours} server connections"
    );
    assert!(backends.len() <= quotedb_testkit::pgbouncer::POOL_SIZE as usize);
    assert!(db.pool().size() as usize > backends.len(), "more clients than servers");
    db.pool().close().await;
}

/// What the option prevents: sqlx's defaults (named statements cached per client connection)
/// through the same PgBouncer. Calls fail with "prepared statement \"sqlx_s_N\" does not exist" /
/// "already exists" once transactions of one client land on another server connection. How many
/// fail depends on scheduling, so the test reports the count and asserts only that the errors it
/// saw are of that kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlx_defaults_fail_through_pgbouncer_in_transaction_mode() {
    let (tdb, direct) = setup().await;
    let Some(url) = tdb.pgbouncer_url().await else { return };
    let pool = Db::pool_options()
        .max_connections(TASKS as u32)
        .connect(&url)
        .await
        .expect("connect");
    let db = Db::with_reference_options(pool, quotedb_repository::reference::ReferenceOptions::disabled());
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let db = db.clone();
        let direct = direct.clone();
        tasks.push(tokio::spawn(async move {
            let customer = common::customer(&direct, &format!("dflt{t}")).await;
            let actor = Actor::Customer(customer);
            let mut errors = Vec::new();
            for _ in 0..ROUNDS {
                match db.quotes().create(&actor, &new_quote(customer, None)).await {
                    Ok(created) => {
                        if let Err(e) = db.quotes().get_by_number(&actor, &created.quote.quote_number).await {
                            errors.push(e.to_string());
                        }
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
            errors
        }));
    }
    let mut errors = Vec::new();
    for task in tasks {
        errors.extend(task.await.expect("task"));
    }
    eprintln!(
        "sqlx defaults through PgBouncer (transaction mode): {} of {} calls failed; first: {:?}",
        errors.len(),
        TASKS * ROUNDS * 2,
        errors.first()
    );
    for e in &errors {
        assert!(e.contains("prepared statement"), "an unexpected error: {e}");
    }
    db.pool().close().await;
}
