//! quotes, quote_coverages, quote_versions and the staged status moves.
//!
//! A quote's whole life is decided up front from its own random window ([`core`]): when it was
//! created (monotonic in the index, so the heap is in time order like a real table), its
//! customer (mostly uniform, 20 % Zipf-skewed towards a few heavy, long-standing customers),
//! state and ZIP, final status, number of ratings and the time of every step. The load then
//! replays that life in the order the triggers accept (see `mod.rs`): every quote is inserted
//! as draft (no rating) or rated at version 1, coverages are inserted while it is still
//! editable, versions 2..n follow bumps of current_version, and the final status is reached
//! through allowed transitions.

use std::io::Write as _;

use quotedb_domain::quotes::CoverageRequest;
use quotedb_domain::rating::{Eligibility, PremiumBreakdown, RatingInput, price};
use quotedb_schema::quotes::CoverageType;
use quotedb_schema::rating::{DiscountCode, SurchargeCode};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::Ctx;
use super::clock::{DAY, HOUR, MIN, SEC, civil_from_days, days_of};
use super::context::date_of;
use super::copy::{CopyEncode as _, obj};
use super::names::{CAMPAIGNS, CHANNELS};
use super::pipeline::{Out, Part};
use super::rng::{Stream, below, chance, step, unit, uuid, weighted, zipf};
use super::users::{self, customer_span};

/// Most ratings (versions) a generated quote has.
pub(crate) const MAX_VERSIONS: u8 = 4;
/// Share of quotes created 3 to 12 months ago (the rest are from the last 3 months).
const OLD_SHARE: f64 = 0.15;
/// Share of quotes whose customer is drawn from the Zipf-skewed (heavy) distribution.
const HEAVY_SHARE: f64 = 0.2;
/// Quote numbers: 34^6 suffixes (0-9, A-Z without I and O), enumerated by an affine bijection.
const SUFFIX_SPACE: u64 = 1_544_804_416;
const SUFFIX_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Golden-ratio stride (coprime with 34^6 = 2^6 * 17^6): consecutive quotes get unrelated suffixes.
const SUFFIX_STRIDE: u64 = 954_741_635;

/// A quote's status: the schema's `quote_status`.
pub(crate) use quotedb_schema::quotes::QuoteStatus as Status;

/// Share of quotes in each status (percent), in the order of `QuoteStatus::ALL`.
const STATUS_SHARE: [u32; 7] = [30, 28, 12, 10, 10, 5, 5];

/// Share of quotes carrying each coverage.
const COVERAGE_SHARE: [f64; 8] = [1.0, 1.0, 0.8, 0.78, 0.5, 0.4, 0.3, 0.35];

/// A coverage option: limit (dollars, None = no stated limit), deductible (dollars).
type CovOption = (Option<i64>, i64);

const OPTIONS: [&[CovOption]; 8] = [
    &[
        (Some(25_000), 0),
        (Some(50_000), 0),
        (Some(100_000), 0),
        (Some(250_000), 0),
        (Some(500_000), 0),
    ],
    &[(Some(25_000), 0), (Some(50_000), 0), (Some(100_000), 0)],
    &[(None, 250), (None, 500), (None, 1000), (None, 2000)],
    &[(None, 100), (None, 250), (None, 500), (None, 1000)],
    &[(Some(25_000), 0), (Some(50_000), 0), (Some(100_000), 0)],
    &[(Some(1_000), 0), (Some(5_000), 0), (Some(10_000), 0)],
    &[(Some(900), 0), (Some(1_500), 0)],
    &[(Some(100), 0), (Some(250), 0)],
];

/// Probability, per rating, that the applicant qualifies for each surcharge (code order).
const SURCHARGE_SHARE: [f64; 5] = [0.10, 0.12, 0.02, 0.12, 0.06];
/// Probability, per rating, that the applicant qualifies for each discount (code order).
const DISCOUNT_SHARE: [f64; 7] = [0.30, 0.45, 0.08, 0.25, 0.20, 0.50, 0.15];

const NO_COVERAGE: u8 = u8::MAX;

/// Everything about a quote that other rows derive from.
#[derive(Debug)]
pub(crate) struct QuoteCore {
    pub(crate) idx: u64,
    pub(crate) id: Uuid,
    pub(crate) created_at: i64,
    pub(crate) customer_idx: u64,
    pub(crate) customer: Uuid,
    /// Sessions the customer has (for analytics events).
    pub(crate) customer_sessions: u64,
    pub(crate) agent: Option<Uuid>,
    pub(crate) state: usize,
    pub(crate) territory: usize,
    pub(crate) status: Status,
    pub(crate) versions: u8,
    pub(crate) version_at: [i64; MAX_VERSIONS as usize],
    pub(crate) presented_at: Option<i64>,
    /// Time of the terminal move (bound, expired, declined, cancelled).
    pub(crate) final_at: Option<i64>,
    pub(crate) expires_at: i64,
    pub(crate) effective_day: i32,
    /// Chosen option per coverage type, NO_COVERAGE when absent.
    pub(crate) coverage: [u8; 8],
    pub(crate) channel: &'static str,
    pub(crate) campaign: Option<&'static str>,
    suffix: u64,
    pub(crate) rng: ChaCha8Rng,
}

pub(crate) fn core(ctx: &Ctx, idx: u64) -> QuoteCore {
    let mut r = ctx.streams.rng(Stream::Quotes, idx);
    let id = uuid(&mut r);
    let anchor = ctx.anchor;
    // Creation time: the quantile of the index in the time distribution (plus jitter inside
    // its slot), so quotes come out in creation order.
    let q = (idx as f64 + unit(&mut r)) / ctx.plan.quotes as f64;
    let mut created_at = if q < OLD_SHARE {
        anchor - 365 * DAY + (q / OLD_SHARE * (275 * DAY) as f64) as i64
    } else {
        anchor - 90 * DAY + ((q - OLD_SHARE) / (1.0 - OLD_SHARE) * (90 * DAY - HOUR) as f64) as i64
    };
    // Customer: among those who exist at created_at (customers are created in index order).
    let (start, span) = customer_span(ctx);
    let c = ctx.plan.customers;
    let existing = (i128::from(created_at - start) * i128::from(c) / i128::from(span)).clamp(1, i128::from(c)) as u64;
    let customer_idx = if chance(&mut r, HEAVY_SHARE) {
        zipf(&mut r, existing, 1.1)
    } else {
        below(&mut r, existing)
    };
    let customer = users::core(ctx, customer_idx);
    if customer.created_at >= created_at {
        // Only with a handful of customers (tiny scales): keep the quote after its customer.
        created_at = customer.created_at + MIN;
    }
    let agent = chance(&mut r, 0.7).then(|| ctx.streams.id(Stream::Users, c + below(&mut r, ctx.plan.agents)));
    let state = if chance(&mut r, 0.9) {
        customer.state
    } else {
        ctx.pick_state(&mut r)
    };
    let territory = below(&mut r, ctx.states[state].territories.len() as u64) as usize;

    let expires_at = created_at + ctx.validity;
    // Shares in the order of `QuoteStatus::ALL`: draft, rated, presented, bound, expired,
    // declined, cancelled.
    let mut status = Status::ALL[weighted(&mut r, &STATUS_SHARE)];
    let extra = weighted(&mut r, &[70, 20, 7, 3]) as u8;
    let versions = match status {
        Status::Draft => 0,
        Status::Rated | Status::Presented | Status::Bound => 1 + extra,
        _ if chance(&mut r, 0.45) => 0,
        _ => 1 + extra,
    };
    if status == Status::Expired && expires_at > anchor - MIN {
        // Not expired yet: still open.
        status = if versions > 0 { Status::Rated } else { Status::Draft };
    }
    let deadline = anchor.min(expires_at) - SEC;
    let mut version_at = [0; MAX_VERSIONS as usize];
    let mut t = created_at;
    for (k, at) in version_at.iter_mut().enumerate().take(usize::from(versions)) {
        t = if k == 0 {
            step(&mut r, t, 2 * MIN, 6 * HOUR, deadline)
        } else {
            step(&mut r, t, 30 * MIN, 4 * DAY, deadline)
        };
        *at = t;
    }
    let mut presented_at = None;
    let final_at = match status {
        Status::Presented | Status::Bound => {
            t = step(&mut r, t, 30 * MIN, 2 * DAY, deadline);
            presented_at = Some(t);
            (status == Status::Bound).then(|| step(&mut r, t, HOUR, 5 * DAY, deadline))
        }
        Status::Declined | Status::Cancelled => Some(step(&mut r, t, HOUR, 7 * DAY, deadline)),
        Status::Expired => Some(expires_at + below(&mut r, (anchor - expires_at).clamp(1, 6 * HOUR) as u64) as i64),
        Status::Draft | Status::Rated => None,
    };
    // Requested start: within 45 days, never before the state's rates are in force.
    let effective_day = (days_of(created_at) + 1 + below(&mut r, 45) as i32).max(ctx.states[state].rates_from);
    // Only coverages the state files a rate for; always at least one.
    let priced = ctx.states[state].priced;
    let mut coverage = [NO_COVERAGE; 8];
    for (k, slot) in coverage.iter_mut().enumerate() {
        if chance(&mut r, COVERAGE_SHARE[k]) && priced[k] {
            *slot = below(&mut r, OPTIONS[k].len() as u64) as u8;
        }
    }
    if coverage.iter().all(|c| *c == NO_COVERAGE)
        && let Some(k) = priced.iter().position(|p| *p)
    {
        coverage[k] = 0;
    }
    let channel = CHANNELS[weighted(&mut r, &[55, 25, 12, 5, 3])];
    let campaign = chance(&mut r, 0.3).then(|| CAMPAIGNS[below(&mut r, CAMPAIGNS.len() as u64) as usize]);
    let suffix = (idx % SUFFIX_SPACE * SUFFIX_STRIDE + ctx.number_offset) % SUFFIX_SPACE;
    QuoteCore {
        idx,
        id,
        created_at,
        customer_idx,
        customer: customer.id,
        customer_sessions: customer.sessions,
        agent,
        state,
        territory,
        status,
        versions,
        version_at,
        presented_at,
        final_at,
        expires_at,
        effective_day,
        coverage,
        channel,
        campaign,
        suffix,
        rng: r,
    }
}

impl QuoteCore {
    /// Q-YYYYMMDD-XXXXXX: the UTC creation date and the quote's unique suffix.
    pub(crate) fn write_number(&self, b: &mut Vec<u8>) {
        let (y, m, d) = civil_from_days(days_of(self.created_at));
        let _ = write!(b, "Q-{y:04}{m:02}{d:02}-");
        let mut digits = [0u8; 6];
        let mut s = self.suffix;
        for c in digits.iter_mut().rev() {
            *c = SUFFIX_ALPHABET[(s % 34) as usize];
            s /= 34;
        }
        b.extend_from_slice(&digits);
    }

    /// Whether the load must move the quote after inserting it (more ratings, or a status
    /// beyond draft / rated).
    pub(crate) fn moves(&self) -> bool {
        self.versions > 1 || !matches!(self.status, Status::Draft | Status::Rated)
    }

    /// The last thing that happened to the quote.
    pub(crate) fn last_activity(&self) -> i64 {
        let mut t = self.created_at;
        if self.versions > 0 {
            t = t.max(self.version_at[usize::from(self.versions) - 1]);
        }
        t.max(self.presented_at.unwrap_or(0)).max(self.final_at.unwrap_or(0))
    }

    pub(crate) fn zip<'c>(&self, ctx: &'c Ctx) -> &'c str {
        &ctx.states[self.state].territories[self.territory].zip
    }

    pub(crate) fn state_code(&self, ctx: &Ctx) -> &'static str {
        ctx.states[self.state].code
    }
}

/// One rating of a quote, priced by the repository's own pricing function.
#[derive(Debug)]
pub(crate) struct Pricing {
    pub(crate) id: Uuid,
    pub(crate) eligibility: Eligibility,
    /// Exactly what `Quotes::create` / `rerate` store in `quote_versions.breakdown`.
    pub(crate) breakdown: PremiumBreakdown,
    /// Premium per coverage type in cents (0 when the quote does not carry it).
    pub(crate) lines: [i64; 8],
    pub(crate) total: i64,
}

fn cents(d: Decimal) -> i64 {
    (d * Decimal::ONE_HUNDRED).trunc().mantissa() as i64
}

impl QuoteCore {
    /// The requested coverage types, in coverage order.
    pub(crate) fn coverage_types(&self) -> Vec<CoverageType> {
        CoverageType::ALL
            .into_iter()
            .zip(self.coverage)
            .filter(|(_, opt)| *opt != NO_COVERAGE)
            .map(|(c, _)| c)
            .collect()
    }

    /// The requested coverages with their limits and deductibles.
    pub(crate) fn coverage_requests(&self) -> Vec<CoverageRequest> {
        CoverageType::ALL
            .into_iter()
            .enumerate()
            .filter(|(k, _)| self.coverage[*k] != NO_COVERAGE)
            .map(|(k, coverage_type)| {
                let (limit, deductible) = OPTIONS[k][usize::from(self.coverage[k])];
                CoverageRequest {
                    coverage_type,
                    limit_amount: limit.map(Decimal::from),
                    deductible: Decimal::from(deductible),
                }
            })
            .collect()
    }
}

/// Rating `k` (1-based) of a quote: what the applicant qualified for that time, priced with
/// the state's rates (premium = base x territory x (1 + surcharges) x (1 - capped discount),
/// per coverage, half-even to cents - `quotedb_domain::rating::price`).
pub(crate) fn pricing(ctx: &Ctx, q: &QuoteCore, k: u8) -> Pricing {
    let mut r = ctx.streams.rng(Stream::Versions, q.idx * 8 + u64::from(k));
    let id = uuid(&mut r);
    let eligibility = Eligibility {
        discounts: DiscountCode::ALL
            .into_iter()
            .zip(DISCOUNT_SHARE)
            .filter(|(_, p)| chance(&mut r, *p))
            .map(|(c, _)| c)
            .collect(),
        surcharges: SurchargeCode::ALL
            .into_iter()
            .zip(SURCHARGE_SHARE)
            .filter(|(_, p)| chance(&mut r, *p))
            .map(|(c, _)| c)
            .collect(),
    };
    let input = RatingInput {
        coverages: q.coverage_types(),
        eligibility,
    };
    let rating = &ctx.states[q.state].rating[q.territory];
    // prepare() priced every coverage and code combination of every territory: cannot fail.
    let mut breakdown = price(rating, &input).expect("reference rates validated by prepare()");
    breakdown.effective_date = date_of(q.effective_day);
    let mut lines = [0i64; 8];
    for line in &breakdown.lines {
        if let Some(k) = CoverageType::ALL.iter().position(|c| *c == line.coverage_type) {
            lines[k] = cents(line.premium);
        }
    }
    Pricing {
        id,
        eligibility: input.eligibility,
        total: cents(breakdown.total),
        breakdown,
        lines,
    }
}

/// COPY quotes: every quote as it is first inserted - draft, or rated at version 1.
pub(crate) const QUOTE_COLUMNS: &str = "id, quote_number, customer_id, agent_id, state_code, zip, status, premium, \
     current_version, effective_date, expires_at, bound_at, metadata, created_at, updated_at";

pub(crate) fn gen_quotes(ctx: &Ctx, out: &mut Out, part: Part) {
    for idx in part.units(ctx.plan.quotes) {
        let mut q = core(ctx, idx);
        let first = (q.versions > 0).then(|| pricing(ctx, &q, 1));
        let device = ["desktop", "ios", "android"][weighted(&mut q.rng, &[60, 25, 15])];
        let b = out.row(15);
        b.uuid(&q.id);
        b.text_with(|b| q.write_number(b));
        b.uuid(&q.customer);
        b.opt_uuid(q.agent.as_ref());
        b.text(q.state_code(ctx));
        b.text(q.zip(ctx));
        b.text(if first.is_some() { "rated" } else { "draft" });
        match &first {
            Some(p) => b.numeric(p.total, 2),
            None => b.null(),
        }
        b.i32(i32::from(q.versions.min(1)));
        b.date(q.effective_day);
        b.ts(q.expires_at);
        b.null();
        b.jsonb(|b| {
            obj(b, |o| {
                o.str("channel", q.channel);
                if let Some(c) = q.campaign {
                    o.str("campaign", c);
                }
                if q.channel == "web" || q.channel == "mobile" {
                    o.str("device", device);
                }
            });
        });
        b.ts(q.created_at);
        // Quotes moved later get updated_at from the set_updated_at trigger.
        b.ts(if q.versions > 0 { q.version_at[0] } else { q.created_at });
        if !out.unit_done() {
            return;
        }
    }
}

/// COPY quote_coverages (id, quote_id, coverage_type, limit_amount, deductible, premium,
/// created_at, updated_at): inserted while every quote is still draft or rated.
pub(crate) fn gen_coverages(ctx: &Ctx, out: &mut Out, part: Part) {
    for idx in part.units(ctx.plan.quotes) {
        let q = core(ctx, idx);
        let latest = (q.versions > 0).then(|| pricing(ctx, &q, q.versions));
        for (cov, opt) in q.coverage.iter().enumerate() {
            if *opt == NO_COVERAGE {
                continue;
            }
            let (limit, deductible) = OPTIONS[cov][usize::from(*opt)];
            let b = out.row(8);
            b.uuid(&ctx.streams.id(Stream::Coverages, idx * 8 + cov as u64));
            b.uuid(&q.id);
            b.text(CoverageType::ALL[cov].as_str());
            match limit {
                Some(l) => b.numeric(l * 100, 2),
                None => b.null(),
            }
            b.numeric(deductible * 100, 2);
            match &latest {
                Some(p) => b.numeric(p.lines[cov], 2),
                None => b.null(),
            }
            b.ts(q.created_at);
            b.ts(if q.versions > 0 {
                q.version_at[usize::from(q.versions) - 1]
            } else {
                q.created_at
            });
        }
        if !out.unit_done() {
            return;
        }
    }
}

/// COPY quote_versions (id, quote_id, version, premium, rating_inputs, breakdown, created_at):
/// version `part.arg` of every quote (of `part.from..part.to`) rated at least that many times.
pub(crate) fn gen_versions(ctx: &Ctx, out: &mut Out, part: Part) {
    let k = part.arg as u8;
    for idx in part.units(ctx.plan.quotes) {
        let q = core(ctx, idx);
        if q.versions >= k {
            write_version(ctx, out, &q, k);
        }
        if !out.unit_done() {
            return;
        }
    }
}

fn write_version(ctx: &Ctx, out: &mut Out, q: &QuoteCore, k: u8) {
    let p = pricing(ctx, q, k);
    let at = q.version_at[usize::from(k) - 1];
    // rating_inputs as the repository records it: {coverages, eligibility, context}, the
    // context holding the base rates of the requested coverages only, at the effective date.
    let mut context = ctx.states[q.state].rating[q.territory].clone();
    let requested = q.coverage_types();
    context.base_rates.retain(|r| requested.contains(&r.coverage_type));
    context.effective_date = date_of(q.effective_day);
    let inputs = serde_json::json!({
        "coverages": q.coverage_requests(),
        "eligibility": p.eligibility,
        "context": context,
    });
    let b = out.row(7);
    b.uuid(&p.id);
    b.uuid(&q.id);
    b.i32(i32::from(k));
    b.numeric(p.total, 2);
    // Serialising these types to a Vec cannot fail (no maps with non-string keys).
    b.jsonb(|b| {
        let _ = serde_json::to_writer(&mut *b, &inputs);
    });
    b.jsonb(|b| {
        let _ = serde_json::to_writer(&mut *b, &p.breakdown);
    });
    b.ts(at);
}

/// The staging table of quotes to move after insertion (temporary, dropped at commit).
pub(crate) const MOVES_TABLE: &str = "volume_quote_moves";
pub(crate) const MOVES_COLUMNS: &str = "quote_id, versions, status, premium, bound_at";

/// COPY volume_quote_moves: per quote that moves, its final version count, status, premium and
/// bind time.
pub(crate) fn gen_moves(ctx: &Ctx, out: &mut Out, part: Part) {
    for idx in part.units(ctx.plan.quotes) {
        let q = core(ctx, idx);
        if q.moves() {
            let latest = (q.versions > 0).then(|| pricing(ctx, &q, q.versions));
            let b = out.row(5);
            b.uuid(&q.id);
            b.i32(i32::from(q.versions));
            b.text(q.status.as_str());
            match latest {
                Some(p) => b.numeric(p.total, 2),
                None => b.null(),
            }
            b.opt_ts((q.status == Status::Bound).then_some(q.final_at).flatten());
        }
        if !out.unit_done() {
            return;
        }
    }
}
