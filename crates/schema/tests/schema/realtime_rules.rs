//! The business rules of migration 0005 (websocket connections, analytics events, the
//! notification queue, realtime metrics): each rule is violated and seen refused by name, and
//! its valid case is seen accepted. Every test gets a fresh database holding the fixture below.

use crate::common::accepts;
use quotedb_schema::realtime::rules;
use quotedb_testkit::TestDb;
use sqlx::Connection as _;

/// Alice (a customer) with a live session and a draft quote in CA, and Bob. Ids are fixed: each
/// test has its own database.
const FIXTURE: &str = r"
INSERT INTO states (code, name) VALUES ('CA', 'California') ON CONFLICT DO NOTHING;
INSERT INTO users (id, email, full_name, role) VALUES
    ('a0000000-0000-4000-8000-000000000001', 'alice@example.com', 'Alice Adams', 'customer'),
    ('b0000000-0000-4000-8000-000000000002', 'bob@example.com', 'Bob Brown', 'customer');
INSERT INTO user_sessions (id, user_id, token_hash, expires_at) VALUES
    ('d0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001',
     sha256('alice-token'), now() + interval '1 day');
INSERT INTO quotes (id, customer_id, state_code, zip, effective_date, expires_at, metadata) VALUES
    ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'CA', '94105',
     current_date + 7, now() + interval '30 days', '{}');
";

async fn fixture() -> TestDb {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    sqlx::raw_sql(FIXTURE).execute(db.pool()).await.expect("fixture");
    db
}

// ---- websocket_connections --------------------------------------------------------------------

accepted!(a_live_and_a_closed_connection_are_accepted: [
    "INSERT INTO websocket_connections (user_id, session_id, server_node, subscriptions)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'rt-1.pod:8080',
             '[\"quote:e0000000-0000-4000-8000-000000000001\"]')",
    "INSERT INTO websocket_connections (user_id, server_node, connected_at, last_heartbeat_at, disconnected_at)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'rt-2', now() - interval '1 hour', now() - interval '1 minute', now())",
]);
refused!(a_server_node_is_a_host_name: rules::WEBSOCKET_CONNECTIONS_SERVER_NODE_FORMAT, [
    "INSERT INTO websocket_connections (user_id, server_node) VALUES ('a0000000-0000-4000-8000-000000000001', 'rt 1')",
]);
refused!(websocket_subscriptions_are_a_json_array: rules::WEBSOCKET_CONNECTIONS_SUBSCRIPTIONS_ARRAY, [
    "INSERT INTO websocket_connections (user_id, server_node, subscriptions)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'rt-1', '{\"quote\": true}')",
]);
refused!(a_heartbeat_cannot_precede_the_connection: rules::WEBSOCKET_CONNECTIONS_HEARTBEAT_AFTER_CONNECT, [
    "INSERT INTO websocket_connections (user_id, server_node, last_heartbeat_at)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'rt-1', now() - interval '1 second')",
]);
refused!(a_connection_cannot_end_before_it_started: rules::WEBSOCKET_CONNECTIONS_DISCONNECT_AFTER_CONNECT, [
    "INSERT INTO websocket_connections (user_id, server_node, disconnected_at)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'rt-1', now() - interval '1 second')",
]);
refused!(no_heartbeat_arrives_after_a_disconnect: rules::WEBSOCKET_CONNECTIONS_HEARTBEAT_BEFORE_DISCONNECT, [
    "INSERT INTO websocket_connections (user_id, server_node, connected_at, disconnected_at)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'rt-1', now() - interval '1 hour', now() - interval '1 minute')",
]);
refused!(a_connection_belongs_to_an_existing_user: rules::WEBSOCKET_CONNECTIONS_USER_FK, [
    "INSERT INTO websocket_connections (user_id, server_node) VALUES (gen_random_uuid(), 'rt-1')",
]);
refused!(a_connection_session_is_an_existing_session: rules::WEBSOCKET_CONNECTIONS_SESSION_FK, [
    "INSERT INTO websocket_connections (user_id, session_id, server_node)
     VALUES ('a0000000-0000-4000-8000-000000000001', gen_random_uuid(), 'rt-1')",
]);

accepted!(sweeping_a_session_keeps_its_connection_history: [
    "INSERT INTO websocket_connections (user_id, session_id, server_node)
     VALUES ('a0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'rt-1')",
    "DELETE FROM user_sessions",
] then "SELECT count(*) FROM websocket_connections WHERE session_id IS NULL" == 1);
accepted!(deleting_a_user_removes_their_connections: [
    "INSERT INTO websocket_connections (user_id, server_node) VALUES ('a0000000-0000-4000-8000-000000000001', 'rt-1')",
    "DELETE FROM quotes",
    "DELETE FROM users WHERE email = 'alice@example.com'",
] then "SELECT count(*) FROM websocket_connections" == 0);

// ---- analytics_events -------------------------------------------------------------------------

accepted!(an_event_about_a_user_session_and_quote_is_accepted: [
    "INSERT INTO analytics_events (event_type, user_id, session_id, quote_id, properties)
     VALUES ('quote.viewed', 'a0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001',
             'e0000000-0000-4000-8000-000000000001', '{\"state\": \"CA\"}')",
]);
refused!(an_event_type_is_dotted_snake_case: rules::ANALYTICS_EVENTS_EVENT_TYPE_FORMAT, [
    "INSERT INTO analytics_events (event_type, properties) VALUES ('Quote Viewed', '{}')",
]);
refused!(event_properties_are_a_json_object: rules::ANALYTICS_EVENTS_PROPERTIES_OBJECT, [
    "INSERT INTO analytics_events (event_type, properties) VALUES ('quote.viewed', '\"CA\"')",
]);
refused!(an_event_user_is_an_existing_user: rules::ANALYTICS_EVENTS_USER_FK, [
    "INSERT INTO analytics_events (event_type, user_id, properties) VALUES ('quote.viewed', gen_random_uuid(), '{}')",
]);
refused!(an_event_session_is_an_existing_session: rules::ANALYTICS_EVENTS_SESSION_FK, [
    "INSERT INTO analytics_events (event_type, session_id, properties) VALUES ('quote.viewed', gen_random_uuid(), '{}')",
]);
refused!(an_event_quote_is_an_existing_quote: rules::ANALYTICS_EVENTS_QUOTE_FK, [
    "INSERT INTO analytics_events (event_type, quote_id, properties) VALUES ('quote.viewed', gen_random_uuid(), '{}')",
]);

accepted!(events_outlive_their_quote_session_and_user: [
    "INSERT INTO analytics_events (event_type, user_id, session_id, quote_id, properties)
     VALUES ('quote.viewed', 'a0000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001',
             'e0000000-0000-4000-8000-000000000001', '{}')",
    "DELETE FROM quotes",
    "DELETE FROM users WHERE email = 'alice@example.com'",
] then "SELECT count(*) FROM analytics_events WHERE num_nulls(user_id, session_id, quote_id) = 3" == 1);

// ---- notification_queue -----------------------------------------------------------------------

accepted!(a_notification_with_a_recipient_valid_for_its_channel_is_accepted: [
    "INSERT INTO notification_queue (channel, recipient_user_id, recipient_address, template, payload, priority, max_attempts)
     VALUES ('email', 'a0000000-0000-4000-8000-000000000001', NULL, 'quote.ready', '{}', 5, 5),
            ('email', NULL, 'broker@example.com', 'quote.ready', '{}', 5, 5),
            ('sms', NULL, '+14155550123', 'quote.ready', '{}', 5, 5),
            ('push', NULL, 'fcm:dGVzdC10b2tlbg', 'quote.ready', '{}', 5, 5),
            ('websocket', 'a0000000-0000-4000-8000-000000000001', NULL, 'quote.rated', '{}', 9, 1),
            ('in_app', 'a0000000-0000-4000-8000-000000000001', NULL, 'quote.ready', '{}', 0, 1)",
]);
refused!(an_email_notification_needs_a_user_or_an_address: rules::NOTIFICATION_QUEUE_RECIPIENT_VALID, [
    "INSERT INTO notification_queue (channel, template, payload, priority, max_attempts)
     VALUES ('email', 'quote.ready', '{}', 5, 5)",
]);
refused!(an_email_notification_needs_a_valid_address: rules::NOTIFICATION_QUEUE_RECIPIENT_VALID, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts)
     VALUES ('email', 'alice at example dot com', 'quote.ready', '{}', 5, 5)",
]);
refused!(an_sms_notification_needs_a_phone_number: rules::NOTIFICATION_QUEUE_RECIPIENT_VALID, [
    "INSERT INTO notification_queue (channel, recipient_user_id, recipient_address, template, payload, priority, max_attempts)
     VALUES ('sms', 'a0000000-0000-4000-8000-000000000001', '555-0123', 'quote.ready', '{}', 5, 5)",
]);
refused!(a_push_notification_needs_a_device_token: rules::NOTIFICATION_QUEUE_RECIPIENT_VALID, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts)
     VALUES ('push', '', 'quote.ready', '{}', 5, 5)",
]);
refused!(a_websocket_notification_needs_a_user: rules::NOTIFICATION_QUEUE_RECIPIENT_VALID, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts)
     VALUES ('websocket', 'alice@example.com', 'quote.rated', '{}', 5, 1)",
]);
refused!(an_in_app_notification_takes_no_address: rules::NOTIFICATION_QUEUE_RECIPIENT_VALID, [
    "INSERT INTO notification_queue (channel, recipient_user_id, recipient_address, template, payload, priority, max_attempts)
     VALUES ('in_app', 'a0000000-0000-4000-8000-000000000001', 'alice@example.com', 'quote.ready', '{}', 5, 1)",
]);
refused!(a_notification_recipient_is_an_existing_user: rules::NOTIFICATION_QUEUE_RECIPIENT_USER_FK, [
    "INSERT INTO notification_queue (channel, recipient_user_id, template, payload, priority, max_attempts)
     VALUES ('in_app', gen_random_uuid(), 'quote.ready', '{}', 5, 1)",
]);
refused!(a_notification_template_is_dotted_snake_case: rules::NOTIFICATION_QUEUE_TEMPLATE_FORMAT, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts)
     VALUES ('sms', '+14155550123', 'Quote Ready!', '{}', 5, 5)",
]);
refused!(a_notification_payload_is_a_json_object: rules::NOTIFICATION_QUEUE_PAYLOAD_OBJECT, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts)
     VALUES ('sms', '+14155550123', 'quote.ready', '[]', 5, 5)",
]);
refused!(a_notification_priority_is_between_0_and_9: rules::NOTIFICATION_QUEUE_PRIORITY_RANGE, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts)
     VALUES ('sms', '+14155550123', 'quote.ready', '{}', 10, 5)",
]);
refused!(a_notification_allows_at_least_one_attempt: rules::NOTIFICATION_QUEUE_MAX_ATTEMPTS_POSITIVE, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts)
     VALUES ('sms', '+14155550123', 'quote.ready', '{}', 5, 0)",
]);
refused!(notification_attempts_cannot_exceed_the_maximum: rules::NOTIFICATION_QUEUE_ATTEMPTS_WITHIN_MAX, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts, attempts)
     VALUES ('sms', '+14155550123', 'quote.ready', '{}', 5, 3, 4)",
]);
refused!(an_exhausted_notification_is_dead_not_failed: rules::NOTIFICATION_QUEUE_FAILED_HAS_RETRIES_LEFT, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts, attempts,
                                     status, last_error)
     VALUES ('sms', '+14155550123', 'quote.ready', '{}', 5, 3, 3, 'failed', 'carrier timeout')",
]);
refused!(a_processing_notification_is_locked_by_a_worker: rules::NOTIFICATION_QUEUE_PROCESSING_IFF_LOCKED, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts, status, locked_at)
     VALUES ('sms', '+14155550123', 'quote.ready', '{}', 5, 3, 'processing', now())",
]);
refused!(a_pending_notification_holds_no_lock: rules::NOTIFICATION_QUEUE_PROCESSING_IFF_LOCKED, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts, locked_at, locked_by)
     VALUES ('sms', '+14155550123', 'quote.ready', '{}', 5, 3, now(), 'worker-1')",
]);
refused!(a_sent_notification_has_a_sent_time: rules::NOTIFICATION_QUEUE_SENT_AT_IFF_SENT, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts, attempts, status)
     VALUES ('sms', '+14155550123', 'quote.ready', '{}', 5, 3, 1, 'sent')",
]);
refused!(a_failed_notification_records_its_error: rules::NOTIFICATION_QUEUE_LAST_ERROR_IFF_FAILED, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts, attempts, status)
     VALUES ('sms', '+14155550123', 'quote.ready', '{}', 5, 3, 1, 'failed')",
]);
refused!(a_pending_notification_has_no_last_error: rules::NOTIFICATION_QUEUE_LAST_ERROR_IFF_FAILED, [
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts, last_error)
     VALUES ('sms', '+14155550123', 'quote.ready', '{}', 5, 3, 'boom')",
]);
accepted!(a_notification_goes_through_claim_failure_retry_and_delivery: [
    "INSERT INTO notification_queue (id, channel, recipient_address, template, payload, priority, max_attempts)
     VALUES ('c0000000-0000-4000-8000-000000000001', 'sms', '+14155550123', 'quote.ready', '{}', 5, 2)",
    "UPDATE notification_queue SET status = 'processing', locked_at = now(), locked_by = 'worker-1', attempts = attempts + 1",
    "UPDATE notification_queue SET status = 'failed', locked_at = NULL, locked_by = NULL, last_error = 'carrier timeout',
                                   next_attempt_at = now() + interval '1 minute'",
    "UPDATE notification_queue SET status = 'processing', locked_at = now(), locked_by = 'worker-2', attempts = attempts + 1,
                                   last_error = NULL",
    "UPDATE notification_queue SET status = 'sent', locked_at = NULL, locked_by = NULL, sent_at = now()",
    "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts, attempts,
                                     status, last_error)
     VALUES ('sms', '+14155550123', 'quote.ready', '{}', 5, 2, 2, 'dead', 'carrier timeout')",
]);

/// The worker claim of `quotedb_schema::realtime` (one row), returning the claimed address.
async fn claim<'e>(conn: impl sqlx::PgExecutor<'e>, worker: &str) -> Option<String> {
    sqlx::query_scalar(
        "UPDATE notification_queue n
         SET status = 'processing', locked_at = now(), locked_by = $1, attempts = n.attempts + 1
         WHERE n.id IN (SELECT id FROM notification_queue
                        WHERE status IN ('pending', 'failed') AND next_attempt_at <= now()
                        ORDER BY priority DESC, next_attempt_at
                        LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING n.recipient_address",
    )
    .bind(worker)
    .fetch_optional(conn)
    .await
    .expect("claim")
}

#[tokio::test]
async fn workers_claim_by_priority_and_skip_rows_another_worker_holds() {
    let db = fixture().await;
    accepts(&db, &[
        "INSERT INTO notification_queue (channel, recipient_address, template, payload, priority, max_attempts, next_attempt_at)
         VALUES ('sms', '+14155550101', 'quote.ready', '{}', 1, 3, now() - interval '2 minutes'),
                ('sms', '+14155550109', 'quote.ready', '{}', 9, 3, now() - interval '1 minute'),
                ('sms', '+14155550105', 'quote.ready', '{}', 5, 3, now() + interval '1 hour')",
    ])
    .await;
    let mut first = sqlx::PgConnection::connect(db.url()).await.expect("connect");
    let mut held = first.begin().await.expect("begin");
    let a = claim(&mut *held, "worker-1").await;
    let b = claim(db.pool(), "worker-2").await;
    let c = claim(db.pool(), "worker-2").await;
    held.commit().await.expect("commit");
    assert_eq!(a.as_deref(), Some("+14155550109"), "highest priority first");
    assert_eq!(b.as_deref(), Some("+14155550101"), "the held row is skipped");
    assert_eq!(c, None, "the row due in an hour is not claimed");
}

accepted!(deleting_a_user_drops_their_notifications: [
    "INSERT INTO notification_queue (channel, recipient_user_id, template, payload, priority, max_attempts)
     VALUES ('in_app', 'b0000000-0000-4000-8000-000000000002', 'quote.ready', '{}', 5, 1)",
    "DELETE FROM users WHERE email = 'bob@example.com'",
] then "SELECT count(*) FROM notification_queue" == 0);

// ---- realtime_metrics -------------------------------------------------------------------------

const UPSERT: &str = "INSERT INTO realtime_metrics (metric, dimensions, bucket_width, bucket_start, count, sum, min, max)
     VALUES ('quotes.premium', '{\"state\": \"CA\"}', 'five_minutes',
             date_bin(metric_bucket_interval('five_minutes'), timestamptz '2026-03-01 10:07:31+00', timestamptz '2000-01-01 00:00:00+00'),
             1, $1, $1, $1)
     ON CONFLICT ON CONSTRAINT realtime_metrics_bucket_unique DO UPDATE
        SET count = realtime_metrics.count + EXCLUDED.count, sum = realtime_metrics.sum + EXCLUDED.sum,
            min = least(realtime_metrics.min, EXCLUDED.min), max = greatest(realtime_metrics.max, EXCLUDED.max)";

#[tokio::test]
async fn metric_observations_accumulate_in_one_aligned_bucket() {
    let db = fixture().await;
    for premium in [1200, 800, 1500] {
        sqlx::query(UPSERT)
            .bind(rust_decimal::Decimal::from(premium))
            .execute(db.pool())
            .await
            .expect("upsert");
    }
    let row: (
        i64,
        rust_decimal::Decimal,
        rust_decimal::Decimal,
        rust_decimal::Decimal,
        String,
    ) = sqlx::query_as(
        "SELECT count, sum, min, max, bucket_start::text FROM realtime_metrics WHERE metric = 'quotes.premium'",
    )
    .fetch_one(db.pool())
    .await
    .expect("one bucket");
    assert_eq!((row.0, row.1, row.2, row.3), (3, 3500.into(), 800.into(), 1500.into()));
    assert!(
        row.4.starts_with("2026-03-01 10:05:00"),
        "aligned to 5 minutes: {}",
        row.4
    );
}
accepted!(a_counter_bucket_needs_no_statistics: [
    "INSERT INTO realtime_metrics (metric, bucket_width, bucket_start, count)
     VALUES ('sessions.started', 'day', '2026-03-01 00:00:00+00', 42)",
]);
refused!(a_metric_bucket_is_unique_per_metric_width_start_and_dimensions: rules::REALTIME_METRICS_BUCKET_UNIQUE, [
    "INSERT INTO realtime_metrics (metric, dimensions, bucket_width, bucket_start, count)
     VALUES ('quotes.rated', '{\"state\": \"CA\", \"channel\": \"web\"}', 'hour', '2026-03-01 10:00:00+00', 1)",
    "INSERT INTO realtime_metrics (metric, dimensions, bucket_width, bucket_start, count)
     VALUES ('quotes.rated', '{\"channel\": \"web\", \"state\": \"CA\"}', 'hour', '2026-03-01 10:00:00+00', 1)",
]);
refused!(a_metric_bucket_starts_on_a_boundary_of_its_width: rules::REALTIME_METRICS_BUCKET_ALIGNED, [
    "INSERT INTO realtime_metrics (metric, bucket_width, bucket_start, count)
     VALUES ('quotes.rated', 'five_minutes', '2026-03-01 10:03:00+00', 1)",
]);
refused!(a_daily_metric_bucket_starts_at_utc_midnight: rules::REALTIME_METRICS_BUCKET_ALIGNED, [
    "INSERT INTO realtime_metrics (metric, bucket_width, bucket_start, count)
     VALUES ('quotes.rated', 'day', '2026-03-01 00:00:00-08', 1)",
]);
refused!(a_metric_name_is_dotted_snake_case: rules::REALTIME_METRICS_METRIC_FORMAT, [
    "INSERT INTO realtime_metrics (metric, bucket_width, bucket_start, count)
     VALUES ('Quotes Rated', 'hour', '2026-03-01 10:00:00+00', 1)",
]);
refused!(metric_dimensions_are_a_json_object: rules::REALTIME_METRICS_DIMENSIONS_OBJECT, [
    "INSERT INTO realtime_metrics (metric, dimensions, bucket_width, bucket_start, count)
     VALUES ('quotes.rated', '[\"CA\"]', 'hour', '2026-03-01 10:00:00+00', 1)",
]);
refused!(metric_dimensions_stay_under_one_kib: rules::REALTIME_METRICS_DIMENSIONS_SMALL, [
    "INSERT INTO realtime_metrics (metric, dimensions, bucket_width, bucket_start, count)
     VALUES ('quotes.rated', jsonb_build_object('campaign', repeat('x', 1100)), 'hour', '2026-03-01 10:00:00+00', 1)",
]);
refused!(a_metric_count_is_not_negative: rules::REALTIME_METRICS_COUNT_NON_NEGATIVE, [
    "INSERT INTO realtime_metrics (metric, bucket_width, bucket_start, count)
     VALUES ('quotes.rated', 'hour', '2026-03-01 10:00:00+00', -1)",
]);
refused!(metric_sum_min_and_max_come_together: rules::REALTIME_METRICS_STATS_COMPLETE, [
    "INSERT INTO realtime_metrics (metric, bucket_width, bucket_start, count, sum)
     VALUES ('quotes.premium', 'hour', '2026-03-01 10:00:00+00', 1, 1200)",
]);
refused!(a_metric_min_is_not_above_its_max: rules::REALTIME_METRICS_MIN_LE_MAX, [
    "INSERT INTO realtime_metrics (metric, bucket_width, bucket_start, count, sum, min, max)
     VALUES ('quotes.premium', 'hour', '2026-03-01 10:00:00+00', 2, 2000, 1200, 800)",
]);
