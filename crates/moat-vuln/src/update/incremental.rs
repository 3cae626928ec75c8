//! Incremental OSV updates: instead of a whole `all.zip`, the records changed since the
//! last update.
//!
//! OSV's bucket publishes, beside each ecosystem's `all.zip`, a `modified_id.csv`: one line
//! per record, `<RFC 3339 modified>,<id>`, newest first (the bucket's root index writes
//! `<ecosystem>/<id>`; either is read), and every record as `<ecosystem>/<id>.json`.
//!
//! The time the stored records are current as of is the source's `Last-Modified` in the
//! database (the `sources` row, [`SourceMeta::last_modified`]): the archive's own after a
//! whole download, the newest `modified` of the index after an incremental one, written as
//! an HTTP date either way, so the conditional request of a later whole download
//! (`If-Modified-Since`) stays right. With it known and the stored URL the archive's, the
//! index is read from the top down to that time (after a whole download, whose response had
//! an `ETag`, less [`MARGIN`], for records written while the archive was made: fetching one
//! twice is harmless; after an incremental one, which stores no `ETag`, exactly), and each changed record is
//! fetched and written in [`Mode::Merge`] (added or replaced by id) in one transaction.
//!
//! The whole archive is downloaded instead ([`Outcome::Whole`], with why) when the source
//! was never downloaded from this URL or its time is unknown, when it is older than
//! [`MAX_BEHIND_DAYS`], when the index is missing (404), unreadable or not newest-first, or
//! when more than [`MAX_CHANGED`] records changed. A record that cannot be fetched fails
//! the incremental update as a whole (nothing written); the caller then downloads the
//! archive.

use super::fetch::Http;
use super::{RecordSink, Source, SourceError};
use crate::db::{Builder, Mode, SourceMeta};
use crate::import::Item;
use crate::import::osv;

/// More changed records than this: the whole archive is cheaper.
pub const MAX_CHANGED: usize = 5_000;
/// Stored records older than this many days: the whole archive.
pub const MAX_BEHIND_DAYS: i64 = 30;
/// Seconds before the stored time the index is read down to.
pub const MARGIN: i64 = 3_600;
/// Most bytes of `modified_id.csv` read (it is read only down to the stored time).
const MAX_INDEX_BYTES: u64 = 256 << 20;

/// What an incremental update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Records changed and were written: the records the source now holds.
    Updated(usize),
    /// Nothing changed since the stored time.
    Unchanged,
    /// Not possible: download the whole archive (why, when worth saying).
    Whole(Option<String>),
}

/// The index URL beside an `all.zip` URL.
pub fn index_url(zip_url: &str) -> Option<String> {
    zip_url
        .strip_suffix("/all.zip")
        .map(|dir| format!("{dir}/modified_id.csv"))
}

/// The time an HTTP date stands for.
pub fn http_date(s: &str) -> Option<jiff::Timestamp> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(s.trim())
        .ok()
}

/// An HTTP date (RFC 9110: `Tue, 01 Oct 2024 00:00:00 GMT`).
pub fn to_http_date(t: jiff::Timestamp) -> String {
    jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&t)
        .unwrap_or_default()
}

/// The changed ids an index lists down to a time, or why it cannot be used.
#[derive(Debug, Default)]
struct Changed {
    ids: Vec<String>,
    newest: Option<jiff::Timestamp>,
    /// The time of the line before.
    prev: Option<jiff::Timestamp>,
    unusable: Option<String>,
}

impl Changed {
    /// Takes one line; false to stop reading. Lines at `since` are taken when `inclusive`.
    fn line(&mut self, line: &str, since: jiff::Timestamp, inclusive: bool) -> bool {
        if line.trim().is_empty() {
            return true;
        }
        let parsed = line.split_once(',').and_then(|(t, id)| {
            let t: jiff::Timestamp = t.trim().parse().ok()?;
            let id = id.trim();
            let id = id.rsplit('/').next().unwrap_or(id);
            let ok = !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
                && !id.starts_with('.');
            ok.then(|| (t, id.to_string()))
        });
        let Some((t, id)) = parsed else {
            self.unusable = Some(format!("unreadable line {line:?}"));
            return false;
        };
        // Newest first, or it cannot be read down to a time.
        if self.prev.is_some_and(|prev| t > prev) {
            self.unusable = Some("not sorted newest first".into());
            return false;
        }
        self.prev = Some(t);
        self.newest.get_or_insert(t);
        if t < since || (t == since && !inclusive) {
            return false;
        }
        self.ids.push(id);
        if self.ids.len() > MAX_CHANGED {
            self.unusable = Some(format!("more than {MAX_CHANGED} records changed"));
            return false;
        }
        true
    }
}

/// Updates `src` (an OSV `all.zip` source) from its index when it can (see the module
/// docs). On an error nothing was written.
pub(super) fn update(
    builder: &mut Builder,
    http: &mut Http,
    src: &Source,
    stored: Option<&SourceMeta>,
    progress: &mut dyn FnMut(&str),
) -> Result<Outcome, SourceError> {
    let Some(stored) = stored.filter(|m| m.url.as_deref() == Some(src.url.as_str())) else {
        return Ok(Outcome::Whole(None));
    };
    let Some(as_of) = stored.last_modified.as_deref().and_then(http_date) else {
        return Ok(Outcome::Whole(None));
    };
    let Some(index) = index_url(&src.url) else {
        return Ok(Outcome::Whole(None));
    };
    let now = jiff::Timestamp::now();
    let behind = (now.as_second() - as_of.as_second()) / 86_400;
    if behind > MAX_BEHIND_DAYS {
        return Ok(Outcome::Whole(Some(format!(
            "its records are {behind} days old (over {MAX_BEHIND_DAYS})"
        ))));
    }
    // A time from an archive (it has an ETag) is read down to less the margin; one from an
    // index (no ETag: written here) exactly, records at it were fetched then.
    let (since, inclusive) = if stored.etag.is_some() {
        (
            jiff::Timestamp::from_second(as_of.as_second() - MARGIN).unwrap_or(as_of),
            true,
        )
    } else {
        (as_of, false)
    };
    let mut changed = Changed::default();
    let found = {
        let cell = std::cell::RefCell::new(&mut changed);
        http.lines(
            &index,
            MAX_INDEX_BYTES,
            progress,
            &mut || **cell.borrow_mut() = Changed::default(),
            &mut |l| cell.borrow_mut().line(l, since, inclusive),
        )?
    };
    if !found {
        return Ok(Outcome::Whole(Some(format!("{index} is missing"))));
    }
    if let Some(why) = changed.unusable {
        return Ok(Outcome::Whole(Some(format!("{index}: {why}"))));
    }
    if changed.ids.is_empty() {
        return Ok(Outcome::Unchanged);
    }
    let dir = index.trim_end_matches("modified_id.csv");
    progress(&format!(
        "{}: {} records changed since {}",
        src.label,
        changed.ids.len(),
        to_http_date(as_of)
    ));
    let mut w = builder
        .writer(Mode::Merge)
        .map_err(super::DecodeError::from)?;
    w.touch(&src.label).map_err(super::DecodeError::from)?;
    let mut sink = RecordSink::new(&src.label, &mut w);
    let mut result = Ok(());
    for id in &changed.ids {
        let url = format!("{dir}{id}.json");
        let Some(body) = http.small(&url, osv::MAX_ENTRY_BYTES, progress)? else {
            // Gone from the bucket since the index was written: nothing to write.
            continue;
        };
        let mut one = crate::import::ImportBatch::default();
        osv::read_json_into(&body, id, &mut one);
        result = one.drain_into(&mut |i: Item| sink.take(i));
        if result.is_err() {
            break;
        }
    }
    let malformed = sink.finish(result)?;
    let meta = SourceMeta {
        url: Some(src.url.clone()),
        etag: None,
        last_modified: changed.newest.map(to_http_date),
    };
    Ok(Outcome::Updated(super::finish_source(
        w, &src.label, meta, malformed, progress,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Changed {
        fn line_t(&mut self, l: &str, since: jiff::Timestamp) -> bool {
            self.line(l, since, true)
        }
    }

    #[test]
    fn urls_and_dates() {
        assert_eq!(
            index_url("http://m/Go/all.zip").as_deref(),
            Some("http://m/Go/modified_id.csv")
        );
        assert_eq!(index_url("http://m/x.json"), None);
        let t = http_date("Tue, 01 Oct 2024 00:00:00 GMT").unwrap();
        assert_eq!(t.to_string(), "2024-10-01T00:00:00Z");
        assert_eq!(to_http_date(t), "Tue, 01 Oct 2024 00:00:00 GMT");
    }

    #[test]
    fn the_index_is_read_down_to_a_time() {
        let since: jiff::Timestamp = "2024-10-01T00:00:00Z".parse().unwrap();
        let mut c = Changed::default();
        for l in [
            "2024-10-03T00:00:00Z,GO-2024-3",
            "2024-10-02T00:00:00.5Z,Go/GO-2024-2",
            "",
            "2024-09-30T00:00:00Z,GO-2024-1",
            "2024-09-29T00:00:00Z,GO-2024-0",
        ] {
            if !c.line(l, since, true) {
                break;
            }
        }
        assert_eq!(c.ids, ["GO-2024-3", "GO-2024-2"]);
        assert_eq!(c.newest.unwrap().to_string(), "2024-10-03T00:00:00Z");
        assert!(c.unusable.is_none());

        let mut c = Changed::default();
        assert!(c.line_t("2024-10-02T00:00:00Z,A", since));
        assert!(!c.line_t("2024-10-03T00:00:00Z,B", since));
        assert_eq!(c.unusable.as_deref(), Some("not sorted newest first"));
        let mut c = Changed::default();
        assert!(!c.line_t("garbage", since));
        assert!(c.unusable.is_some());
        // Only the last path segment is an id.
        let mut c = Changed::default();
        assert!(c.line_t("2024-10-03T00:00:00Z,../../etc/passwd", since));
        assert!(!c.line_t("2024-10-02T00:00:00Z,a/.hidden", since));
        assert_eq!(c.ids, ["passwd"]);
    }
}
