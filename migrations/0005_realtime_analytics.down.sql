-- Reverts 0005_realtime_analytics. Dropping a table drops its indexes, triggers, constraints,
-- comments and grants.

DROP TABLE realtime_metrics;
DROP TABLE notification_queue;
DROP TABLE analytics_events;
DROP TABLE websocket_connections;

DROP FUNCTION metric_bucket_interval(metric_bucket_width);

DROP TYPE metric_bucket_width;
DROP TYPE notification_status;
DROP TYPE notification_channel;
