-- The rating snapshots of a quote the acting user can see, oldest first, in ONE round trip:
-- app_quote_versions (migration 0024) sets the actor and joins through quotes, whose RLS policies
-- decide. A visible quote that was never rated gives one row of NULLs.
--   $1 acting user (NULL = the system actor), $2 quote id.
SELECT v.quote_id AS "quote_id!: QuoteId",
       v.id AS "id?: QuoteVersionId",
       v.version AS "version?",
       v.premium AS "premium?",
       v.rating_inputs AS "rating_inputs?",
       v.breakdown AS "breakdown?",
       v.created_at AS "created_at?"
FROM app_quote_versions($1, $2) v
