//! Integration tests of the admin API (`Db::admin`), through the public API only, each against a
//! fresh seeded database. One test binary (`cargo test -p quotedb-repository --test admin`),
//! one module per part of the API.
//!
//! Fixtures the API cannot create (`users` rows) are inserted with plain sqlx in `support`.
//! Everything else (roles, permissions, admins) goes through the API with unique names, so the
//! tests hold whether or not the reference seeds (roles, permissions, settings) are loaded.

mod support;

mod activity;
mod dashboards;
mod rate_changes;
mod roles;
mod settings;
mod users;
