//! (being written by a helper; replaced wholesale)
use crate::LangParsed;
pub fn parse(path: &str, _bytes: &[u8]) -> LangParsed {
    LangParsed::warning(format!("{path}: parser not written yet"))
}
