//! Pre-aggregated realtime metric buckets. A sample is folded into its bucket atomically by one
//! upsert; the bucket start is aligned in SQL with
//! `date_bin(metric_bucket_interval(width), t, '2000-01-01 00:00:00+00')`, as the schema
//! documents, so Rust and SQL can never disagree on alignment.

use quotedb_schema::realtime::{MetricBucketWidth, rules};
use rust_decimal::Decimal;
use serde_json::Value as JsonValue;
use time::OffsetDateTime;

use crate::Db;
use crate::error::{InvalidInput, rule_of};
use quotedb_domain::input::is_dotted_snake;

/// Largest dimensions object, in bytes of compact JSON (`realtime_metrics_dimensions_small`).
pub const MAX_DIMENSIONS_BYTES: usize = 1024;
/// Most buckets one [`Metrics::range`] call returns.
pub const MAX_BUCKETS: u32 = 10_000;

/// A metrics call failed.
#[derive(Debug, thiserror::Error)]
pub enum MetricError {
    /// Caller input was refused before reaching the database.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// A value sample into a pure-counter bucket, or a count into a value bucket
    /// (`realtime_metrics_stats_complete`): one metric series is one kind.
    #[error("metric {0} mixes counter and value samples in one bucket")]
    MixedKinds(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl MetricError {
    /// The one mapping of a database error to this module's errors (the rules by name, a
    /// refused value, else `Database`); `?` goes through it as well.
    pub(crate) fn from_db(err: sqlx::Error) -> Self {
        let invalid = |field, reason: &str| Self::Invalid(InvalidInput::new(field, reason));
        match rule_of(&err) {
            Some(rules::REALTIME_METRICS_METRIC_FORMAT) => invalid("metric", "dotted snake_case, at most 100"),
            Some(rules::REALTIME_METRICS_DIMENSIONS_OBJECT) => invalid("dimensions", "a JSON object"),
            Some(rules::REALTIME_METRICS_DIMENSIONS_SMALL) => invalid("dimensions", "at most 1 KiB of JSON"),
            Some(rules::REALTIME_METRICS_MIN_LE_MAX) => invalid("observation", "min must not exceed max"),
            _ => Self::Database(err),
        }
    }
}

impl From<sqlx::Error> for MetricError {
    fn from(err: sqlx::Error) -> Self {
        Self::from_db(err)
    }
}

/// What a sample adds to its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observation {
    /// A pure counter: `n` occurrences (no sum/min/max).
    Count(u32),
    /// One measured value (count 1, sum = min = max = value).
    Value(Decimal),
    /// Values pre-aggregated by the caller.
    Summary {
        /// Number of values.
        count: u32,
        /// Their sum.
        sum: Decimal,
        /// The smallest.
        min: Decimal,
        /// The largest.
        max: Decimal,
    },
}

/// One sample for [`Metrics::record`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricSample {
    /// Metric name, dotted snake_case (e.g. `rating.latency_ms`).
    pub metric: String,
    /// Breakdown, a flat JSON object; `{}` for the total.
    pub dimensions: JsonValue,
    /// Bucket width.
    pub width: MetricBucketWidth,
    /// Observation time; `None` = now.
    #[serde(with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    /// What to add.
    pub observation: Observation,
}

/// A metric bucket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MetricBucket {
    /// Metric name.
    pub metric: String,
    /// Breakdown.
    pub dimensions: JsonValue,
    /// Width.
    pub width: MetricBucketWidth,
    /// Start (aligned to the width, UTC, origin 2000-01-01).
    #[serde(with = "time::serde::rfc3339")]
    pub bucket_start: OffsetDateTime,
    /// Observations.
    pub count: i64,
    /// Sum of values (`None` for counters).
    pub sum: Option<Decimal>,
    /// Smallest value.
    pub min: Option<Decimal>,
    /// Largest value.
    pub max: Option<Decimal>,
}

fn check_series(metric: &str, dimensions: &JsonValue) -> Result<(), InvalidInput> {
    if !is_dotted_snake(metric, 100) {
        return Err(InvalidInput::new(
            "metric",
            format!("{metric:?} is not dotted snake_case (at most 100)"),
        ));
    }
    if !dimensions.is_object() {
        return Err(InvalidInput::new("dimensions", "must be a JSON object"));
    }
    if dimensions.to_string().len() > MAX_DIMENSIONS_BYTES {
        return Err(InvalidInput::new("dimensions", "at most 1 KiB of JSON"));
    }
    Ok(())
}

/// The metrics API, from [`Realtime::metrics`](super::Realtime::metrics).
#[derive(Debug, Clone, Copy)]
pub struct Metrics<'a> {
    db: &'a Db,
}

impl<'a> Metrics<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Fold a sample into its bucket atomically (one upsert: count adds, sum adds, min/max
    /// widen). Returns the bucket after the change. Concurrent samples never lose updates.
    #[tracing::instrument(skip_all, fields(metric = %s.metric, width = %s.width), err)]
    pub async fn record(&self, s: &MetricSample) -> Result<MetricBucket, MetricError> {
        check_series(&s.metric, &s.dimensions)?;
        let (count, sum, min, max) = match s.observation {
            Observation::Count(0) | Observation::Summary { count: 0, .. } => {
                return Err(InvalidInput::new("observation", "count must be at least 1").into());
            }
            Observation::Count(n) => (n, None, None, None),
            Observation::Value(v) => (1, Some(v), Some(v), Some(v)),
            Observation::Summary { count, sum, min, max } => {
                if min > max {
                    return Err(InvalidInput::new("observation", "min must not exceed max").into());
                }
                (count, Some(sum), Some(min), Some(max))
            }
        };
        sqlx::query_as!(
            MetricBucket,
            r#"
            INSERT INTO realtime_metrics (metric, dimensions, bucket_width, bucket_start, count, sum, min, max)
            VALUES ($1, $2, $3,
                    date_bin(metric_bucket_interval($3), coalesce($4, now()), timestamptz '2000-01-01 00:00:00+00'),
                    $5, $6, $7, $8)
            ON CONFLICT (metric, bucket_width, bucket_start, dimensions) DO UPDATE
               SET count = realtime_metrics.count + EXCLUDED.count,
                   sum = realtime_metrics.sum + EXCLUDED.sum,
                   min = least(realtime_metrics.min, EXCLUDED.min),
                   max = greatest(realtime_metrics.max, EXCLUDED.max)
            RETURNING metric, dimensions, bucket_width AS "width: MetricBucketWidth", bucket_start, count, sum, min, max
            "#,
            s.metric,
            s.dimensions,
            s.width as MetricBucketWidth,
            s.at,
            i64::from(count),
            sum,
            min,
            max,
        )
        .fetch_one(self.db.exec())
        .await
        .map_err(|e| match rule_of(&e) {
            Some(rules::REALTIME_METRICS_STATS_COMPLETE) => MetricError::MixedKinds(s.metric.clone()),
            _ => MetricError::from(e),
        })
    }

    /// The buckets of one series (metric, width, exact dimensions) starting in `[from, to)`,
    /// oldest first.
    #[tracing::instrument(skip_all, fields(metric = %metric, width = %width), err)]
    pub async fn range(
        &self,
        metric: &str,
        width: MetricBucketWidth,
        dimensions: &JsonValue,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<MetricBucket>, MetricError> {
        check_series(metric, dimensions)?;
        if from >= to {
            return Err(InvalidInput::new("to", "must be after from").into());
        }
        Ok(sqlx::query_as!(
            MetricBucket,
            r#"
            SELECT metric, dimensions, bucket_width AS "width: MetricBucketWidth", bucket_start, count, sum, min, max
            FROM realtime_metrics
            WHERE metric = $1 AND bucket_width = $2 AND bucket_start >= $3 AND bucket_start < $4 AND dimensions = $5
            ORDER BY bucket_start
            LIMIT $6
            "#,
            metric,
            width as MetricBucketWidth,
            from,
            to,
            dimensions,
            i64::from(MAX_BUCKETS),
        )
        .fetch_all(self.db.exec())
        .await?)
    }
}
