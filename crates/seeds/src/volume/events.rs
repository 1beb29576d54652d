//! analytics_events, notification_queue and audit_logs: what a quote's life leaves behind.
//!
//! Each quote replays its timeline (created, rated..., presented, terminal move); rows are
//! written quote by quote, and quotes come in creation order, so the tables are roughly in
//! time order as a live system would have written them (the BRIN index on
//! analytics_events.occurred_at relies on that).

use std::io::Write as _;

use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::Ctx;
use super::activity::{client_ip, session_id};
use super::clock::{DAY, HOUR, MIN, SEC};
use super::copy::{CopyEncode as _, Obj, obj, write_uuid};
use super::names::NOTIFICATION_ERRORS;
use super::pipeline::{Out, Part};
use super::quotes::{self, QuoteCore, Status, pricing};
use super::rng::{Stream, below, bytes, chance, pick, range, weighted};
use super::users::{self, Kind};

/// The moments of a quote's life, in order: (time, what happened, version for ratings).
fn timeline(q: &QuoteCore) -> impl Iterator<Item = (i64, &'static str, u8)> + '_ {
    let ratings = (0..q.versions).map(|k| (q.version_at[usize::from(k)], "rated", k + 1));
    let presented = q.presented_at.map(|t| (t, "presented", 0));
    let terminal = q.final_at.map(|t| (t, q.status.as_str(), 0));
    std::iter::once((q.created_at, "created", 0))
        .chain(ratings)
        .chain(presented)
        .chain(terminal)
}

fn write_request_id(b: &mut Vec<u8>, r: &mut ChaCha8Rng) {
    let id: [u8; 8] = bytes(r);
    b.extend_from_slice(b"req-");
    for x in id {
        let _ = write!(b, "{x:02x}");
    }
}

fn quote_props(o: &mut Obj<'_>, ctx: &Ctx, q: &QuoteCore) {
    o.str("state", q.state_code(ctx))
        .str("zip", q.zip(ctx))
        .str("channel", q.channel);
    o.str_with("quote_number", |b| q.write_number(b));
}

/// COPY analytics_events (event_type, user_id, session_id, quote_id, properties, occurred_at,
/// created_at)
pub(crate) fn gen_events(ctx: &Ctx, out: &mut Out, part: Part) {
    for idx in part.units(ctx.plan.quotes) {
        let q = quotes::core(ctx, idx);
        let mut r = ctx.streams.rng(Stream::Events, idx);
        let session = |r: &mut ChaCha8Rng| {
            (q.customer_sessions > 0 && chance(r, 0.7))
                .then(|| session_id(ctx, q.customer_idx, below(r, q.customer_sessions)))
        };
        let end = q.last_activity().max(q.created_at + HOUR).min(ctx.anchor);
        // Landing pages before the quote was started.
        for _ in 0..weighted(&mut r, &[40, 40, 20]) {
            let at = q.created_at - range(&mut r, MIN, 30 * MIN);
            let s = session(&mut r);
            let path = *pick(&mut r, &["/", "/auto-insurance", "/quote/start", "/pricing", "/faq"]);
            write_event(out, &mut r, "page.viewed", Some(&q.customer), s, None, at, |o| {
                o.str("path", path).str("channel", q.channel);
            });
        }
        for (at, what, k) in timeline(&q) {
            let s = session(&mut r);
            match what {
                "created" => write_event(
                    out,
                    &mut r,
                    "quote.started",
                    Some(&q.customer),
                    s,
                    Some(&q.id),
                    at,
                    |o| {
                        quote_props(o, ctx, &q);
                        if let Some(c) = q.campaign {
                            o.str("campaign", c);
                        }
                    },
                ),
                "rated" => {
                    let p = pricing(ctx, &q, k);
                    write_event(out, &mut r, "quote.rated", Some(&q.customer), s, Some(&q.id), at, |o| {
                        quote_props(o, ctx, &q);
                        o.int("version", i64::from(k)).dec("premium", p.total, 2);
                    });
                }
                other => {
                    let event = match other {
                        "presented" => "quote.presented",
                        "bound" => "quote.bound",
                        "expired" => "quote.expired",
                        "declined" => "quote.declined",
                        _ => "quote.cancelled",
                    };
                    let user = if other == "expired" { None } else { Some(&q.customer) };
                    write_event(out, &mut r, event, user, s, Some(&q.id), at, |o| {
                        quote_props(o, ctx, &q)
                    });
                }
            }
        }
        // The customer coming back to look at it.
        for _ in 0..weighted(&mut r, &[35, 35, 20, 10]) {
            let at = range(&mut r, q.created_at + MIN, end);
            let s = session(&mut r);
            write_event(
                out,
                &mut r,
                "quote.viewed",
                Some(&q.customer),
                s,
                Some(&q.id),
                at,
                |o| quote_props(o, ctx, &q),
            );
        }
        if !out.unit_done() {
            return;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_event(
    out: &mut Out,
    r: &mut ChaCha8Rng,
    event: &str,
    user: Option<&Uuid>,
    session: Option<Uuid>,
    quote: Option<&Uuid>,
    at: i64,
    props: impl FnOnce(&mut Obj<'_>),
) {
    let recorded = at + range(r, 10_000, 2 * SEC);
    let b = out.row(7);
    b.text(event);
    b.opt_uuid(user);
    b.opt_uuid(session.as_ref());
    b.opt_uuid(quote);
    b.jsonb(|b| obj(b, props));
    b.ts(at);
    b.ts(recorded);
}

/// COPY notification_queue (id, channel, recipient_user_id, recipient_address, template,
/// payload, status, priority, attempts, max_attempts, next_attempt_at, locked_at, locked_by,
/// sent_at, last_error, created_at, updated_at)
pub(crate) fn gen_notifications(ctx: &Ctx, out: &mut Out, part: Part) {
    for idx in part.units(ctx.plan.quotes) {
        let q = quotes::core(ctx, idx);
        let mut r = ctx.streams.rng(Stream::Notifications, idx);
        let mut n = 0;
        let mut notify = |r: &mut ChaCha8Rng,
                          out: &mut Out,
                          channel: &'static str,
                          template: &'static str,
                          at: i64,
                          created: i64| {
            write_notification(ctx, out, r, &q, idx * 8 + n, channel, template, at, created);
            n += 1;
        };
        if q.versions > 0 {
            {
                let at = q.version_at[0] + range(&mut r, SEC, MIN);
                notify(&mut r, out, "email", "quote.ready", at, q.version_at[0]);
            }
        }
        if let Some(t) = q.presented_at {
            let channel = if chance(&mut r, 0.5) { "sms" } else { "email" };
            {
                let at = t + range(&mut r, SEC, MIN);
                notify(&mut r, out, channel, "quote.presented", at, t);
            }
        }
        if q.status == Status::Bound
            && let Some(t) = q.final_at
        {
            {
                let at = t + range(&mut r, SEC, MIN);
                notify(&mut r, out, "email", "policy.bound", at, t);
            }
            {
                let at = t + range(&mut r, SEC, MIN);
                notify(&mut r, out, "in_app", "policy.welcome", at, t);
            }
        }
        if matches!(q.status, Status::Rated | Status::Presented) && chance(&mut r, 0.8) {
            // Reminder scheduled three days before expiry: still pending when that is ahead.
            let channel = if chance(&mut r, 0.6) { "push" } else { "sms" };
            let at = q.expires_at - 3 * DAY;
            notify(&mut r, out, channel, "quote.expiring", at, q.last_activity().min(at));
        }
        if chance(&mut r, 0.2) {
            {
                let at = q.created_at + range(&mut r, SEC, MIN);
                notify(&mut r, out, "websocket", "quote.saved", at, q.created_at);
            }
        }
        if !out.unit_done() {
            return;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_notification(
    ctx: &Ctx,
    out: &mut Out,
    r: &mut ChaCha8Rng,
    q: &QuoteCore,
    n: u64,
    channel: &'static str,
    template: &'static str,
    at: i64,
    created: i64,
) {
    let id = ctx.streams.id(Stream::Notifications, (1 << 40) + n);
    let anchor = ctx.anchor;
    // Delivery state from the schedule: future → pending; just due → pending or being
    // processed; older → mostly sent, some failed (retry pending) or dead.
    enum State {
        Pending {
            next: i64,
        },
        Processing {
            locked: i64,
            worker: u64,
        },
        Sent {
            at: i64,
            attempts: i16,
        },
        Failed {
            attempts: i16,
            next: i64,
            error: &'static str,
        },
        Dead {
            error: &'static str,
            last: i64,
        },
    }
    let state = if at > anchor {
        State::Pending { next: at }
    } else if at > anchor - 5 * MIN {
        if chance(r, 0.7) {
            State::Pending { next: at }
        } else {
            State::Processing {
                locked: range(r, at, anchor),
                worker: below(r, 8),
            }
        }
    } else {
        match weighted(r, &[930, 40, 20, 10]) {
            0 => {
                let attempts = if chance(r, 0.95) { 1 } else { 2 };
                State::Sent {
                    at: at + range(r, SEC, if attempts == 1 { 2 * MIN } else { HOUR }),
                    attempts,
                }
            }
            1 => State::Failed {
                attempts: 1 + below(r, (ctx.max_attempts - 1) as u64) as i16,
                next: anchor + range(r, -10 * MIN, 30 * MIN),
                error: NOTIFICATION_ERRORS[below(r, NOTIFICATION_ERRORS.len() as u64) as usize],
            },
            2 => State::Dead {
                error: NOTIFICATION_ERRORS[below(r, NOTIFICATION_ERRORS.len() as u64) as usize],
                last: (at + range(r, HOUR, 2 * DAY)).min(anchor),
            },
            // A due row nobody claimed yet (backlog).
            _ => State::Pending { next: at },
        }
    };
    // Address: explicit for some e-mails and most texts, else resolved from the user.
    let address = match channel {
        "email" if chance(r, 0.15) => Some(true),
        "sms" => Some(true),
        "push" => Some(true),
        _ => None,
    };
    let mut customer = users::core(ctx, q.customer_idx);
    let person = customer.person();
    let token: [u8; 32] = bytes(r);
    let priority = match template {
        "quote.expiring" => 3,
        "quote.saved" => 1,
        _ => 5 + below(r, 3) as i16,
    };
    let b = out.row(17);
    b.uuid(&id);
    b.text(channel);
    b.uuid(&q.customer);
    match (channel, address) {
        ("email", Some(_)) => b.text_with(|b| person.write_email(b, q.customer_idx)),
        ("sms", Some(_)) if person.phone.is_some() => b.text_with(|b| person.write_phone(b)),
        ("push", Some(_)) => b.text_with(|b| {
            for x in token {
                let _ = write!(b, "{x:02x}");
            }
        }),
        _ => b.null(),
    }
    b.text(template);
    b.jsonb(|b| {
        obj(b, |o| {
            o.uuid("quote_id", &q.id);
            o.str_with("quote_number", |b| q.write_number(b));
            o.str("state", q.state_code(ctx));
            o.str("first_name", person.first);
        });
    });
    let (status, attempts, next, locked, sent, error, updated) = match state {
        State::Pending { next } => ("pending", 0, next, None, None, None, created),
        State::Processing { locked, worker } => ("processing", 1, at, Some((locked, worker)), None, None, locked),
        State::Sent { at: s, attempts } => ("sent", attempts, at, None, Some(s), None, s),
        State::Failed { attempts, next, error } => {
            ("failed", attempts, next, None, None, Some(error), at.max(next - HOUR))
        }
        State::Dead { error, last } => ("dead", ctx.max_attempts, last, None, None, Some(error), last),
    };
    b.text(status);
    b.i16(priority);
    b.i16(attempts);
    b.i16(ctx.max_attempts);
    b.ts(next);
    match locked {
        Some((t, worker)) => {
            b.ts(t);
            b.text_with(|b| {
                let _ = write!(b, "notifier-{worker}");
            });
        }
        None => {
            b.null();
            b.null();
        }
    }
    b.opt_ts(sent);
    match error {
        Some(e) => b.text(e),
        None => b.null(),
    }
    b.ts(created);
    b.ts(updated.max(created).min(anchor.max(created)));
}

/// COPY audit_logs (occurred_at, actor_user_id, action, entity_type, entity_id, old_values,
/// new_values, ip, request_id): registrations of the last year's users, then every quote's
/// creation, ratings and status moves.
pub(crate) fn gen_audit(ctx: &Ctx, out: &mut Out, part: Part) {
    let since = ctx.anchor - 365 * DAY;
    // Units: the users, then the quotes.
    let n_users = ctx.plan.users();
    for idx in part.units(n_users) {
        let mut u = users::core(ctx, idx);
        if u.created_at >= since {
            let mut r = ctx.streams.rng(Stream::Audit, idx);
            let person = u.person();
            let b = out.row(9);
            b.ts(u.created_at);
            b.uuid(&u.id);
            b.text("user.registered");
            b.text("users");
            b.text_with(|b| write_uuid(b, &u.id));
            b.null();
            b.jsonb(|b| {
                obj(b, |o| {
                    o.str("role", if u.kind == Kind::Customer { "customer" } else { "agent" });
                    o.str_with("email", |b| person.write_email(b, idx));
                });
            });
            b.inet(client_ip(&mut r));
            b.text_with(|b| write_request_id(b, &mut r));
        }
        if !out.unit_done() {
            return;
        }
    }
    let quote_part = Part {
        from: part.from.saturating_sub(n_users),
        to: part.to.saturating_sub(n_users),
        ..part
    };
    for idx in quote_part.units(ctx.plan.quotes) {
        let q = quotes::core(ctx, idx);
        let mut r = ctx.streams.rng(Stream::Audit, (1 << 40) + idx);
        let mut previous = (Status::Draft.as_str(), None::<i64>);
        for (at, what, k) in timeline(&q) {
            let (action, actor) = match what {
                "created" => ("quote.created", Some(q.customer)),
                "rated" => ("quote.rated", Some(q.agent.unwrap_or(q.customer))),
                "presented" => ("quote.presented", Some(q.agent.unwrap_or(q.customer))),
                "expired" => ("quote.expired", None),
                "bound" => ("quote.bound", Some(q.customer)),
                "declined" => ("quote.declined", Some(q.customer)),
                _ => ("quote.cancelled", Some(q.customer)),
            };
            let premium = (what == "rated").then(|| pricing(ctx, &q, k).total);
            let b = out.row(9);
            b.ts(at);
            b.opt_uuid(actor.as_ref());
            b.text(action);
            b.text("quotes");
            b.text_with(|b| write_uuid(b, &q.id));
            if what == "created" {
                b.null();
            } else {
                b.jsonb(|b| {
                    obj(b, |o| {
                        o.str("status", previous.0);
                        if let Some(p) = previous.1 {
                            o.dec("premium", p, 2);
                        }
                    });
                });
            }
            let status = match what {
                "created" => "draft",
                "rated" => "rated",
                other => other,
            };
            b.jsonb(|b| {
                obj(b, |o| {
                    o.str("status", status);
                    if what == "created" {
                        o.str("state", q.state_code(ctx)).str("zip", q.zip(ctx));
                        o.str_with("quote_number", |b| q.write_number(b));
                    }
                    if let Some(p) = premium {
                        o.int("current_version", i64::from(k)).dec("premium", p, 2);
                    }
                });
            });
            if actor.is_some() {
                b.inet(client_ip(&mut r));
            } else {
                b.null();
            }
            b.text_with(|b| write_request_id(b, &mut r));
            previous = (status, premium.or(previous.1));
        }
        if !out.unit_done() {
            return;
        }
    }
}
