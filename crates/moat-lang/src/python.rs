//! (being written by a helper; replaced wholesale)
use crate::LangParsed;
pub fn parse_metadata(path: &str, _bytes: &[u8]) -> LangParsed {
    LangParsed::warning(format!("{path}: parser not written yet"))
}
pub fn parse_record(path: &str, _bytes: &[u8]) -> LangParsed {
    LangParsed::warning(format!("{path}: parser not written yet"))
}
pub fn parse_requirements(path: &str, _bytes: &[u8]) -> LangParsed {
    LangParsed::warning(format!("{path}: parser not written yet"))
}
pub fn parse_poetry_lock(path: &str, _bytes: &[u8]) -> LangParsed {
    LangParsed::warning(format!("{path}: parser not written yet"))
}
pub fn parse_pipfile_lock(path: &str, _bytes: &[u8]) -> LangParsed {
    LangParsed::warning(format!("{path}: parser not written yet"))
}
pub fn parse_uv_lock(path: &str, _bytes: &[u8]) -> LangParsed {
    LangParsed::warning(format!("{path}: parser not written yet"))
}
