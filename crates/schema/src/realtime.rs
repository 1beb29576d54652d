//! Migration 0005 (realtime analytics): websocket connections, analytics events, the
//! notification queue and pre-aggregated realtime metrics.
//!
//! # Claiming notifications
//!
//! Workers claim due rows in one statement; the predicate must stay literal so the partial
//! index `notification_queue_claim_idx` serves it (also under a generic plan):
//!
//! ```sql
//! UPDATE notification_queue n
//!    SET status = 'processing', locked_at = now(), locked_by = $2, attempts = n.attempts + 1,
//!        last_error = NULL  -- notification_queue_last_error_iff_failed: only failed/dead rows keep one
//!  WHERE n.id IN (SELECT id FROM notification_queue
//!                  WHERE status IN ('pending', 'failed') AND next_attempt_at <= now()
//!                  ORDER BY priority DESC, next_attempt_at
//!                  LIMIT $1 FOR UPDATE SKIP LOCKED)
//! RETURNING n.*;
//! ```
//!
//! Then: sent (`status = 'sent', sent_at = now()`, lock cleared); failed with a retry
//! (`status = 'failed', last_error, next_attempt_at = <backoff>`, lock cleared) while
//! `attempts < max_attempts`; otherwise dead. Stuck claims: `status = 'processing' AND
//! locked_at < now() - <timeout>`.
//!
//! # Metric upsert
//!
//! ```sql
//! INSERT INTO realtime_metrics (metric, dimensions, bucket_width, bucket_start, count, sum, min, max)
//! VALUES ($1, $2, $3, date_bin(metric_bucket_interval($3), $4, '2000-01-01 00:00:00+00'), 1, $5, $5, $5)
//! ON CONFLICT ON CONSTRAINT realtime_metrics_bucket_unique DO UPDATE
//!    SET count = realtime_metrics.count + EXCLUDED.count,
//!        sum = realtime_metrics.sum + EXCLUDED.sum,
//!        min = least(realtime_metrics.min, EXCLUDED.min),
//!        max = greatest(realtime_metrics.max, EXCLUDED.max);
//! ```

use std::time::Duration;

db_enum! {
    /// How a notification reaches its recipient (`notification_channel`).
    pub enum NotificationChannel as "notification_channel" {
        /// E-mail: a recipient user or an e-mail address.
        Email = "email",
        /// SMS: a recipient user or an E.164 phone number.
        Sms = "sms",
        /// Mobile push: a recipient user or a device token.
        Push = "push",
        /// Live websocket message: a recipient user only.
        Websocket = "websocket",
        /// In-app inbox: a recipient user only.
        InApp = "in_app",
    }
}

db_enum! {
    /// Delivery state of a queued notification (`notification_status`).
    pub enum NotificationStatus as "notification_status" {
        /// Waiting to be claimed (initial state).
        Pending = "pending",
        /// Claimed by a worker (`locked_at`, `locked_by` set).
        Processing = "processing",
        /// Delivered (`sent_at` set).
        Sent = "sent",
        /// Last attempt failed; retried at `next_attempt_at` (attempts remain).
        Failed = "failed",
        /// Given up: attempts exhausted or a permanent error.
        Dead = "dead",
    }
}

db_enum! {
    /// Width of a realtime metric bucket (`metric_bucket_width`).
    pub enum MetricBucketWidth as "metric_bucket_width" {
        /// 1 minute.
        Minute = "minute",
        /// 5 minutes.
        FiveMinutes = "five_minutes",
        /// 1 hour.
        Hour = "hour",
        /// 1 day (starting 00:00 UTC).
        Day = "day",
    }
}

impl MetricBucketWidth {
    /// The span of one bucket; the same as SQL `metric_bucket_interval(width)`.
    pub fn duration(self) -> Duration {
        Duration::from_secs(match self {
            Self::Minute => 60,
            Self::FiveMinutes => 5 * 60,
            Self::Hour => 60 * 60,
            Self::Day => 24 * 60 * 60,
        })
    }
}

/// Business-rule names of migration 0005: constraint names, each documented with the rule it
/// enforces.
pub mod rules {
    // websocket_connections
    /// A connection belongs to a user; CASCADE because connections of a deleted user are meaningless.
    pub const WEBSOCKET_CONNECTIONS_USER_FK: &str = "websocket_connections_user_fk";
    /// A connection may record its session; SET NULL because swept sessions must not erase connection history.
    pub const WEBSOCKET_CONNECTIONS_SESSION_FK: &str = "websocket_connections_session_fk";
    /// A server node is a host or pod name of 1-128 letters, digits, dots, underscores, colons or hyphens.
    pub const WEBSOCKET_CONNECTIONS_SERVER_NODE_FORMAT: &str = "websocket_connections_server_node_format";
    /// Subscriptions are a JSON array of topics.
    pub const WEBSOCKET_CONNECTIONS_SUBSCRIPTIONS_ARRAY: &str = "websocket_connections_subscriptions_array";
    /// A heartbeat cannot precede the connection.
    pub const WEBSOCKET_CONNECTIONS_HEARTBEAT_AFTER_CONNECT: &str = "websocket_connections_heartbeat_after_connect";
    /// A connection cannot end before it started.
    pub const WEBSOCKET_CONNECTIONS_DISCONNECT_AFTER_CONNECT: &str = "websocket_connections_disconnect_after_connect";
    /// No heartbeat arrives after the connection ended.
    pub const WEBSOCKET_CONNECTIONS_HEARTBEAT_BEFORE_DISCONNECT: &str =
        "websocket_connections_heartbeat_before_disconnect";

    // analytics_events
    /// An event type is dotted snake_case of at most 100 characters.
    pub const ANALYTICS_EVENTS_EVENT_TYPE_FORMAT: &str = "analytics_events_event_type_format";
    /// An event may concern a user; SET NULL because analytics outlive the user, anonymised.
    pub const ANALYTICS_EVENTS_USER_FK: &str = "analytics_events_user_fk";
    /// An event may come from a session; SET NULL because expired sessions are swept but events stay.
    pub const ANALYTICS_EVENTS_SESSION_FK: &str = "analytics_events_session_fk";
    /// An event may concern a quote; SET NULL because events outlive deleted quotes.
    pub const ANALYTICS_EVENTS_QUOTE_FK: &str = "analytics_events_quote_fk";
    /// Event properties are a JSON object.
    pub const ANALYTICS_EVENTS_PROPERTIES_OBJECT: &str = "analytics_events_properties_object";

    // notification_queue
    /// A notification may target a user; CASCADE because notifications to a deleted user must not be sent, and SET NULL could leave a row without a recipient.
    pub const NOTIFICATION_QUEUE_RECIPIENT_USER_FK: &str = "notification_queue_recipient_user_fk";
    /// A template name is dotted snake_case of at most 100 characters.
    pub const NOTIFICATION_QUEUE_TEMPLATE_FORMAT: &str = "notification_queue_template_format";
    /// A notification payload is a JSON object.
    pub const NOTIFICATION_QUEUE_PAYLOAD_OBJECT: &str = "notification_queue_payload_object";
    /// Priority is between 0 and 9.
    pub const NOTIFICATION_QUEUE_PRIORITY_RANGE: &str = "notification_queue_priority_range";
    /// A notification allows at least one attempt.
    pub const NOTIFICATION_QUEUE_MAX_ATTEMPTS_POSITIVE: &str = "notification_queue_max_attempts_positive";
    /// A notification has a recipient valid for its channel: email, sms and push need a user or a valid address (email address, E.164 number, device token); websocket and in_app need a user and no address.
    pub const NOTIFICATION_QUEUE_RECIPIENT_VALID: &str = "notification_queue_recipient_valid";
    /// Attempts are between 0 and max_attempts.
    pub const NOTIFICATION_QUEUE_ATTEMPTS_WITHIN_MAX: &str = "notification_queue_attempts_within_max";
    /// A failed notification still has attempts left; one without is dead.
    pub const NOTIFICATION_QUEUE_FAILED_HAS_RETRIES_LEFT: &str = "notification_queue_failed_has_retries_left";
    /// A notification is processing exactly when a worker holds it (lock time and worker together).
    pub const NOTIFICATION_QUEUE_PROCESSING_IFF_LOCKED: &str = "notification_queue_processing_iff_locked";
    /// A notification has a sent time exactly when it is sent.
    pub const NOTIFICATION_QUEUE_SENT_AT_IFF_SENT: &str = "notification_queue_sent_at_iff_sent";
    /// A notification carries a non-blank last error exactly when it failed or is dead.
    pub const NOTIFICATION_QUEUE_LAST_ERROR_IFF_FAILED: &str = "notification_queue_last_error_iff_failed";

    // realtime_metrics
    /// A metric name is dotted snake_case of at most 100 characters.
    pub const REALTIME_METRICS_METRIC_FORMAT: &str = "realtime_metrics_metric_format";
    /// Metric dimensions are a JSON object.
    pub const REALTIME_METRICS_DIMENSIONS_OBJECT: &str = "realtime_metrics_dimensions_object";
    /// Metric dimensions are at most 1 KiB of JSON (they are part of the bucket key and its index).
    pub const REALTIME_METRICS_DIMENSIONS_SMALL: &str = "realtime_metrics_dimensions_small";
    /// A bucket's count is not negative.
    pub const REALTIME_METRICS_COUNT_NON_NEGATIVE: &str = "realtime_metrics_count_non_negative";
    /// A bucket starts on a boundary of its width (UTC, origin 2000-01-01).
    pub const REALTIME_METRICS_BUCKET_ALIGNED: &str = "realtime_metrics_bucket_aligned";
    /// A bucket has sum, min and max together, or none (pure counter).
    pub const REALTIME_METRICS_STATS_COMPLETE: &str = "realtime_metrics_stats_complete";
    /// A bucket's min is not greater than its max.
    pub const REALTIME_METRICS_MIN_LE_MAX: &str = "realtime_metrics_min_le_max";
    /// One row per metric, width, bucket start and dimensions: the upsert target.
    pub const REALTIME_METRICS_BUCKET_UNIQUE: &str = "realtime_metrics_bucket_unique";

    /// Every rule of this migration.
    pub const ALL: &[&str] = &[
        WEBSOCKET_CONNECTIONS_USER_FK,
        WEBSOCKET_CONNECTIONS_SESSION_FK,
        WEBSOCKET_CONNECTIONS_SERVER_NODE_FORMAT,
        WEBSOCKET_CONNECTIONS_SUBSCRIPTIONS_ARRAY,
        WEBSOCKET_CONNECTIONS_HEARTBEAT_AFTER_CONNECT,
        WEBSOCKET_CONNECTIONS_DISCONNECT_AFTER_CONNECT,
        WEBSOCKET_CONNECTIONS_HEARTBEAT_BEFORE_DISCONNECT,
        ANALYTICS_EVENTS_EVENT_TYPE_FORMAT,
        ANALYTICS_EVENTS_USER_FK,
        ANALYTICS_EVENTS_SESSION_FK,
        ANALYTICS_EVENTS_QUOTE_FK,
        ANALYTICS_EVENTS_PROPERTIES_OBJECT,
        NOTIFICATION_QUEUE_RECIPIENT_USER_FK,
        NOTIFICATION_QUEUE_TEMPLATE_FORMAT,
        NOTIFICATION_QUEUE_PAYLOAD_OBJECT,
        NOTIFICATION_QUEUE_PRIORITY_RANGE,
        NOTIFICATION_QUEUE_MAX_ATTEMPTS_POSITIVE,
        NOTIFICATION_QUEUE_RECIPIENT_VALID,
        NOTIFICATION_QUEUE_ATTEMPTS_WITHIN_MAX,
        NOTIFICATION_QUEUE_FAILED_HAS_RETRIES_LEFT,
        NOTIFICATION_QUEUE_PROCESSING_IFF_LOCKED,
        NOTIFICATION_QUEUE_SENT_AT_IFF_SENT,
        NOTIFICATION_QUEUE_LAST_ERROR_IFF_FAILED,
        REALTIME_METRICS_METRIC_FORMAT,
        REALTIME_METRICS_DIMENSIONS_OBJECT,
        REALTIME_METRICS_DIMENSIONS_SMALL,
        REALTIME_METRICS_COUNT_NON_NEGATIVE,
        REALTIME_METRICS_BUCKET_ALIGNED,
        REALTIME_METRICS_STATS_COMPLETE,
        REALTIME_METRICS_MIN_LE_MAX,
        REALTIME_METRICS_BUCKET_UNIQUE,
    ];
}
