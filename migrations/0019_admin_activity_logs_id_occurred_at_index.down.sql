-- 0019 (down): drop the index built for the partitioning.
DROP INDEX admin_activity_logs_id_occurred_at_key;
