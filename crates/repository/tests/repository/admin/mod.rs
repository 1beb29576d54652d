//! The admin API (`Db::admin`), through the public API only, each test against a fresh seeded
//! database; one module per part of the API. Roles, permissions and admins are created through
//! the API with unique names (`common::admins`), so the tests hold whether or not the reference
//! seeds (roles, permissions, settings) are loaded.

mod activity;
mod dashboards;
mod rate_changes;
mod roles;
mod settings;
mod users;
