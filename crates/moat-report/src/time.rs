//! Timestamps: seconds since the Unix epoch <-> RFC 3339 UTC, through `jiff`.
//!
//! The calendar (leap years, month lengths, offsets) is jiff's; this file only decides the
//! one form moat writes (`YYYY-MM-DDTHH:MM:SSZ`, the form both SBOM validators accept), the
//! forms it reads, and what happens at the edges:
//!
//! * Writing clamps to years 0000..=9999. The instants are computed as civil date-times
//!   in UTC rather than as [`jiff::Timestamp`]s, because a jiff timestamp stops a day short
//!   of 9999-12-31 (it must stay convertible at every offset), and the last second RFC 3339
//!   can write is 9999-12-31T23:59:59Z.
//! * Reading accepts RFC 3339's `date-time` and nothing looser: the layout is checked
//!   here (`YYYY-MM-DD`, `T`/`t`/space, `HH:MM:SS`, an optional `.fraction`, then `Z`/`z`
//!   or `±HH:MM`), then jiff validates the fields (no 30 February, no hour 24) and does the
//!   arithmetic. Without the layout check jiff's ISO 8601 parser would also take
//!   `2026-11-29T01:02+0100` or a `[zone]` annotation, forms no SBOM tool writes and that
//!   would read as something other than what they look like to a person. Fractions are
//!   dropped (towards the past) and a leap second reads as second 59.
//! * Nothing here looks at the clock or the environment: the CLI decides what "now" is
//!   (`SOURCE_DATE_EPOCH` for reproducible builds, else the system clock) and passes it in.
//!
//! Rejected: keeping the hand-written civil-date walk (correct, but a second calendar in the
//! workspace once the advisory database and the CLI use jiff); jiff's `Timestamp` as the
//! value type of [`crate::parse_timestamp`] (the CLI only compares days, and a plain `i64`
//! keeps the public surface free of a dependency's types).

use jiff::SignedDuration;
use jiff::civil::{DateTime, Time, datetime};
use jiff::fmt::temporal::Pieces;

/// The timestamp used when a caller hands us one we cannot read.
pub(crate) const FALLBACK: &str = "1970-01-01T00:00:00Z";

const EPOCH: DateTime = datetime(1970, 1, 1, 0, 0, 0, 0);
/// The first and last instants RFC 3339 can write (four-digit years).
const FIRST: DateTime = datetime(0, 1, 1, 0, 0, 0, 0);
const LAST: DateTime = datetime(9999, 12, 31, 23, 59, 59, 0);

/// The UTC date-time `secs` seconds after the epoch, clamped to years 0000..=9999.
fn civil(secs: i64) -> DateTime {
    let fallback = if secs < 0 { FIRST } else { LAST };
    EPOCH
        .checked_add(SignedDuration::from_secs(secs))
        .unwrap_or(fallback)
        .clamp(FIRST, LAST)
}

/// Formats seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`, clamped to years 0000..=9999.
pub(crate) fn format_utc(secs: i64) -> String {
    let t = civil(secs);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// True when `b` has RFC 3339's `date-time` layout (the fields are not checked here).
fn rfc3339_layout(b: &[u8]) -> bool {
    const DATE_TIME: &[u8; 19] = b"0000-00-00T00:00:00";
    if b.len() < DATE_TIME.len() + 1 {
        return false;
    }
    let (head, mut rest) = b.split_at(DATE_TIME.len());
    let head_ok = head.iter().zip(DATE_TIME).all(|(c, want)| match want {
        b'0' => c.is_ascii_digit(),
        b'T' => matches!(c, b'T' | b't' | b' '),
        sep => c == sep,
    });
    if !head_ok {
        return false;
    }
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        // RFC 3339 offsets stop at 23:59 (jiff would take up to 25:59:59)
        [b'+' | b'-', h1 @ b'0'..=b'2', h2, b':', b'0'..=b'5', m2] => {
            h2.is_ascii_digit() && m2.is_ascii_digit() && (*h1 < b'2' || *h2 <= b'3')
        }
        _ => false,
    }
}

/// Parses an RFC 3339 date-time (`2026-11-29T01:02:03Z`, `...T01:02:03.5+01:00`) into
/// seconds since the epoch. Fractions are dropped; a leap second reads as second 59.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    if !rfc3339_layout(s.as_bytes()) {
        return None;
    }
    let pieces = Pieces::parse(s).ok()?;
    let time = pieces.time()?;
    let offset = pieces.offset()?.to_numeric_offset();
    let whole = Time::new(time.hour(), time.minute(), time.second(), 0).ok()?;
    let local = pieces.date().to_datetime(whole);
    let secs = local.duration_since(EPOCH).as_secs();
    Some(secs - i64::from(offset.seconds()))
}

/// The timestamp to print: the caller's, normalised to `YYYY-MM-DDTHH:MM:SSZ` (the one
/// form both CycloneDX and SPDX accept), or [`FALLBACK`] when it cannot be read or lies
/// outside years 0000..=9999.
pub(crate) fn normalize(s: &str) -> String {
    let bounds = FIRST.duration_since(EPOCH).as_secs()..=LAST.duration_since(EPOCH).as_secs();
    match parse_rfc3339(s) {
        Some(secs) if bounds.contains(&secs) => format_utc(secs),
        _ => FALLBACK.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (year, month, day) -> days since 1970-01-01, through jiff.
    fn days_from_civil(year: i16, month: i8, day: i8) -> i64 {
        datetime(year, month, day, 0, 0, 0, 0)
            .duration_since(EPOCH)
            .as_secs()
            / 86_400
    }

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
    fn round_trip_every_day_of_four_centuries() {
        // Every day from 1900 to 2300 once, plus a time of day: formatting and parsing
        // must be inverse functions.
        let start = days_from_civil(1900, 1, 1);
        let end = days_from_civil(2300, 1, 1);
        for days in start..end {
            let secs = days * 86_400 + 3_723;
            let text = format_utc(secs);
            assert_eq!(parse_rfc3339(&text), Some(secs), "{text}");
        }
    }

    #[test]
    fn the_last_and_first_writable_seconds_read_back() {
        assert_eq!(
            normalize("9999-12-31T23:59:59Z"),
            "9999-12-31T23:59:59Z",
            "beyond jiff::Timestamp::MAX, still RFC 3339"
        );
        assert_eq!(normalize("0000-01-01T00:00:00Z"), "0000-01-01T00:00:00Z");
        // an offset that pushes the instant past the last writable second
        assert_eq!(normalize("9999-12-31T23:59:59-01:00"), FALLBACK);
        // fractions are dropped towards the past, also before the epoch
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.5Z"), Some(-1));
        assert_eq!(
            parse_rfc3339("2016-12-31T23:59:60Z"),
            parse_rfc3339("2016-12-31T23:59:59Z")
        );
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
        assert_eq!(parse_rfc3339("2026-11-29 01:02:03Z"), Some(1_795_914_123));
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
            "2026-11-29T01:02Z",
            "2026-11-29T01:02:03Z[Europe/Paris]",
            "+02026-11-29T01:02:03Z",
            "2026-11-29T01:02:03+24:00",
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
