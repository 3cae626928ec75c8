//! # A small XML element tree, within limits
//!
//! `pom.xml`, `packages.config` and `Directory.Packages.props` are read into [`El`]: the
//! element's local name (namespace prefix dropped), its attributes, its own text and its
//! children. The reader (quick-xml) is bounded by nesting depth and element count; the five
//! predefined entities and character references are resolved, any other entity is an error
//! (no DTD expansion, so no entity bombs). What cannot be read is an [`XmlError`], which
//! becomes one diagnostic with the line it was met at ([`XmlError::diagnostic`]).
//!
//! Rejected alternative: a full DOM crate (namespaces, DTDs) for three formats that need
//! none of it.

use moat_model::{Code, Diagnostic};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::read;

/// Deepest element nesting accepted.
pub(crate) const MAX_DEPTH: usize = 64;
/// Most elements accepted.
pub(crate) const MAX_ELEMENTS: usize = 200_000;

/// A parsed element.
#[derive(Debug, Default)]
pub(crate) struct El {
    pub name: String,
    /// Attributes by local name, in document order (values unescaped).
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<El>,
}

impl El {
    pub fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of child `name`; `None` when absent or empty.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }

    /// The trimmed value of attribute `name` (case-insensitive, as MSBuild reads them);
    /// `None` when absent or empty.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_string()
}

/// Why a document could not be read; `at` is the byte offset reached.
#[derive(Debug, thiserror::Error)]
pub(crate) enum XmlError {
    #[error("{source}")]
    Syntax {
        at: u64,
        source: quick_xml::errors::Error,
    },
    #[error("nesting deeper than {MAX_DEPTH} or more than {MAX_ELEMENTS} elements")]
    TooBig { at: u64 },
    #[error("unbalanced end tag")]
    Unbalanced { at: u64 },
    #[error("undefined entity &{name};")]
    UndefinedEntity { at: u64, name: String },
    #[error("unexpected end of document")]
    Unterminated { at: u64 },
    #[error("no root element")]
    NoRoot,
}

impl XmlError {
    /// The diagnostic, with the line of the offset reached in `text`.
    pub fn diagnostic(&self, text: &str) -> Diagnostic {
        let (code, at) = match self {
            XmlError::TooBig { at } => (Code::TooLarge, Some(at)),
            XmlError::Syntax { at, .. }
            | XmlError::Unbalanced { at }
            | XmlError::UndefinedEntity { at, .. }
            | XmlError::Unterminated { at } => (Code::ParseError, Some(at)),
            XmlError::NoRoot => (Code::ParseError, None),
        };
        let d = Diagnostic::new(code, format!("not readable XML: {self}"));
        match at {
            Some(&at) => {
                let at = usize::try_from(at).unwrap_or(usize::MAX);
                d.line(read::line_at(text.as_bytes(), at))
            }
            None => d,
        }
    }
}

/// An element with its attributes; an attribute that cannot be read is left out.
fn element(e: &BytesStart) -> El {
    let attrs = e
        .attributes()
        .flatten()
        .filter_map(|a| {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()?;
            Some((local(a.key.as_ref()), v.into_owned()))
        })
        .collect();
    El {
        name: local(e.name().as_ref()),
        attrs,
        ..El::default()
    }
}

/// Reads a document into its root element.
pub(crate) fn parse(text: &str) -> Result<El, XmlError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<El> = vec![El::default()];
    let mut count = 0usize;
    loop {
        let ev = reader.read_event().map_err(|source| XmlError::Syntax {
            at: reader.error_position(),
            source,
        })?;
        let at = reader.buffer_position();
        match ev {
            Event::Start(e) => {
                count += 1;
                if stack.len() > MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(XmlError::TooBig { at });
                }
                stack.push(element(&e));
            }
            Event::Empty(e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooBig { at });
                }
                let el = element(&e);
                if let Some(top) = stack.last_mut() {
                    top.children.push(el);
                }
            }
            Event::End(_) => {
                if stack.len() < 2 {
                    return Err(XmlError::Unbalanced { at });
                }
                let el = stack.pop().unwrap_or_default();
                if let Some(top) = stack.last_mut() {
                    top.children.push(el);
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten()
                } else {
                    match &*r {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "apos" => Some('\''),
                        "quot" => Some('"'),
                        _ => None,
                    }
                };
                let Some(c) = resolved else {
                    return Err(XmlError::UndefinedEntity {
                        at,
                        name: r.to_string(),
                    });
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(XmlError::Unterminated {
            at: reader.buffer_position(),
        });
    }
    let doc = stack.pop().unwrap_or_default();
    doc.children.into_iter().next().ok_or(XmlError::NoRoot)
}

/// The text of an XML file (UTF-8 or UTF-16 with a BOM, invalid sequences replaced) within
/// `limit` bytes, and its root element.
pub(crate) fn document(bytes: &[u8], limit: usize) -> Result<El, Diagnostic> {
    read::check_size(bytes, limit)?;
    let text = read::decode_lossy(bytes);
    parse(&text).map_err(|e| e.diagnostic(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_text_and_limits() {
        let el = parse(
            "<?xml version=\"1.0\"?><packages><package id=\"A&amp;B\" version=\"1.0\"/><x>t&lt;</x></packages>",
        )
        .unwrap();
        assert_eq!(el.name, "packages");
        assert_eq!(el.children[0].attr("ID"), Some("A&B"));
        assert_eq!(el.text_of("x"), Some("t<"));
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(matches!(parse(&deep), Err(XmlError::TooBig { .. })));
        let e = parse("<a>\n&bomb;</a>").unwrap_err();
        assert_eq!(e.diagnostic("<a>\n&bomb;</a>").line, Some(2));
    }
}
