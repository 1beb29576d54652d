//! The quotedb schema: the six reversible migrations embedded as [`MIGRATOR`], the database
//! enums as Rust types, and the name of every business rule.
//!
//! A business rule has ONE name, used everywhere: the SQL constraint or trigger, its
//! `COMMENT`, the repository's error variant and the test that violates it. The constants in
//! each module's `rules` submodule are those names; the repository maps database errors with
//! them instead of scattering string literals.
//!
//! ```no_run
//! # async fn run(pool: sqlx::PgPool) -> Result<(), sqlx::migrate::MigrateError> {
//! quotedb_schema::MIGRATOR.run(&pool).await?;
//! # Ok(()) }
//! ```

#[macro_use]
mod macros {
    /// Declares the Rust mirror of a PostgreSQL enum type: the derives (sqlx, serde), every variant
    /// with its database label, `ALL` in database order, `as_str` and `Display`. One shape for every
    /// enum of the schema; the schema tests compare each `ALL` with the catalog's labels.
    macro_rules! db_enum {
        (
            $(#[$meta:meta])*
            pub enum $name:ident as $type_name:literal {
                $( $(#[$vmeta:meta])* $variant:ident = $label:literal, )+
            }
        ) => {
            $(#[$meta])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, serde::Serialize, serde::Deserialize)]
            #[sqlx(type_name = $type_name)]
            pub enum $name {
                $( $(#[$vmeta])* #[sqlx(rename = $label)] #[serde(rename = $label)] $variant, )+
            }

            impl $name {
                /// Every variant, in database order.
                pub const ALL: [Self; [$($label),+].len()] = [$(Self::$variant),+];

                /// The database label.
                pub fn as_str(self) -> &'static str {
                    match self {
                        $(Self::$variant => $label,)+
                    }
                }
            }

            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        };
    }
}

pub mod admin;
pub mod base;
pub mod quotes;
pub mod rating;
pub mod realtime;
pub mod security;

/// All migrations of `migrations/`, embedded at compile time (reversible, sqlx format). The crate
/// reaches them through `crates/schema/migrations`, a symlink to the workspace's `migrations/`, so a
/// packaged, vendored or git-checked-out copy of the crate carries them; `build.rs` makes cargo
/// rebuild it when a migration is added or changed.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Every business-rule name defined by the schema, across all modules.
pub fn all_rule_names() -> impl Iterator<Item = &'static str> {
    base::rules::ALL
        .iter()
        .chain(quotes::rules::ALL)
        .chain(rating::rules::ALL)
        .chain(security::rules::ALL)
        .chain(realtime::rules::ALL)
        .chain(admin::rules::ALL)
        .chain(base::VALUES_BOUNDED)
        .copied()
}
