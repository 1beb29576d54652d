-- 0020 (down): drop the transitional bound checks.
ALTER TABLE analytics_events DROP CONSTRAINT analytics_events_legacy_bound;
ALTER TABLE admin_activity_logs DROP CONSTRAINT admin_activity_logs_legacy_bound;
