-- draft -> pending with the submission time (a request is inserted as draft only).
UPDATE rate_change_requests AS r
SET status = 'pending',
    submitted_at = s.submitted_at
FROM volume_rate_change_submissions AS s
WHERE s.request_id = r.id
