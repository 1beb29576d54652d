CREATE TEMP TABLE volume_rate_change_submissions (
    request_id   uuid PRIMARY KEY,
    submitted_at timestamptz NOT NULL
) ON COMMIT DROP
