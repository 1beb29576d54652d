//! The generated part of docs/security.md: the roles as the catalog has them, the role × table ×
//! command matrix, the SECURITY DEFINER functions and every policy.

use std::fmt::Write as _;

use anyhow::bail;
use sqlx::PgConnection;

use super::{cell, rows};

/// The roles whose privileges the matrix shows, in its order.
const MATRIX_ROLES: [&str; 3] = ["quotedb_app", "quotedb_system", "quotedb_readonly"];
const MATRIX_COMMANDS: [&str; 4] = ["SELECT", "INSERT", "UPDATE", "DELETE"];

/// One cell of the role × table × command matrix, from one row of the matrix query: table, RLS,
/// role, command, table privilege, any column privilege, granted columns, withheld columns,
/// permissive and restrictive policies that apply.
fn privilege_cell(row: &[String]) -> String {
    let [
        _,
        rls,
        _,
        _,
        table_priv,
        any_column,
        granted,
        withheld,
        permissive,
        restrictive,
    ] = row
    else {
        return format!("(unexpected row: {row:?})");
    };
    let table_priv = table_priv == "true";
    if !table_priv && any_column != "true" {
        return "no grant".to_owned();
    }
    let names = |list: &str| {
        list.split(", ")
            .filter(|n| !n.is_empty())
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let access = if rls.starts_with("view") {
        "granted (view)".to_owned()
    } else if rls == "off" {
        "granted, no RLS".to_owned()
    } else if permissive.is_empty() {
        "granted, no policy (refused)".to_owned()
    } else if restrictive.is_empty() {
        names(permissive)
    } else {
        format!("{} (restrictive: {})", names(permissive), names(restrictive))
    };
    if table_priv {
        return access;
    }
    // The shorter list: the columns granted, or all but the ones withheld.
    let columns = if withheld.is_empty() {
        format!("all, one by one ({granted})")
    } else if withheld.split(", ").count() < granted.split(", ").count() {
        format!("all but {withheld}")
    } else {
        granted.clone()
    };
    format!("columns: {columns}; {}", access.trim_start_matches("granted, "))
}

pub(super) async fn generate_security(conn: &mut PgConnection) -> anyhow::Result<String> {
    let mut out = String::new();
    let roles = rows(
        conn,
        "WITH r(rolname, ord) AS (VALUES ('quotedb_owner', 1), ('quotedb_app', 2), ('quotedb_system', 3),
                                         ('quotedb_readonly', 4))
         SELECT json_build_array(r.rolname, a.oid IS NOT NULL, a.rolcanlogin, a.rolsuper, a.rolbypassrls, a.rolinherit,
                                 coalesce((SELECT string_agg(g.rolname::text, ', ' ORDER BY g.rolname)
                                           FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                                           WHERE m.member = a.oid AND g.rolname IN (SELECT rolname FROM r)), ''))
         FROM r LEFT JOIN pg_roles a ON a.rolname = r.rolname
         ORDER BY r.ord",
    )
    .await?;
    let matrix = rows(
        conn,
        "WITH roles(rolname, ord) AS (VALUES ('quotedb_app', 1), ('quotedb_system', 2), ('quotedb_readonly', 3)),
              cmds(cmd, polcmd, ord) AS (VALUES ('SELECT', 'r', 1), ('INSERT', 'a', 2), ('UPDATE', 'w', 3), ('DELETE', 'd', 4)),
              rels AS (
                SELECT c.oid, c.relname,
                       CASE WHEN c.relkind = 'v' THEN
                                CASE WHEN EXISTS (SELECT 1 FROM pg_options_to_table(c.reloptions) o
                                                  WHERE o.option_name = 'security_invoker'
                                                    AND lower(o.option_value) IN ('true', 'on', 'yes', '1'))
                                     THEN 'view, invoker''s rights' ELSE 'view, owner''s rights' END
                            WHEN c.relrowsecurity AND c.relforcerowsecurity THEN 'enabled, forced'
                            WHEN c.relrowsecurity THEN 'enabled'
                            ELSE 'off' END AS rls
                FROM pg_class c
                WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition
                  AND c.relname <> '_sqlx_migrations'),
              cells AS (
                SELECT t.oid, t.relname, t.rls, r.rolname, r.ord AS rord, k.cmd, k.polcmd, k.ord AS cord,
                       has_table_privilege(r.rolname, t.oid, k.cmd) AS table_priv,
                       CASE WHEN k.cmd = 'DELETE' THEN false
                            ELSE has_any_column_privilege(r.rolname, t.oid, k.cmd) END AS any_column
                FROM rels t CROSS JOIN roles r CROSS JOIN cmds k)
         SELECT json_build_array(
                    x.relname, x.rls, x.rolname, x.cmd, x.table_priv, x.any_column,
                    CASE WHEN x.table_priv OR NOT x.any_column THEN ''
                         ELSE coalesce((SELECT string_agg(a.attname::text, ', ' ORDER BY a.attnum)
                                        FROM pg_attribute a
                                        WHERE a.attrelid = x.oid AND a.attnum > 0 AND NOT a.attisdropped
                                          AND has_column_privilege(x.rolname, x.oid, a.attnum, x.cmd)), '') END,
                    CASE WHEN x.table_priv OR NOT x.any_column THEN ''
                         ELSE coalesce((SELECT string_agg(a.attname::text, ', ' ORDER BY a.attnum)
                                        FROM pg_attribute a
                                        WHERE a.attrelid = x.oid AND a.attnum > 0 AND NOT a.attisdropped
                                          AND NOT has_column_privilege(x.rolname, x.oid, a.attnum, x.cmd)), '') END,
                    coalesce((SELECT string_agg(p.polname::text, ', ' ORDER BY p.polname)
                              FROM pg_policy p
                              WHERE p.polrelid = x.oid AND p.polpermissive AND p.polcmd::text IN ('*', x.polcmd)
                                AND EXISTS (SELECT 1 FROM unnest(p.polroles) pr
                                            WHERE CASE WHEN pr = 0 THEN true
                                                       ELSE pg_has_role(x.rolname, pr, 'MEMBER') END)), ''),
                    coalesce((SELECT string_agg(p.polname::text, ', ' ORDER BY p.polname)
                              FROM pg_policy p
                              WHERE p.polrelid = x.oid AND NOT p.polpermissive AND p.polcmd::text IN ('*', x.polcmd)
                                AND EXISTS (SELECT 1 FROM unnest(p.polroles) pr
                                            WHERE CASE WHEN pr = 0 THEN true
                                                       ELSE pg_has_role(x.rolname, pr, 'MEMBER') END)), ''))
         FROM cells x
         ORDER BY x.relname, x.rord, x.cord",
    )
    .await?;
    let definers = rows(
        conn,
        "SELECT json_build_array(p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                                 pg_get_function_result(p.oid), pg_get_userbyid(p.proowner),
                                 coalesce(array_to_string(p.proconfig, ', '), ''),
                                 has_function_privilege('quotedb_app', p.oid, 'EXECUTE'),
                                 has_function_privilege('quotedb_system', p.oid, 'EXECUTE'),
                                 has_function_privilege('quotedb_readonly', p.oid, 'EXECUTE'),
                                 p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) x
                                                             WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE'),
                                 coalesce(obj_description(p.oid, 'pg_proc'), ''))
         FROM pg_proc p
         WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
         ORDER BY p.proname, pg_get_function_identity_arguments(p.oid)",
    )
    .await?;
    let policies = rows(
        conn,
        "SELECT json_build_array(c.relname, p.polname,
                                 CASE p.polcmd WHEN '*' THEN 'ALL' WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                                               WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE p.polcmd::text END,
                                 p.polpermissive,
                                 (SELECT string_agg(n, ', ' ORDER BY n)
                                  FROM (SELECT CASE WHEN pr = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(pr)::text END AS n
                                        FROM unnest(p.polroles) pr) s),
                                 coalesce(pg_get_expr(p.polqual, p.polrelid), ''),
                                 coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''),
                                 coalesce(obj_description(p.oid, 'pg_policy'), ''))
         FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
         WHERE c.relnamespace = 'public'::regnamespace
         ORDER BY c.relname, p.polname",
    )
    .await?;

    let yes_no = |b: &str| if b == "true" { "yes" } else { "no" };
    writeln!(
        out,
        "## Roles as the catalog has them\n\n| role | login | superuser | bypass RLS | inherits | member of |\n|---|---|---|---|---|---|"
    )?;
    for r in &roles {
        if r[1] != "true" {
            writeln!(out, "| `{}` | missing | | | | |", r[0])?;
            continue;
        }
        let member_of = r[6]
            .split(", ")
            .filter(|n| !n.is_empty())
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            r[0],
            yes_no(&r[2]),
            yes_no(&r[3]),
            yes_no(&r[4]),
            yes_no(&r[5]),
            if member_of.is_empty() {
                "—".to_owned()
            } else {
                member_of
            }
        )?;
    }
    writeln!(
        out,
        "\n(Memberships among these four roles only: which logins hold them is the deployment's.)\n"
    )?;

    writeln!(
        out,
        "## Role × table × command\n\n\
         Every table and view of schema `public` (partitions inherit their parent's grants and policies), for each \
         non-owner role and command. A cell reads:\n\n\
         - **no grant**: the role has no privilege for the command, on the table or any column;\n\
         - **columns: a, b** (or **columns: all but c**): the role may read or write only these columns, then \
         what decides the rows;\n\
         - **policy names**: row level security is on and these permissive policies (of the command or ALL, to the \
         role, a role it is a member of, or PUBLIC) decide which rows;\n\
         - **granted, no policy (refused)**: granted, but row level security is on and no policy applies, so no row \
         passes;\n\
         - **granted, no RLS**: granted and row level security is off: every row;\n\
         - **granted (view)**: a view; it reads its tables with its owner's rights (or the caller's, for \
         `security_invoker` views), under their policies.\n"
    )?;
    write!(out, "| table | RLS | role |")?;
    for c in MATRIX_COMMANDS {
        write!(out, " {c} |")?;
    }
    writeln!(out, "\n|---|---|---|{}", "---|".repeat(MATRIX_COMMANDS.len()))?;
    for chunk in matrix.chunks(MATRIX_COMMANDS.len()) {
        let first = &chunk[0];
        write!(out, "| `{}` | {} | `{}` |", first[0], first[1], first[2])?;
        for (c, expected) in chunk.iter().zip(MATRIX_COMMANDS) {
            if c[0] != first[0] || c[2] != first[2] || c[3] != expected {
                bail!("matrix rows out of order at {} / {} / {}", c[0], c[2], c[3]);
            }
            write!(out, " {} |", cell(&privilege_cell(c)))?;
        }
        writeln!(out)?;
    }
    if matrix.len() % (MATRIX_COMMANDS.len() * MATRIX_ROLES.len()) != 0 {
        bail!("matrix has {} cells, not a multiple of roles × commands", matrix.len());
    }

    writeln!(
        out,
        "\n## Functions that run with the owner's rights\n\n\
         Every SECURITY DEFINER function of schema `public`: it runs as its owner, whoever calls it. `search_path` \
         is what the function pins (empty: it qualifies every name); EXECUTE is what each role may call \
         (PUBLIC's grant counts for every role). A trigger function runs only as its trigger.\n\n\
         | function | returns | owner | config | `quotedb_app` | `quotedb_system` | `quotedb_readonly` | PUBLIC | purpose |\n\
         |---|---|---|---|---|---|---|---|---|"
    )?;
    for f in &definers {
        let config = if f[3].is_empty() {
            "—".to_owned()
        } else {
            format!("`{}`", cell(&f[3]))
        };
        writeln!(
            out,
            "| `{}` | {} | `{}` | {} | {} | {} | {} | {} | {} |",
            cell(&f[0]),
            cell(&f[1]),
            f[2],
            config,
            yes_no(&f[4]),
            yes_no(&f[5]),
            yes_no(&f[6]),
            yes_no(&f[7]),
            cell(&f[8])
        )?;
    }

    writeln!(
        out,
        "\n## Policies\n\n\
         Every row level security policy, by table. USING filters the rows a command sees (SELECT, UPDATE, DELETE); \
         WITH CHECK is what a written row must satisfy (INSERT, UPDATE). Policies are permissive unless marked."
    )?;
    let mut table = "";
    for p in &policies {
        if p[0] != table {
            table = &p[0];
            writeln!(
                out,
                "\n### `{table}`\n\n| policy | command | roles | using | with check | meaning |\n|---|---|---|---|---|---|"
            )?;
        }
        let command = if p[3] == "true" {
            p[2].clone()
        } else {
            format!("{} (restrictive)", p[2])
        };
        let code = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("`{}`", cell(s))
            }
        };
        let roles = p[4]
            .split(", ")
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            p[1],
            command,
            roles,
            code(&p[5]),
            code(&p[6]),
            cell(&p[7])
        )?;
    }
    Ok(out)
}
