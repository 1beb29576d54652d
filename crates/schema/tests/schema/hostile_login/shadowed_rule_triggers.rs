//! 3. Rule triggers cannot be shadowed

use super::*;

#[tokio::test]
async fn temp_tables_cannot_stand_in_for_what_a_rule_trigger_reads() {
    let db = TestDb::seeded(&quotedb_schema::MIGRATOR, quotedb_seeds::REFERENCE).await;
    let w = world(&db).await;
    let mut conn = connect(&db, APP_LOGIN).await;
    // Shadow the status machine and the versions with tables that would allow anything.
    sqlx::raw_sql(
        "CREATE TEMP TABLE quote_status_transitions (from_status quote_status, to_status quote_status);
         INSERT INTO quote_status_transitions SELECT a, b FROM unnest(enum_range(NULL::quote_status)) a,
                                                              unnest(enum_range(NULL::quote_status)) b;
         CREATE TEMP TABLE quote_versions (LIKE public.quote_versions);",
    )
    .execute(&mut conn)
    .await
    .expect("shadow tables");
    // Meaningful: unqualified names in this session now mean the shadows (25 moves, rated -> bound
    // among them), which is what the unpinned triggers of 0002 read.
    let shadow: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM quote_status_transitions WHERE from_status = 'rated' AND to_status = 'bound'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("shadow");
    assert_eq!(shadow, 1);

    // rated -> bound skips "presented": the real status machine still refuses it.
    let err = refused(
        &mut conn,
        Some(w.victim),
        &format!(
            "UPDATE public.quotes SET status = 'bound', bound_at = now() WHERE id = '{}'",
            w.victim_quote
        ),
    )
    .await;
    assert!(err.contains("cannot move from rated to bound"), "{err}");

    // Every trigger function either pins its search_path with pg_temp last, or names no table of
    // the schema unqualified (the hot rule triggers of the quote path qualify instead of paying
    // for a SET clause on every row).
    let tables: Vec<String> = public_tables(&db).await;
    let sources: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT p.oid::regprocedure::text, p.prosrc,
                coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, public, pg_temp'], false)
         FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.prorettype = 'trigger'::regtype",
    )
    .fetch_all(db.pool())
    .await
    .expect("trigger functions");
    let mut unqualified = Vec::new();
    for (function, source, pinned) in &sources {
        if *pinned {
            continue;
        }
        let words: Vec<&str> = source
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            let keyword = pair[0].to_ascii_uppercase();
            if matches!(keyword.as_str(), "FROM" | "JOIN" | "UPDATE" | "INTO") && tables.iter().any(|t| t == pair[1]) {
                unqualified.push(format!("{function}: {} {}", pair[0], pair[1]));
            }
        }
    }
    assert!(
        unqualified.is_empty(),
        "unpinned trigger functions naming tables unqualified: {unqualified:?}"
    );
}
