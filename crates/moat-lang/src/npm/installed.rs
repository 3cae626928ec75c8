//! [`parse_installed_package_json`]: `node_modules/**/package.json`, one installed package
//! (name, version, license as a string, `{type}` object or legacy `licenses` array,
//! `dependencies` / `optionalDependencies` names). Without a name or version (nested
//! sub-package stubs) the file yields nothing and no diagnostic; a file that is not JSON
//! is one `parse-error`. The package lists the file itself in `files`.

use super::{dep_names, licenses_of, pkg, value_str};
use crate::{LangParsed, read};

/// Parses an installed `node_modules/**/package.json`.
pub fn parse_installed_package_json(path: &str, bytes: &[u8]) -> LangParsed {
    let doc = match read::json(bytes) {
        Ok(v) => v,
        Err(d) => return d.into(),
    };
    let (Some(name), Some(version)) = (value_str(doc.get("name")), value_str(doc.get("version")))
    else {
        return LangParsed::default();
    };
    if name.is_empty() || version.is_empty() {
        return LangParsed::default();
    }
    let mut p = pkg(name, version);
    p.licenses = licenses_of(&doc);
    p.depends = dep_names(&doc, &["dependencies", "optionalDependencies"]);
    p.files.push(format!("/{}", path.trim_start_matches('/')));
    LangParsed::one(p)
}
