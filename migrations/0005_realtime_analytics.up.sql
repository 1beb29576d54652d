-- 0005 realtime analytics: live websocket connections, the analytics event stream, the
-- outgoing notification queue (claimed by workers with FOR UPDATE SKIP LOCKED) and
-- pre-aggregated realtime metric buckets (upserted atomically).

------------------------------------------------------------------------------------------------
-- Enumerations and helpers
------------------------------------------------------------------------------------------------

CREATE TYPE notification_channel AS ENUM ('email', 'sms', 'push', 'websocket', 'in_app');
COMMENT ON TYPE notification_channel IS 'How a notification reaches its recipient.';

CREATE TYPE notification_status AS ENUM ('pending', 'processing', 'sent', 'failed', 'dead');
COMMENT ON TYPE notification_status IS 'Delivery state of a queued notification: pending -> processing -> sent, or -> failed (retried while attempts remain) -> dead.';

CREATE TYPE metric_bucket_width AS ENUM ('minute', 'five_minutes', 'hour', 'day');
COMMENT ON TYPE metric_bucket_width IS 'Width of a realtime metric bucket: 1 minute, 5 minutes, 1 hour or 1 day (see metric_bucket_interval()).';

CREATE FUNCTION metric_bucket_interval(width metric_bucket_width) RETURNS interval
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
        SELECT CASE width
            WHEN 'minute' THEN interval '1 minute'
            WHEN 'five_minutes' THEN interval '5 minutes'
            WHEN 'hour' THEN interval '1 hour'
            WHEN 'day' THEN interval '1 day'
        END
    $$;
COMMENT ON FUNCTION metric_bucket_interval(metric_bucket_width) IS
    'The interval a bucket width stands for. Buckets are aligned with date_bin(metric_bucket_interval(w), t, ''2000-01-01 00:00:00+00'') (days start at 00:00 UTC).';

------------------------------------------------------------------------------------------------
-- websocket_connections
------------------------------------------------------------------------------------------------

CREATE TABLE websocket_connections (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL
        CONSTRAINT websocket_connections_user_fk REFERENCES users (id) ON DELETE CASCADE,
    session_id        uuid
        CONSTRAINT websocket_connections_session_fk REFERENCES user_sessions (id) ON DELETE SET NULL,
    server_node       text NOT NULL
        CONSTRAINT websocket_connections_server_node_format CHECK (server_node ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'),
    ip                inet,
    subscriptions     jsonb NOT NULL DEFAULT '[]'
        CONSTRAINT websocket_connections_subscriptions_array CHECK (jsonb_typeof(subscriptions) = 'array'),
    connected_at      timestamptz NOT NULL DEFAULT now(),
    last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
    disconnected_at   timestamptz,
    CONSTRAINT websocket_connections_heartbeat_after_connect CHECK (last_heartbeat_at >= connected_at),
    CONSTRAINT websocket_connections_disconnect_after_connect CHECK (disconnected_at >= connected_at),
    CONSTRAINT websocket_connections_heartbeat_before_disconnect CHECK (last_heartbeat_at <= disconnected_at)
);

COMMENT ON TABLE websocket_connections IS 'Websocket connections of users to the realtime servers; a connection is live while disconnected_at IS NULL. connected_at is the creation time and last_heartbeat_at the change time (no created_at/updated_at: heartbeats are the hot path).';
COMMENT ON COLUMN websocket_connections.session_id IS 'Session that authenticated the connection, so revoking a session can close its sockets.';
COMMENT ON COLUMN websocket_connections.server_node IS 'Realtime server (host or pod name) holding the socket.';
COMMENT ON COLUMN websocket_connections.subscriptions IS 'Topics the connection listens to, a JSON array of strings (e.g. ["quote:<uuid>", "rates:CA"]); starts empty.';
COMMENT ON COLUMN websocket_connections.last_heartbeat_at IS 'Last ping received; live connections with an old heartbeat are stale and swept.';

COMMENT ON CONSTRAINT websocket_connections_user_fk ON websocket_connections IS 'A connection belongs to a user; CASCADE because connections of a deleted user are meaningless.';
COMMENT ON CONSTRAINT websocket_connections_session_fk ON websocket_connections IS 'A connection may record its session; SET NULL because swept sessions must not erase connection history.';
COMMENT ON CONSTRAINT websocket_connections_server_node_format ON websocket_connections IS 'A server node is a host or pod name of 1-128 letters, digits, dots, underscores, colons or hyphens.';
COMMENT ON CONSTRAINT websocket_connections_subscriptions_array ON websocket_connections IS 'Subscriptions are a JSON array of topics.';
COMMENT ON CONSTRAINT websocket_connections_heartbeat_after_connect ON websocket_connections IS 'A heartbeat cannot precede the connection.';
COMMENT ON CONSTRAINT websocket_connections_disconnect_after_connect ON websocket_connections IS 'A connection cannot end before it started.';
COMMENT ON CONSTRAINT websocket_connections_heartbeat_before_disconnect ON websocket_connections IS 'No heartbeat arrives after the connection ended.';

CREATE INDEX websocket_connections_active_user_id_idx ON websocket_connections (user_id) WHERE disconnected_at IS NULL;
COMMENT ON INDEX websocket_connections_active_user_id_idx IS 'Live connections of a user (fan-out, presence): WHERE user_id = $1 AND disconnected_at IS NULL.';
CREATE INDEX websocket_connections_active_last_heartbeat_at_idx ON websocket_connections (last_heartbeat_at) WHERE disconnected_at IS NULL;
COMMENT ON INDEX websocket_connections_active_last_heartbeat_at_idx IS 'Stale sweep: WHERE disconnected_at IS NULL AND last_heartbeat_at < now() - <timeout>.';
CREATE INDEX websocket_connections_user_id_connected_at_idx ON websocket_connections (user_id, connected_at DESC);
COMMENT ON INDEX websocket_connections_user_id_connected_at_idx IS 'Connection history of a user, newest first; also the CASCADE when a user is deleted.';
CREATE INDEX websocket_connections_session_id_idx ON websocket_connections (session_id) WHERE session_id IS NOT NULL;
COMMENT ON INDEX websocket_connections_session_id_idx IS 'Connections of a session (close on revoke) and the SET NULL when sessions are swept.';
CREATE INDEX websocket_connections_subscriptions_idx ON websocket_connections USING gin (subscriptions jsonb_path_ops)
    WHERE disconnected_at IS NULL;
COMMENT ON INDEX websocket_connections_subscriptions_idx IS 'Fan-out to the live subscribers of a topic: WHERE disconnected_at IS NULL AND subscriptions @> ''["quote:<uuid>"]''.';

------------------------------------------------------------------------------------------------
-- analytics_events
------------------------------------------------------------------------------------------------

CREATE TABLE analytics_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type  text NOT NULL
        CONSTRAINT analytics_events_event_type_format CHECK (
            event_type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' AND char_length(event_type) <= 100),
    user_id     uuid
        CONSTRAINT analytics_events_user_fk REFERENCES users (id) ON DELETE SET NULL,
    session_id  uuid
        CONSTRAINT analytics_events_session_fk REFERENCES user_sessions (id) ON DELETE SET NULL,
    quote_id    uuid
        CONSTRAINT analytics_events_quote_fk REFERENCES quotes (id) ON DELETE SET NULL,
    properties  jsonb NOT NULL
        CONSTRAINT analytics_events_properties_object CHECK (jsonb_typeof(properties) = 'object'),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE analytics_events IS 'Product analytics event stream (append-mostly, large; time-ordered so BRIN fits).';
COMMENT ON COLUMN analytics_events.event_type IS 'Event name as dotted snake_case (e.g. quote.viewed, quote.bound).';
COMMENT ON COLUMN analytics_events.properties IS 'Event attributes as a JSON object.';
COMMENT ON COLUMN analytics_events.occurred_at IS 'When the event happened (client time when reported by a client).';
COMMENT ON COLUMN analytics_events.created_at IS 'When the event was recorded.';

COMMENT ON CONSTRAINT analytics_events_event_type_format ON analytics_events IS 'An event type is dotted snake_case of at most 100 characters.';
COMMENT ON CONSTRAINT analytics_events_user_fk ON analytics_events IS 'An event may concern a user; SET NULL because analytics outlive the user, anonymised.';
COMMENT ON CONSTRAINT analytics_events_session_fk ON analytics_events IS 'An event may come from a session; SET NULL because expired sessions are swept but events stay.';
COMMENT ON CONSTRAINT analytics_events_quote_fk ON analytics_events IS 'An event may concern a quote; SET NULL because events outlive deleted quotes.';
COMMENT ON CONSTRAINT analytics_events_properties_object ON analytics_events IS 'Event properties are a JSON object.';

CREATE INDEX analytics_events_event_type_occurred_at_idx ON analytics_events (event_type, occurred_at DESC);
COMMENT ON INDEX analytics_events_event_type_occurred_at_idx IS 'Events of a type in a time range, newest first.';
CREATE INDEX analytics_events_occurred_at_idx ON analytics_events USING brin (occurred_at);
COMMENT ON INDEX analytics_events_occurred_at_idx IS 'Time-range scans over all types (rows arrive roughly in time order, so BRIN is tiny).';
CREATE INDEX analytics_events_properties_idx ON analytics_events USING gin (properties jsonb_path_ops);
COMMENT ON INDEX analytics_events_properties_idx IS 'Containment filters on properties: properties @> ''{"state":"CA"}''.';
CREATE INDEX analytics_events_user_id_occurred_at_idx ON analytics_events (user_id, occurred_at DESC) WHERE user_id IS NOT NULL;
COMMENT ON INDEX analytics_events_user_id_occurred_at_idx IS 'A user''s timeline; also the SET NULL when a user is deleted.';
CREATE INDEX analytics_events_session_id_idx ON analytics_events (session_id) WHERE session_id IS NOT NULL;
COMMENT ON INDEX analytics_events_session_id_idx IS 'Events of a session; also the SET NULL when sessions are swept.';
CREATE INDEX analytics_events_quote_id_occurred_at_idx ON analytics_events (quote_id, occurred_at) WHERE quote_id IS NOT NULL;
COMMENT ON INDEX analytics_events_quote_id_occurred_at_idx IS 'A quote''s funnel in time order; also the SET NULL when a quote is deleted.';

------------------------------------------------------------------------------------------------
-- notification_queue
------------------------------------------------------------------------------------------------

CREATE TABLE notification_queue (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    channel           notification_channel NOT NULL,
    recipient_user_id uuid
        CONSTRAINT notification_queue_recipient_user_fk REFERENCES users (id) ON DELETE CASCADE,
    recipient_address text,
    template          text NOT NULL
        CONSTRAINT notification_queue_template_format CHECK (
            template ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' AND char_length(template) <= 100),
    payload           jsonb NOT NULL
        CONSTRAINT notification_queue_payload_object CHECK (jsonb_typeof(payload) = 'object'),
    status            notification_status NOT NULL DEFAULT 'pending',
    priority          smallint NOT NULL
        CONSTRAINT notification_queue_priority_range CHECK (priority BETWEEN 0 AND 9),
    attempts          smallint NOT NULL DEFAULT 0,
    max_attempts      smallint NOT NULL
        CONSTRAINT notification_queue_max_attempts_positive CHECK (max_attempts > 0),
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    locked_at         timestamptz,
    locked_by         text,
    sent_at           timestamptz,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_queue_recipient_valid CHECK (
        CASE channel
            WHEN 'email' THEN coalesce(char_length(recipient_address) <= 254 AND recipient_address ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$',
                                       recipient_user_id IS NOT NULL)
            WHEN 'sms' THEN coalesce(recipient_address ~ '^\+[1-9][0-9]{6,14}$', recipient_user_id IS NOT NULL)
            WHEN 'push' THEN coalesce(recipient_address ~ '^\S+$' AND char_length(recipient_address) <= 4096, recipient_user_id IS NOT NULL)
            ELSE recipient_user_id IS NOT NULL AND recipient_address IS NULL
        END),
    CONSTRAINT notification_queue_attempts_within_max CHECK (attempts BETWEEN 0 AND max_attempts),
    CONSTRAINT notification_queue_failed_has_retries_left CHECK (status <> 'failed' OR attempts < max_attempts),
    CONSTRAINT notification_queue_processing_iff_locked CHECK (
        (status = 'processing') = (locked_at IS NOT NULL) AND (locked_at IS NULL) = (locked_by IS NULL)),
    CONSTRAINT notification_queue_sent_at_iff_sent CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CONSTRAINT notification_queue_last_error_iff_failed CHECK (
        (status IN ('failed', 'dead')) = (last_error IS NOT NULL) AND (last_error IS NULL OR last_error ~ '\S'))
);

COMMENT ON TABLE notification_queue IS 'Outgoing notifications. Workers claim due rows with FOR UPDATE SKIP LOCKED (see notification_queue_claim_idx), set processing and attempts + 1, then mark sent, failed (retried at next_attempt_at) or dead.';
COMMENT ON COLUMN notification_queue.recipient_user_id IS 'Recipient user; the channel address is then resolved from the user at send time unless recipient_address is given.';
COMMENT ON COLUMN notification_queue.recipient_address IS 'Explicit address for the channel: email address, E.164 phone number, or push device token. NULL for websocket and in_app.';
COMMENT ON COLUMN notification_queue.template IS 'Message template name, dotted snake_case (e.g. quote.ready).';
COMMENT ON COLUMN notification_queue.payload IS 'Template variables as a JSON object.';
COMMENT ON COLUMN notification_queue.priority IS '0 (lowest) to 9 (highest); higher priority is claimed first.';
COMMENT ON COLUMN notification_queue.attempts IS 'Delivery attempts made so far (incremented at claim time).';
COMMENT ON COLUMN notification_queue.max_attempts IS 'Attempts allowed before the notification is dead; the application copies the notification max attempts setting at enqueue.';
COMMENT ON COLUMN notification_queue.next_attempt_at IS 'Not claimed before this time (backoff between retries, or scheduled send).';
COMMENT ON COLUMN notification_queue.locked_at IS 'When a worker claimed the row; processing rows locked long ago are stuck (crashed worker).';
COMMENT ON COLUMN notification_queue.locked_by IS 'Worker that claimed the row.';
COMMENT ON COLUMN notification_queue.last_error IS 'Error of the last failed attempt.';

COMMENT ON CONSTRAINT notification_queue_recipient_user_fk ON notification_queue IS 'A notification may target a user; CASCADE because notifications to a deleted user must not be sent, and SET NULL could leave a row without a recipient.';
COMMENT ON CONSTRAINT notification_queue_template_format ON notification_queue IS 'A template name is dotted snake_case of at most 100 characters.';
COMMENT ON CONSTRAINT notification_queue_payload_object ON notification_queue IS 'A notification payload is a JSON object.';
COMMENT ON CONSTRAINT notification_queue_priority_range ON notification_queue IS 'Priority is between 0 and 9.';
COMMENT ON CONSTRAINT notification_queue_max_attempts_positive ON notification_queue IS 'A notification allows at least one attempt.';
COMMENT ON CONSTRAINT notification_queue_recipient_valid ON notification_queue IS 'A notification has a recipient valid for its channel: email, sms and push need a user or a valid address (email address, E.164 number, device token); websocket and in_app need a user and no address.';
COMMENT ON CONSTRAINT notification_queue_attempts_within_max ON notification_queue IS 'Attempts are between 0 and max_attempts.';
COMMENT ON CONSTRAINT notification_queue_failed_has_retries_left ON notification_queue IS 'A failed notification still has attempts left; one without is dead.';
COMMENT ON CONSTRAINT notification_queue_processing_iff_locked ON notification_queue IS 'A notification is processing exactly when a worker holds it (lock time and worker together).';
COMMENT ON CONSTRAINT notification_queue_sent_at_iff_sent ON notification_queue IS 'A notification has a sent time exactly when it is sent.';
COMMENT ON CONSTRAINT notification_queue_last_error_iff_failed ON notification_queue IS 'A notification carries a non-blank last error exactly when it failed or is dead.';

CREATE INDEX notification_queue_claim_idx ON notification_queue (priority DESC, next_attempt_at)
    WHERE status IN ('pending', 'failed');
COMMENT ON INDEX notification_queue_claim_idx IS 'Worker claim; the query must repeat the literal predicate: SELECT id FROM notification_queue WHERE status IN (''pending'', ''failed'') AND next_attempt_at <= now() ORDER BY priority DESC, next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED.';
CREATE INDEX notification_queue_processing_locked_at_idx ON notification_queue (locked_at) WHERE status = 'processing';
COMMENT ON INDEX notification_queue_processing_locked_at_idx IS 'Stuck claims of crashed workers: WHERE status = ''processing'' AND locked_at < now() - <timeout>.';
CREATE INDEX notification_queue_recipient_user_id_created_at_idx ON notification_queue (recipient_user_id, created_at DESC)
    WHERE recipient_user_id IS NOT NULL;
COMMENT ON INDEX notification_queue_recipient_user_id_created_at_idx IS 'A user''s notifications (in-app inbox), newest first; also the CASCADE when a user is deleted.';
CREATE INDEX notification_queue_payload_idx ON notification_queue USING gin (payload jsonb_path_ops);
COMMENT ON INDEX notification_queue_payload_idx IS 'Containment lookups on payload, e.g. notifications about a quote: payload @> ''{"quote_id":"<uuid>"}''.';

CREATE TRIGGER notification_queue_set_updated_at BEFORE UPDATE ON notification_queue
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

------------------------------------------------------------------------------------------------
-- realtime_metrics
------------------------------------------------------------------------------------------------

CREATE TABLE realtime_metrics (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    metric       text NOT NULL
        CONSTRAINT realtime_metrics_metric_format CHECK (
            metric ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' AND char_length(metric) <= 100),
    dimensions   jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT realtime_metrics_dimensions_object CHECK (jsonb_typeof(dimensions) = 'object')
        CONSTRAINT realtime_metrics_dimensions_small CHECK (octet_length(dimensions::text) <= 1024),
    bucket_width metric_bucket_width NOT NULL,
    bucket_start timestamptz NOT NULL,
    count        bigint NOT NULL
        CONSTRAINT realtime_metrics_count_non_negative CHECK (count >= 0),
    sum          numeric,
    min          numeric,
    max          numeric,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT realtime_metrics_bucket_aligned CHECK (
        bucket_start = date_bin(metric_bucket_interval(bucket_width), bucket_start, timestamptz '2000-01-01 00:00:00+00')),
    CONSTRAINT realtime_metrics_stats_complete CHECK (num_nulls(sum, min, max) IN (0, 3)),
    CONSTRAINT realtime_metrics_min_le_max CHECK (min <= max),
    CONSTRAINT realtime_metrics_bucket_unique UNIQUE (metric, bucket_width, bucket_start, dimensions)
);

COMMENT ON TABLE realtime_metrics IS 'Pre-aggregated metric buckets for realtime dashboards, upserted atomically: INSERT ... ON CONFLICT ON CONSTRAINT realtime_metrics_bucket_unique DO UPDATE SET count = realtime_metrics.count + EXCLUDED.count, sum = realtime_metrics.sum + EXCLUDED.sum, min = least(...), max = greatest(...).';
COMMENT ON COLUMN realtime_metrics.metric IS 'Metric name as dotted snake_case (e.g. quotes.rated, rating.latency_ms).';
COMMENT ON COLUMN realtime_metrics.dimensions IS 'Breakdown of the metric as a flat JSON object (e.g. {"state":"CA"}); {} is the undimensioned total.';
COMMENT ON COLUMN realtime_metrics.bucket_start IS 'Start of the bucket: date_bin(metric_bucket_interval(bucket_width), t, ''2000-01-01 00:00:00+00'').';
COMMENT ON COLUMN realtime_metrics.count IS 'Number of observations in the bucket.';
COMMENT ON COLUMN realtime_metrics.sum IS 'Sum of the observed values; NULL (with min and max) for pure counters.';
COMMENT ON COLUMN realtime_metrics.min IS 'Smallest observed value; NULL for pure counters.';
COMMENT ON COLUMN realtime_metrics.max IS 'Largest observed value; NULL for pure counters.';

COMMENT ON CONSTRAINT realtime_metrics_metric_format ON realtime_metrics IS 'A metric name is dotted snake_case of at most 100 characters.';
COMMENT ON CONSTRAINT realtime_metrics_dimensions_object ON realtime_metrics IS 'Metric dimensions are a JSON object.';
COMMENT ON CONSTRAINT realtime_metrics_dimensions_small ON realtime_metrics IS 'Metric dimensions are at most 1 KiB of JSON (they are part of the bucket key and its index).';
COMMENT ON CONSTRAINT realtime_metrics_count_non_negative ON realtime_metrics IS 'A bucket''s count is not negative.';
COMMENT ON CONSTRAINT realtime_metrics_bucket_aligned ON realtime_metrics IS 'A bucket starts on a boundary of its width (UTC, origin 2000-01-01).';
COMMENT ON CONSTRAINT realtime_metrics_stats_complete ON realtime_metrics IS 'A bucket has sum, min and max together, or none (pure counter).';
COMMENT ON CONSTRAINT realtime_metrics_min_le_max ON realtime_metrics IS 'A bucket''s min is not greater than its max.';
COMMENT ON CONSTRAINT realtime_metrics_bucket_unique ON realtime_metrics IS 'One row per metric, width, bucket start and dimensions: the upsert target.';

CREATE INDEX realtime_metrics_dimensions_idx ON realtime_metrics USING gin (dimensions jsonb_path_ops);
COMMENT ON INDEX realtime_metrics_dimensions_idx IS 'Dimension filters: dimensions @> ''{"state":"CA"}''. Range queries by (metric, bucket_width, bucket_start) use the realtime_metrics_bucket_unique index.';

CREATE TRIGGER realtime_metrics_set_updated_at BEFORE UPDATE ON realtime_metrics
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

------------------------------------------------------------------------------------------------
-- Grants
------------------------------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE, DELETE ON websocket_connections, notification_queue, realtime_metrics TO quotedb_app;
GRANT SELECT, INSERT ON analytics_events TO quotedb_app;
GRANT USAGE ON SEQUENCE analytics_events_id_seq, realtime_metrics_id_seq TO quotedb_app;
GRANT SELECT ON websocket_connections, analytics_events, notification_queue, realtime_metrics TO quotedb_readonly;
