//! [`parse_mix_lock`]: `mix.lock`, an Elixir map literal read by a small term parser
//! (strings, atoms, lists, tuples, maps, keyword lists). `{:hex, :name, "1.2.3", hash,
//! managers, deps, repo, hash}` entries give the hex package name and version (the lock key
//! goes to metadata `app` when it differs) and `depends`; `{:git, url, commit, opts}`
//! entries give a package only when `opts` has a `tag:` (preferred) or `ref:`; others
//! (and `:path`) are skipped without a diagnostic.
//!
//! A file that is not an Elixir map is one `parse-error` at the line where the term parser
//! stopped; an entry that is not a tuple, or a hex entry without name and version, is a
//! `parse-error` at the line of its key. Nesting is bounded (depth 64).

use moat_model::Diagnostic;

use super::MAX_PACKAGES;
use crate::{Ecosystem, LangPackage, LangParsed, read};

/// Nesting bound of the Elixir term parser.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Term {
    Str(String),
    Atom(String),
    List(Vec<Term>),
    Tuple(Vec<Term>),
    Map(Vec<(Term, Term)>),
    Other,
}

/// An item of a list, tuple or map, and the byte offset it starts at.
struct Item {
    at: usize,
    key: Term,
    value: Option<Term>,
}

/// Items of a list or tuple: a keyword pair `key: value` becomes the tuple `{:key, value}`.
fn pairs_as_tuples(items: Vec<Item>) -> Vec<Term> {
    items
        .into_iter()
        .map(|it| match it.value {
            Some(v) => Term::Tuple(vec![it.key, v]),
            None => it.key,
        })
        .collect()
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

    /// Items up to `close`, each with the offset it starts at: keyword pairs (`key: value`,
    /// `"key": value`) and `a => b` map entries have a value, other items none.
    fn items(&mut self, close: u8, depth: usize) -> Option<Vec<Item>> {
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
            let at = self.i;
            // keyword key?
            if let Some(k) = self.keyword_key() {
                self.ws();
                let value = Some(self.term(depth + 1)?);
                out.push(Item {
                    at,
                    key: Term::Atom(k),
                    value,
                });
                continue;
            }
            let key = self.term(depth + 1)?;
            self.ws();
            let value = if self.s[self.i..].starts_with(b"=>") {
                self.i += 2;
                self.ws();
                Some(self.term(depth + 1)?)
            } else {
                None
            };
            out.push(Item { at, key, value });
            if self.i == at {
                return None;
            }
        }
    }

    /// The items of a `%{...}` map at the current position.
    fn map_items(&mut self, depth: usize) -> Option<Vec<Item>> {
        self.ws();
        if !self.s[self.i..].starts_with(b"%{") {
            return None;
        }
        self.i += 2;
        self.items(b'}', depth)
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
                Some(Term::List(pairs_as_tuples(self.items(b']', depth)?)))
            }
            b'{' => {
                self.i += 1;
                Some(Term::Tuple(pairs_as_tuples(self.items(b'}', depth)?)))
            }
            b'%' => Some(Term::Map(
                self.map_items(depth)?
                    .into_iter()
                    .map(|it| (it.key, it.value.unwrap_or(Term::Other)))
                    .collect(),
            )),
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
pub fn parse_mix_lock(_path: &str, bytes: &[u8]) -> LangParsed {
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if text.iter().all(|c| c.is_ascii_whitespace()) {
        return LangParsed::default();
    }
    let mut parser = TermParser { s: text, i: 0 };
    let Some(entries) = parser.map_items(0) else {
        let line = read::line_at(text, parser.i);
        return Diagnostic::parse("not an Elixir map").line(line).into();
    };
    let mut out = LangParsed::default();
    for Item { at, key, value } in &entries {
        let line = read::line_at(text, *at);
        if out.packages.len() >= MAX_PACKAGES {
            out.warn(read::too_many("entries").line(line));
            break;
        }
        let Some(app) = term_text(key) else { continue };
        let Some(Term::Tuple(t)) = value else {
            let msg = format!("{app}: entry is not a tuple");
            out.warn(Diagnostic::parse(msg).line(line));
            continue;
        };
        match t.first() {
            Some(Term::Atom(kind)) if kind == "hex" => {
                let (Some(name), Some(version)) =
                    (t.get(1).and_then(term_text), t.get(2).and_then(term_text))
                else {
                    let msg = format!("{app}: hex entry without name and version");
                    out.warn(Diagnostic::parse(msg).line(line));
                    continue;
                };
                let mut p = LangPackage::new(Ecosystem::Hex, name, version);
                if name != app {
                    p.metadata.insert("app".into(), app.to_string().into());
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
                    p.metadata.insert("repo".into(), repo.to_string().into());
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
                    p.metadata.insert("url".into(), url.to_string().into());
                }
                if let Some(c) = t.get(2).and_then(term_text) {
                    p.metadata.insert("commit".into(), c.to_string().into());
                }
                out.packages.push(p);
            }
            _ => {}
        }
    }
    out
}
