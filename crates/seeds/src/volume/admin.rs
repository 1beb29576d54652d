//! admin_users, admin_activity_logs and (pending) rate_change_requests.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use quotedb_schema::quotes::CoverageType;
use rand_chacha::ChaCha8Rng;

use super::Ctx;
use super::activity::client_ip;
use super::clock::{DAY, HOUR, MIN, days_of, month_start, write_date};
use super::copy::{CopyEncode as _, arr, obj, write_uuid};
use super::names::USER_AGENTS;
use super::pipeline::{Out, Part};
use super::rng::{Stream, below, chance, pick, range, unit, weighted};
use super::users;
use quotedb_schema::admin::roles;

/// The admin accounts: the role each one has (the seeds' roles, read by name in `context.rs`).
pub(crate) const ADMIN_ROLES: [&str; 8] = [
    roles::SUPER_ADMIN,
    roles::ADMIN,
    roles::ADMIN,
    roles::UNDERWRITER,
    roles::UNDERWRITER,
    roles::SUPPORT,
    roles::SUPPORT,
    roles::ANALYST,
];
/// The admin that has been deactivated (by admin 0), and the one locked out.
const DEACTIVATED: usize = 7;
const LOCKED: usize = 6;
/// Admins who file rate change requests (admins and underwriters).
const REQUESTERS: [usize; 4] = [1, 2, 3, 4];

/// COPY admin_users (id, user_id, role_id, mfa_required, failed_login_attempts, locked_until,
/// password_changed_at, last_login_at, last_login_ip, allowed_ip_ranges, deactivated_at,
/// deactivation_reason, deactivated_by, created_at, updated_at)
pub(crate) fn gen_admin_users(ctx: &Ctx, out: &mut Out, part: Part) {
    for j in part.units(ADMIN_ROLES.len() as u64) {
        let j = j as usize;
        let user = users::core(ctx, ctx.plan.staff_user(j as u64));
        let mut r = ctx.streams.rng(Stream::Admins, j as u64);
        let id = super::rng::uuid(&mut r);
        let created = user.created_at + range(&mut r, HOUR, 2 * DAY);
        let last_login = ctx.anchor - range(&mut r, 10 * MIN, 5 * DAY);
        let password_changed = (j % 3 != 2).then(|| ctx.anchor - range(&mut r, 5 * DAY, 90 * DAY));
        let b = out.row(15);
        b.uuid(&id);
        b.uuid(&user.id);
        b.uuid(&ctx.admin_roles[j]);
        b.bool(j != 5);
        b.i32(if j == LOCKED { 5 } else { below(&mut r, 2) as i32 });
        b.opt_ts((j == LOCKED).then_some(ctx.anchor + 15 * MIN));
        b.opt_ts(password_changed);
        b.ts(last_login);
        b.inet(client_ip(&mut r));
        if j < 2 {
            // cidr[]: the office network and the VPN.
            write_cidr_array(
                b,
                &[(Ipv4Addr::new(10, 0, 0, 0), 8), (Ipv4Addr::new(203, 0, 113, 0), 24)],
            );
        } else {
            b.null();
        }
        if j == DEACTIVATED {
            b.ts(ctx.anchor - 20 * DAY);
            b.text("Left the company; access removed during offboarding (ticket IT-4821).");
            b.uuid(&ctx.streams.id(Stream::Admins, 0));
        } else {
            b.null();
            b.null();
            b.null();
        }
        b.ts(created);
        b.ts(last_login.max(created));
        if !out.unit_done() {
            return;
        }
    }
}

/// A binary one-dimensional cidr[] (element type oid 650).
fn write_cidr_array(b: &mut Vec<u8>, nets: &[(Ipv4Addr, u8)]) {
    b.text_with(|b| {
        b.extend_from_slice(&1i32.to_be_bytes()); // dimensions
        b.extend_from_slice(&0i32.to_be_bytes()); // has nulls
        b.extend_from_slice(&650u32.to_be_bytes()); // cidr
        b.extend_from_slice(&(nets.len() as i32).to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes()); // lower bound
        for (addr, bits) in nets {
            b.extend_from_slice(&8i32.to_be_bytes());
            b.extend_from_slice(&[2, *bits, 1, 4]);
            b.extend_from_slice(&addr.octets());
        }
    });
}

/// (action, resource_type, what the resource id is, extra risk)
const ACTIONS: &[(&str, &str, Resource, i64)] = &[
    ("quote.view", "quotes", Resource::Quote, 0),
    ("quote.search", "quotes", Resource::None, 0),
    ("quote.export", "quotes", Resource::None, 15),
    ("user.view", "users", Resource::User, 0),
    ("user.update", "users", Resource::User, 10),
    ("user.impersonate", "users", Resource::User, 25),
    ("session.revoke", "user_sessions", Resource::User, 5),
    ("settings.update", "system_settings", Resource::Setting, 20),
    ("rate_change.submit", "rate_change_requests", Resource::Random, 10),
    ("rate_change.approve", "rate_change_requests", Resource::Random, 15),
    ("admin_user.update", "admin_users", Resource::Admin, 20),
    ("report.export", "reports", Resource::None, 10),
    ("auth.login", "admin_sessions", Resource::None, 0),
    ("auth.mfa_failed", "admin_sessions", Resource::None, 15),
];

#[derive(Debug, Clone, Copy)]
enum Resource {
    None,
    Quote,
    User,
    Admin,
    Setting,
    Random,
}

const SETTINGS: &[&str] = &[
    "rating.discount_cap",
    "quote.validity_days",
    "session.lifetime_hours",
    "notification.max_attempts",
];
/// Risk factor names, as the repository's scoring stores them (`RiskFactorCode::as_str`).
const FACTORS: &[&str] = &[
    "new_ip",
    "off_hours",
    "bulk_action",
    "medium_permission",
    "sensitive_setting",
    "high_permission",
    "destructive_action",
    "ip_not_allowed",
    "critical_permission",
    "failed_logins",
    "permission_not_held",
];

/// COPY admin_activity_logs (admin_user_id, action, resource_type, resource_id, details, ip,
/// risk_score, risk_factors, occurred_at): a year of activity by the active admins, scored
/// mostly low (about 5 % at 70 or more).
pub(crate) fn gen_activity(ctx: &Ctx, out: &mut Out, part: Part) {
    let n = ctx.plan.activity_logs;
    let tier_offset = unit(&mut ctx.streams.rng(Stream::Activity, u64::MAX >> 24));
    for k in part.units(n) {
        let mut r = ctx.streams.rng(Stream::Activity, k);
        let q = (k as f64 + unit(&mut r)) / n as f64;
        let at = ctx.anchor - 365 * DAY + (q * (365 * DAY - MIN) as f64) as i64;
        let admin = weighted(&mut r, &[10, 25, 25, 15, 15, 6, 4]);
        let (action, resource_type, resource, extra) = *pick(&mut r, ACTIONS);
        // Tier by a golden-ratio sequence (low discrepancy): 75 % low, 20 % medium, 5 % high
        // in any stretch of the log, however short.
        let u = (k as f64 * 0.618_033_988_749_895 + tier_offset).fract();
        let score = if u < 0.75 {
            range(&mut r, 0, 30)
        } else if u < 0.95 {
            range(&mut r, 30, 70)
        } else {
            range(&mut r, 70, 101)
        };
        let score = if score < 70 { (score + extra).min(69) } else { score };
        let factors = match score {
            0..30 => 0,
            30..70 => 1 + below(&mut r, 2),
            _ => 2 + below(&mut r, 3),
        };
        let first_factor = below(&mut r, FACTORS.len() as u64) as usize;
        let resource_idx = match resource {
            Resource::Quote => below(&mut r, ctx.plan.quotes),
            Resource::User => below(&mut r, ctx.plan.customers),
            Resource::Admin => below(&mut r, ADMIN_ROLES.len() as u64),
            Resource::Setting => below(&mut r, SETTINGS.len() as u64),
            Resource::None | Resource::Random => 0,
        };
        let random_id: [u8; 16] = super::rng::bytes(&mut r);
        let agent = *pick(&mut r, USER_AGENTS);
        let rows = range(&mut r, 10, 50_000);
        let ip = if chance(&mut r, 0.8) {
            IpAddr::V4(Ipv4Addr::new(203, 0, 113, 10 + admin as u8))
        } else {
            client_ip(&mut r)
        };
        let b = out.row(9);
        b.uuid(&ctx.streams.id(Stream::Admins, admin as u64));
        b.text(action);
        b.text(resource_type);
        match resource {
            Resource::None => b.null(),
            Resource::Quote => b.text_with(|b| write_uuid(b, &ctx.streams.id(Stream::Quotes, resource_idx))),
            Resource::User => b.text_with(|b| write_uuid(b, &ctx.streams.id(Stream::Users, resource_idx))),
            Resource::Admin => b.text_with(|b| write_uuid(b, &ctx.streams.id(Stream::Admins, resource_idx))),
            Resource::Setting => b.text(SETTINGS[resource_idx as usize]),
            Resource::Random => {
                b.text_with(|b| write_uuid(b, &uuid::Builder::from_random_bytes(random_id).into_uuid()))
            }
        }
        b.jsonb(|b| {
            obj(b, |o| {
                o.str("user_agent", agent)
                    .bool("mfa_verified", score < 70 || admin != 5);
                if action.ends_with("export") {
                    o.int("rows", rows);
                }
                if action == "settings.update" {
                    o.str("setting", SETTINGS[resource_idx as usize]);
                }
            });
        });
        b.inet(ip);
        b.i16(score as i16);
        b.jsonb(|b| {
            arr(b, |a| {
                for f in 0..factors as usize {
                    a.str(FACTORS[(first_factor + f) % FACTORS.len()]);
                }
            });
        });
        b.ts(at);
        if !out.unit_done() {
            return;
        }
    }
}

/// A rate change request's generator (past its id), creation and submission times.
fn request_times(ctx: &Ctx, k: u64) -> (ChaCha8Rng, i64, i64) {
    let mut r = ctx.streams.rng(Stream::RateRequests, k);
    let _id = super::rng::uuid(&mut r); // = ctx.streams.id(Stream::RateRequests, k)
    let created = ctx.anchor - range(&mut r, 2 * HOUR, 30 * DAY);
    let submitted = created + range(&mut r, 10 * MIN, (ctx.anchor - created - MIN).min(2 * DAY));
    (r, created, submitted)
}

/// COPY rate_change_requests (id, kind, proposed_change, justification, status, requested_by,
/// created_at, updated_at): inserted as drafts (a request starts as draft); the load then
/// submits them (draft -> pending) from the staging table.
pub(crate) fn gen_rate_requests(ctx: &Ctx, out: &mut Out, part: Part) {
    for k in part.units(ctx.plan.rate_requests) {
        let (mut r, created, _) = request_times(ctx, k);
        let id = ctx.streams.id(Stream::RateRequests, k);
        let requester = REQUESTERS[below(&mut r, REQUESTERS.len() as u64) as usize];
        let state_idx = ctx.pick_state(&mut r);
        let state = &ctx.states[state_idx];
        let effective = month_start(days_of(ctx.anchor), 1 + below(&mut r, 3) as i32);
        let base_rate = chance(&mut r, 0.7);
        // A coverage the state has a rate for (build_states guarantees at least one).
        let offered: Vec<usize> = (0..8).filter(|k| state.priced[*k]).collect();
        let cov = offered[below(&mut r, offered.len() as u64) as usize];
        let change_bp = range(&mut r, -800, 1_500);
        let territory = &state.territories[below(&mut r, state.territories.len() as u64) as usize];
        let b = out.row(8);
        b.uuid(&id);
        b.text(if base_rate { "base_rate" } else { "territory_factor" });
        b.jsonb(|b| {
            obj(b, |o| {
                o.str("state_code", state.code);
                if base_rate {
                    let current = state.base[cov];
                    o.str("coverage_type", CoverageType::ALL[cov].as_str());
                    o.dec("base_amount", (current * (10_000 + change_bp) / 10_000).max(100), 2);
                } else {
                    o.str("zip", &territory.zip).str("city", &territory.city);
                    o.dec(
                        "factor",
                        (territory.factor_milli * (10_000 + change_bp) / 10_000).clamp(500, 3000),
                        3,
                    );
                }
                o.str_with("effective_from", |b| write_date(b, effective));
            });
        });
        b.text_with(|b| {
            let _ = write!(
                b,
                "{} {} loss ratio review: indicated change {:+.2} % (filing {}-{:04})",
                state.code,
                if base_rate {
                    CoverageType::ALL[cov].as_str()
                } else {
                    "territory"
                },
                change_bp as f64 / 100.0,
                state.code,
                k + 1
            );
        });
        b.text("draft");
        b.uuid(&ctx.streams.id(Stream::Admins, requester as u64));
        b.ts(created);
        b.ts(created);
        if !out.unit_done() {
            return;
        }
    }
}

/// The staging table of request submissions (temporary, dropped at commit).
pub(crate) const SUBMISSIONS_TABLE: &str = "volume_rate_change_submissions";
pub(crate) const SUBMISSIONS_COLUMNS: &str = "request_id, submitted_at";

/// COPY volume_rate_change_submissions (request_id, submitted_at)
pub(crate) fn gen_submissions(ctx: &Ctx, out: &mut Out, part: Part) {
    for k in part.units(ctx.plan.rate_requests) {
        let (_, _, submitted) = request_times(ctx, k);
        let b = out.row(2);
        b.uuid(&ctx.streams.id(Stream::RateRequests, k));
        b.ts(submitted);
        if !out.unit_done() {
            return;
        }
    }
}
