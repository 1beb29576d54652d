CREATE TEMP TABLE volume_quote_moves (
    quote_id uuid PRIMARY KEY,
    versions integer NOT NULL,
    status   quote_status NOT NULL,
    premium  numeric(12,2),
    bound_at timestamptz
) ON COMMIT DROP
