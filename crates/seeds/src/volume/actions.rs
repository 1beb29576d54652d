//! The steps of the load, in the order the schema's rules accept them (see the module docs of
//! `volume`): which COPYs and which statements on the staging tables.

use super::Plan;
use super::pipeline::{CopyStep, GenFn, Part};
use super::{activity, admin, events, quotes, users};

/// One step of the load.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Copy(CopyStep),
    /// A statement on the staging tables (see `sql/`).
    Sql {
        step: &'static str,
        sql: &'static str,
    },
}

fn copy(
    table: &'static str,
    columns: &'static str,
    units: u64,
    generator: GenFn,
    part: Part,
    label: impl Into<String>,
) -> Action {
    Action::Copy(CopyStep {
        label: label.into(),
        table,
        columns,
        units,
        generator,
        part,
    })
}

/// Most parent units (users, quotes...) per COPY statement. The server queues an AFTER-trigger
/// event per row and foreign key until the statement ends; splitting big tables bounds that
/// memory (same rows, same order).
const MAX_UNITS_PER_COPY: u64 = 250_000;

/// A table's COPY, split into steps of at most [`MAX_UNITS_PER_COPY`] units (one progress bar).
fn chunked(
    table: &'static str,
    columns: &'static str,
    units: u64,
    generator: GenFn,
    arg: u32,
    label: impl Into<String>,
) -> Vec<Action> {
    let label = label.into();
    let mut steps = Vec::new();
    let mut from = 0;
    loop {
        let to = if units - from > MAX_UNITS_PER_COPY {
            from + MAX_UNITS_PER_COPY
        } else {
            u64::MAX
        };
        steps.push(copy(
            table,
            columns,
            units,
            generator,
            Part { arg, from, to },
            label.clone(),
        ));
        if to == u64::MAX {
            return steps;
        }
        from = to;
    }
}

/// Tables (re)analyzed after the load.
pub(crate) const ANALYZE: &str = "ANALYZE users, drivers, vehicles, admin_users, quotes, quote_coverages, quote_versions, \
     user_sessions, websocket_connections, analytics_events, notification_queue, audit_logs, admin_activity_logs, \
     rate_change_requests";

/// The load, in the order the schema's rules accept it (see the module docs).
pub(crate) fn actions(plan: &Plan) -> Vec<Action> {
    let (u, c, q) = (plan.users(), plan.customers, plan.quotes);
    let mut a = Vec::new();
    a.extend(chunked(
        "users",
        "id, email, full_name, role, phone, created_at, updated_at",
        u,
        users::gen_users,
        0,
        "users",
    ));
    a.extend(chunked(
        "drivers",
        "id, user_id, first_name, last_name, date_of_birth, licensed_since, created_at, updated_at, \
         license_number_ciphertext, license_number_nonce, license_number_key_id, license_number_hash",
        c,
        users::gen_drivers,
        0,
        "drivers",
    ));
    a.extend(chunked(
        "vehicles",
        "id, user_id, vin, make, model, model_year, created_at, updated_at",
        c,
        users::gen_vehicles,
        0,
        "vehicles",
    ));
    a.push(copy(
        "admin_users",
        "id, user_id, role_id, mfa_required, failed_login_attempts, locked_until, password_changed_at, \
         last_login_at, last_login_ip, allowed_ip_ranges, deactivated_at, deactivation_reason, deactivated_by, \
         created_at, updated_at",
        plan.staff,
        admin::gen_admin_users,
        Part::ALL,
        "admin_users",
    ));
    a.extend(chunked(
        "quotes",
        quotes::QUOTE_COLUMNS,
        q,
        quotes::gen_quotes,
        0,
        "quotes",
    ));
    a.extend(chunked(
        "quote_coverages",
        "id, quote_id, coverage_type, limit_amount, deductible, premium, created_at, updated_at",
        q,
        quotes::gen_coverages,
        0,
        "quote_coverages",
    ));
    // quote_versions_contiguous checks each COPY statement's versions at once (migration 0023), so
    // version 1 of every rated quote is one COPY like the other tables. The deferred
    // quotes_current_version_in_step looks up each quote's latest version at COMMIT with a plan
    // cached on its first call: without statistics quote_versions looks empty and the plan is a
    // sequential scan, which makes the COMMIT quadratic (scale 1: 0.16 s with this ANALYZE,
    // 14.7 s without).
    a.extend(chunked(
        "quote_versions",
        VERSION_COLUMNS,
        q,
        quotes::gen_versions,
        1,
        "quote_versions (v1)",
    ));
    a.push(Action::Sql {
        step: "analyze quote_versions",
        sql: "ANALYZE quote_versions",
    });
    a.push(Action::Sql {
        step: "create volume_quote_moves",
        sql: include_str!("sql/create_quote_moves.sql"),
    });
    a.extend(chunked(
        quotes::MOVES_TABLE,
        quotes::MOVES_COLUMNS,
        q,
        quotes::gen_moves,
        0,
        quotes::MOVES_TABLE,
    ));
    a.push(Action::Sql {
        step: "analyze volume_quote_moves",
        sql: include_str!("sql/analyze_quote_moves.sql"),
    });
    for round in 2..=u32::from(quotes::MAX_VERSIONS) {
        a.push(Action::Sql {
            step: "re-rate round (bump current_version)",
            sql: include_str!("sql/rerate_quotes.sql"),
        });
        a.extend(chunked(
            "quote_versions",
            VERSION_COLUMNS,
            q,
            quotes::gen_versions,
            round,
            format!("quote_versions (v{round})"),
        ));
    }
    a.push(Action::Sql {
        step: "move quote statuses",
        sql: include_str!("sql/move_quote_statuses.sql"),
    });
    a.push(Action::Sql {
        step: "bind quotes",
        sql: include_str!("sql/bind_quotes.sql"),
    });
    a.extend(chunked(
        "user_sessions",
        "id, user_id, token_hash, ip, user_agent, created_at, updated_at, last_seen_at, expires_at, revoked_at, \
         revoke_reason",
        u,
        activity::gen_sessions,
        0,
        "user_sessions",
    ));
    a.extend(chunked(
        "websocket_connections",
        "id, user_id, session_id, server_node, ip, subscriptions, connected_at, last_heartbeat_at, disconnected_at",
        u,
        activity::gen_websockets,
        0,
        "websocket_connections",
    ));
    a.extend(chunked(
        "analytics_events",
        "event_type, user_id, session_id, quote_id, properties, occurred_at, created_at",
        q,
        events::gen_events,
        0,
        "analytics_events",
    ));
    a.extend(chunked(
        "notification_queue",
        "id, channel, recipient_user_id, recipient_address, template, payload, status, priority, attempts, \
         max_attempts, next_attempt_at, locked_at, locked_by, sent_at, last_error, created_at, updated_at",
        q,
        events::gen_notifications,
        0,
        "notification_queue",
    ));
    a.extend(chunked(
        "audit_logs",
        "occurred_at, actor_user_id, action, entity_type, entity_id, old_values, new_values, ip, request_id",
        u + q,
        events::gen_audit,
        0,
        "audit_logs",
    ));
    a.extend(chunked(
        "admin_activity_logs",
        "admin_user_id, action, resource_type, resource_id, details, ip, risk_score, risk_factors, occurred_at",
        plan.activity_logs,
        admin::gen_activity,
        0,
        "admin_activity_logs",
    ));
    a.push(copy(
        "rate_change_requests",
        "id, kind, proposed_change, justification, status, requested_by, created_at, updated_at",
        plan.rate_requests,
        admin::gen_rate_requests,
        Part::ALL,
        "rate_change_requests",
    ));
    a.push(Action::Sql {
        step: "create volume_rate_change_submissions",
        sql: include_str!("sql/create_submissions.sql"),
    });
    a.push(copy(
        admin::SUBMISSIONS_TABLE,
        admin::SUBMISSIONS_COLUMNS,
        plan.rate_requests,
        admin::gen_submissions,
        Part::ALL,
        admin::SUBMISSIONS_TABLE,
    ));
    a.push(Action::Sql {
        step: "submit rate change requests",
        sql: include_str!("sql/submit_rate_change_requests.sql"),
    });
    a
}

const VERSION_COLUMNS: &str = "id, quote_id, version, premium, rating_inputs, breakdown, created_at";

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::path::Path;

    use super::*;
    use crate::volume::Ctx;
    use crate::volume::copy::{HEADER, TRAILER};
    use crate::volume::pipeline;

    fn generate(ctx: &Ctx, step: &CopyStep, part: Part, file: &Path) -> Vec<u8> {
        let step = CopyStep { part, ..step.clone() };
        let out = File::create(file).expect("file");
        pipeline::copy_to_file(ctx, &step, out, indicatif::ProgressBar::hidden()).expect("generate");
        let bytes = std::fs::read(file).expect("read");
        assert!(bytes.starts_with(HEADER) && bytes.ends_with(TRAILER));
        bytes[HEADER.len()..bytes.len() - TRAILER.len()].to_vec()
    }

    #[test]
    fn a_table_split_into_parts_holds_the_same_rows_as_in_one_piece() {
        let ctx = Ctx::offline(0.05, 9, ::time::macros::datetime!(2025-06-15 00:00 UTC));
        let file = std::env::temp_dir().join(format!("quotedb-volume-unit-{}.bin", std::process::id()));
        for action in actions(&ctx.plan) {
            let Action::Copy(step) = action else { continue };
            let arg = step.part.arg;
            let whole = generate(
                &ctx,
                &step,
                Part {
                    arg,
                    from: 0,
                    to: u64::MAX,
                },
                &file,
            );
            let cut = step.units / 3 + 1;
            let mut split = generate(&ctx, &step, Part { arg, from: 0, to: cut }, &file);
            split.extend(generate(
                &ctx,
                &step,
                Part {
                    arg,
                    from: cut,
                    to: u64::MAX,
                },
                &file,
            ));
            assert_eq!(whole, split, "{} split at {cut}", step.label);
            assert!(!whole.is_empty(), "{} generated no rows", step.label);
        }
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn big_tables_are_copied_in_bounded_steps() {
        let steps = chunked("quotes", "id", 600_000, quotes::gen_quotes, 0, "quotes");
        let parts: Vec<(u64, u64)> = steps
            .iter()
            .map(|a| match a {
                Action::Copy(s) => (s.part.from, s.part.to),
                Action::Sql { .. } => (0, 0),
            })
            .collect();
        assert_eq!(parts, [(0, 250_000), (250_000, 500_000), (500_000, u64::MAX)]);
        assert_eq!(chunked("quotes", "id", 10, quotes::gen_quotes, 0, "quotes").len(), 1);
    }
}
