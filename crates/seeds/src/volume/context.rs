//! What the generator reads from the target database before loading: the states, their ZIPs and
//! the rating context of each (active base rates, territory factor, discount and surcharge
//! rules, discount cap - what `Rating::resolve` would return), the settings the rules read, the
//! admin roles, and the audit_logs partitions it makes sure of.
//!
//! The reference data has one source, the seed files (`data/*.sql`): `prepare` applies them
//! first (idempotent) and then reads what the database holds. Nothing stands in for a missing
//! rate, rule, role or setting: that is [`VolumeError::MissingReference`], naming it.

use std::str::FromStr as _;

use quotedb_domain::rating::{
    PricingError, RatingContext, RatingInput, ResolvedBaseRate, ResolvedDiscount, ResolvedSurcharge, ResolvedTerritory,
    price,
};
use quotedb_domain::{BaseRateId, DiscountRuleId, StateCode, SurchargeRuleId, TerritoryFactorId, Zip};
use quotedb_schema::quotes::CoverageType;
use quotedb_schema::rating::{DiscountCode, SurchargeCode};
use rust_decimal::Decimal;
use sqlx::{Connection as _, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::admin::ADMIN_ROLES;
use super::clock::{DAY, HOUR, civil_from_days, days_of, month_start};
use super::names::STATES;
use super::rng::{Stream, Streams, below, weighted};
use super::{Plan, VolumeConfig, VolumeError};

/// A garaging territory (ZIP) of a state.
#[derive(Debug, Clone)]
pub(crate) struct Territory {
    pub(crate) zip: String,
    pub(crate) city: String,
    /// Territory factor in thousandths.
    pub(crate) factor_milli: i64,
}

/// A state quotes are written in.
#[derive(Debug, Clone)]
pub(crate) struct StateCtx {
    pub(crate) code: &'static str,
    pub(crate) territories: Vec<Territory>,
    /// Annual base premium per coverage type (cents), for rate change proposals.
    pub(crate) base: [i64; 8],
    /// Coverage types the state has a base rate for (quotes only request those).
    pub(crate) priced: [bool; 8],
    /// The rating context of each territory: every priced coverage's base rate (coverage
    /// order), the territory factor, the state's discount and surcharge rules, the cap.
    pub(crate) rating: Vec<RatingContext>,
    /// First day all those rates are in force (quotes are not effective before it, so the
    /// application can re-rate them).
    pub(crate) rates_from: i32,
}

/// Everything generators share (read-only, shared by the generator threads).
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) plan: Plan,
    /// The fixed "now" of the data set, Unix microseconds.
    pub(crate) anchor: i64,
    pub(crate) streams: Streams,
    pub(crate) states: Vec<StateCtx>,
    state_weights: Vec<u32>,
    /// admin_roles.id of each admin account (see `admin::ADMIN_ROLES`).
    pub(crate) admin_roles: [Uuid; 8],
    /// Offset of the quote number enumeration (differs per seed).
    pub(crate) number_offset: u64,
    /// Quote validity (creation to expiry), from setting `quotes.validity_days`.
    pub(crate) validity: i64,
    /// Session lifetime, from setting `sessions.lifetime_hours`.
    pub(crate) session_lifetime: i64,
    /// Notification attempts, from setting `notifications.max_attempts`.
    pub(crate) max_attempts: i16,
}

impl Ctx {
    /// A state index, weighted by each state's share of the business.
    pub(crate) fn pick_state(&self, r: &mut rand_chacha::ChaCha8Rng) -> usize {
        weighted(r, &self.state_weights)
    }
}

/// Unix microseconds of an OffsetDateTime.
pub(crate) fn unix_us(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000) as i64
}

/// The date of a day number (days since 1970-01-01).
pub(crate) fn date_of(days: i32) -> time::Date {
    time::Date::from_julian_day(days + 2_440_588).unwrap_or(time::Date::MIN)
}

/// The day number (days since 1970-01-01) of a date.
fn day_of(date: time::Date) -> i32 {
    date.to_julian_day() - 2_440_588
}

/// Rows of the reference tables, as read.
#[derive(Debug, Default)]
struct Reference {
    /// (state, zip, id, city, factor)
    territories: Vec<(String, String, Uuid, String, Decimal, i32)>,
    /// (state, coverage, id, amount)
    rates: Vec<(String, CoverageType, Uuid, Decimal, i32)>,
    /// Per state: the rule applying per code (state rule over countrywide), code order.
    discounts: Vec<(String, ResolvedDiscount)>,
    surcharges: Vec<(String, ResolvedSurcharge)>,
    discount_cap: Option<Decimal>,
}

fn build_states(reference: &Reference, anchor_day: i32) -> Result<Vec<StateCtx>, VolumeError> {
    let bad = |what: &str, e: quotedb_domain::InvalidInput| VolumeError::InvalidConfig(format!("{what}: {e}"));
    let missing = |what: String| VolumeError::MissingReference(what);
    let on = date_of(anchor_day);
    let cap = reference
        .discount_cap
        .ok_or_else(|| missing("setting rating.discount_cap (a fraction in [0, 1))".into()))?;
    STATES
        .iter()
        .map(|(code, _)| {
            let state_code = StateCode::parse(code).map_err(|e| bad("state", e))?;
            let rows: Vec<(String, Uuid, String, Decimal)> = reference
                .territories
                .iter()
                .filter(|t| t.0 == *code)
                .map(|t| (t.1.clone(), t.2, t.3.clone(), t.4))
                .collect();
            if rows.is_empty() {
                return Err(missing(format!("active territory factors of {code} on {on}")));
            }
            let state_rates: Vec<&(String, CoverageType, Uuid, Decimal, i32)> =
                reference.rates.iter().filter(|r| r.0 == *code).collect();
            let rates_from = state_rates
                .iter()
                .map(|r| r.4)
                .chain(reference.territories.iter().filter(|t| t.0 == *code).map(|t| t.5))
                .max()
                .unwrap_or(i32::MIN);
            let mut base = [0i64; 8];
            let mut priced = [false; 8];
            let mut base_rates = Vec::new();
            for (k, coverage) in CoverageType::ALL.into_iter().enumerate() {
                // A coverage the state files no rate for is not offered there.
                let Some(&&(_, _, id, amount, _)) = state_rates.iter().find(|r| r.1 == coverage) else {
                    continue;
                };
                base[k] = (amount * Decimal::ONE_HUNDRED).trunc().mantissa() as i64;
                priced[k] = true;
                base_rates.push(ResolvedBaseRate {
                    id: BaseRateId(id),
                    coverage_type: coverage,
                    base_amount: amount,
                });
            }
            if base_rates.is_empty() {
                return Err(missing(format!("active base rates of {code} on {on}")));
            }
            let discounts: Vec<ResolvedDiscount> = reference
                .discounts
                .iter()
                .filter(|d| d.0 == *code)
                .map(|d| d.1.clone())
                .collect();
            if let Some(c) = DiscountCode::ALL
                .into_iter()
                .find(|c| !discounts.iter().any(|d| d.code == *c))
            {
                return Err(missing(format!("an active discount rule {c} for {code}")));
            }
            let surcharges: Vec<ResolvedSurcharge> = reference
                .surcharges
                .iter()
                .filter(|d| d.0 == *code)
                .map(|d| d.1.clone())
                .collect();
            if let Some(c) = SurchargeCode::ALL
                .into_iter()
                .find(|c| !surcharges.iter().any(|d| d.code == *c))
            {
                return Err(missing(format!("an active surcharge rule {c} for {code}")));
            }
            let mut territories = Vec::new();
            let mut rating = Vec::new();
            for (zip, id, city, factor) in rows {
                rating.push(RatingContext {
                    state_code: state_code.clone(),
                    zip: Zip::parse(&zip).map_err(|e| bad("zip", e))?,
                    effective_date: on,
                    base_rates: base_rates.clone(),
                    territory: ResolvedTerritory {
                        id: TerritoryFactorId(id),
                        city: city.clone(),
                        factor,
                    },
                    discounts: discounts.clone(),
                    surcharges: surcharges.clone(),
                    discount_cap: cap,
                });
                territories.push(Territory {
                    zip,
                    city,
                    factor_milli: (factor * Decimal::ONE_THOUSAND).trunc().mantissa() as i64,
                });
            }
            // Every combination the generator can ask for must price (it cannot fail later).
            let input = RatingInput {
                coverages: base_rates.iter().map(|r| r.coverage_type).collect(),
                eligibility: quotedb_domain::rating::Eligibility {
                    discounts: DiscountCode::ALL.to_vec(),
                    surcharges: SurchargeCode::ALL.to_vec(),
                },
            };
            for r in &rating {
                price(r, &input).map_err(|e: PricingError| {
                    VolumeError::InvalidConfig(format!("the reference rates of {code} {} cannot price: {e}", r.zip))
                })?;
            }
            Ok(StateCtx {
                code,
                territories,
                base,
                priced,
                rating,
                rates_from,
            })
        })
        .collect()
}

#[cfg(test)]
impl Reference {
    /// Reference rows for the unit tests, which have no database (loads always read the
    /// database): two territories per state, a rate per coverage, every rule, a 35 % cap.
    fn fixture() -> Self {
        let id = |n: u128| Uuid::from_u128(n);
        let mut r = Reference {
            discount_cap: Some(Decimal::new(35, 2)),
            ..Reference::default()
        };
        for (s, (code, _)) in STATES.iter().enumerate() {
            let state = code.to_string();
            let n = s as u128 * 1_000;
            for (t, zip) in ["10001", "10002"].into_iter().enumerate() {
                let factor = Decimal::new(1_000 + 100 * t as i64, 3);
                r.territories.push((
                    state.clone(),
                    zip.into(),
                    id(n + t as u128),
                    "Fixture".into(),
                    factor,
                    0,
                ));
            }
            for (k, coverage) in CoverageType::ALL.into_iter().enumerate() {
                let amount = Decimal::new(10_000 + 1_000 * k as i64, 2);
                r.rates
                    .push((state.clone(), coverage, id(n + 100 + k as u128), amount, 0));
            }
            for (k, code) in DiscountCode::ALL.into_iter().enumerate() {
                let d = ResolvedDiscount {
                    id: DiscountRuleId(id(n + 200 + k as u128)),
                    code,
                    state_code: None,
                    percent: Decimal::from(5),
                    stackable: true,
                    eligibility: serde_json::json!({}),
                };
                r.discounts.push((state.clone(), d));
            }
            for (k, code) in SurchargeCode::ALL.into_iter().enumerate() {
                let c = ResolvedSurcharge {
                    id: SurchargeRuleId(id(n + 300 + k as u128)),
                    code,
                    state_code: None,
                    percent: Decimal::from(10),
                    conditions: serde_json::json!({}),
                };
                r.surcharges.push((state.clone(), c));
            }
        }
        r
    }
}

#[cfg(test)]
impl Ctx {
    /// A context without a database, on [`Reference::fixture`].
    pub(crate) fn offline(scale: f64, seed: u64, anchor: OffsetDateTime) -> Self {
        let anchor = unix_us(anchor);
        Ctx {
            plan: Plan::for_scale(scale).expect("scale"),
            anchor,
            streams: Streams::new(seed),
            states: build_states(&Reference::fixture(), days_of(anchor)).expect("fixture states"),
            state_weights: STATES.iter().map(|s| s.1).collect(),
            admin_roles: [Uuid::nil(); 8],
            number_offset: 12_345,
            validity: 30 * DAY,
            session_lifetime: 720 * HOUR,
            max_attempts: 5,
        }
    }
}

/// A setting that must hold a positive whole number.
async fn positive_setting(conn: &mut PgConnection, key: &str) -> Result<i64, VolumeError> {
    setting(conn, key)
        .await?
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| VolumeError::MissingReference(format!("setting {key} (a positive whole number)")))
}

/// A non-sensitive setting's value as text (NULL when missing).
async fn setting(conn: &mut PgConnection, key: &str) -> Result<Option<String>, VolumeError> {
    Ok(
        sqlx::query_scalar!(r#"SELECT public_setting($1) #>> '{}' AS "value""#, key)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Make sure of the reference rows the volume data points at, read them, and build the
/// generation context. Commits (partitions are DDL and must not be held by the long load).
pub(crate) async fn prepare(conn: &mut PgConnection, cfg: &VolumeConfig) -> Result<Ctx, VolumeError> {
    let plan = Plan::for_scale(cfg.scale)?;
    let anchor = unix_us(cfg.anchor);
    let anchor_date = date_of(days_of(anchor));
    let streams = Streams::new(cfg.seed);

    // The reference data has one source: the seed files, applied here (loading them twice
    // changes nothing), then read back below.
    crate::apply_reference(conn).await?;
    let mut tx = conn.begin().await?;

    // Loading twice would collide on every key: refuse early with a clear message.
    let first_user = streams.id(Stream::Users, 0);
    let loaded = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE id = $1) AS "loaded!""#,
        first_user
    )
    .fetch_one(&mut *tx)
    .await?;
    if loaded {
        return Err(VolumeError::AlreadyLoaded);
    }

    let codes: Vec<String> = STATES.iter().map(|s| s.0.to_string()).collect();

    // The rates active on the anchor date, as Rating::resolve picks them.
    let mut reference = Reference::default();
    for t in sqlx::query!(
        r#"SELECT DISTINCT ON (state_code, zip) state_code::text AS "state_code!", zip, id, city, factor,
                  lower(effective) AS "from!"
           FROM territory_factors
           WHERE state_code = ANY($1::text[]) AND status = 'active' AND effective @> $2::date
           ORDER BY state_code, zip, lower(effective) DESC"#,
        &codes,
        anchor_date
    )
    .fetch_all(&mut *tx)
    .await?
    {
        reference
            .territories
            .push((t.state_code, t.zip, t.id, t.city, t.factor, day_of(t.from)));
    }
    for r in sqlx::query!(
        r#"SELECT DISTINCT ON (state_code, coverage_type)
                  state_code::text AS "state_code!", coverage_type AS "coverage_type: CoverageType", id, base_amount,
                  lower(effective) AS "from!"
           FROM base_rates
           WHERE state_code = ANY($1::text[]) AND status = 'active' AND effective @> $2::date
           ORDER BY state_code, coverage_type, lower(effective) DESC"#,
        &codes,
        anchor_date
    )
    .fetch_all(&mut *tx)
    .await?
    {
        reference
            .rates
            .push((r.state_code, r.coverage_type, r.id, r.base_amount, day_of(r.from)));
    }
    for d in sqlx::query!(
        r#"SELECT DISTINCT ON (s.code, d.code)
                  s.code::text AS "state!", d.id, d.code AS "code: DiscountCode", d.state_code::text AS "rule_state",
                  d.percent, d.stackable, d.eligibility
           FROM states s
           JOIN discount_rules d ON d.active AND (d.state_code = s.code OR d.state_code IS NULL)
           WHERE s.code = ANY($1::text[])
           ORDER BY s.code, d.code, d.state_code NULLS LAST"#,
        &codes
    )
    .fetch_all(&mut *tx)
    .await?
    {
        let state_code = d.rule_state.as_deref().map(StateCode::parse).transpose().ok().flatten();
        reference.discounts.push((
            d.state,
            ResolvedDiscount {
                id: DiscountRuleId(d.id),
                code: d.code,
                state_code,
                percent: d.percent,
                stackable: d.stackable,
                eligibility: d.eligibility,
            },
        ));
    }
    for s in sqlx::query!(
        r#"SELECT DISTINCT ON (st.code, r.code)
                  st.code::text AS "state!", r.id, r.code AS "code: SurchargeCode", r.state_code::text AS "rule_state",
                  r.percent, r.conditions
           FROM states st
           JOIN surcharge_rules r ON r.active AND (r.state_code = st.code OR r.state_code IS NULL)
           WHERE st.code = ANY($1::text[])
           ORDER BY st.code, r.code, r.state_code NULLS LAST"#,
        &codes
    )
    .fetch_all(&mut *tx)
    .await?
    {
        let state_code = s.rule_state.as_deref().map(StateCode::parse).transpose().ok().flatten();
        reference.surcharges.push((
            s.state,
            ResolvedSurcharge {
                id: SurchargeRuleId(s.id),
                code: s.code,
                state_code,
                percent: s.percent,
                conditions: s.conditions,
            },
        ));
    }
    reference.discount_cap = setting(&mut tx, "rating.discount_cap")
        .await?
        .and_then(|v| Decimal::from_str(&v).ok())
        .filter(|c| *c >= Decimal::ZERO && *c < Decimal::ONE);
    let validity = positive_setting(&mut tx, "quotes.validity_days").await?.min(365) * DAY;
    let session_lifetime = positive_setting(&mut tx, "sessions.lifetime_hours")
        .await?
        .min(24 * 365)
        * HOUR;
    let max_attempts = positive_setting(&mut tx, "notifications.max_attempts")
        .await?
        .clamp(1, 50) as i16;
    let states = build_states(&reference, days_of(anchor))?;

    // Admin roles: those of the seeds.
    let wanted: Vec<String> = ADMIN_ROLES.iter().map(|r| r.to_string()).collect();
    let roles = sqlx::query!("SELECT id, name FROM admin_roles WHERE name = ANY($1::text[])", &wanted)
        .fetch_all(&mut *tx)
        .await?;
    let mut admin_roles = [Uuid::nil(); 8];
    for (slot, name) in admin_roles.iter_mut().zip(ADMIN_ROLES) {
        *slot = roles
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.id)
            .ok_or_else(|| VolumeError::MissingReference(format!("admin role {name}")))?;
    }

    ensure_audit_partitions(&mut tx, anchor).await?;
    tx.commit().await?;

    let mut r = streams.rng(Stream::Misc, 0);
    let number_offset = below(&mut r, 1_544_804_416);
    Ok(Ctx {
        plan,
        anchor,
        streams,
        state_weights: STATES.iter().map(|s| s.1).collect(),
        states,
        admin_roles,
        number_offset,
        validity,
        session_lifetime,
        max_attempts,
    })
}

/// The monthly audit_logs partitions the data needs: the coming months through
/// create_audit_log_partitions() (it works from the server's clock), and every month from a
/// year before the anchor to the anchor's, created the way that function does
/// (`audit_logs_yYYYYmMM`, UTC month bounds). A month whose rows already sit in the DEFAULT
/// partition is left to create_audit_log_partitions() / the DBA: its rows go to DEFAULT too.
async fn ensure_audit_partitions(conn: &mut PgConnection, anchor: i64) -> Result<(), VolumeError> {
    sqlx::query_scalar!("SELECT create_audit_log_partitions(3)")
        .fetch_one(&mut *conn)
        .await?;
    let last = month_start(days_of(anchor), 0);
    let mut month = month_start(days_of(anchor - 366 * DAY), 0);
    while month <= last {
        let next = month_start(month, 1);
        let (y, m, _) = civil_from_days(month);
        let name = format!("audit_logs_y{y:04}m{m:02}");
        let exists = sqlx::query_scalar!(r#"SELECT to_regclass($1) IS NOT NULL AS "exists!""#, &name)
            .fetch_one(&mut *conn)
            .await?;
        let lo = date_of(month).midnight().assume_utc();
        let hi = date_of(next).midnight().assume_utc();
        let strays = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM audit_logs_default WHERE occurred_at >= $1 AND occurred_at < $2) AS "strays!""#,
            lo,
            hi
        )
        .fetch_one(&mut *conn)
        .await?;
        if !exists && !strays {
            let (ny, nm, _) = civil_from_days(next);
            // DDL cannot take bind parameters; the name and bounds are generated, not input.
            let ddl = format!(
                "CREATE TABLE {name} PARTITION OF audit_logs \
                 FOR VALUES FROM ('{y:04}-{m:02}-01 00:00:00+00') TO ('{ny:04}-{nm:02}-01 00:00:00+00')"
            );
            sqlx::raw_sql(sqlx::AssertSqlSafe(ddl)).execute(&mut *conn).await?;
        } else if !exists {
            tracing::warn!(partition = %name, "audit_logs_default holds rows of this month: its rows go to DEFAULT");
        }
        month = next;
    }
    Ok(())
}
