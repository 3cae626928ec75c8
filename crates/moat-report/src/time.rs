//! Timestamps without a date crate: seconds since the Unix epoch <-> RFC 3339 UTC.
//!
//! The conversion walks years and months one at a time. That is slower than a closed
//! formula but obviously correct, and the range is bounded (years 0000 to 9999), so a
//! conversion costs at most a few thousand additions.

use std::time::{SystemTime, UNIX_EPOCH};

/// The timestamp used when a caller hands us one we cannot read.
pub(crate) const FALLBACK: &str = "1970-01-01T00:00:00Z";

/// Seconds of 9999-12-31T23:59:59Z, the last instant RFC 3339 can write.
const MAX_SECS: i64 = 253_402_300_799;
/// Seconds of 0000-01-01T00:00:00Z.
const MIN_SECS: i64 = -62_167_219_200;

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn year_len(year: i64) -> i64 {
    if is_leap(year) { 366 } else { 365 }
}

fn month_len(year: i64, month: u32) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        _ => 28,
    }
}

/// Day number (days since 1970-01-01) -> (year, month 1..=12, day 1..=31).
fn civil_from_days(mut days: i64) -> (i64, u32, u32) {
    let mut year = 1970;
    while days < 0 {
        year -= 1;
        days += year_len(year);
    }
    while days >= year_len(year) {
        days -= year_len(year);
        year += 1;
    }
    let mut month = 1;
    while month < 12 && days >= month_len(year, month) {
        days -= month_len(year, month);
        month += 1;
    }
    // `days` is now below the length of `month`, so it fits a u32.
    (year, month, days as u32 + 1)
}

/// (year, month, day) -> days since 1970-01-01. The caller has checked the ranges.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let mut days = 0;
    let mut y = 1970;
    while y < year {
        days += year_len(y);
        y += 1;
    }
    while y > year {
        y -= 1;
        days -= year_len(y);
    }
    for m in 1..month {
        days += month_len(year, m);
    }
    days + i64::from(day) - 1
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`, clamped to years 0000..=9999.
pub(crate) fn format_utc(secs: i64) -> String {
    let secs = secs.clamp(MIN_SECS, MAX_SECS);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// Parses an RFC 3339 date-time (`2026-11-29T01:02:03Z`, `...T01:02:03.5+01:00`) into
/// seconds since the epoch. Fractions are dropped; a leap second reads as second 59.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, min, sec) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let year = i64::from(year);
    if !(1..=12).contains(&month)
        || day < 1
        || i64::from(day) > month_len(year, month)
        || hour > 23
        || min > 59
        || sec > 60
    {
        return None;
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &rest[1 + n..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (oh, om) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + min * 60 + sec.min(59))
        - offset;
    Some(secs)
}

/// The timestamp to print: the caller's, normalised to `YYYY-MM-DDTHH:MM:SSZ` (the one
/// form both CycloneDX and SPDX accept), or [`FALLBACK`] when it cannot be read.
pub(crate) fn normalize(s: &str) -> String {
    match parse_rfc3339(s) {
        Some(secs) if (MIN_SECS..=MAX_SECS).contains(&secs) => format_utc(secs),
        _ => FALLBACK.to_string(),
    }
}

/// See [`crate::timestamp_now`].
pub(crate) fn now() -> String {
    now_with(std::env::var("SOURCE_DATE_EPOCH").ok().as_deref())
}

/// [`now`] with the value of `SOURCE_DATE_EPOCH` passed in: an integer (seconds since the
/// epoch) wins; anything else, or nothing, means the system clock.
fn now_with(source_date_epoch: Option<&str>) -> String {
    let from_env = source_date_epoch.and_then(|v| v.trim().parse::<i64>().ok());
    let secs = from_env.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(MAX_SECS))
            .unwrap_or(0)
    });
    format_utc(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_709_210_096), "2024-02-29T12:34:56Z");
        assert_eq!(format_utc(1_795_914_123), "2026-11-29T01:02:03Z");
        assert_eq!(format_utc(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(format_utc(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(format_utc(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_utc(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(format_utc(i64::MIN), "0000-01-01T00:00:00Z");
    }

    #[test]
    fn source_date_epoch_wins_over_the_clock() {
        assert_eq!(now_with(Some("1795914123")), "2026-11-29T01:02:03Z");
        assert_eq!(now_with(Some(" 0 ")), "1970-01-01T00:00:00Z");
        for clock in [now_with(None), now_with(Some("yesterday")), now()] {
            let secs = parse_rfc3339(&clock).expect("well-formed");
            assert!(secs > 1_700_000_000, "{clock}");
        }
    }

    #[test]
    fn round_trip_every_day_of_four_centuries() {
        // Every day from 1900 to 2300 once, plus a time of day: civil_from_days and
        // days_from_civil must be inverse functions.
        let start = days_from_civil(1900, 1, 1);
        let end = days_from_civil(2300, 1, 1);
        for days in start..end {
            let secs = days * 86_400 + 3_723;
            let text = format_utc(secs);
            assert_eq!(parse_rfc3339(&text), Some(secs), "{text}");
        }
    }

    #[test]
    fn parse_accepts_rfc3339_forms_and_rejects_others() {
        assert_eq!(parse_rfc3339("2026-11-29T01:02:03Z"), Some(1_795_914_123));
        assert_eq!(
            parse_rfc3339("2026-11-29t01:02:03.999z"),
            Some(1_795_914_123)
        );
        assert_eq!(
            parse_rfc3339("2026-11-29T02:02:03+01:00"),
            Some(1_795_914_123)
        );
        assert_eq!(
            parse_rfc3339("2026-11-28T23:32:03-01:30"),
            Some(1_795_914_123)
        );
        for bad in [
            "",
            "2026-11-29",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-29T24:00:00Z",
            "2026-11-29T01:02:03",
            "2026-11-29T01:02:03.Z",
            "2026-11-29T01:02:03+0100",
            "２０２６-11-29T01:02:03Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
        assert_eq!(normalize("garbage"), FALLBACK);
        assert_eq!(
            normalize("2026-11-29T02:02:03.25+01:00"),
            "2026-11-29T01:02:03Z"
        );
    }
}
