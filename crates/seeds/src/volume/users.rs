//! users (customers, agents, admin staff), drivers and vehicles.

use std::io::Write as _;

use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::Ctx;
use super::clock::{DAY, HOUR, MIN, civil_from_days, days_of};
use super::copy::CopyEncode as _;
use super::names::{AREA_CODES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, MAKES};
use super::pipeline::{Out, Part};
use super::rng::{Stream, below, bytes, chance, pick, range, uuid, weighted};

/// Most drivers / vehicles a user can have (their child indexes are `user * 4 + j`).
pub(crate) const MAX_PER_USER: u64 = 4;
/// Most sessions a user can have (session indexes are `user * 16 + j`).
pub(crate) const MAX_SESSIONS: u64 = 16;
/// Most websocket connections a user can have (indexes `user * 8 + j`).
pub(crate) const MAX_WS: u64 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Customer,
    Agent,
    /// Platform staff behind the admin accounts (users.role = agent, never assigned quotes).
    Staff,
}

/// What other tables need to know about a user, cheap to regenerate.
#[derive(Debug)]
pub(crate) struct UserCore {
    pub(crate) idx: u64,
    pub(crate) id: Uuid,
    pub(crate) kind: Kind,
    pub(crate) created_at: i64,
    /// Home state (index into `Ctx::states`).
    pub(crate) state: usize,
    pub(crate) drivers: u64,
    pub(crate) vehicles: u64,
    pub(crate) sessions: u64,
    pub(crate) websockets: u64,
    rng: ChaCha8Rng,
}

/// Name and contact details of a user.
#[derive(Debug)]
pub(crate) struct Person {
    pub(crate) first: &'static str,
    pub(crate) last: &'static str,
    pub(crate) domain: &'static str,
    /// E.164 digits after the "+" (country code 1).
    pub(crate) phone: Option<u64>,
}

/// Span customers are created over: the two years before the anchor (minus a day).
pub(crate) fn customer_span(ctx: &Ctx) -> (i64, i64) {
    (ctx.anchor - 730 * DAY, 729 * DAY)
}

pub(crate) fn core(ctx: &Ctx, idx: u64) -> UserCore {
    let mut r = ctx.streams.rng(Stream::Users, idx);
    let id = uuid(&mut r);
    let kind = ctx.plan.kind_of(idx);
    let created_at = match kind {
        Kind::Customer => {
            // Monotonic in the index (customer i is created before customer i + 1), so a quote
            // at time t can pick among the customers that exist by then (see quotes.rs).
            let (start, span) = customer_span(ctx);
            let frac = below(&mut r, 1_000_000);
            let c = i128::from(ctx.plan.customers);
            start + ((i128::from(idx) * 1_000_000 + i128::from(frac)) * i128::from(span) / (c * 1_000_000)) as i64
        }
        Kind::Agent => ctx.anchor - 3 * 365 * DAY + range(&mut r, 0, 365 * DAY),
        Kind::Staff => ctx.anchor - 3 * 365 * DAY + range(&mut r, 0, 200 * DAY),
    };
    let state = ctx.pick_state(&mut r);
    let (drivers, vehicles, sessions, websockets) = match kind {
        Kind::Customer => (
            1 + weighted(&mut r, &[50, 30, 15, 5]) as u64,
            1 + weighted(&mut r, &[55, 35, 10]) as u64,
            weighted(&mut r, &[15, 30, 25, 15, 8, 4, 3]) as u64,
            weighted(&mut r, &[50, 35, 12, 3]) as u64,
        ),
        Kind::Agent => (0, 0, 4 + below(&mut r, 9), 1 + below(&mut r, 4)),
        Kind::Staff => (0, 0, 6 + below(&mut r, 10), 1 + below(&mut r, 3)),
    };
    UserCore {
        idx,
        id,
        kind,
        created_at,
        state,
        drivers,
        vehicles,
        sessions,
        websockets,
        rng: r,
    }
}

impl UserCore {
    /// Name and contact details (drawn after the core, from the same window).
    pub(crate) fn person(&mut self) -> Person {
        let r = &mut self.rng;
        let first = *pick(r, FIRST_NAMES);
        let last = *pick(r, LAST_NAMES);
        let domain = match self.kind {
            Kind::Customer => *pick(r, EMAIL_DOMAINS),
            Kind::Agent => "agents.quotedb.example",
            Kind::Staff => "staff.quotedb.example",
        };
        let has_phone = self.kind != Kind::Customer || chance(r, 0.75);
        let area = u64::from(*pick(r, AREA_CODES[self.state.min(AREA_CODES.len() - 1)]));
        let local = 2_000_000 + below(r, 8_000_000);
        Person {
            first,
            last,
            domain,
            phone: has_phone.then_some(10_000_000_000 + area * 10_000_000 + local),
        }
    }
}

impl Person {
    /// `first.last.<index>@domain`, lower case, letters only in the name parts: unique by index.
    pub(crate) fn write_email(&self, b: &mut Vec<u8>, idx: u64) {
        for part in [self.first, self.last] {
            b.extend(
                part.bytes()
                    .filter(u8::is_ascii_alphabetic)
                    .map(|c| c.to_ascii_lowercase()),
            );
            b.push(b'.');
        }
        let _ = write!(b, "{idx}@{}", self.domain);
    }

    pub(crate) fn write_phone(&self, b: &mut Vec<u8>) {
        if let Some(p) = self.phone {
            let _ = write!(b, "+{p}");
        }
    }
}

/// COPY users (id, email, full_name, role, phone, created_at, updated_at)
pub(crate) fn gen_users(ctx: &Ctx, out: &mut Out, part: Part) {
    for idx in part.units(ctx.plan.users()) {
        let mut u = core(ctx, idx);
        let p = u.person();
        let touched = chance(&mut u.rng, 0.3);
        let updated_at = if touched {
            range(&mut u.rng, u.created_at, ctx.anchor)
        } else {
            u.created_at
        };
        let b = out.row(7);
        b.uuid(&u.id);
        b.text_with(|b| p.write_email(b, idx));
        b.text_with(|b| {
            let _ = write!(b, "{} {}", p.first, p.last);
        });
        b.text(if u.kind == Kind::Customer { "customer" } else { "agent" });
        if p.phone.is_some() {
            b.text_with(|b| p.write_phone(b));
        } else {
            b.null();
        }
        b.ts(u.created_at);
        b.ts(updated_at);
        if !out.unit_done() {
            return;
        }
    }
}

/// A driver of a customer.
#[derive(Debug)]
pub(crate) struct Driver {
    pub(crate) id: Uuid,
    pub(crate) first: &'static str,
    pub(crate) last: &'static str,
    /// Days since the Unix epoch.
    pub(crate) born: i32,
    pub(crate) licensed: Option<i32>,
    pub(crate) created_at: i64,
    rng: ChaCha8Rng,
}

pub(crate) fn driver(ctx: &Ctx, user: &mut UserCore, person: &Person, j: u64) -> Driver {
    let mut r = ctx.streams.rng(Stream::Drivers, user.idx * MAX_PER_USER + j);
    let id = uuid(&mut r);
    let (first, last) = if j == 0 {
        (person.first, person.last)
    } else {
        let first = *pick(&mut r, FIRST_NAMES);
        let last = if chance(&mut r, 0.7) {
            person.last
        } else {
            *pick(&mut r, LAST_NAMES)
        };
        (first, last)
    };
    let age = if j == 0 {
        [
            18 + below(&mut r, 7),
            25 + below(&mut r, 15),
            40 + below(&mut r, 25),
            65 + below(&mut r, 21),
        ][weighted(&mut r, &[10, 35, 40, 15])]
    } else {
        [16 + below(&mut r, 4), 20 + below(&mut r, 45), 65 + below(&mut r, 16)][weighted(&mut r, &[15, 70, 15])]
    };
    let today = days_of(ctx.anchor);
    let born = today - (age as i32) * 365 - below(&mut r, 365) as i32;
    let licensed = chance(&mut r, 0.92).then(|| {
        let at = born + (16 + below(&mut r, 8) as i32) * 365 + below(&mut r, 365) as i32;
        at.min(today - 1).max(born + 1)
    });
    let created_at = if j == 0 {
        user.created_at + range(&mut r, MIN, HOUR)
    } else {
        range(&mut r, user.created_at + HOUR, ctx.anchor - MIN)
    };
    Driver {
        id,
        first,
        last,
        born,
        licensed,
        created_at,
        rng: r,
    }
}

/// COPY drivers (id, user_id, first_name, last_name, date_of_birth, licensed_since, created_at,
/// updated_at, license_number_ciphertext, license_number_nonce, license_number_key_id,
/// license_number_hash)
pub(crate) fn gen_drivers(ctx: &Ctx, out: &mut Out, part: Part) {
    for idx in part.units(ctx.plan.customers) {
        let mut u = core(ctx, idx);
        let p = u.person();
        for j in 0..u.drivers {
            let mut d = driver(ctx, &mut u, &p, j);
            let b = out.row(12);
            b.uuid(&d.id);
            b.uuid(&u.id);
            b.text(d.first);
            b.text(d.last);
            b.date(d.born);
            match d.licensed {
                Some(l) => b.date(l),
                None => b.null(),
            }
            b.ts(d.created_at);
            b.ts(d.created_at);
            // The licence number, sealed in Rust (XChaCha20-Poly1305): random stand-ins of the
            // right shapes - the volume data never holds a real plaintext.
            if chance(&mut d.rng, 0.7) {
                let len = 16 + 8 + below(&mut d.rng, 6) as usize;
                let ct: [u8; 32] = bytes(&mut d.rng);
                b.bytea(&ct[..len]);
                b.bytea(&bytes::<24>(&mut d.rng));
                b.text(if chance(&mut d.rng, 0.85) { "pii:v2" } else { "pii:v1" });
                b.bytea(&bytes::<32>(&mut d.rng));
            } else {
                for _ in 0..4 {
                    b.null();
                }
            }
        }
        if !out.unit_done() {
            return;
        }
    }
}

/// A vehicle of a customer.
#[derive(Debug)]
pub(crate) struct Vehicle {
    pub(crate) id: Uuid,
    pub(crate) make: &'static str,
    pub(crate) model: &'static str,
    pub(crate) year: i32,
    pub(crate) vin: [u8; 17],
    pub(crate) created_at: i64,
}

impl Vehicle {
    pub(crate) fn vin(&self) -> &str {
        // Built from ASCII only.
        std::str::from_utf8(&self.vin).unwrap_or("")
    }
}

/// VIN characters (ISO 3779: no I, O or Q).
const VIN_CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
/// Model year codes (position 10), a 30-year cycle starting 1980 / 2010.
const YEAR_CODES: &[u8] = b"ABCDEFGHJKLMNPRSTVWXY123456789";

fn vin_value(c: u8) -> u32 {
    match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A'..=b'H' => u32::from(c - b'A') + 1,
        b'J'..=b'N' => u32::from(c - b'J') + 1,
        b'P' => 7,
        b'R' => 9,
        b'S'..=b'Z' => u32::from(c - b'S') + 2,
        _ => 0,
    }
}

/// The North American check digit (position 9) of a VIN.
pub(crate) fn vin_check_digit(vin: &[u8; 17]) -> u8 {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let sum: u32 = vin.iter().zip(WEIGHTS).map(|(c, w)| vin_value(*c) * w).sum();
    match sum % 11 {
        10 => b'X',
        d => b'0' + d as u8,
    }
}

pub(crate) fn vehicle(ctx: &Ctx, user: &UserCore, j: u64) -> Vehicle {
    let mut r = ctx.streams.rng(Stream::Vehicles, user.idx * MAX_PER_USER + j);
    let id = uuid(&mut r);
    let (make, wmi, models) = *pick(&mut r, MAKES);
    let model = *pick(&mut r, models);
    let this_year = civil_from_days(days_of(ctx.anchor)).0;
    let year = if chance(&mut r, 0.05) {
        this_year + 1
    } else {
        this_year
            - [below(&mut r, 4), 4 + below(&mut r, 6), 10 + below(&mut r, 12)][weighted(&mut r, &[35, 40, 25])] as i32
    }
    .clamp(1981, 2100);
    let mut vin = [b'0'; 17];
    vin[..3].copy_from_slice(wmi.as_bytes());
    for c in &mut vin[3..8] {
        *c = *pick(&mut r, VIN_CHARS);
    }
    vin[9] = YEAR_CODES[((year - 1980).rem_euclid(30)) as usize];
    vin[10] = *pick(&mut r, VIN_CHARS);
    for c in &mut vin[11..16] {
        *c = b'0' + below(&mut r, 10) as u8;
    }
    // The last serial digit is the vehicle's slot: a user's VINs never collide.
    vin[16] = b'0' + j as u8;
    vin[8] = vin_check_digit(&vin);
    let created_at = if j == 0 {
        user.created_at + range(&mut r, MIN, 2 * HOUR)
    } else {
        range(&mut r, user.created_at + HOUR, ctx.anchor - MIN)
    };
    Vehicle {
        id,
        make,
        model,
        year,
        vin,
        created_at,
    }
}

/// COPY vehicles (id, user_id, vin, make, model, model_year, created_at, updated_at)
pub(crate) fn gen_vehicles(ctx: &Ctx, out: &mut Out, part: Part) {
    for idx in part.units(ctx.plan.customers) {
        let u = core(ctx, idx);
        for j in 0..u.vehicles {
            let v = vehicle(ctx, &u, j);
            let b = out.row(8);
            b.uuid(&v.id);
            b.uuid(&u.id);
            b.text(v.vin());
            b.text(v.make);
            b.text(v.model);
            b.i16(v.year as i16);
            b.ts(v.created_at);
            b.ts(v.created_at);
        }
        if !out.unit_done() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vin_check_digit_matches_a_known_vin() {
        // 1M8GDM9AXKP042788 is the textbook example (check digit X).
        let vin: [u8; 17] = *b"1M8GDM9AXKP042788";
        assert_eq!(vin_check_digit(&vin), b'X');
    }
}
