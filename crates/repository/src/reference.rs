//! Reference data in the process: active base rates, territory factors, discount and surcharge
//! rules and the non-sensitive settings, held by [`Db`](crate::Db) and shared by its clones.
//!
//! Rating reads them on every create and re-rate, and they change a few times a month (rates
//! only through the approval workflow). Migration 0015 gives them a *generation*: every statement
//! that changes one of the five tables bumps `reference_data_generation` and sends
//! `NOTIFY quotedb_reference_data` with the new number at COMMIT.
//!
//! - **Freshness:** a background task holds a `LISTEN quotedb_reference_data` connection (its
//!   own, outside the pool, `application_name` [`LISTENER_APPLICATION_NAME`]); a notification of
//!   a newer generation drops the snapshot, and the next call loads a new one. While that
//!   connection is down (terminated, server restarted) nothing is served from memory: calls read
//!   the database as they did before the cache, and the task reconnects (with back-off) and
//!   starts over from an empty cache, since notifications sent meanwhile are lost.
//! - **Correctness stays in the database:** a price carries the generation of the data it was
//!   computed from, and the rule `quote_versions_reference_data_current` refuses to store a
//!   version priced from a generation that is no longer the committed one. The repository then
//!   reloads and prices again, once, transparently ([`QuoteError::ReferenceDataNotCurrent`] if
//!   the data changed again in between).
//! - **Without LISTEN** (a transaction-pooling PgBouncer does not keep a session for it):
//!   [`ReferenceOptions::unlistened`] serves a snapshot for at most `max_age`; writes are still
//!   checked by the generation.
//!
//! [`QuoteError::ReferenceDataNotCurrent`]: crate::quotes::QuoteError::ReferenceDataNotCurrent

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use quotedb_schema::admin::SystemSettingValueType;
use quotedb_schema::quotes::CoverageType;
use quotedb_schema::rating::{DiscountCode, SurchargeCode};
use rust_decimal::Decimal;
use serde_json::Value as JsonValue;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{Connection as _, PgPool};
use time::{Date, OffsetDateTime};

use crate::admin::settings::Setting;
use crate::ids::{AdminUserId, BaseRateId, DiscountRuleId, SurchargeRuleId, TerritoryFactorId};
use crate::rating::{
    RatingContext, RatingError, ResolvedBaseRate, ResolvedDiscount, ResolvedSurcharge, ResolvedTerritory,
    check_coverages,
};
use crate::types::{StateCode, Zip};

/// How long after a failed load the cache stays out of the way (calls read the database).
const LOAD_RETRY: Duration = Duration::from_secs(5);
/// How often the listener reads the generation when no notification came: notices a dead
/// connection (a half-open socket raises nothing) and a notification that was lost.
const POLL: Duration = Duration::from_secs(2);

/// The channel the generation triggers of migration 0015 notify.
pub const CHANNEL: &str = "quotedb_reference_data";
/// The `application_name` of the listening connection (to find it in `pg_stat_activity`).
pub const LISTENER_APPLICATION_NAME: &str = "quotedb-reference-listener";

/// How [`Db`](crate::Db) caches reference data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceOptions {
    /// Keep a snapshot in memory at all (`false`: every call reads the database).
    pub enabled: bool,
    /// Learn of changes by `LISTEN` (`false`: rely on `max_age` and on the write check).
    pub listen: bool,
    /// The oldest snapshot served, even while listening (a safety net against a notification
    /// lost without the connection dropping).
    pub max_age: Duration,
}

impl Default for ReferenceOptions {
    /// Cached, invalidated by `LISTEN`, reloaded at least every ten minutes.
    fn default() -> Self {
        Self {
            enabled: true,
            listen: true,
            max_age: Duration::from_secs(600),
        }
    }
}

impl ReferenceOptions {
    /// No cache: every call reads the database.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Cached without `LISTEN` (e.g. behind a transaction-pooling PgBouncer): a snapshot is
    /// served for at most `max_age`; prices are still checked against the current generation.
    pub fn unlistened(max_age: Duration) -> Self {
        Self {
            enabled: true,
            listen: false,
            max_age,
        }
    }
}

/// Counters of the cache, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReferenceStats {
    /// Snapshots loaded.
    pub loads: u64,
    /// Calls answered from memory.
    pub hits: u64,
    /// Calls that read the database instead (no fresh snapshot, listener down, cache disabled).
    pub misses: u64,
    /// Notifications of a newer generation received.
    pub notifications: u64,
    /// Writes refused because their price came from a superseded generation (then repriced).
    pub stale_writes: u64,
    /// Times the listening connection was (re)established.
    pub listens: u64,
}

/// One consistent copy of the reference data (read in one REPEATABLE READ transaction).
pub(crate) struct Snapshot {
    pub(crate) generation: i64,
    loaded_at: Instant,
    /// The listener epoch it was loaded under (0: loaded without a listener).
    epoch: u64,
    base_rates: HashMap<(String, CoverageType), Vec<Dated<ResolvedBaseRate>>>,
    territories: HashMap<(String, String), Vec<Dated<ResolvedTerritory>>>,
    /// Active rules in (code, state row first) order, as resolve.sql reads them.
    discounts: Vec<ResolvedDiscount>,
    surcharges: Vec<ResolvedSurcharge>,
    settings: HashMap<String, Setting<JsonValue>>,
    /// `rating.discount_cap` as the database reads it (`#>> '{}'` to numeric): exactly the
    /// value and scale `resolve.sql` gives, not a float's.
    discount_cap: Option<Decimal>,
}

impl std::fmt::Debug for Snapshot {
    /// The generation and sizes only: a snapshot holds every territory of the country.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("generation", &self.generation)
            .field("age", &self.loaded_at.elapsed())
            .field("base_rates", &self.base_rates.len())
            .field("territories", &self.territories.len())
            .field("settings", &self.settings.len())
            .finish_non_exhaustive()
    }
}

/// A row valid on `[from, until)` (`until` None: open-ended), a canonical daterange.
#[derive(Debug)]
struct Dated<T> {
    from: Date,
    until: Option<Date>,
    row: T,
}

impl<T> Dated<T> {
    fn contains(&self, day: Date) -> bool {
        self.from <= day && self.until.is_none_or(|u| day < u)
    }
}

impl Snapshot {
    /// What `resolve.sql` returns, from memory (same rules, same error order).
    pub(crate) fn resolve(
        &self,
        state: &StateCode,
        zip: &Zip,
        coverages: &[CoverageType],
        effective_date: Date,
    ) -> Result<RatingContext, RatingError> {
        check_coverages(coverages)?;
        let mut base_rates = Vec::with_capacity(coverages.len());
        for &coverage in coverages {
            let rate = self
                .base_rates
                .get(&(state.as_str().to_owned(), coverage))
                .and_then(|rows| rows.iter().find(|r| r.contains(effective_date)))
                .ok_or(RatingError::NoBaseRate { coverage })?;
            base_rates.push(rate.row.clone());
        }
        let territory = self
            .territories
            .get(&(state.as_str().to_owned(), zip.as_str().to_owned()))
            .and_then(|rows| rows.iter().find(|r| r.contains(effective_date)))
            .map(|r| r.row.clone())
            .ok_or_else(|| RatingError::NoTerritory { zip: zip.clone() })?;
        let discount_cap = self.discount_cap.ok_or(RatingError::NoDiscountCap)?;
        if discount_cap < Decimal::ZERO || discount_cap >= Decimal::ONE {
            return Err(RatingError::InvalidDiscountCap(discount_cap));
        }
        Ok(RatingContext {
            state_code: state.clone(),
            zip: zip.clone(),
            effective_date,
            base_rates,
            territory,
            discounts: state_overrides(&self.discounts, state, |d| (d.code, d.state_code.as_ref())),
            surcharges: state_overrides(&self.surcharges, state, |s| (s.code, s.state_code.as_ref())),
            discount_cap,
        })
    }

    /// A non-sensitive setting.
    pub(crate) fn setting(&self, key: &str) -> Option<&Setting<JsonValue>> {
        self.settings.get(key)
    }
}

/// The rules applying in `state`, one per code: the state's row over the countrywide row
/// (`rules` is ordered by code, state row first, as `DISTINCT ON (code) … ORDER BY code,
/// state_code NULLS LAST`).
fn state_overrides<T: Clone, C: PartialEq>(
    rules: &[T],
    state: &StateCode,
    key: impl Fn(&T) -> (C, Option<&StateCode>),
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    let mut last: Option<C> = None;
    for rule in rules {
        let (code, rule_state) = key(rule);
        if rule_state.is_some_and(|s| s != state) || last.as_ref() == Some(&code) {
            continue;
        }
        out.push(rule.clone());
        last = Some(code);
    }
    out
}

/// The cache: shared by the clones of one [`Db`](crate::Db).
pub(crate) struct ReferenceCache {
    options: ReferenceOptions,
    snapshot: Mutex<Option<Arc<Snapshot>>>,
    /// Incremented each time LISTEN is (re)established; a snapshot of an older epoch may have
    /// missed notifications.
    epoch: AtomicU64,
    listening: AtomicBool,
    listener_started: AtomicBool,
    /// The generation last read from the database by the listener (or written through this
    /// handle): a snapshot older than it is stale even if it was stored after the listener read
    /// it (a load racing a change). 0: not known. The NOTIFY payload is never trusted (any login
    /// may NOTIFY): a notification only makes the listener read the generation itself.
    current: AtomicI64,
    /// When the last load failed: no new attempt for [`LOAD_RETRY`] (calls read the database).
    load_failed_at: Mutex<Option<Instant>>,
    loading: tokio::sync::Mutex<()>,
    loads: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    notifications: AtomicU64,
    stale_writes: AtomicU64,
    listens: AtomicU64,
    /// Behind a transaction-pooling PgBouncer: the load's transaction begins with `DEALLOCATE
    /// ALL` (see `pooling.rs`).
    pub(crate) transaction_pooling: bool,
}

impl std::fmt::Debug for ReferenceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReferenceCache")
            .field("options", &self.options)
            .field("listening", &self.listening.load(Ordering::Relaxed))
            .field("current", &self.current.load(Ordering::Relaxed))
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl ReferenceCache {
    pub(crate) fn new(options: ReferenceOptions) -> Self {
        Self {
            options,
            snapshot: Mutex::new(None),
            epoch: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            listener_started: AtomicBool::new(false),
            current: AtomicI64::new(0),
            load_failed_at: Mutex::new(None),
            loading: tokio::sync::Mutex::new(()),
            loads: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            notifications: AtomicU64::new(0),
            stale_writes: AtomicU64::new(0),
            listens: AtomicU64::new(0),
            transaction_pooling: false,
        }
    }

    pub(crate) fn options(&self) -> ReferenceOptions {
        self.options
    }

    pub(crate) fn stats(&self) -> ReferenceStats {
        ReferenceStats {
            loads: self.loads.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            notifications: self.notifications.load(Ordering::Relaxed),
            stale_writes: self.stale_writes.load(Ordering::Relaxed),
            listens: self.listens.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<Snapshot>>> {
        // A panic while holding this lock cannot leave the Option half-written.
        self.snapshot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drop the snapshot (the next call loads a new one).
    pub(crate) fn invalidate(&self) {
        *self.lock() = None;
    }

    /// This process changed reference data, committed as `generation`: no older snapshot is
    /// served from now on, whether or not the notification has arrived yet (read your writes).
    pub(crate) fn written(&self, generation: i64) {
        self.current.fetch_max(generation, Ordering::AcqRel);
        self.invalidate();
    }

    /// A write found its generation superseded.
    pub(crate) fn record_stale_write(&self) {
        self.stale_writes.fetch_add(1, Ordering::Relaxed);
        self.invalidate();
    }

    /// The snapshot in memory if it may be served now.
    fn fresh(&self) -> Option<Arc<Snapshot>> {
        let guard = self.lock();
        let snap = guard.as_ref()?;
        if snap.loaded_at.elapsed() >= self.options.max_age || snap.generation < self.current.load(Ordering::Acquire) {
            return None;
        }
        if self.options.listen
            && (!self.listening.load(Ordering::Acquire) || snap.epoch != self.epoch.load(Ordering::Acquire))
        {
            return None;
        }
        Some(Arc::clone(snap))
    }

    /// A snapshot to answer from, loading one if the cache may serve; `None`: read the database.
    pub(crate) async fn snapshot(self: &Arc<Self>, pool: &PgPool) -> Option<Arc<Snapshot>> {
        if !self.options.enabled {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if let Some(snap) = self.fresh() {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Some(snap);
        }
        if self.options.listen {
            self.start_listener(pool);
            if !self.listening.load(Ordering::Acquire) {
                self.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        }
        if self
            .load_failed_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|at| at.elapsed() < LOAD_RETRY)
        {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        // One load at a time; the others read the database meanwhile rather than wait.
        let Ok(_loading) = self.loading.try_lock() else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        if let Some(snap) = self.fresh() {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Some(snap);
        }
        let epoch = if self.options.listen {
            self.epoch.load(Ordering::Acquire)
        } else {
            0
        };
        match load(pool, epoch, self.transaction_pooling).await {
            Ok(snap) => {
                let snap = Arc::new(snap);
                self.loads.fetch_add(1, Ordering::Relaxed);
                // A notification or reconnect during the load may have made it stale already.
                let still_current = !self.options.listen
                    || (self.listening.load(Ordering::Acquire) && self.epoch.load(Ordering::Acquire) == epoch);
                if still_current {
                    *self.lock() = Some(Arc::clone(&snap));
                }
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(snap)
            }
            Err(e) => {
                tracing::warn!(error = %e, "loading reference data failed: reading the database instead");
                *self.load_failed_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Start listening (waiting up to `wait` for the LISTEN to be in place) and load a snapshot.
    pub(crate) async fn warm(self: &Arc<Self>, pool: &PgPool, wait: Duration) -> bool {
        if !self.options.enabled {
            return false;
        }
        if self.options.listen {
            self.start_listener(pool);
            let deadline = Instant::now() + wait;
            while !self.listening.load(Ordering::Acquire) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        self.snapshot(pool).await.is_some()
    }

    /// Start the listening task once (it lives as long as the cache and the runtime).
    fn start_listener(self: &Arc<Self>, pool: &PgPool) {
        if self.listener_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.listener_started.store(false, Ordering::Release);
            return;
        };
        let options = (*pool.connect_options())
            .clone()
            .application_name(LISTENER_APPLICATION_NAME);
        let weak = Arc::downgrade(self);
        runtime.spawn(listen(weak, options));
    }

    /// The listener read `generation` from the database: a snapshot of any other generation
    /// (older, or from before a restore or failover) is dropped.
    fn on_generation(&self, generation: i64) {
        self.current.store(generation, Ordering::Release);
        let mut guard = self.lock();
        if guard.as_ref().is_some_and(|snap| snap.generation != generation) {
            *guard = None;
        }
    }
}

/// Commit a transaction that changed reference data through this handle, and tell its cache the
/// generation the change committed as (read inside the transaction, after the change: the bumped
/// one), so no older snapshot is served from now on (read your writes).
pub(crate) async fn commit_change(
    db: &crate::Db,
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
) -> Result<(), sqlx::Error> {
    let generation = sqlx::query_scalar!("SELECT generation FROM reference_data_generation")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    db.reference().written(generation);
    Ok(())
}

/// Marks the cache as not listening when the listening task ends for any reason, including
/// its runtime shutting down under it (the next call starts a new task).
struct ListeningGuard(Weak<ReferenceCache>);

impl Drop for ListeningGuard {
    fn drop(&mut self) {
        if let Some(cache) = self.0.upgrade() {
            cache.listening.store(false, Ordering::Release);
            cache.invalidate();
            cache.listener_started.store(false, Ordering::Release);
        }
    }
}

/// The listening task: (re)connect, LISTEN, and read the generation on every notification and
/// every [`POLL`] without one; any failure marks the cache as not listening (nothing is served
/// from memory) and starts over. Ends when the cache is dropped.
async fn listen(cache: Weak<ReferenceCache>, options: sqlx::postgres::PgConnectOptions) {
    let _guard = ListeningGuard(cache.clone());
    let mut backoff = Duration::from_millis(50);
    loop {
        let attempt = async {
            // Its own pool of one: the listener never takes a connection of the application's.
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .max_lifetime(None)
                .idle_timeout(None)
                .connect_with(options.clone())
                .await?;
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.ignore_pool_close_event(true);
            listener.eager_reconnect(false);
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>((pool, listener))
        }
        .await;
        let Some(cache_now) = cache.upgrade() else { return };
        let (pool, mut listener) = match attempt {
            Ok(ok) => ok,
            Err(e) => {
                tracing::debug!(error = %e, "reference data listener: connect failed, retrying");
                drop(cache_now);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        let connected_at = Instant::now();
        // From here on every change is notified: snapshots of earlier epochs are not trusted.
        cache_now.epoch.fetch_add(1, Ordering::AcqRel);
        cache_now.invalidate();
        cache_now.listens.fetch_add(1, Ordering::Relaxed);
        cache_now.listening.store(true, Ordering::Release);
        drop(cache_now);
        let lost = loop {
            let received = tokio::time::timeout(POLL, listener.try_recv()).await;
            let Some(cache_now) = cache.upgrade() else { return };
            match received {
                Ok(Ok(Some(_))) => {
                    cache_now.notifications.fetch_add(1, Ordering::Relaxed);
                    // Whatever the payload says, and however many arrived: read it ourselves.
                    while listener.next_buffered().is_some() {}
                }
                Err(_elapsed) => {}
                Ok(Ok(None)) | Ok(Err(_)) => break cache_now,
            }
            match sqlx::query_scalar!("SELECT generation FROM reference_data_generation")
                .fetch_one(&mut listener)
                .await
            {
                Ok(generation) => cache_now.on_generation(generation),
                Err(_) => break cache_now,
            }
        };
        tracing::debug!("reference data listener: connection lost, reconnecting");
        lost.listening.store(false, Ordering::Release);
        lost.invalidate();
        drop(lost);
        drop(listener);
        pool.close().await;
        // A connection that keeps being cut right after connecting backs off as a failed connect.
        if connected_at.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        } else {
            backoff = Duration::from_millis(50);
        }
    }
}

/// Read one consistent snapshot (REPEATABLE READ, read only) as the pool's login, under the
/// same policies as `resolve.sql`.
async fn load(pool: &PgPool, epoch: u64, transaction_pooling: bool) -> Result<Snapshot, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let begin = if transaction_pooling {
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; DEALLOCATE ALL"
    } else {
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    };
    let mut tx = conn.begin_with(begin).await?;
    let generation = sqlx::query_scalar!("SELECT generation FROM reference_data_generation")
        .fetch_one(&mut *tx)
        .await?;
    let mut base_rates: HashMap<(String, CoverageType), Vec<Dated<ResolvedBaseRate>>> = HashMap::new();
    for r in sqlx::query!(
        r#"SELECT id, state_code, coverage_type AS "coverage_type: CoverageType", base_amount,
                  lower(effective) AS "from!", upper(effective) AS "until?"
           FROM base_rates WHERE status = 'active'"#
    )
    .fetch_all(&mut *tx)
    .await?
    {
        base_rates
            .entry((r.state_code, r.coverage_type))
            .or_default()
            .push(Dated {
                from: r.from,
                until: r.until,
                row: ResolvedBaseRate {
                    id: BaseRateId(r.id),
                    coverage_type: r.coverage_type,
                    base_amount: r.base_amount,
                },
            });
    }
    let mut territories: HashMap<(String, String), Vec<Dated<ResolvedTerritory>>> = HashMap::new();
    for t in sqlx::query!(
        r#"SELECT id, state_code, zip, city, factor,
                  lower(effective) AS "from!", upper(effective) AS "until?"
           FROM territory_factors WHERE status = 'active'"#
    )
    .fetch_all(&mut *tx)
    .await?
    {
        territories.entry((t.state_code, t.zip)).or_default().push(Dated {
            from: t.from,
            until: t.until,
            row: ResolvedTerritory {
                id: TerritoryFactorId(t.id),
                city: t.city,
                factor: t.factor,
            },
        });
    }
    let discounts = sqlx::query!(
        r#"SELECT id, code AS "code: DiscountCode", state_code, percent, stackable, eligibility
           FROM discount_rules WHERE active ORDER BY code, state_code NULLS LAST"#
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|d| ResolvedDiscount {
        id: DiscountRuleId(d.id),
        code: d.code,
        state_code: d.state_code.map(StateCode::from_db),
        percent: d.percent,
        stackable: d.stackable,
        eligibility: d.eligibility,
    })
    .collect();
    let surcharges = sqlx::query!(
        r#"SELECT id, code AS "code: SurchargeCode", state_code, percent, conditions
           FROM surcharge_rules WHERE active ORDER BY code, state_code NULLS LAST"#
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|s| ResolvedSurcharge {
        id: SurchargeRuleId(s.id),
        code: s.code,
        state_code: s.state_code.map(StateCode::from_db),
        percent: s.percent,
        conditions: s.conditions,
    })
    .collect();
    let settings = sqlx::query!(
        r#"SELECT key AS "key!", value AS "value!", value_type AS "value_type!: SystemSettingValueType",
                  description AS "description!", updated_by AS "updated_by: AdminUserId",
                  updated_at AS "updated_at!: OffsetDateTime"
           FROM public_settings()"#
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|s| {
        (
            s.key.clone(),
            Setting {
                key: s.key,
                value: s.value,
                value_type: s.value_type,
                description: s.description,
                is_sensitive: false,
                updated_by: s.updated_by,
                updated_at: s.updated_at,
            },
        )
    })
    .collect();
    let discount_cap = sqlx::query_scalar!(
        r#"SELECT (jsonb_path_query_first(public_setting('rating.discount_cap'), '$ ? (@.type() == "number")') #>> '{}')::numeric
               AS "cap?: Decimal""#
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Snapshot {
        generation,
        loaded_at: Instant::now(),
        epoch,
        base_rates,
        territories,
        discounts,
        surcharges,
        settings,
        discount_cap,
    })
}
