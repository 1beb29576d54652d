-- Claim up to $1 due notifications for worker $2 in ONE statement. The inner predicate repeats
-- notification_queue_claim_idx's literally (status IN ('pending', 'failed')) so the partial
-- index serves it under generic plans too; SKIP LOCKED lets concurrent workers take disjoint
-- rows without waiting. last_error is cleared: notification_queue_last_error_iff_failed allows
-- it only on failed/dead rows.
UPDATE notification_queue n
   SET status = 'processing', locked_at = now(), locked_by = $2, attempts = n.attempts + 1,
       last_error = NULL
 WHERE n.id IN (SELECT id FROM notification_queue
                 WHERE status IN ('pending', 'failed') AND next_attempt_at <= now()
                 ORDER BY priority DESC, next_attempt_at
                 LIMIT $1
                 FOR UPDATE SKIP LOCKED)
RETURNING n.id AS "id: NotificationId", n.channel AS "channel: NotificationChannel",
          n.recipient_user_id AS "recipient_user_id: UserId", n.recipient_address, n.template, n.payload,
          n.status AS "status: NotificationStatus", n.priority, n.attempts, n.max_attempts, n.next_attempt_at,
          n.locked_at, n.locked_by, n.sent_at, n.last_error, n.created_at, n.updated_at
