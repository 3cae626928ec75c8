//! Debian security tracker (being written by a helper; replaced wholesale).
use moat_model::advisory::Advisory;
/// Which list a DSA/DLA text file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Dsa,
    Dla,
}
/// `data/DSA/list` or `data/DLA/list` text.
pub fn parse_list(_bytes: &[u8], _kind: ListKind) -> Result<Vec<Advisory>, String> {
    Err("Debian DSA/DLA list importer not written yet".into())
}
/// The tracker's JSON (`{source package: {CVE: {releases: {...}}}}`).
pub fn parse_tracker_json(_bytes: &[u8]) -> Result<Vec<Advisory>, String> {
    Err("Debian tracker JSON importer not written yet".into())
}
