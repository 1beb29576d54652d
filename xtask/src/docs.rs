//! `cargo xtask docs [--check]`: two documents generated from the live catalog of one freshly
//! migrated scratch database:
//!
//! - docs/database_schema.md, merged into the hand-written `docs/database_schema.template.md` (its
//!   `{{GENERATED}}` line is replaced);
//! - docs/security.md, the hand-written [`SECURITY_PREAMBLE`] (role model, trust model,
//!   deployment) followed by the role × table × command matrix, the SECURITY DEFINER functions and
//!   every policy.
//!
//! Catalog queries are dynamic SQL: xtask reads pg_catalog, which the compile-time checked macros
//! gain nothing from. Every generated list is ordered by name, so the output is deterministic.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context as _, bail};
use quotedb_testkit::Server;
use sqlx::{Connection as _, PgConnection};

const TEMPLATE: &str = "docs/database_schema.template.md";
const OUTPUT: &str = "docs/database_schema.md";
const SECURITY_OUTPUT: &str = "docs/security.md";

/// Generate (or check) docs/database_schema.md and docs/security.md.
pub async fn docs(server: &Server, check: bool) -> anyhow::Result<()> {
    let root = quotedb_testkit::workspace_root();
    let scratch = format!("quotedb_docs_{}", std::process::id());
    eprintln!("xtask: reading the catalog of a freshly migrated scratch database ({scratch})");
    server.create_database_from(&scratch, &crate::migrated_recipe()).await?;
    let generated = async {
        let mut conn = PgConnection::connect(&server.url_for(&scratch)).await?;
        let schema = generate(&mut conn).await;
        let security = generate_security(&mut conn).await;
        conn.close().await?;
        anyhow::Ok((schema?, security?))
    }
    .await;
    server.drop_database(&scratch).await?;
    let (schema, security) = generated?;
    let template = std::fs::read_to_string(root.join(TEMPLATE)).with_context(|| format!("reading {TEMPLATE}"))?;
    if !template.contains("{{GENERATED}}") {
        bail!("{TEMPLATE} has no {{{{GENERATED}}}} line to replace");
    }
    let outputs = [
        (OUTPUT, template.replace("{{GENERATED}}", schema.trim_end())),
        (
            SECURITY_OUTPUT,
            format!("{}\n\n{}\n", SECURITY_PREAMBLE.trim(), security.trim_end()),
        ),
    ];
    if check {
        let stale: Vec<&str> = outputs
            .iter()
            .filter(|(file, doc)| std::fs::read_to_string(root.join(file)).unwrap_or_default() != *doc)
            .map(|(file, _)| *file)
            .collect();
        if !stale.is_empty() {
            let verb = if stale.len() == 1 { "is" } else { "are" };
            bail!(
                "{} {verb} stale: run `cargo xtask docs` and commit",
                stale.join(" and ")
            );
        }
        for (file, _) in &outputs {
            eprintln!("xtask: {file} is up to date");
        }
    } else {
        for (file, doc) in &outputs {
            std::fs::write(root.join(file), doc).with_context(|| format!("writing {file}"))?;
            eprintln!("xtask: wrote {file}");
        }
    }
    Ok(())
}

async fn rows(conn: &mut PgConnection, sql: &'static str) -> anyhow::Result<Vec<Vec<String>>> {
    let raw: Vec<serde_json::Value> = sqlx::query_scalar(sql)
        .fetch_all(&mut *conn)
        .await
        .with_context(|| sql)?;
    Ok(raw
        .into_iter()
        .map(|v| match v {
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect())
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

async fn generate(conn: &mut PgConnection) -> anyhow::Result<String> {
    let mut out = String::new();
    let tables = rows(
        conn,
        "SELECT json_build_array(c.relname, coalesce(obj_description(c.oid, 'pg_class'), ''),
                                 coalesce(pg_get_partkeydef(c.oid), ''), c.relrowsecurity::text, c.relforcerowsecurity::text)
         FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND c.relname <> '_sqlx_migrations'
         ORDER BY c.relname",
    )
    .await?;
    let fks = rows(
        conn,
        "SELECT json_build_array(conrelid::regclass::text, confrelid::regclass::text, conname)
         FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace AND conparentid = 0
         ORDER BY conrelid::regclass::text, confrelid::regclass::text, conname",
    )
    .await?;
    let counts = rows(
        conn,
        "SELECT json_build_array(
            (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r','p')
               AND NOT relispartition AND relname <> '_sqlx_migrations'),
            (SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conparentid = 0
               AND contype IN ('c','f','u','x','p')),
            (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
               WHERE c.relnamespace = 'public'::regnamespace AND NOT c.relispartition AND c.relname <> '_sqlx_migrations'),
            (SELECT count(*) FROM pg_policies WHERE schemaname = 'public'),
            (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
               WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal AND t.tgparentid = 0))",
    )
    .await?;
    if let Some(c) = counts.first() {
        let get = |i: usize| c.get(i).cloned().unwrap_or_default();
        writeln!(
            out,
            "{} tables, {} constraints (PK/CHECK/FK/UNIQUE/EXCLUDE), {} indexes, {} triggers, {} RLS policies.\n",
            get(0),
            get(1),
            get(2),
            get(4),
            get(3)
        )?;
    }

    writeln!(out, "## Entity-relationship diagram\n\n```mermaid\nerDiagram")?;
    let mut seen: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for fk in &fks {
        let (from, to) = (&fk[0], &fk[1]);
        let label = fk[2].strip_prefix(&format!("{from}_")).unwrap_or(&fk[2]).to_string();
        seen.entry((to.clone(), from.clone())).or_default().push(label);
    }
    for ((to, from), labels) in &seen {
        writeln!(out, "    {to} ||--o{{ {from} : \"{}\"", labels.join(", "))?;
    }
    writeln!(out, "```\n")?;

    let columns = rows(
        conn,
        "SELECT json_build_array(c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                                 CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END,
                                 coalesce(pg_get_expr(d.adbin, d.adrelid), CASE a.attidentity WHEN 'a' THEN 'identity always' WHEN 'd' THEN 'identity' ELSE '' END),
                                 coalesce(col_description(c.oid, a.attnum), ''))
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY c.relname, a.attnum",
    )
    .await?;
    let constraints = rows(
        conn,
        "SELECT json_build_array(conrelid::regclass::text, conname,
                                 CASE contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'f' THEN 'FOREIGN KEY' WHEN 'u' THEN 'UNIQUE'
                                              WHEN 'c' THEN 'CHECK' WHEN 'x' THEN 'EXCLUDE' ELSE contype::text END,
                                 pg_get_constraintdef(oid), coalesce(obj_description(oid, 'pg_constraint'), ''))
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conparentid = 0 AND conrelid <> 0
         ORDER BY conrelid::regclass::text, conname",
    )
    .await?;
    let indexes = rows(
        conn,
        "SELECT json_build_array(i.tablename, i.indexname, i.indexdef, coalesce(obj_description(c.oid, 'pg_class'), ''))
         FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = 'public'::regnamespace
         JOIN pg_class t ON t.relname = i.tablename AND t.relnamespace = 'public'::regnamespace
         WHERE i.schemaname = 'public' AND NOT t.relispartition
         ORDER BY i.tablename, i.indexname",
    )
    .await?;
    let triggers = rows(
        conn,
        "SELECT json_build_array(c.relname, t.tgname, pg_get_triggerdef(t.oid), coalesce(obj_description(t.oid, 'pg_trigger'), ''))
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal AND t.tgparentid = 0
         ORDER BY c.relname, t.tgname",
    )
    .await?;
    let policies = rows(
        conn,
        "SELECT json_build_array(tablename, policyname, cmd, roles::text, coalesce(qual, ''), coalesce(with_check, ''))
         FROM pg_policies WHERE schemaname = 'public' ORDER BY tablename, policyname",
    )
    .await?;
    let enums = rows(
        conn,
        "SELECT json_build_array(t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder),
                                 coalesce(obj_description(t.oid, 'pg_type'), ''))
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
         WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.oid, t.typname ORDER BY t.typname",
    )
    .await?;
    let functions = rows(
        conn,
        "SELECT json_build_array(p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                                 pg_get_function_result(p.oid), coalesce(obj_description(p.oid, 'pg_proc'), ''))
         FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
         ORDER BY p.proname, pg_get_function_identity_arguments(p.oid)",
    )
    .await?;

    writeln!(out, "## Enumerations\n\n| type | values | meaning |\n|---|---|---|")?;
    for e in &enums {
        writeln!(out, "| `{}` | {} | {} |", e[0], cell(&e[1]), cell(&e[2]))?;
    }
    writeln!(out, "\n## Tables\n")?;
    for t in &tables {
        let name = &t[0];
        writeln!(out, "### `{name}`\n\n{}\n", t[1])?;
        if !t[2].is_empty() {
            writeln!(
                out,
                "Partitioned: `{}` (monthly partitions, created ahead by a maintenance function; a DEFAULT partition catches strays).\n",
                t[2]
            )?;
        }
        if t[3] == "true" {
            writeln!(
                out,
                "Row level security: enabled{}.\n",
                if t[4] == "true" { " and forced" } else { "" }
            )?;
        }
        writeln!(
            out,
            "| column | type | null | default | meaning |\n|---|---|---|---|---|"
        )?;
        for c in columns.iter().filter(|c| &c[0] == name) {
            writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                c[1],
                cell(&c[2]),
                c[3],
                cell(&c[4]),
                cell(&c[5])
            )?;
        }
        let cons: Vec<_> = constraints.iter().filter(|c| &c[0] == name).collect();
        if !cons.is_empty() {
            writeln!(
                out,
                "\n| constraint | kind | definition | business rule |\n|---|---|---|---|"
            )?;
            for c in cons {
                writeln!(out, "| `{}` | {} | `{}` | {} |", c[1], c[2], cell(&c[3]), cell(&c[4]))?;
            }
        }
        let idx: Vec<_> = indexes.iter().filter(|i| &i[0] == name).collect();
        if !idx.is_empty() {
            writeln!(out, "\n| index | definition |\n|---|---|")?;
            for i in idx {
                let def = i[2]
                    .split(" USING ")
                    .nth(1)
                    .map(|d| format!("USING {d}"))
                    .unwrap_or_else(|| i[2].clone());
                let unique = if i[2].starts_with("CREATE UNIQUE") {
                    "UNIQUE "
                } else {
                    ""
                };
                let note = if i[3].is_empty() {
                    String::new()
                } else {
                    format!(" — {}", cell(&i[3]))
                };
                writeln!(out, "| `{}` | {unique}`{}`{note} |", i[1], cell(&def))?;
            }
        }
        let trg: Vec<_> = triggers.iter().filter(|t| &t[0] == name).collect();
        if !trg.is_empty() {
            writeln!(out, "\n| trigger | definition | business rule |\n|---|---|---|")?;
            for t in trg {
                writeln!(out, "| `{}` | `{}` | {} |", t[1], cell(&t[2]), cell(&t[3]))?;
            }
        }
        let pol: Vec<_> = policies.iter().filter(|p| &p[0] == name).collect();
        if !pol.is_empty() {
            writeln!(
                out,
                "\n| policy | command | roles | using | with check |\n|---|---|---|---|---|"
            )?;
            for p in pol {
                writeln!(
                    out,
                    "| `{}` | {} | {} | `{}` | `{}` |",
                    p[1],
                    p[2],
                    cell(&p[3]),
                    cell(&p[4]),
                    cell(&p[5])
                )?;
            }
        }
        writeln!(out)?;
    }
    writeln!(out, "## Functions\n\n| function | returns | purpose |\n|---|---|---|")?;
    for f in &functions {
        writeln!(out, "| `{}` | {} | {} |", cell(&f[0]), cell(&f[1]), cell(&f[2]))?;
    }
    Ok(out)
}

/// The hand-written part of docs/security.md: the role model, the trust model (with the limit it
/// leaves) and deployment. The sections after it are generated from the catalog.
pub const SECURITY_PREAMBLE: &str = r##"
# quotedb — security model

<!-- Generated by `cargo xtask docs` from the live catalog of a freshly migrated database. The
     prose before "Generated from the catalog" is SECURITY_PREAMBLE in xtask/src/docs.rs; the rest
     comes from the migrations. Edit those, never this file: `cargo xtask docs --check` fails on
     drift. -->

The database decides what a caller may read and change; the Rust code only says who is acting.
This page explains the roles, what a compromised application login can and cannot do (including
the limit the model still has) and how to deploy the logins. The sections after that are generated
from the catalog: every grant and the policies behind it, every function that runs with the
owner's rights, and every row level security policy.

## Roles

| role | what it is |
|---|---|
| `quotedb_owner` | NOLOGIN, not a superuser, no BYPASSRLS. Owns every table, view, function and type of schema `public`. Migrations run as a login that is a member of it (from 0007 on, each migration ends with `SELECT hand_objects_to_owner()` so that what it created belongs to this role). It holds `quotedb_system`, so its definer functions and the seeds see what the system sees; row level security is *forced* on the secured tables, so owning a table does not exempt it from the policies. |
| `quotedb_app` | The actor role of the application login. Every repository call on a secured table runs in a transaction opened with `SET LOCAL ROLE quotedb_app` and `SELECT set_config('app.user_id', '<user uuid>', true)`: customers, agents and admins all act as this role, and the policies read the acting user through `app_user_id()`. |
| `quotedb_system` | System work: expiry sweeps, notification delivery, partition maintenance, seeds, key rotation. NOLOGIN; only worker and maintenance logins are GRANTed it, and `SET LOCAL ROLE quotedb_system` needs that membership. "System" is this role, not a setting: the `app.system` setting of releases up to 0006 means nothing since migration 0007 (`app_is_system()` asks for membership of the role). |
| `quotedb_readonly` | Reporting: reads, never writes. |

## Trust model: what a compromised application login can and cannot do

Assume an attacker holds the application's login — a member of `quotedb_app` and nothing else —
and can send any SQL through it.

It **cannot**:

- **Escalate to the owner.** Every function is owned by `quotedb_owner`. Every SECURITY DEFINER
  function either pins `search_path` with `pg_temp` last (`pg_catalog, public, pg_temp`) or
  qualifies every name it uses, so a temporary table, type or function of the caller cannot stand
  in for what it reads; EXECUTE on the ones that can be called is revoked from PUBLIC and granted
  only to the roles that call them (a definer *trigger* function keeps PUBLIC's default EXECUTE,
  harmlessly: PostgreSQL runs it only as its trigger). The login is not a member of
  `quotedb_owner`, so it cannot `SET ROLE` to it either. The list, with who may execute what, is
  under "Functions that run with the owner's rights" below.
- **Become the system.** `SET ROLE quotedb_system` needs membership of that role, which only worker
  logins have; setting `app.system` does nothing. The one-round-trip functions that act as the
  system for a NULL user switch role themselves, and fail with "permission denied to set role"
  for the application login.
- **Change rates or permissions without claiming an admin that holds the permission.** The write
  policies on rating data (base rates, territory factors, discount and surcharge rules, rate change
  requests) and on the admin permission model check `admin_has_permission(app_user_id(), '<code>')`;
  each step of the four-eyes rate workflow is stamped with the acting admin and the database's
  time and needs that step's permission, and only `apply_rate_change_request()` (an approved
  request, an admin holding `rates:apply`) activates, retires or closes a rate: the application
  has no UPDATE on `base_rates` or `territory_factors`. A rated quote's cover (coverage type,
  limit, deductible) and priced terms are frozen; only re-rating changes its premium.
- **Rewrite history.** `audit_logs` and `admin_activity_logs` refuse UPDATE, DELETE and TRUNCATE
  for every role, the owner included (triggers, not grants). `occurred_at` is set by the database:
  audit rows are appended through `append_audit_log()`, and the application's column INSERT on
  `admin_activity_logs` leaves `occurred_at` out. Detaching old audit partitions is
  `quotedb_system`'s (`detach_audit_log_partitions`), never below the `audit.retention_months`
  setting, and a detached partition keeps its append-only triggers.
- **Read other customers' data without claiming to be them.** The policies on customer data
  compare the row's customer, agent or user with `app_user_id()`.

It **can**:

- **Claim any user id in `app.user_id`.** This is the remaining limit of the model, stated
  plainly: the acting user is a *claim* the session makes with `set_config`, not a verified
  session token. A compromised login can impersonate any customer, agent or admin — including an
  admin holding `rates:apply` or `roles:manage` — and then do whatever that user may do: the
  limits on rates, permissions and other customers' data above hold only until it claims the
  right user (the owner, the system role and the history stay out of reach whatever it claims).
  The design that would
  close it: the policies resolve the actor from a hashed session token (the session's token hash
  looked up in `user_sessions`, unrevoked and unexpired, by a definer function like
  `session_by_token_hash`) instead of trusting a user id, so that acting as someone requires
  holding their live session token.
- **Read and write the service tables as itself**, with no acting user: `websocket_connections`
  (which user and session a connection belongs to is fixed at open; node, heartbeat,
  subscriptions and close are writable), `analytics_events` and `realtime_metrics`. The
  platform's services write them for everyone, so the application login
  can read them for everyone too: that includes session ids and IP addresses of websocket
  connections and whatever an event's properties hold. Keep personal data out of event
  properties. (`notification_queue`, which holds reset links, is *not* such a table: the
  application queues through `enqueue_notifications()` and reads only the acting user's
  notifications; claiming and sending is the workers'.)
- **Name any user as the actor of an audit entry** it appends (`append_audit_log()` takes the
  actor as an argument; the entry's time is the database's).
- **Price a quote it creates.** Pricing runs in Rust; the database checks that a quote's version
  and coverages are consistent (`quotes_current_version_in_step`: the premium is the current
  version's), and freezes the priced terms once the quote is rated (`quotes_priced_terms_frozen`).
  It does not recompute the premium.

## Deployment

The NOLOGIN roles above are created by migration 0007 when they are missing (that needs a
migration login with CREATEROLE, or a DBA who creates them first, as below). The logins are the
deployer's; authenticate them as the platform does (SCRAM password, certificate):

```sql
-- The application (API) login: acts as customers, agents and admins.
CREATE ROLE quotedb_service LOGIN;
GRANT quotedb_app TO quotedb_service;

-- Workers and maintenance: the application's role plus the system's.
CREATE ROLE quotedb_worker LOGIN;
GRANT quotedb_app, quotedb_system TO quotedb_worker;

-- Migrations: everything they create is handed to quotedb_owner.
CREATE ROLE quotedb_migrator LOGIN;
GRANT quotedb_owner TO quotedb_migrator;

-- Defense in depth: no login creates temporary objects (the functions already put pg_temp
-- last or qualify every name; this removes the shadowing surface altogether).
REVOKE TEMPORARY ON DATABASE <db> FROM PUBLIC;
```

Reporting logins get `quotedb_readonly`. Give TEMPORARY back only to a login that needs it (the
volume loader of `cargo xtask seed-volume` uses temporary tables). No quotedb login should be a
superuser or have BYPASSRLS: either skips every policy below.

---

*Generated from the catalog: everything below.*
"##;

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

async fn generate_security(conn: &mut PgConnection) -> anyhow::Result<String> {
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
