//! The generated part of docs/database_schema.md: counts, the entity-relationship diagram,
//! enumerations, every table (columns, constraints, indexes, triggers, policies) and functions.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sqlx::PgConnection;

use super::{cell, rows};

pub(super) async fn generate(conn: &mut PgConnection) -> anyhow::Result<String> {
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
