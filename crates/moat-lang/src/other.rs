//! # Conan, Hex (mix) and Pub lockfiles
//!
//! * [`parse_conan_lock`] reads `conan.lock`.
//!   - v1 (lock versions 0.1 to 0.4, `graph_lock.nodes`): every node with a `ref` (or, in
//!     the oldest formats, a `pref`) is a package. The root is node `"0"` (or, when there is
//!     no `"0"`, the nodes nobody requires); a root with a reference is the application.
//!     Nodes named in some node's `build_requires`, or with `context = "build"`, are dev
//!     with metadata `build=true`. `requires` (lists of ids or, in 0.1/0.2, maps of
//!     reference to id) give `depends`.
//!   - v2 (0.5, top-level `requires`, `build_requires`, `python_requires` lists): every
//!     reference is a package; `build_requires` and `python_requires` entries are dev with
//!     metadata `build=true` / `python_require=true`.
//!   - References `name/version[@user/channel][#rev][%ts][:package_id...]` give name and
//!     version; `user`, `channel`, `revision` go to metadata. A reference without a `/`
//!     (no name) is skipped with a warning.
//! * [`parse_mix_lock`]: `mix.lock`, an Elixir map literal read by a small term parser
//!   (strings, atoms, lists, tuples, maps, keyword lists). `{:hex, :name, "1.2.3", hash,
//!   managers, deps, repo, hash}` entries give the hex package name and version (the lock key
//!   goes to metadata `app` when it differs) and `depends`; `{:git, url, commit, opts}`
//!   entries give a package only when `opts` has a `tag:` (preferred) or `ref:`; others
//!   (and `:path`) are skipped without a warning.
//! * [`parse_pubspec_lock`]: `pubspec.lock` (YAML) `packages:`: `version`, `dependency`
//!   (`"direct dev"` is dev) and `source` (`hosted`, `git`, `path`, `sdk`) in metadata.
//!   `sdk` packages (flutter, ...) are kept, with `source=sdk`.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Ecosystem, LangPackage, LangParsed};

/// Upper bound on packages returned from one file.
pub const MAX_PACKAGES: usize = 100_000;
/// Nesting bound of the Elixir term parser.
const MAX_DEPTH: usize = 64;

// ---------------------------------------------------------------------------------------------
// conan.lock

struct ConanRef {
    name: String,
    version: String,
    user: Option<String>,
    channel: Option<String>,
    revision: Option<String>,
}

fn parse_conan_ref(r: &str) -> Option<ConanRef> {
    let r = r.trim();
    let r = r.split(':').next().unwrap_or(r);
    let r = r.split('%').next().unwrap_or(r);
    let (r, revision) = match r.split_once('#') {
        Some((a, b)) => (a, Some(b.to_string()).filter(|s| !s.is_empty())),
        None => (r, None),
    };
    let (nv, uc) = match r.split_once('@') {
        Some((a, b)) => (a, Some(b)),
        None => (r, None),
    };
    let (name, version) = nv.split_once('/')?;
    if name.is_empty() || version.is_empty() {
        return None;
    }
    let (user, channel) = match uc.and_then(|s| s.split_once('/')) {
        Some((u, c)) => (Some(u.to_string()), Some(c.to_string())),
        None => (uc.map(str::to_string), None),
    };
    Some(ConanRef {
        name: name.to_string(),
        version: version.to_string(),
        user,
        channel,
        revision,
    })
}

fn conan_package(r: ConanRef) -> LangPackage {
    let mut p = LangPackage::new(Ecosystem::Conan, r.name, r.version);
    for (k, v) in [
        ("user", r.user),
        ("channel", r.channel),
        ("revision", r.revision),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            p.metadata.insert(k.into(), v);
        }
    }
    p
}

/// Node ids named by a `requires`/`build_requires` value: a list of ids, or a map whose
/// values are ids.
fn node_ids(v: Option<&serde_json::Value>) -> Vec<String> {
    match v {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::Object(o)) => o
            .values()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Parses a `conan.lock` (v1 graph lock or v2).
pub fn parse_conan_lock(path: &str, bytes: &[u8]) -> LangParsed {
    let doc: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(d) => d,
        Err(e) => return LangParsed::warning(format!("{path}: invalid JSON: {e}")),
    };
    let mut out = LangParsed::default();
    if let Some(nodes) = doc
        .get("graph_lock")
        .and_then(|g| g.get("nodes"))
        .and_then(|n| n.as_object())
    {
        let mut required: BTreeSet<String> = BTreeSet::new();
        let mut build: BTreeSet<String> = BTreeSet::new();
        for node in nodes.values() {
            required.extend(node_ids(node.get("requires")));
            let b = node_ids(node.get("build_requires"));
            required.extend(b.iter().cloned());
            build.extend(b);
        }
        let has_zero = nodes.contains_key("0");
        let reference = |node: &serde_json::Value| -> Option<String> {
            node.get("ref")
                .and_then(|r| r.as_str())
                .or_else(|| node.get("pref").and_then(|r| r.as_str()))
                .map(str::to_string)
        };
        for (id, node) in nodes {
            if out.packages.len() >= MAX_PACKAGES {
                out.warnings.push(format!("{path}: too many nodes"));
                break;
            }
            let Some(r) = reference(node) else { continue };
            let Some(cr) = parse_conan_ref(&r) else {
                out.warnings
                    .push(format!("{path}: node {id}: cannot read reference {r:?}"));
                continue;
            };
            let mut p = conan_package(cr);
            let is_root = if has_zero {
                id == "0"
            } else {
                !required.contains(id)
            };
            if is_root {
                p.application = true;
            } else if build.contains(id)
                || node.get("context").and_then(|c| c.as_str()) == Some("build")
            {
                p.dev = true;
                p.metadata.insert("build".into(), "true".into());
            }
            for dep in node_ids(node.get("requires"))
                .into_iter()
                .chain(node_ids(node.get("build_requires")))
            {
                if let Some(dr) = nodes
                    .get(&dep)
                    .and_then(reference)
                    .and_then(|r| parse_conan_ref(&r))
                    && !p.depends.contains(&dr.name)
                {
                    p.depends.push(dr.name);
                }
            }
            out.packages.push(p);
        }
        return out;
    }
    let mut any = false;
    for (key, flag) in [
        ("requires", None),
        ("build_requires", Some("build")),
        ("python_requires", Some("python_require")),
    ] {
        let Some(list) = doc.get(key).and_then(|l| l.as_array()) else {
            continue;
        };
        any = true;
        for r in list {
            if out.packages.len() >= MAX_PACKAGES {
                out.warnings.push(format!("{path}: too many references"));
                return out;
            }
            let Some(r) = r.as_str() else { continue };
            let Some(cr) = parse_conan_ref(r) else {
                out.warnings
                    .push(format!("{path}: {key}: cannot read reference {r:?}"));
                continue;
            };
            let mut p = conan_package(cr);
            if let Some(f) = flag {
                p.dev = true;
                p.metadata.insert(f.into(), "true".into());
            }
            out.packages.push(p);
        }
    }
    if !any && !doc.is_object() {
        out.warnings.push(format!("{path}: not a conan lockfile"));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// mix.lock

#[derive(Debug, Clone, PartialEq)]
enum Term {
    Str(String),
    Atom(String),
    List(Vec<Term>),
    Tuple(Vec<Term>),
    Map(Vec<(Term, Term)>),
    Other,
}

struct TermParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl TermParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() {
            match self.s[self.i] {
                b' ' | b'\t' | b'\r' | b'\n' | b',' => self.i += 1,
                b'#' => {
                    while self.i < self.s.len() && self.s[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn string(&mut self) -> Option<String> {
        // at '"'
        self.i += 1;
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                b'"' => return Some(String::from_utf8_lossy(&out).into_owned()),
                c => out.push(c),
            }
        }
        None
    }

    fn word(&mut self) -> String {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'?' | b'!' | b'@' | b'-') {
                self.i += 1;
            } else {
                break;
            }
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    /// Items up to `close`; keyword pairs (`key: value`, `"key": value`) become 2-tuples
    /// and `a => b` map entries are returned as pairs when `pairs` is set.
    fn items(&mut self, close: u8, depth: usize) -> Option<Vec<(Term, Option<Term>)>> {
        let mut out = Vec::new();
        loop {
            self.ws();
            match self.peek() {
                None => return None,
                Some(c) if c == close => {
                    self.i += 1;
                    return Some(out);
                }
                _ => {}
            }
            let before = self.i;
            // keyword key?
            let key = self.keyword_key();
            if let Some(k) = key {
                self.ws();
                let v = self.term(depth + 1)?;
                out.push((Term::Atom(k), Some(v)));
                continue;
            }
            self.i = before;
            let t = self.term(depth + 1)?;
            self.ws();
            if self.s[self.i..].starts_with(b"=>") {
                self.i += 2;
                self.ws();
                let v = self.term(depth + 1)?;
                out.push((t, Some(v)));
            } else {
                out.push((t, None));
            }
            if self.i == before {
                return None;
            }
        }
    }

    /// `name:` or `"name":` followed by whitespace; consumes it when present.
    fn keyword_key(&mut self) -> Option<String> {
        let start = self.i;
        let k = match self.peek()? {
            b'"' => self.string()?,
            c if c.is_ascii_alphabetic() || c == b'_' => self.word(),
            _ => return None,
        };
        if self.peek() == Some(b':')
            && self
                .s
                .get(self.i + 1)
                .is_none_or(|c| c.is_ascii_whitespace())
        {
            self.i += 1;
            return Some(k);
        }
        self.i = start;
        None
    }

    fn term(&mut self, depth: usize) -> Option<Term> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(Term::Str),
            b':' => {
                self.i += 1;
                if self.peek() == Some(b'"') {
                    self.string().map(Term::Atom)
                } else {
                    let w = self.word();
                    (!w.is_empty()).then_some(Term::Atom(w))
                }
            }
            b'[' => {
                self.i += 1;
                let items = self.items(b']', depth)?;
                Some(Term::List(
                    items
                        .into_iter()
                        .map(|(k, v)| match v {
                            Some(v) => Term::Tuple(vec![k, v]),
                            None => k,
                        })
                        .collect(),
                ))
            }
            b'{' => {
                self.i += 1;
                let items = self.items(b'}', depth)?;
                Some(Term::Tuple(
                    items
                        .into_iter()
                        .map(|(k, v)| match v {
                            Some(v) => Term::Tuple(vec![k, v]),
                            None => k,
                        })
                        .collect(),
                ))
            }
            b'%' => {
                self.i += 1;
                if self.peek() != Some(b'{') {
                    return None;
                }
                self.i += 1;
                let items = self.items(b'}', depth)?;
                Some(Term::Map(
                    items
                        .into_iter()
                        .map(|(k, v)| (k, v.unwrap_or(Term::Other)))
                        .collect(),
                ))
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' => {
                self.i += 1;
                self.word();
                Some(Term::Other)
            }
            _ => None,
        }
    }
}

fn term_text(t: &Term) -> Option<&str> {
    match t {
        Term::Str(s) | Term::Atom(s) => Some(s),
        _ => None,
    }
}

/// Looks up `key:` in a keyword list.
fn keyword<'a>(list: &'a Term, key: &str) -> Option<&'a str> {
    let Term::List(items) = list else { return None };
    items.iter().find_map(|it| match it {
        Term::Tuple(kv) if kv.len() == 2 && kv[0] == Term::Atom(key.to_string()) => {
            term_text(&kv[1])
        }
        _ => None,
    })
}

/// Parses an Elixir `mix.lock`.
pub fn parse_mix_lock(path: &str, bytes: &[u8]) -> LangParsed {
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if text.iter().all(|c| c.is_ascii_whitespace()) {
        return LangParsed::default();
    }
    let mut parser = TermParser { s: text, i: 0 };
    let Some(Term::Map(entries)) = parser.term(0) else {
        return LangParsed::warning(format!("{path}: not an Elixir map"));
    };
    let mut out = LangParsed::default();
    for (key, value) in &entries {
        if out.packages.len() >= MAX_PACKAGES {
            out.warnings.push(format!("{path}: too many entries"));
            break;
        }
        let Some(app) = term_text(key) else { continue };
        let Term::Tuple(t) = value else {
            out.warnings
                .push(format!("{path}: {app}: entry is not a tuple"));
            continue;
        };
        match t.first() {
            Some(Term::Atom(kind)) if kind == "hex" => {
                let (Some(name), Some(version)) =
                    (t.get(1).and_then(term_text), t.get(2).and_then(term_text))
                else {
                    out.warnings
                        .push(format!("{path}: {app}: hex entry without name and version"));
                    continue;
                };
                let mut p = LangPackage::new(Ecosystem::Hex, name, version);
                if name != app {
                    p.metadata.insert("app".into(), app.to_string());
                }
                if let Some(Term::List(deps)) = t.get(5) {
                    for d in deps {
                        let n = match d {
                            Term::Tuple(x) => x.first().and_then(term_text),
                            _ => None,
                        };
                        if let Some(n) = n
                            && !p.depends.iter().any(|x| x == n)
                        {
                            p.depends.push(n.to_string());
                        }
                    }
                }
                if let Some(repo) = t.get(6).and_then(term_text) {
                    p.metadata.insert("repo".into(), repo.to_string());
                }
                out.packages.push(p);
            }
            Some(Term::Atom(kind)) if kind == "git" => {
                let opts = t.get(3).unwrap_or(&Term::Other);
                let Some(version) = keyword(opts, "tag").or_else(|| keyword(opts, "ref")) else {
                    continue;
                };
                let mut p = LangPackage::new(Ecosystem::Hex, app, version);
                p.metadata.insert("source".into(), "git".into());
                if let Some(url) = t.get(1).and_then(term_text) {
                    p.metadata.insert("url".into(), url.to_string());
                }
                if let Some(c) = t.get(2).and_then(term_text) {
                    p.metadata.insert("commit".into(), c.to_string());
                }
                out.packages.push(p);
            }
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// pubspec.lock

fn scalar_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parses a Dart/Flutter `pubspec.lock`.
pub fn parse_pubspec_lock(path: &str, bytes: &[u8]) -> LangParsed {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(_) => return LangParsed::warning(format!("{path}: not UTF-8")),
    };
    if text.trim().is_empty() {
        return LangParsed::default();
    }
    let doc: serde_json::Value = match serde_saphyr::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            let msg = e.to_string();
            let msg = msg.lines().next().unwrap_or("");
            return LangParsed::warning(format!("{path}: invalid YAML: {msg}"));
        }
    };
    let mut out = LangParsed::default();
    let Some(pkgs) = doc.get("packages").and_then(|p| p.as_object()) else {
        return out;
    };
    let sorted: BTreeMap<&String, &serde_json::Value> = pkgs.iter().collect();
    for (name, info) in sorted {
        if out.packages.len() >= MAX_PACKAGES {
            out.warnings.push(format!("{path}: too many packages"));
            break;
        }
        let Some(version) = info.get("version").and_then(scalar_text) else {
            out.warnings.push(format!("{path}: {name}: no version"));
            continue;
        };
        let mut p = LangPackage::new(Ecosystem::Pub, name.as_str(), version);
        let dependency = info.get("dependency").and_then(scalar_text);
        p.dev = dependency.as_deref() == Some("direct dev");
        if let Some(d) = dependency {
            p.metadata.insert("dependency".into(), d);
        }
        if let Some(s) = info.get("source").and_then(scalar_text) {
            p.metadata.insert("source".into(), s);
        }
        if let Some(desc) = info.get("description") {
            if let Some(u) = desc.get("url").and_then(scalar_text) {
                p.metadata.insert("url".into(), u);
            }
            if let Some(r) = desc.get("resolved-ref").and_then(scalar_text) {
                p.metadata.insert("resolved_ref".into(), r);
            }
        }
        out.packages.push(p);
    }
    out
}
