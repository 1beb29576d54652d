-- 0018 (down): drop the index built for the partitioning.
DROP INDEX analytics_events_id_occurred_at_key;
