//! Time arithmetic on Unix microseconds and days (no allocation, no time zone: all UTC).

use std::io::Write as _;

pub(crate) const SEC: i64 = 1_000_000;
pub(crate) const MIN: i64 = 60 * SEC;
pub(crate) const HOUR: i64 = 60 * MIN;
pub(crate) const DAY: i64 = 24 * HOUR;

/// The UTC day (days since 1970-01-01) of a Unix-microsecond time.
pub(crate) fn days_of(unix_us: i64) -> i32 {
    unix_us.div_euclid(DAY) as i32
}

/// (year, month, day) of a day number (days since 1970-01-01), proleptic Gregorian.
pub(crate) fn civil_from_days(days: i32) -> (i32, u32, u32) {
    // Howard Hinnant's civil_from_days.
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// Day number of a (year, month, day).
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = i64::from(if m <= 2 { y - 1 } else { y });
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// The first day of the month `delta` months after the month of `days`.
pub(crate) fn month_start(days: i32, delta: i32) -> i32 {
    let (y, m, _) = civil_from_days(days);
    let months = y * 12 + (m as i32 - 1) + delta;
    days_from_civil(months.div_euclid(12), (months.rem_euclid(12) + 1) as u32, 1)
}

/// `YYYY-MM-DD`.
pub(crate) fn write_date(b: &mut Vec<u8>, days: i32) {
    let (y, m, d) = civil_from_days(days);
    let _ = write!(b, "{y:04}-{m:02}-{d:02}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(10_957), (2000, 1, 1));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        for d in -1000..30_000 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(
            month_start(days_from_civil(2025, 11, 20), 2),
            days_from_civil(2026, 1, 1)
        );
        assert_eq!(
            month_start(days_from_civil(2025, 1, 20), -13),
            days_from_civil(2023, 12, 1)
        );
    }
}
