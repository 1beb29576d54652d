//! 7. The catalog: least privilege as a property of the schema

use super::*;

#[tokio::test]
async fn every_table_the_application_may_write_is_under_forced_row_level_security_per_command() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let gaps: Vec<String> = sqlx::query_scalar(
        "WITH cmds (cmd, polcmd) AS (VALUES ('INSERT', 'a'), ('UPDATE', 'w'), ('DELETE', 'd'))
         SELECT c.relname || ' ' || cmds.cmd || CASE WHEN NOT c.relrowsecurity THEN ': RLS off'
                                                     WHEN NOT c.relforcerowsecurity THEN ': RLS not forced'
                                                     ELSE ': no policy' END
         FROM pg_class c CROSS JOIN cmds
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND CASE cmds.cmd WHEN 'DELETE' THEN has_table_privilege('quotedb_app', c.oid, 'DELETE')
                             ELSE has_any_column_privilege('quotedb_app', c.oid, cmds.cmd) END
           AND NOT (c.relrowsecurity AND c.relforcerowsecurity AND EXISTS (
               SELECT 1 FROM pg_policy p
               WHERE p.polrelid = c.oid AND p.polcmd IN (cmds.polcmd, '*')
                 AND (p.polroles = '{0}' OR 'quotedb_app'::regrole = ANY (p.polroles))))
         ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .expect("catalog");
    assert!(
        gaps.is_empty(),
        "writable by quotedb_app without forced RLS and a policy: {gaps:#?}"
    );
}

#[tokio::test]
async fn every_object_belongs_to_the_owner_role_and_definer_functions_are_not_public() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let foreign: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text || ' (' || c.relowner::regrole || ')' FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
           AND c.relname <> '_sqlx_migrations' AND c.relowner <> 'quotedb_owner'::regrole
         UNION ALL
         SELECT p.oid::regprocedure::text || ' (' || p.proowner::regrole || ')' FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> 'quotedb_owner'::regrole
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
         UNION ALL
         SELECT t.typname::text || ' (' || t.typowner::regrole || ')' FROM pg_type t
         WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd') AND t.typowner <> 'quotedb_owner'::regrole
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')",
    )
    .fetch_all(db.pool())
    .await
    .expect("owners");
    assert!(foreign.is_empty(), "objects not owned by quotedb_owner: {foreign:#?}");

    let owner: (bool, bool, bool) =
        sqlx::query_as("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'quotedb_owner'")
            .fetch_one(db.pool())
            .await
            .expect("owner role");
    assert_eq!(
        owner,
        (false, false, false),
        "the owner is neither superuser, BYPASSRLS nor a login"
    );

    // Trigger functions aside: PostgreSQL refuses to call them other than as triggers.
    let public_definers: Vec<String> = sqlx::query_scalar(
        "SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef AND p.prorettype <> 'trigger'::regtype
           AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0))",
    )
    .fetch_all(db.pool())
    .await
    .expect("definer acls");
    assert!(
        public_definers.is_empty(),
        "definer functions PUBLIC may execute: {public_definers:?}"
    );
}
