//! user_sessions and websocket_connections, per user.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::Ctx;
use super::clock::{DAY, HOUR, MIN, SEC};
use super::copy::{CopyEncode as _, arr, write_uuid};
use super::names::{SERVER_NODES, USER_AGENTS};
use super::pipeline::{Out, Part};
use super::rng::{Stream, below, bytes, chance, pick, range, uuid, weighted};
use super::users::{self, Kind, MAX_SESSIONS, MAX_WS};

/// The id of session `j` of user `user`.
pub(crate) fn session_id(ctx: &Ctx, user: u64, j: u64) -> Uuid {
    ctx.streams.id(Stream::Sessions, user * MAX_SESSIONS + j)
}

/// A client address: mostly public-looking IPv4, some IPv6 (documentation prefix).
pub(crate) fn client_ip(r: &mut ChaCha8Rng) -> IpAddr {
    if chance(r, 0.1) {
        let tail: [u16; 4] = r.random();
        IpAddr::V6(Ipv6Addr::new(
            0x2001, 0x0db8, 0x85a3, 0x0042, tail[0], tail[1], tail[2], tail[3],
        ))
    } else {
        let o: [u8; 3] = bytes(r);
        IpAddr::V4(Ipv4Addr::new(
            [23, 45, 64, 71, 98, 104, 142, 172, 198, 203][below(r, 10) as usize],
            o[0],
            o[1],
            o[2],
        ))
    }
}

/// COPY user_sessions (id, user_id, token_hash, ip, user_agent, created_at, updated_at,
/// last_seen_at, expires_at, revoked_at, revoke_reason)
pub(crate) fn gen_sessions(ctx: &Ctx, out: &mut Out, part: Part) {
    for idx in part.units(ctx.plan.users()) {
        let u = users::core(ctx, idx);
        for j in 0..u.sessions {
            let mut r = ctx.streams.rng(Stream::Sessions, idx * MAX_SESSIONS + j);
            let id = uuid(&mut r);
            let created = range(&mut r, u.created_at.max(ctx.anchor - 90 * DAY), ctx.anchor - MIN);
            let expires = created + ctx.session_lifetime;
            let end = expires.min(ctx.anchor);
            let last_seen = range(&mut r, created, end);
            let revoked = chance(&mut r, 0.25).then(|| {
                let at = range(&mut r, last_seen, end);
                let reason = [
                    "logout",
                    "password_changed",
                    "admin_revoked",
                    "suspicious_activity",
                    "account_locked",
                ][weighted(&mut r, &[78, 8, 5, 4, 5])];
                (at, reason)
            });
            let ip = client_ip(&mut r);
            let agent = *pick(&mut r, USER_AGENTS);
            let b = out.row(11);
            b.uuid(&id);
            b.uuid(&u.id);
            // SHA-256 of a 256-bit token: 32 random bytes are as good a stand-in as any.
            b.bytea(&bytes::<32>(&mut r));
            b.inet(ip);
            b.text(agent);
            b.ts(created);
            b.ts(revoked.map_or(last_seen, |(at, _)| at));
            b.ts(last_seen);
            b.ts(expires);
            match revoked {
                Some((at, reason)) => {
                    b.ts(at);
                    b.text(reason);
                }
                None => {
                    b.null();
                    b.null();
                }
            }
        }
        if !out.unit_done() {
            return;
        }
    }
}

/// COPY websocket_connections (id, user_id, session_id, server_node, ip, subscriptions,
/// connected_at, last_heartbeat_at, disconnected_at): most disconnected, some live (a few of
/// those with a stale heartbeat, for the sweeper).
pub(crate) fn gen_websockets(ctx: &Ctx, out: &mut Out, part: Part) {
    for idx in part.units(ctx.plan.users()) {
        let u = users::core(ctx, idx);
        for j in 0..u.websockets {
            let mut r = ctx.streams.rng(Stream::Websockets, idx * MAX_WS + j);
            let id = uuid(&mut r);
            let live = chance(&mut r, if u.kind == Kind::Customer { 0.08 } else { 0.3 });
            let (connected, heartbeat, disconnected) = if live {
                let connected = ctx.anchor - range(&mut r, MIN, 8 * HOUR);
                let heartbeat = if chance(&mut r, 0.85) {
                    ctx.anchor - range(&mut r, 0, 30 * SEC)
                } else {
                    ctx.anchor - range(&mut r, 2 * MIN, 2 * HOUR)
                };
                (connected, heartbeat.max(connected), None)
            } else {
                let connected = range(&mut r, u.created_at.max(ctx.anchor - 60 * DAY), ctx.anchor - 2 * MIN);
                let disconnected = (connected + range(&mut r, 10 * SEC, 4 * HOUR)).min(ctx.anchor);
                let heartbeat = disconnected - range(&mut r, 0, (disconnected - connected).min(30 * SEC));
                (connected, heartbeat, Some(disconnected))
            };
            let session =
                (u.sessions > 0 && chance(&mut r, 0.85)).then(|| session_id(ctx, idx, below(&mut r, u.sessions)));
            let node = *pick(&mut r, SERVER_NODES);
            let ip = client_ip(&mut r);
            let state = ctx.states[u.state].code;
            let b = out.row(9);
            b.uuid(&id);
            b.uuid(&u.id);
            b.opt_uuid(session.as_ref());
            b.text(node);
            b.inet(ip);
            b.jsonb(|b| {
                arr(b, |a| {
                    a.str_with(|b| {
                        b.extend_from_slice(b"user:");
                        write_uuid(b, &u.id);
                    });
                    a.str_with(|b| {
                        b.extend_from_slice(b"rates:");
                        b.extend_from_slice(state.as_bytes());
                    });
                    if u.kind != Kind::Customer {
                        a.str("pipeline");
                    }
                });
            });
            b.ts(connected);
            b.ts(heartbeat);
            b.opt_ts(disconnected);
        }
        if !out.unit_done() {
            return;
        }
    }
}
