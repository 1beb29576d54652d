//! The deterministic volume generator: realistic bulk data for benches and plan checks.
//!
//! `load(conn, &VolumeConfig { scale, seed, anchor, .. })` fills users (customers, agents,
//! admin staff), drivers, vehicles, quotes with their coverages and versions, user sessions,
//! websocket connections, analytics events, notifications, audit logs, admin users, admin
//! activity and pending rate change requests. **Scale 1 = 10 000 quotes** (2 500 customers,
//! 40 agents, 5 000 admin activity entries, 12 pending rate change requests; about 190 000
//! rows in all); every count is proportional to the scale (fractions allowed), except the 8
//! admin accounts.
//!
//! # Determinism
//! Every row is a pure function of (seed, anchor, scale, reference data): each entity draws
//! from its own window of a ChaCha8 stream (see `rng.rs`), UUIDs included
//! (`uuid::Builder::from_random_bytes`), and every time is relative to the anchor. Two loads
//! with the same inputs produce the same rows, except where the schema itself stamps the load:
//! `updated_at` of the rows moved by UPDATE (quotes past draft / their first rating, pending
//! rate change requests) is set by the set_updated_at trigger to the load's transaction time,
//! and identity columns (audit_logs, analytics_events, admin_activity_logs ids) continue
//! their sequences.
//!
//! # How it loads
//! Binary COPY, streamed: a generator thread fills ~1 MiB buffers that are sent as they come
//! (never a table in memory), one progress bar per table, all in ONE transaction (a failure
//! leaves nothing behind; the deferred quotes_current_version_in_step check runs at COMMIT),
//! then ANALYZE. Every constraint and trigger applies - the rows go through them in the order
//! they accept:
//! 1. users, drivers, vehicles, admin_users;
//! 2. quotes as first inserted (draft, or rated at version 1 with that premium), their
//!    coverages (editable only while draft / rated), version 1 of every rated quote;
//! 3. the quotes to move go to a temporary staging table; per re-rate round an UPDATE bumps
//!    current_version and the next versions are copied (quote_versions_contiguous wants
//!    version = max + 1 = current_version); then UPDATEs walk the allowed transitions
//!    (rated -> presented -> bound, -> expired | declined | cancelled);
//! 4. sessions, websocket connections, analytics events, notifications, audit logs (into
//!    monthly partitions created beforehand), admin activity;
//! 5. rate change requests as drafts, then submitted (draft -> pending) from a staging table.

mod actions;
mod activity;
mod admin;
mod clock;
mod config;
mod context;
mod copy;
mod error;
mod events;
mod load;
mod names;
mod pipeline;
mod quotes;
mod report;
mod rng;
mod script;
mod users;

use context::Ctx;

pub use config::{Plan, VolumeConfig};
pub use error::VolumeError;
pub use load::{load, prepare};
pub use report::{LoadReport, TableCount};
pub use script::{Script, write_psql_script};
