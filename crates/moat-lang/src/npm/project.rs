//! [`parse_project_package_json`]: a project's own `package.json` (outside `node_modules/`),
//! read as a manifest ([`crate::project`]): name, version, licence, the names of its
//! runtime dependencies (`dependencies`, `optionalDependencies`, `peerDependencies`) and of
//! its `devDependencies`, and whether it has `workspaces` (an array of globs, or
//! `{packages: [...]}`). A document that is not a JSON object is one `parse-error`.

use serde_json::Value;

use super::{dep_names, licenses_of, value_str};
use crate::project::{ManifestParsed, ProjectManifest};
use crate::{Ecosystem, read};

/// Parses a project's `package.json`.
pub fn parse_project_package_json(_path: &str, bytes: &[u8]) -> ManifestParsed {
    let doc = match read::json_object(bytes, "package.json") {
        Ok(v) => v,
        Err(d) => return d.into(),
    };
    let mut m = ProjectManifest::new(Ecosystem::Npm);
    m.name = value_str(doc.get("name"))
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    m.version = value_str(doc.get("version"))
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    m.licenses = licenses_of(&doc);
    m.dependencies = dep_names(
        &doc,
        &["dependencies", "optionalDependencies", "peerDependencies"],
    );
    m.dev_dependencies = dep_names(&doc, &["devDependencies"]);
    m.workspace = match doc.get("workspaces") {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => o.get("packages").is_some_and(|p| p.is_array()),
        _ => false,
    };
    m.into()
}
