//! The repository's integration tests, one test binary: each module holds the tests of one part
//! of the public API, `common` the fixtures and helpers more than one of them uses (built through
//! the public API wherever it can). Every test gets its own database from the test kit, so the
//! tests run in parallel within the binary.
//!
//! The exception is `tests/faults.rs`, its own binary: it restarts the server, so nothing else
//! may run in its process meanwhile (it shares `common` by path).

mod common;

mod admin;
mod maintenance;
mod pgbouncer;
mod pricing_props;
mod quotes;
mod rating;
mod realtime;
mod replica;
mod security;
mod tidy;
mod users;
