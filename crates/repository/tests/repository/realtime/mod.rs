//! Realtime API: websocket connections, analytics events, metric buckets and the notification
//! queue — through the public API against a real database. Fixtures come from `common` (through
//! the API); back-dating of timestamps, which the API cannot do, uses plain SQL.

mod connections;
mod events;
mod metrics;
mod notifications;

use time::OffsetDateTime;

fn floor_to(t: OffsetDateTime, secs: i64) -> OffsetDateTime {
    let ts = t.unix_timestamp();
    OffsetDateTime::from_unix_timestamp(ts - ts.rem_euclid(secs)).expect("in range")
}
