//! `yarn.lock` of yarn 2+ ("berry"): a YAML document keyed by comma-separated specifiers,
//! with a `__metadata` entry.
//!
//! Each entry gives `version`, `resolution` (the real name, and `@workspace:` for the
//! project's own packages, which are applications) and `dependencies` /
//! `optionalDependencies`. Invalid YAML is one `parse-error` with the line the YAML parser
//! stopped at; an empty entry or one without a version is a `parse-error` naming its key.

use std::collections::{BTreeMap, BTreeSet};

use moat_model::Diagnostic;
use serde::Deserialize;

use super::yarn::{spec_name, split_specs};
use super::{dep_target_name, pkg, split_name_at};
use crate::{LangParsed, read};

#[derive(Deserialize)]
struct BerryEntry {
    version: Option<String>,
    resolution: Option<String>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: Option<BTreeMap<String, String>>,
}

pub(super) fn parse(text: &str) -> LangParsed {
    let doc: BTreeMap<String, Option<BerryEntry>> =
        match serde_saphyr::from_str_with_options(text, crate::yaml_options()) {
            Ok(d) => d,
            Err(e) => return read::yaml_error(&e).into(),
        };
    let mut out = LangParsed::default();
    for (key, entry) in doc {
        if key == "__metadata" {
            continue;
        }
        let Some(entry) = entry else {
            out.warn(Diagnostic::parse(format!("{key}: empty entry")));
            continue;
        };
        let specs = split_specs(&key);
        let Some(first) = specs.first() else { continue };
        let (mut name, alias, range) = spec_name(first);
        let mut application = range.starts_with("workspace:");
        if let Some(res) = entry.resolution.as_deref() {
            let (res_name, res_range) = split_name_at(res);
            if !res_name.is_empty() {
                name = res_name.to_string();
            }
            application |= res_range.starts_with("workspace:");
        }
        let Some(version) = entry.version else {
            out.warn(Diagnostic::parse(format!("{key}: entry without version")));
            continue;
        };
        let mut p = pkg(&name, &version);
        p.application = application;
        if let Some(a) = alias.filter(|a| *a != name) {
            p.metadata.insert("alias".into(), a.into());
        }
        let mut deps = BTreeSet::new();
        for map in [&entry.dependencies, &entry.optional_dependencies]
            .into_iter()
            .flatten()
        {
            for (dn, dv) in map {
                deps.insert(dep_target_name(dn, dv).to_string());
            }
        }
        p.depends = deps.into_iter().collect();
        out.packages.push(p);
    }
    out
}
