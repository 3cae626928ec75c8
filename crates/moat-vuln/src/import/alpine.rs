//! Alpine secdb (being written by a helper; replaced wholesale).
use moat_model::advisory::Advisory;
/// Alpine secdb in YAML (v3.3-v3.11 style `packages: - pkg: {name, secfixes: {ver: [CVE..]}}`).
pub fn parse_secdb_yaml(_bytes: &[u8]) -> Result<Vec<Advisory>, String> {
    Err("alpine secdb YAML importer not written yet".into())
}
/// Alpine secdb in the current JSON form.
pub fn parse_secdb_json(_bytes: &[u8]) -> Result<Vec<Advisory>, String> {
    Err("alpine secdb JSON importer not written yet".into())
}
