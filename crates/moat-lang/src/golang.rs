//! (being written by a helper; replaced wholesale)
use crate::LangParsed;
pub fn parse_mod(path: &str, _bytes: &[u8]) -> LangParsed {
    LangParsed::warning(format!("{path}: parser not written yet"))
}
pub fn parse_sum(path: &str, _bytes: &[u8]) -> LangParsed {
    LangParsed::warning(format!("{path}: parser not written yet"))
}
