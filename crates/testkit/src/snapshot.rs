//! A textual snapshot of a database's schema, read from the catalog, for "up → down → up leaves
//! the same schema" tests (sqlx's own `_sqlx_migrations` bookkeeping table is left out). It covers what `pg_dump --schema-only` would show for the `public`
//! schema (tables, columns, defaults, constraints, indexes, triggers, functions, types, views,
//! policies, RLS flags, partitioning, comments, grants, extensions) without needing `pg_dump` on
//! the PATH, and is insensitive to catalog details that a dump also hides (OIDs, attnums of
//! dropped columns). Columns are listed by name, not position: an online type change (add a
//! column, backfill, swap) moves a column to the end, and every query names its columns.

use sqlx::PgConnection;

/// One query per object kind; each returns one text column, sorted.
const QUERIES: &[(&str, &str)] = &[
    ("extensions", "SELECT extname FROM pg_extension ORDER BY 1"),
    (
        "relations",
        "SELECT c.relname || ' kind=' || c.relkind::text || ' rls=' || c.relrowsecurity || ' force=' || c.relforcerowsecurity
                || ' part=' || coalesce(pg_get_partkeydef(c.oid), '-')
                || ' bound=' || coalesce(pg_get_expr(c.relpartbound, c.oid), '-')
                || ' acl=' || coalesce(c.relacl::text, '-')
                || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-')
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relname <> '_sqlx_migrations'
         ORDER BY 1",
    ),
    (
        "columns",
        "SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')
                || ' identity=' || a.attidentity::text || ' generated=' || a.attgenerated::text
                || ' comment=' || coalesce(col_description(c.oid, a.attnum), '-')
                || ' acl=' || coalesce(a.attacl::text, '-')
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
           AND c.relname <> '_sqlx_migrations'
         ORDER BY c.relname, a.attname",
    ),
    (
        "constraints",
        "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                || ' comment=' || coalesce(obj_description(oid, 'pg_constraint'), '-')
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_sqlx_migrations'
         ORDER BY 1",
    ),
    (
        "indexes",
        "SELECT i.indexdef || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-')
         FROM pg_indexes i
         JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = 'public'::regnamespace
         WHERE i.schemaname = 'public' AND i.tablename <> '_sqlx_migrations' ORDER BY 1",
    ),
    (
        "triggers",
        "SELECT pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
                || ' comment=' || coalesce(obj_description(t.oid, 'pg_trigger'), '-')
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal ORDER BY 1",
    ),
    (
        "functions",
        "SELECT pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, '-')
                || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
         FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
         ORDER BY 1",
    ),
    (
        "types",
        "SELECT t.typname || ' ' || t.typtype::text || ' '
                || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '-')
                || ' comment=' || coalesce(obj_description(t.oid, 'pg_type'), '-')
         FROM pg_type t
         WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'c')
           AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
         ORDER BY 1",
    ),
    (
        "views",
        "SELECT c.relname || ': ' || pg_get_viewdef(c.oid) FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v', 'm') ORDER BY 1",
    ),
    (
        "policies",
        "SELECT tablename || ' ' || policyname || ' ' || permissive || ' ' || roles::text || ' ' || cmd
                || ' using=' || coalesce(qual, '-') || ' check=' || coalesce(with_check, '-')
         FROM pg_policies WHERE schemaname = 'public' ORDER BY 1",
    ),
];

/// The schema of the database behind `conn`, as sorted text (one line per object).
pub async fn schema_snapshot(conn: &mut PgConnection) -> Result<String, sqlx::Error> {
    let mut out = String::new();
    for (section, sql) in QUERIES {
        // Catalog queries with no parameters or user input; dynamic because they read
        // pg_catalog, which the compile-time checked macros gain nothing from.
        let rows: Vec<Option<String>> = sqlx::query_scalar(*sql).fetch_all(&mut *conn).await?;
        out.push_str(&format!("## {section}\n"));
        for row in rows.into_iter().flatten() {
            out.push_str(&row);
            out.push('\n');
        }
    }
    Ok(out)
}
