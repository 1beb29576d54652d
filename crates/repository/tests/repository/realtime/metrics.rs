//! Metric buckets: samples folded into aligned buckets, concurrent upserts, input checks.

use quotedb_repository::realtime::{MetricError, MetricSample, Observation};
use quotedb_repository::schema::realtime::MetricBucketWidth;
use rust_decimal_macros::dec;
use serde_json::json;
use time::OffsetDateTime;

use super::floor_to;
use crate::common::{TestResult, setup};

fn sample(metric: &str, at: OffsetDateTime, observation: Observation) -> MetricSample {
    MetricSample {
        metric: metric.into(),
        dimensions: json!({ "state": "CA" }),
        width: MetricBucketWidth::FiveMinutes,
        at: Some(at),
        observation,
    }
}

#[tokio::test]
async fn samples_fold_into_their_aligned_bucket() -> TestResult {
    let (_tdb, db) = setup().await;
    let metrics = db.realtime().metrics();
    let at = OffsetDateTime::now_utc();
    metrics
        .record(&sample("rating.latency_ms", at, Observation::Value(dec!(10))))
        .await?;
    metrics
        .record(&sample("rating.latency_ms", at, Observation::Value(dec!(4))))
        .await?;
    let b = metrics
        .record(&sample(
            "rating.latency_ms",
            at,
            Observation::Summary {
                count: 2,
                sum: dec!(15),
                min: dec!(6),
                max: dec!(9),
            },
        ))
        .await?;
    assert_eq!(b.bucket_start, floor_to(at, 300));
    assert_eq!(
        (b.count, b.sum, b.min, b.max),
        (4, Some(dec!(29)), Some(dec!(4)), Some(dec!(10)))
    );

    // Another dimension and the next bucket are separate series / buckets.
    metrics
        .record(&MetricSample {
            dimensions: json!({ "state": "TX" }),
            ..sample("rating.latency_ms", at, Observation::Value(dec!(1)))
        })
        .await?;
    let next = at + time::Duration::minutes(5);
    metrics
        .record(&sample("rating.latency_ms", next, Observation::Value(dec!(2))))
        .await?;
    let series = metrics
        .range(
            "rating.latency_ms",
            MetricBucketWidth::FiveMinutes,
            &json!({ "state": "CA" }),
            at - time::Duration::hours(1),
            at + time::Duration::hours(1),
        )
        .await?;
    let shape: Vec<_> = series.iter().map(|b| (b.bucket_start, b.count)).collect();
    assert_eq!(shape, vec![(floor_to(at, 300), 4), (floor_to(next, 300), 1)]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_counter_upserts_lose_no_updates() -> TestResult {
    let (_tdb, db) = setup().await;
    let at = OffsetDateTime::now_utc();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let db = db.clone();
        tasks.spawn(async move {
            for _ in 0..25 {
                db.realtime()
                    .metrics()
                    .record(&MetricSample {
                        width: MetricBucketWidth::Hour,
                        ..sample("quotes.rated", at, Observation::Count(1))
                    })
                    .await?;
            }
            Ok::<_, MetricError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let buckets = db
        .realtime()
        .metrics()
        .range(
            "quotes.rated",
            MetricBucketWidth::Hour,
            &json!({ "state": "CA" }),
            at - time::Duration::hours(2),
            at + time::Duration::hours(2),
        )
        .await?;
    assert_eq!(buckets.len(), 1);
    assert_eq!((buckets[0].count, buckets[0].sum), (200, None));
    Ok(())
}

#[tokio::test]
async fn metric_input_is_checked_and_kinds_do_not_mix() -> TestResult {
    let (_tdb, db) = setup().await;
    let metrics = db.realtime().metrics();
    let at = OffsetDateTime::now_utc();
    metrics
        .record(&sample("quotes.rated", at, Observation::Count(3)))
        .await?;
    assert!(matches!(
        metrics
            .record(&sample("quotes.rated", at, Observation::Value(dec!(1))))
            .await,
        Err(MetricError::MixedKinds(_))
    ));
    let invalid = [
        sample("Quotes Rated", at, Observation::Count(1)),
        MetricSample {
            dimensions: json!(["CA"]),
            ..sample("quotes.rated", at, Observation::Count(1))
        },
        MetricSample {
            dimensions: json!({ "k": "x".repeat(2000) }),
            ..sample("quotes.rated", at, Observation::Count(1))
        },
        sample("quotes.rated", at, Observation::Count(0)),
        sample(
            "latency",
            at,
            Observation::Summary {
                count: 1,
                sum: dec!(1),
                min: dec!(5),
                max: dec!(1),
            },
        ),
    ];
    for s in invalid {
        assert!(
            matches!(metrics.record(&s).await, Err(MetricError::Invalid(_))),
            "{s:?}"
        );
    }
    assert!(matches!(
        metrics
            .range("quotes.rated", MetricBucketWidth::Hour, &json!({}), at, at)
            .await,
        Err(MetricError::Invalid(_))
    ));
    Ok(())
}
