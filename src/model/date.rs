//! Dates for display, computed without a date library (the WASM bundle stays small).

/// Formats seconds since the Unix epoch as an ISO date in UTC, e.g. `2026-11-26`.
pub fn format_date(unix_seconds: i64) -> String {
    let (y, m, d) = civil_from_days(unix_seconds.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Formats seconds since the Unix epoch as an RFC 3339 time in UTC, e.g.
/// `2026-11-26T08:30:00Z` (the API's timestamps).
pub fn format_timestamp(unix_seconds: i64) -> String {
    let secs = unix_seconds.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        format_date(unix_seconds),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(951_782_400), "2000-02-29");
        assert_eq!(format_date(1_795_651_200), "2026-11-26");
        assert_eq!(format_date(-86_400), "1969-12-31");
    }

    #[test]
    fn known_timestamps() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_timestamp(1_795_681_845), "2026-11-26T08:30:45Z");
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59Z");
    }
}
