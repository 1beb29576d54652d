//! The schema's tests, one test binary: each module holds the tests of one part of the schema,
//! `common` the helpers more than one of them uses. Every test gets its own database from the
//! test kit, so the tests run in parallel within the binary.

#[macro_use]
mod common;

mod admin_rules;
mod audit_log_partitions;
mod base_rules;
mod definer_helpers;
mod distribution;
mod enums;
mod hostile_login;
mod migrations;
mod partition_maintenance;
mod quotes_rules;
mod rate_changes;
mod rating_rules;
mod realtime_rules;
mod rls;
mod security_rules;
