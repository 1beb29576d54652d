//! Tidy test: the quote projection — the column list a quote is selected with and read into
//! `QuoteRow` — is repeated in several `.sql` files (`query_file_as!` needs literal files, so it
//! cannot be shared), and every copy must stay identical to the canonical one in
//! `src/quotes/get_by_id.sql`. Reads the files only: no database needed.
//!
//! A copy starts at the line `SELECT q.id AS "id!: QuoteId",` (or `RETURNING q.id ...`) and ends
//! with the first line that does not end in a comma (the last column). It is compared as text,
//! from `q.id` to the end of the last column; a difference is reported per file with the columns
//! missing, added or changed.
//!
//! The files that must hold a copy are every `.sql` file the crate's sources read with
//! `query_file_as!(QuoteRow, "...")`, plus every `.sql` file under `src/` that starts a select list
//! with the canonical copy's first two columns.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The file whose projection is the canonical copy (relative to the crate root).
const CANONICAL: &str = "src/quotes/get_by_id.sql";
/// The first column of the projection: where a copy starts.
const FIRST_COLUMN: &str = r#"q.id AS "id!: QuoteId","#;
/// What may precede the first column on its line.
const KEYWORDS: [&str; 2] = ["SELECT ", "RETURNING "];
/// How many copies there are today (with the canonical one): a query may be added, but a copy
/// must not silently stop being found.
const AT_LEAST: usize = 6;

fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` whose name ends with `ext`, as paths relative to the crate root.
fn files_under(dir: &Path, ext: &str, found: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(&path, ext, found);
        } else if path.extension().is_some_and(|x| x == ext) {
            let relative = path.strip_prefix(crate_root()).expect("a file under the crate root");
            found.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn read(relative: &str) -> String {
    fs::read_to_string(crate_root().join(relative)).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// The projection of `sql`: from the first column (its keyword cut off) to the end of the first
/// line that does not end in a comma. `None` if no line starts one.
fn projection(sql: &str) -> Option<String> {
    let lines: Vec<&str> = sql.lines().collect();
    let start = lines.iter().position(|line| {
        KEYWORDS.iter().any(|k| {
            line.trim_start()
                .strip_prefix(k)
                .is_some_and(|rest| rest.starts_with(FIRST_COLUMN))
        })
    })?;
    let first = lines[start];
    let mut copy = first[first.find(FIRST_COLUMN)?..].to_owned();
    let mut end = start;
    while lines[end].trim_end().ends_with(',') && end + 1 < lines.len() {
        end += 1;
        copy.push('\n');
        copy.push_str(lines[end]);
    }
    Some(copy.trim_end().to_owned())
}

/// The columns of a projection, whitespace collapsed and without the separating commas.
fn columns(projection: &str) -> Vec<String> {
    projection
        .split(',')
        .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|c| !c.is_empty())
        .collect()
}

/// What is wrong with `copy` (of `file`) against `canonical`; `None` if it is identical.
fn difference(file: &str, canonical: &str, copy: Option<&str>) -> Option<String> {
    let Some(copy) = copy else {
        return Some(format!(
            "{file}: no quote projection found (no line `SELECT {FIRST_COLUMN}` or `RETURNING {FIRST_COLUMN}`)"
        ));
    };
    if copy == canonical {
        return None;
    }
    let want = columns(canonical);
    let have = columns(copy);
    let mut what = Vec::new();
    let missing: Vec<&String> = want.iter().filter(|c| !have.contains(c)).collect();
    let added: Vec<&String> = have.iter().filter(|c| !want.contains(c)).collect();
    if !missing.is_empty() {
        what.push(format!("missing {missing:?}"));
    }
    if !added.is_empty() {
        what.push(format!("not in the canonical copy {added:?}"));
    }
    if what.is_empty() {
        if have == want {
            what.push("same columns, different layout (whitespace or line breaks)".to_owned());
        } else {
            what.push(format!("same columns in another order: {have:?}"));
        }
    }
    Some(format!("{file}: differs from {CANONICAL}: {}", what.join("; ")))
}

/// The `.sql` files that `source` reads into `QuoteRow` (`query_file_as!(QuoteRow, "path", ...)`).
fn quote_row_files(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("query_file_as!(") {
        rest = &rest[at + "query_file_as!(".len()..];
        let Some(after_type) = rest.trim_start().strip_prefix("QuoteRow") else {
            continue;
        };
        let Some(after_comma) = after_type.trim_start().strip_prefix(',') else {
            continue;
        };
        let Some(literal) = after_comma.trim_start().strip_prefix('"') else {
            continue;
        };
        if let Some(end) = literal.find('"') {
            found.push(literal[..end].to_owned());
        }
    }
    found
}

/// Check every copy named in `files` (path, text) against `canonical`; one message per bad copy.
fn check(canonical: &str, files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .filter_map(|(file, text)| difference(file, canonical, projection(text).as_deref()))
        .collect()
}

#[test]
fn every_copy_of_the_quote_projection_is_identical_to_the_canonical_one() {
    let root = crate_root();
    let canonical = projection(&read(CANONICAL)).unwrap_or_else(|| panic!("{CANONICAL} has no quote projection"));
    let canonical_lines: Vec<&str> = canonical.lines().collect();
    assert!(
        canonical_lines.len() > 1,
        "{CANONICAL}: the projection should be one column a line:\n{canonical}"
    );

    // The files the code reads into QuoteRow ...
    let mut sources = Vec::new();
    files_under(&root.join("src"), "rs", &mut sources);
    let mut expected: BTreeSet<String> = sources.iter().flat_map(|rs| quote_row_files(&read(rs))).collect();
    // ... and any .sql file that starts a select list with the projection's first two columns.
    let mut sql_files = Vec::new();
    files_under(&root.join("src"), "sql", &mut sql_files);
    let opening = canonical_lines[..2].join("\n");
    for file in &sql_files {
        if projection(&read(file)).is_some_and(|p| p.starts_with(&opening)) {
            expected.insert(file.clone());
        }
    }
    assert!(
        expected.len() >= AT_LEAST,
        "found only {} files holding the quote projection (at least {AT_LEAST} expected): {expected:?}",
        expected.len()
    );
    assert!(expected.contains(CANONICAL), "{CANONICAL} is not among {expected:?}");

    let files: Vec<(String, String)> = expected.iter().map(|f| (f.clone(), read(f))).collect();
    let problems = check(&canonical, &files);
    assert!(
        problems.is_empty(),
        "the quote projection differs from the canonical copy in {CANONICAL}:\n{}\n\ncanonical copy:\n{canonical}",
        problems.join("\n")
    );
}

#[test]
fn the_check_reports_a_copy_that_lost_or_changed_a_column() {
    let canonical = projection(&read(CANONICAL)).expect("the canonical projection");
    let good = read("src/quotes/transition.sql");
    let dropped = good.replace("       q.bound_at AS \"bound_at?\",\n", "");
    let renamed = good.replace("q.premium AS \"premium?\"", "q.premium AS \"premium!\"");
    let last_dropped = read(CANONICAL).replace(",\n       q.updated_at AS \"updated_at!\"", "");
    assert_ne!(dropped, good, "the fixture edit must apply");
    assert_ne!(renamed, good, "the fixture edit must apply");
    assert_ne!(last_dropped, read(CANONICAL), "the fixture edit must apply");
    let files = vec![
        ("good.sql".to_owned(), good),
        ("dropped.sql".to_owned(), dropped),
        ("renamed.sql".to_owned(), renamed),
        ("last_dropped.sql".to_owned(), last_dropped),
        ("none.sql".to_owned(), "SELECT 1".to_owned()),
    ];
    let problems = check(&canonical, &files);
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].starts_with("dropped.sql:") && problems[0].contains(r#"bound_at AS \"bound_at?\""#));
    assert!(problems[1].starts_with("renamed.sql:") && problems[1].contains("premium!"));
    assert!(problems[2].starts_with("last_dropped.sql:") && problems[2].contains("updated_at"));
    assert!(problems[3].starts_with("none.sql:"));
}
