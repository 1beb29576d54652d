//! What the generator reads from (or makes sure of in) the target database before loading:
//! the states, their ZIPs and rates, the admin roles, and the audit_logs partitions.

use sqlx::{Connection as _, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::admin::ADMIN_ROLES;
use super::clock::{DAY, civil_from_days, days_of, month_start};
use super::names::{FALLBACK_TERRITORIES, STATES};
use super::quotes::{COVERAGES, NOMINAL_BASE};
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
    /// Annual base premium per coverage type (cents): the active base rate, else nominal.
    pub(crate) base: [i64; 8],
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
}

impl Ctx {
    /// A state index, weighted by each state's share of the business.
    pub(crate) fn pick_state(&self, r: &mut rand_chacha::ChaCha8Rng) -> usize {
        weighted(r, &self.state_weights)
    }
}

#[cfg(test)]
impl Ctx {
    /// A context without a database: built-in territories and nominal rates.
    pub(crate) fn offline(scale: f64, seed: u64, anchor: OffsetDateTime) -> Self {
        let states = STATES
            .iter()
            .map(|(code, _, _)| StateCtx {
                code,
                territories: FALLBACK_TERRITORIES
                    .iter()
                    .filter(|t| t.0 == *code)
                    .map(|t| Territory {
                        zip: t.1.to_string(),
                        city: t.2.to_string(),
                        factor_milli: t.3,
                    })
                    .collect(),
                base: NOMINAL_BASE,
            })
            .collect();
        Ctx {
            plan: Plan::for_scale(scale).expect("scale"),
            anchor: unix_us(anchor),
            streams: Streams::new(seed),
            states,
            state_weights: STATES.iter().map(|s| s.2).collect(),
            admin_roles: [Uuid::nil(); 8],
            number_offset: 12_345,
        }
    }
}

/// Unix microseconds of an OffsetDateTime.
pub(crate) fn unix_us(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000) as i64
}

/// The role tree the admin accounts need, created only where the reference seeds have not
/// (names as in the seeds: super_admin > admin > underwriter / support / analyst).
const ROLE_TREE: [(&str, Option<&str>, &str); 5] = [
    (
        "super_admin",
        None,
        "Full control of the platform, including admin accounts.",
    ),
    ("admin", Some("super_admin"), "Day-to-day platform administration."),
    (
        "underwriter",
        Some("admin"),
        "Rates, territories and rate change requests.",
    ),
    (
        "support",
        Some("admin"),
        "Customer support: users, sessions and quotes.",
    ),
    ("analyst", Some("admin"), "Read-only reporting and activity review."),
];

/// A role id that does not depend on the seed (reference data, shared by every load).
fn role_id(name: &str) -> Uuid {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(format!("quotedb-volume-admin-role:{name}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// Make sure of the reference rows the volume data points at, read them, and build the
/// generation context. Commits (partitions are DDL and must not be held by the long load).
pub(crate) async fn prepare(conn: &mut PgConnection, cfg: &VolumeConfig) -> Result<Ctx, VolumeError> {
    let plan = Plan::for_scale(cfg.scale)?;
    let anchor = unix_us(cfg.anchor);
    let streams = Streams::new(cfg.seed);

    let mut tx = conn.begin().await?;
    sqlx::query_scalar!("SELECT set_config('app.system', 'on', true)")
        .fetch_one(&mut *tx)
        .await?;

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
    let names: Vec<String> = STATES.iter().map(|s| s.1.to_string()).collect();
    sqlx::query!(
        "INSERT INTO states (code, name) SELECT * FROM UNNEST($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
        &codes,
        &names
    )
    .execute(&mut *tx)
    .await?;

    // Territories: the seeded ZIPs (the active row of each, else the latest), else built-ins.
    let seeded = sqlx::query!(
        r#"SELECT DISTINCT ON (state_code, zip)
                  state_code::text AS "state_code!", zip, city, (factor * 1000)::bigint AS "factor_milli!"
           FROM territory_factors
           WHERE state_code = ANY($1::text[])
           ORDER BY state_code, zip, (status = 'active') DESC, lower(effective) DESC"#,
        &codes
    )
    .fetch_all(&mut *tx)
    .await?;
    let anchor_date = time::Date::from_julian_day(days_of(anchor) + 2_440_588)
        .map_err(|e| VolumeError::InvalidConfig(format!("anchor out of range: {e}")))?;
    let rates = sqlx::query!(
        r#"SELECT DISTINCT ON (state_code, coverage_type)
                  state_code::text AS "state_code!", coverage_type::text AS "coverage_type!",
                  (base_amount * 100)::bigint AS "cents!"
           FROM base_rates
           WHERE state_code = ANY($1::text[]) AND status = 'active' AND effective @> $2::date
           ORDER BY state_code, coverage_type, lower(effective) DESC"#,
        &codes,
        anchor_date
    )
    .fetch_all(&mut *tx)
    .await?;
    let states: Vec<StateCtx> = STATES
        .iter()
        .map(|(code, _, _)| {
            let mut territories: Vec<Territory> = seeded
                .iter()
                .filter(|t| t.state_code == *code)
                .map(|t| Territory {
                    zip: t.zip.clone(),
                    city: t.city.clone(),
                    factor_milli: t.factor_milli,
                })
                .collect();
            if territories.is_empty() {
                territories = FALLBACK_TERRITORIES
                    .iter()
                    .filter(|t| t.0 == *code)
                    .map(|t| Territory {
                        zip: t.1.to_string(),
                        city: t.2.to_string(),
                        factor_milli: t.3,
                    })
                    .collect();
            }
            let multiplier = match *code {
                "CA" => 1150,
                "NY" => 1300,
                _ => 1000,
            };
            let mut base = NOMINAL_BASE.map(|c| c * multiplier / 1000);
            for rate in rates.iter().filter(|r| r.state_code == *code) {
                if let Some(k) = COVERAGES.iter().position(|c| *c == rate.coverage_type) {
                    base[k] = rate.cents;
                }
            }
            StateCtx {
                code,
                territories,
                base,
            }
        })
        .collect();

    // Admin roles: those of the seeds, or created (same names) when the seeds are absent.
    for (name, parent, description) in ROLE_TREE {
        sqlx::query!(
            "INSERT INTO admin_roles (id, name, description, parent_id)
             VALUES ($1, $2, $3, (SELECT id FROM admin_roles WHERE name = $4))
             ON CONFLICT (name) DO NOTHING",
            role_id(name),
            name,
            description,
            parent
        )
        .execute(&mut *tx)
        .await?;
    }
    let wanted: Vec<String> = ROLE_TREE.iter().map(|r| r.0.to_string()).collect();
    let roles = sqlx::query!("SELECT id, name FROM admin_roles WHERE name = ANY($1::text[])", &wanted)
        .fetch_all(&mut *tx)
        .await?;
    let mut admin_roles = [Uuid::nil(); 8];
    for (slot, name) in admin_roles.iter_mut().zip(ADMIN_ROLES) {
        *slot = roles
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.id)
            .ok_or_else(|| VolumeError::InvalidConfig(format!("admin role {name} is missing")))?;
    }

    ensure_audit_partitions(&mut tx, anchor).await?;
    tx.commit().await?;

    let mut r = streams.rng(Stream::Misc, 0);
    let number_offset = below(&mut r, 1_544_804_416);
    Ok(Ctx {
        plan,
        anchor,
        streams,
        state_weights: STATES.iter().map(|s| s.2).collect(),
        states,
        admin_roles,
        number_offset,
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
        let lo = month_bound(month);
        let hi = month_bound(next);
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

fn month_bound(days: i32) -> OffsetDateTime {
    let (y, m, _) = civil_from_days(days);
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m as u8).unwrap_or(time::Month::January), 1)
        .unwrap_or(time::Date::MIN);
    date.midnight().assume_utc()
}
