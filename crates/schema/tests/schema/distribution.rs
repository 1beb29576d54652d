//! The Citus distribution plan of `docs/scaling.md`, as data, checked against the migrated catalog.
//!
//! [`PLAN`] classifies every table (partitions fold into their parent): distributed (with its
//! distribution column and colocation group), reference (replicated to every node) or local
//! (coordinator only). The tests check that:
//!
//! * the plan covers exactly the catalog's tables (a new table fails, named, until classified);
//! * the catalog obeys what Citus needs of that plan:
//!   - a distributed table has its distribution column, and it is NOT NULL (Citus refuses a NULL
//!     distribution value);
//!   - every PRIMARY KEY, UNIQUE constraint, unique index and EXCLUDE constraint of a distributed
//!     table includes the distribution column (a shard can only check uniqueness within itself);
//!   - every FOREIGN KEY between distributed tables pairs the distribution column of one side with
//!     that of the other, and the two tables are colocated (same group);
//!   - distributed -> reference is fine; reference or local -> distributed and distributed ->
//!     local are not (reference <-> local is, Citus turns the local table into a citus local table);
//!   - "nothing joins two distributed tables except on it": every SQL/plpgsql function, view and
//!     RLS policy whose text names two or more distributed tables is reviewed in [`ROUTINES`] (the
//!     join and its column), and it must name the distribution column of each of those tables.
//!
//! The last rule is crude on purpose: it reads `pg_proc.prosrc`, `pg_views.definition` and
//! `pg_policies` as text and looks for table names as whole words. It cannot tell a join from two
//! separate statements, sees table names in comments and string literals, and "names the
//! distribution column" does not prove the join is on it (for `users` the column is `id`, which
//! nearly every body names). It catches a new function or policy that touches two distributed
//! tables (it must be reviewed) and the ones that cannot join on a column the table lacks today.
//!
//! Today's violations are [`KNOWN_VIOLATIONS`], each with its resolution, mirrored word for word
//! in `docs/scaling.md`. The check fails on a violation not in the list and on a listed violation
//! that no longer occurs, so the list stays true.

use quotedb_testkit::TestDb;
use std::collections::{BTreeMap, BTreeSet};

/// Where a table lives under Citus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Sharded by `column`; tables of one `group` are colocated (same hash ranges, same nodes).
    Distributed { column: &'static str, group: &'static str },
    /// One shard replicated to every node.
    Reference,
    /// Stays on the coordinator only.
    Local,
}

use Class::{Local, Reference};

const fn dist(column: &'static str) -> Class {
    Class::Distributed {
        column,
        group: "customer",
    }
}

/// Every table of the schema and where it lives (docs/scaling.md, "Tables").
pub const PLAN: &[(&str, Class)] = &[
    ("_sqlx_migrations", Local),
    ("admin_activity_logs", Local),
    ("admin_dashboards", Local),
    ("admin_permissions", Reference),
    ("admin_role_held_permissions", Reference),
    ("admin_role_permissions", Reference),
    ("admin_roles", Reference),
    ("admin_users", Reference),
    ("analytics_events", dist("user_id")),
    ("audit_logs", Local),
    ("base_rates", Reference),
    ("discount_rules", Reference),
    ("drivers", dist("user_id")),
    ("notification_queue", Local),
    ("oauth2_clients", Reference),
    ("quote_coverages", dist("customer_id")),
    ("quote_status_transitions", Reference),
    ("quote_versions", dist("customer_id")),
    ("quotes", dist("customer_id")),
    ("rate_change_request_transitions", Reference),
    ("rate_change_requests", Reference),
    ("realtime_metrics", Local),
    ("reference_data_generation", Reference),
    ("sso_providers", Reference),
    ("states", Reference),
    ("surcharge_rules", Reference),
    ("system_settings", Reference),
    ("territory_factors", Reference),
    ("user_identities", dist("user_id")),
    ("user_sessions", dist("user_id")),
    ("users", dist("id")),
    ("vehicles", dist("user_id")),
    ("websocket_connections", dist("user_id")),
];

/// Functions, views and policies whose text names two or more distributed tables: the tables
/// named, and how they are joined under the plan (reviewed by hand; docs/scaling.md, "Functions").
pub const ROUTINES: &[(&str, &[&str], &str)] = &[
    (
        "function app_create_quote",
        &["quote_coverages", "quote_versions", "quotes"],
        "inserts the quote, version and coverages of one customer (p_customer_id): one shard once versions and coverages carry customer_id; create_distributed_function by p_customer_id",
    ),
    (
        "function app_quote_for_rating",
        &["quote_coverages", "quotes"],
        "reads one quote by p_quote_id and its coverage lines by c.quote_id = q.id: add p_customer_id and c.customer_id = q.customer_id (colocated); create_distributed_function by p_customer_id",
    ),
    (
        "function app_quote_coverages",
        &["quote_coverages", "quotes"],
        "reads one quote by p_quote_id and its lines by c.quote_id = q.id: add p_customer_id and c.customer_id = q.customer_id (colocated); create_distributed_function by p_customer_id",
    ),
    (
        "function app_quote_versions",
        &["quote_versions", "quotes"],
        "reads one quote by p_quote_id and its versions by v.quote_id = q.id: add p_customer_id and v.customer_id = q.customer_id (colocated); create_distributed_function by p_customer_id",
    ),
    (
        "function app_rerate_quote",
        &["quote_coverages", "quote_versions", "quotes"],
        "updates one quote by p_quote_id, inserts its version and updates its lines by quote id: add p_customer_id to the key of each (colocated, one shard); create_distributed_function by p_customer_id",
    ),
    (
        "function quote_coverages_editable_insert_fn",
        &["quote_versions", "quotes"],
        "reads the quotes of the new lines and their versions by v.quote_id = q.id: add v.customer_id = q.customer_id (colocated, shard-local)",
    ),
    (
        "function quote_versions_contiguous_fn",
        &["quote_versions", "quotes"],
        "reads the quote of NEW.quote_id: add q.customer_id = NEW.customer_id (colocated, shard-local)",
    ),
    (
        "function quotes_current_version_in_step_fn",
        &["quote_versions", "quotes"],
        "reads the versions of NEW.id: add v.customer_id = NEW.customer_id (colocated, shard-local)",
    ),
    (
        "function session_by_token_hash",
        &["user_sessions", "users"],
        "u.id = s.user_id: both distribution columns (colocated, shard-local once routed by user id)",
    ),
    (
        "policy quote_coverages.quote_coverages_via_quote_delete",
        &["quote_coverages", "quotes"],
        "EXISTS quotes q WHERE q.id = quote_coverages.quote_id: add q.customer_id = quote_coverages.customer_id",
    ),
    (
        "policy quote_coverages.quote_coverages_via_quote_insert",
        &["quote_coverages", "quotes"],
        "EXISTS quotes q WHERE q.id = quote_coverages.quote_id: add q.customer_id = quote_coverages.customer_id",
    ),
    (
        "policy quote_coverages.quote_coverages_via_quote_select",
        &["quote_coverages", "quotes"],
        "EXISTS quotes q WHERE q.id = quote_coverages.quote_id: add q.customer_id = quote_coverages.customer_id",
    ),
    (
        "policy quote_coverages.quote_coverages_via_quote_update",
        &["quote_coverages", "quotes"],
        "EXISTS quotes q WHERE q.id = quote_coverages.quote_id: add q.customer_id = quote_coverages.customer_id",
    ),
    (
        "policy quote_versions.quote_versions_via_quote_insert",
        &["quote_versions", "quotes"],
        "EXISTS quotes q WHERE q.id = quote_versions.quote_id: add q.customer_id = quote_versions.customer_id",
    ),
    (
        "policy quote_versions.quote_versions_via_quote_select",
        &["quote_versions", "quotes"],
        "EXISTS quotes q WHERE q.id = quote_versions.quote_id: add q.customer_id = quote_versions.customer_id",
    ),
];

/// Today's violations of the plan and how each is resolved (docs/scaling.md, "Violations").
pub const KNOWN_VIOLATIONS: &[(&str, &str)] = &[
    (
        "admin_users: FOREIGN KEY admin_users_user_fk (user_id) -> users (id): a reference table cannot reference a distributed table",
        "Drop the FK; the admin-granting path checks the user with a routed read (users are not deleted: the FK is RESTRICT today)",
    ),
    (
        "analytics_events: FOREIGN KEY analytics_events_quote_fk (quote_id) -> quotes (id) does not pair user_id with customer_id",
        "Drop the FK: an agent's event about a customer's quote lives on the agent's shard; the quote id stays as recorded (quotes are cancelled, not deleted)",
    ),
    (
        "analytics_events: FOREIGN KEY analytics_events_session_fk (session_id) -> user_sessions (id) does not pair user_id with user_id",
        "FK (user_id, session_id) -> user_sessions (user_id, id) ON DELETE SET NULL (session_id)",
    ),
    (
        "analytics_events: PRIMARY KEY analytics_events_pkey (id, occurred_at) lacks user_id",
        "PRIMARY KEY (user_id, id, occurred_at)",
    ),
    (
        "analytics_events: distribution column user_id is nullable",
        "Anonymous events carry a visitor id in user_id (or move to anonymous_events distributed by visitor id); then user_id NOT NULL",
    ),
    (
        "audit_logs: FOREIGN KEY audit_logs_actor_user_fk (actor_user_id) -> users (id): a local table cannot reference a distributed table",
        "Drop the FK: the append-only trail keeps the actor id as recorded (users are not deleted)",
    ),
    (
        "drivers: PRIMARY KEY drivers_pkey (id) lacks user_id",
        "PRIMARY KEY (user_id, id)",
    ),
    (
        "function app_quote_for_rating: reads quote_coverages, quotes but never names customer_id",
        "Take p_customer_id (routing argument) and read WHERE q.customer_id = p_customer_id AND q.id = p_quote_id, the lines by (customer_id, quote_id)",
    ),
    (
        "function app_quote_coverages: reads quote_coverages, quotes but never names customer_id",
        "Take p_customer_id (routing argument) and read WHERE q.customer_id = p_customer_id AND q.id = p_quote_id, the lines by (customer_id, quote_id)",
    ),
    (
        "function app_quote_versions: reads quote_versions, quotes but never names customer_id",
        "Take p_customer_id (routing argument) and read WHERE q.customer_id = p_customer_id AND q.id = p_quote_id, the versions by (customer_id, quote_id)",
    ),
    (
        "function quote_coverages_editable_insert_fn: reads quote_versions, quotes but never names customer_id",
        "Once quote_coverages and quote_versions have customer_id, read the versions WHERE customer_id = q.customer_id AND quote_id = q.id",
    ),
    (
        "function quote_versions_contiguous_fn: reads quote_versions, quotes but never names customer_id",
        "Once quote_versions has customer_id, read the quote WHERE customer_id = NEW.customer_id AND id = NEW.quote_id",
    ),
    (
        "function quotes_current_version_in_step_fn: reads quote_versions, quotes but never names customer_id",
        "Read the versions WHERE customer_id = NEW.customer_id AND quote_id = NEW.id",
    ),
    (
        "notification_queue: FOREIGN KEY notification_queue_recipient_user_fk (recipient_user_id) -> users (id): a local table cannot reference a distributed table",
        "Drop the FK: enqueue_notifications checks the recipient with a routed read; the CASCADE on user delete becomes a purge in the user-deletion path",
    ),
    (
        "oauth2_clients: FOREIGN KEY oauth2_clients_owner_fk (owner_user_id) -> users (id): a reference table cannot reference a distributed table",
        "Drop the FK; client registration checks the owner with a routed read (owners are not deleted: RESTRICT today)",
    ),
    (
        "policy quote_coverages.quote_coverages_via_quote_delete: reads quote_coverages, quotes but never names customer_id",
        "EXISTS quotes q WHERE q.customer_id = quote_coverages.customer_id AND q.id = quote_coverages.quote_id (colocated, shard-local)",
    ),
    (
        "policy quote_coverages.quote_coverages_via_quote_insert: reads quote_coverages, quotes but never names customer_id",
        "EXISTS quotes q WHERE q.customer_id = quote_coverages.customer_id AND q.id = quote_coverages.quote_id (colocated, shard-local)",
    ),
    (
        "policy quote_coverages.quote_coverages_via_quote_select: reads quote_coverages, quotes but never names customer_id",
        "EXISTS quotes q WHERE q.customer_id = quote_coverages.customer_id AND q.id = quote_coverages.quote_id (colocated, shard-local)",
    ),
    (
        "policy quote_coverages.quote_coverages_via_quote_update: reads quote_coverages, quotes but never names customer_id",
        "EXISTS quotes q WHERE q.customer_id = quote_coverages.customer_id AND q.id = quote_coverages.quote_id (colocated, shard-local)",
    ),
    (
        "policy quote_versions.quote_versions_via_quote_insert: reads quote_versions, quotes but never names customer_id",
        "EXISTS quotes q WHERE q.customer_id = quote_versions.customer_id AND q.id = quote_versions.quote_id (colocated, shard-local)",
    ),
    (
        "policy quote_versions.quote_versions_via_quote_select: reads quote_versions, quotes but never names customer_id",
        "EXISTS quotes q WHERE q.customer_id = quote_versions.customer_id AND q.id = quote_versions.quote_id (colocated, shard-local)",
    ),
    (
        "quote_coverages: FOREIGN KEY quote_coverages_quote_fk (quote_id) -> quotes (id) does not pair customer_id with customer_id",
        "FK (customer_id, quote_id) -> quotes (customer_id, id) ON DELETE CASCADE",
    ),
    (
        "quote_coverages: PRIMARY KEY quote_coverages_pkey (id) lacks customer_id",
        "PRIMARY KEY (customer_id, id)",
    ),
    (
        "quote_coverages: UNIQUE quote_coverages_quote_coverage_unique (quote_id, coverage_type) lacks customer_id",
        "UNIQUE (customer_id, quote_id, coverage_type)",
    ),
    (
        "quote_coverages: distribution column customer_id does not exist",
        "Add customer_id NOT NULL, backfilled from quotes (expand, backfill, validate, contract as in 0011-0014); app_create_quote fills it",
    ),
    (
        "quote_versions: FOREIGN KEY quote_versions_quote_fk (quote_id) -> quotes (id) does not pair customer_id with customer_id",
        "FK (customer_id, quote_id) -> quotes (customer_id, id) ON DELETE RESTRICT",
    ),
    (
        "quote_versions: PRIMARY KEY quote_versions_pkey (id) lacks customer_id",
        "PRIMARY KEY (customer_id, id)",
    ),
    (
        "quote_versions: UNIQUE quote_versions_quote_version_unique (quote_id, version) lacks customer_id",
        "UNIQUE (customer_id, quote_id, version)",
    ),
    (
        "quote_versions: distribution column customer_id does not exist",
        "Add customer_id NOT NULL, backfilled from quotes (expand, backfill, validate, contract as in 0011-0014); app_create_quote fills it",
    ),
    (
        "quotes: FOREIGN KEY quotes_agent_fk (agent_id) -> users (id) does not pair customer_id with id",
        "A reference table agents (id = the agent's user id), kept by the user-admin path; FK quotes (agent_id) -> agents (id); quotes_party_role_fn reads agents for the agent",
    ),
    (
        "quotes: PRIMARY KEY quotes_pkey (id) lacks customer_id",
        "PRIMARY KEY (customer_id, id); a lookup by id alone also passes customer_id",
    ),
    (
        "quotes: UNIQUE quotes_number_unique (quote_number) lacks customer_id",
        "Lookup table quote_numbers (quote_number PRIMARY KEY, customer_id, quote_id) distributed by quote_number, written by app_create_quote in the same transaction; quotes keeps UNIQUE (customer_id, quote_number)",
    ),
    (
        "user_identities: PRIMARY KEY user_identities_pkey (id) lacks user_id",
        "PRIMARY KEY (user_id, id)",
    ),
    (
        "user_identities: UNIQUE user_identities_provider_subject_unique (provider_id, subject) lacks user_id",
        "Lookup table sso_subjects (subject, provider_id, user_id) distributed by subject, PRIMARY KEY (subject, provider_id), written with the identity; user_identities keeps UNIQUE (user_id, provider_id, subject)",
    ),
    (
        "user_sessions: PRIMARY KEY user_sessions_pkey (id) lacks user_id",
        "PRIMARY KEY (user_id, id)",
    ),
    (
        "user_sessions: UNIQUE user_sessions_token_hash_unique (token_hash) lacks user_id",
        "The bearer token carries the user id; session_by_token_hash(p_user_id, p_token_hash) is routed; UNIQUE (user_id, token_hash)",
    ),
    (
        "users: UNIQUE users_email_unique (email) lacks id",
        "Lookup table user_emails (email PRIMARY KEY, user_id) distributed by email, written with the user in one transaction; sign-in reads it, then the routed user",
    ),
    (
        "vehicles: PRIMARY KEY vehicles_pkey (id) lacks user_id",
        "PRIMARY KEY (user_id, id)",
    ),
    (
        "websocket_connections: FOREIGN KEY websocket_connections_session_fk (session_id) -> user_sessions (id) does not pair user_id with user_id",
        "FK (user_id, session_id) -> user_sessions (user_id, id) ON DELETE SET NULL (session_id)",
    ),
    (
        "websocket_connections: PRIMARY KEY websocket_connections_pkey (id) lacks user_id",
        "PRIMARY KEY (user_id, id)",
    ),
];

/// docs/scaling.md, which must mirror the plan and the violations.
const DOC: &str = include_str!("../../../../docs/scaling.md");

fn class_of(table: &str) -> Option<Class> {
    PLAN.iter().find(|(t, _)| *t == table).map(|(_, c)| *c)
}

fn dist_column(table: &str) -> Option<(&'static str, &'static str)> {
    match class_of(table) {
        Some(Class::Distributed { column, group }) => Some((column, group)),
        _ => None,
    }
}

fn kind(class: Option<Class>) -> &'static str {
    match class {
        Some(Class::Distributed { .. }) => "distributed",
        Some(Reference) => "reference",
        Some(Local) => "local",
        None => "unclassified",
    }
}

/// `word` occurs in `text` with no identifier character on either side.
fn names(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// (table, name, kind, key columns) of a PRIMARY KEY, UNIQUE, unique index or EXCLUDE.
type UniqueRow = (String, String, String, Vec<String>);

/// (table, name, columns, referenced table, referenced columns) of a FOREIGN KEY.
type FkRow = (String, String, Vec<String>, String, Vec<String>);

/// The catalog facts the rules need.
struct Catalog {
    tables: BTreeSet<String>,
    /// (table, column) -> NOT NULL
    columns: BTreeMap<(String, String), bool>,
    uniques: Vec<UniqueRow>,
    fks: Vec<FkRow>,
    /// label ("function x", "view x", "policy t.p") -> text
    routines: BTreeMap<String, String>,
}

async fn catalog(db: &TestDb) -> Catalog {
    let pool = db.pool();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let columns: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text, a.attnotnull
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    let uniques: Vec<UniqueRow> = sqlx::query_as(
        "SELECT c.relname::text, i.relname::text,
                CASE con.contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE'
                                 WHEN 'x' THEN 'EXCLUDE' ELSE 'UNIQUE INDEX' END,
                ARRAY(SELECT coalesce(a.attname::text, '(expression)')
                      FROM unnest(x.indkey::int2[]) WITH ORDINALITY k (attnum, ord)
                      LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                      WHERE k.ord <= x.indnkeyatts ORDER BY k.ord)
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class c ON c.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_constraint con
                ON con.conindid = x.indexrelid AND con.conrelid = c.oid AND con.contype IN ('p', 'u', 'x')
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND (x.indisunique OR con.contype = 'x')",
    )
    .fetch_all(pool)
    .await
    .expect("unique indexes");
    let fks: Vec<FkRow> = sqlx::query_as(
        "SELECT c.relname::text, con.conname::text,
                ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k (attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord),
                r.relname::text,
                ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k (attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         JOIN pg_class r ON r.oid = con.confrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE con.contype = 'f' AND n.nspname = 'public' AND NOT c.relispartition AND con.conparentid = 0",
    )
    .fetch_all(pool)
    .await
    .expect("foreign keys");
    let routines: Vec<(String, String)> = sqlx::query_as(
        "SELECT 'function ' || p.proname, p.prosrc
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
         WHERE n.nspname = 'public' AND l.lanname IN ('sql', 'plpgsql')
         UNION ALL
         SELECT 'view ' || viewname, definition FROM pg_views WHERE schemaname = 'public'
         UNION ALL
         SELECT 'policy ' || tablename || '.' || policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '')
         FROM pg_policies WHERE schemaname = 'public'",
    )
    .fetch_all(pool)
    .await
    .expect("routines");
    let mut texts = BTreeMap::<String, String>::new();
    for (label, text) in routines {
        // Overloads share a label: their texts are read together.
        let entry = texts.entry(label).or_default();
        entry.push('\n');
        entry.push_str(&text);
    }
    Catalog {
        tables: tables.into_iter().collect(),
        columns: columns.into_iter().map(|(t, c, nn)| ((t, c), nn)).collect(),
        uniques,
        fks,
        routines: texts,
    }
}

/// For each function, view and policy naming two or more distributed tables: those tables.
fn multi_table_routines(cat: &Catalog) -> BTreeMap<String, Vec<&'static str>> {
    let distributed: Vec<&'static str> = PLAN
        .iter()
        .filter(|(_, c)| matches!(c, Class::Distributed { .. }))
        .map(|(t, _)| *t)
        .collect();
    cat.routines
        .iter()
        .filter_map(|(label, text)| {
            let named: Vec<&'static str> = distributed.iter().copied().filter(|t| names(text, t)).collect();
            (named.len() >= 2).then(|| (label.clone(), named))
        })
        .collect()
}

/// Every violation of the plan's rules in the catalog, sorted.
fn violations(cat: &Catalog) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (table, class) in PLAN {
        let Class::Distributed { column, .. } = class else {
            continue;
        };
        match cat.columns.get(&(table.to_string(), column.to_string())) {
            None => found.insert(format!("{table}: distribution column {column} does not exist")),
            Some(false) => found.insert(format!("{table}: distribution column {column} is nullable")),
            Some(true) => false,
        };
    }
    for (table, name, kind, columns) in &cat.uniques {
        if let Some((column, _)) = dist_column(table)
            && !columns.iter().any(|c| c == column)
        {
            found.insert(format!(
                "{table}: {kind} {name} ({}) lacks {column}",
                columns.join(", ")
            ));
        }
    }
    for (table, name, columns, target, target_columns) in &cat.fks {
        let (from, to) = (class_of(table), class_of(target));
        let fk = format!(
            "{table}: FOREIGN KEY {name} ({}) -> {target} ({})",
            columns.join(", "),
            target_columns.join(", ")
        );
        match (dist_column(table), dist_column(target)) {
            (Some((column, group)), Some((target_column, target_group))) => {
                let paired = columns
                    .iter()
                    .zip(target_columns)
                    .any(|(c, t)| c == column && t == target_column);
                if !paired {
                    found.insert(format!("{fk} does not pair {column} with {target_column}"));
                } else if group != target_group {
                    found.insert(format!("{fk} joins colocation groups {group} and {target_group}"));
                }
            }
            (None, Some(_)) => {
                found.insert(format!(
                    "{fk}: a {} table cannot reference a distributed table",
                    kind(from)
                ));
            }
            (Some(_), None) if to == Some(Local) => {
                found.insert(format!("{fk}: a distributed table cannot reference a local table"));
            }
            _ => {}
        }
    }
    for (label, tables) in multi_table_routines(cat) {
        let text = &cat.routines[&label];
        let missing: BTreeSet<&str> = tables
            .iter()
            .filter_map(|t| dist_column(t).map(|(c, _)| c))
            .filter(|c| !names(text, c))
            .collect();
        if !missing.is_empty() {
            found.insert(format!(
                "{label}: reads {} but never names {}",
                tables.join(", "),
                missing.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    found
}

#[tokio::test]
async fn distribution_plan_classifies_every_table_of_the_catalog() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let cat = catalog(&db).await;
    let planned: BTreeSet<String> = PLAN.iter().map(|(t, _)| t.to_string()).collect();
    assert_eq!(planned.len(), PLAN.len(), "a table is classified twice in PLAN");
    let unclassified: Vec<&String> = cat.tables.difference(&planned).collect();
    let gone: Vec<&String> = planned.difference(&cat.tables).collect();
    assert!(
        unclassified.is_empty() && gone.is_empty(),
        "tables missing from the distribution plan (classify them in PLAN and docs/scaling.md): {unclassified:?}; \
         in PLAN but not in the catalog: {gone:?}"
    );
    for (table, class) in PLAN {
        let row = match class {
            Class::Distributed { column, group } => {
                format!("| `{table}` | distributed | `{column}` | {group} |")
            }
            other => format!("| `{table}` | {} |", kind(Some(*other))),
        };
        assert!(DOC.contains(&row), "docs/scaling.md has no row starting {row}");
    }
}

#[tokio::test]
async fn distribution_tables_touching_two_distributed_tables_are_reviewed() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let cat = catalog(&db).await;
    let found: BTreeMap<String, Vec<&str>> = multi_table_routines(&cat);
    let reviewed: BTreeMap<String, Vec<&str>> = ROUTINES
        .iter()
        .map(|(label, tables, _)| (label.to_string(), tables.to_vec()))
        .collect();
    let unreviewed: Vec<String> = found
        .iter()
        .filter(|(l, t)| reviewed.get(*l) != Some(t))
        .map(|(l, t)| format!("    (\"{l}\", &{t:?}, \"...\"),"))
        .collect();
    let stale: Vec<&String> = reviewed.keys().filter(|l| !found.contains_key(*l)).collect();
    assert!(
        unreviewed.is_empty() && stale.is_empty(),
        "functions, views and policies naming two or more distributed tables that ROUTINES does not review \
         (say how they join, here and in docs/scaling.md):\n{}\nreviewed but no longer naming those tables: {stale:?}",
        unreviewed.join("\n")
    );
    for (label, _, join) in ROUTINES {
        assert!(
            DOC.contains(&format!("| {label} |")) && DOC.contains(join),
            "docs/scaling.md does not list {label} with its join: {join}"
        );
    }
}

#[tokio::test]
async fn distribution_violations_are_exactly_the_reviewed_list() {
    let db = TestDb::migrated(&quotedb_schema::MIGRATOR).await;
    let found = violations(&catalog(&db).await);
    let known: BTreeSet<String> = KNOWN_VIOLATIONS.iter().map(|(v, _)| v.to_string()).collect();
    assert_eq!(known.len(), KNOWN_VIOLATIONS.len(), "a violation is listed twice");
    let new: Vec<String> = found
        .difference(&known)
        .map(|v| format!("    (\"{v}\", \"...\"),"))
        .collect();
    let resolved: Vec<&String> = known.difference(&found).collect();
    assert!(
        new.is_empty() && resolved.is_empty(),
        "violations of the distribution plan not in KNOWN_VIOLATIONS (resolve them or list them with \
         their resolution, here and in docs/scaling.md):\n{}\nlisted but no longer occurring (remove them): {resolved:?}",
        new.join("\n")
    );
    for (violation, resolution) in KNOWN_VIOLATIONS {
        assert!(
            DOC.contains(&format!("| {violation} | {resolution} |")),
            "docs/scaling.md does not list the violation with its resolution: | {violation} | {resolution} |"
        );
    }
}
