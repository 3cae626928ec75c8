//! A streaming reader for record-per-element XML feeds (yum `updateinfo.xml`, OVAL): the
//! document is read front to back and every element with a given local name (`update`,
//! `definition`) is built as a small tree and handed on, so memory is bounded by one record,
//! not the feed. Everything outside those elements is skipped.
//!
//! Limits on untrusted input, per record: [`MAX_DEPTH`] levels, [`MAX_ELEMENTS`] elements,
//! [`MAX_TEXT`] bytes of text. A record over a limit is an [`XmlError::TooBig`]; the feed is
//! not read further (the reader cannot resynchronise reliably).

use super::Stop;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::io::BufRead;

/// Deepest nesting inside one record.
pub const MAX_DEPTH: usize = 64;
/// Most elements in one record.
pub const MAX_ELEMENTS: usize = 200_000;
/// Most text bytes in one record.
pub const MAX_TEXT: usize = 16 << 20;

/// Why a feed could not be read further.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("not well-formed XML at byte {at}: {source}")]
    Syntax {
        at: u64,
        #[source]
        source: quick_xml::errors::Error,
    },
    #[error("a <{name}> record at byte {at} is over the size limits")]
    TooBig { name: String, at: u64 },
    #[error("the document ends inside a <{name}> record")]
    Unterminated { name: String },
}

/// One element: local name, attributes (local names), text (of this element only, entity
/// references resolved) and children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct El {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<El>,
}

impl El {
    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The children named `name`.
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child named `name`, when not empty.
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// Every element below this one, depth first, in document order.
    pub fn descendants(&self) -> Vec<&El> {
        let mut out = Vec::new();
        let mut stack: Vec<&El> = self.children.iter().rev().collect();
        while let Some(e) = stack.pop() {
            out.push(e);
            stack.extend(e.children.iter().rev());
        }
        out
    }
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_string()
}

fn element(e: &BytesStart<'_>) -> El {
    let attrs = e
        .attributes()
        .flatten()
        .map(|a| {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.to_string());
            (local(a.key.as_ref()), v)
        })
        .collect();
    El {
        name: local(e.name().as_ref()),
        attrs,
        ..El::default()
    }
}

/// A record over the size limits: the one being built (`stack`'s outermost element), else
/// `record`, the first name asked for. Made only when a limit is hit.
fn too_big(stack: &[El], record: &str, at: u64) -> XmlError {
    let name = stack.first().map_or(record, |r| r.name.as_str());
    XmlError::TooBig {
        name: name.to_string(),
        at,
    }
}

/// Reads `reader` and hands every element named `record` (with its subtree) to `f`, in
/// document order. The inner result says whether `f` stopped the read.
pub fn for_each_record<R: BufRead>(
    reader: R,
    record: &str,
    f: &mut dyn FnMut(El) -> Result<(), Stop>,
) -> Result<Result<(), Stop>, XmlError> {
    for_each_record_of(reader, &[record], f)
}

/// [`for_each_record`] for elements of any of several names (an OVAL document's
/// definitions, tests, objects and states), in document order.
pub fn for_each_record_of<R: BufRead>(
    reader: R,
    records: &[&str],
    f: &mut dyn FnMut(El) -> Result<(), Stop>,
) -> Result<Result<(), Stop>, XmlError> {
    let is_record = |name: &str| {
        let name = local(name);
        records.iter().any(|r| *r == name)
    };
    let record = records.first().copied().unwrap_or_default();
    let mut reader = Reader::from_reader(reader);
    let mut buf = Vec::new();
    // The record being built: its open elements, outermost first.
    let mut stack: Vec<El> = Vec::new();
    let mut elements = 0usize;
    let mut text = 0usize;
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|source| XmlError::Syntax {
                at: reader.error_position(),
                source,
            })?;
        let at = reader.buffer_position();
        match ev {
            Event::Start(e) => {
                if stack.is_empty() && !is_record(e.name().as_ref()) {
                    continue;
                }
                elements += 1;
                if stack.len() >= MAX_DEPTH || elements > MAX_ELEMENTS {
                    return Err(too_big(&stack, record, at));
                }
                stack.push(element(&e));
            }
            Event::Empty(e) => {
                if stack.is_empty() {
                    if is_record(e.name().as_ref())
                        && let Err(stop) = f(element(&e))
                    {
                        return Ok(Err(stop));
                    }
                    continue;
                }
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(too_big(&stack, record, at));
                }
                let el = element(&e);
                if let Some(top) = stack.last_mut() {
                    top.children.push(el);
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else { continue };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => {
                        elements = 0;
                        text = 0;
                        if let Err(stop) = f(done) {
                            return Ok(Err(stop));
                        }
                    }
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.xml10_content();
                    text += s.len();
                    if text > MAX_TEXT {
                        return Err(too_big(&stack, record, at));
                    }
                    top.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.xml10_content();
                    text += s.len();
                    if text > MAX_TEXT {
                        return Err(too_big(&stack, record, at));
                    }
                    top.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let c = if r.is_char_ref() {
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
                    if let Some(c) = c {
                        top.text.push(c);
                    }
                }
            }
            Event::Eof => {
                return match stack.first() {
                    Some(r) => Err(XmlError::Unterminated {
                        name: r.name.clone(),
                    }),
                    None => Ok(Ok(())),
                };
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_handed_on_one_by_one() {
        let doc = br#"<?xml version="1.0"?><x:root xmlns:x="u"><skip>t</skip>
            <rec id="1"><a k="v&amp;w">one &amp; two</a><b/></rec>
            <rec id="2"/></x:root>"#;
        let mut got = Vec::new();
        for_each_record(&doc[..], "rec", &mut |e| {
            got.push(e);
            Ok(())
        })
        .unwrap()
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].attr("id"), Some("1"));
        let a = got[0].child("a").unwrap();
        assert_eq!(a.attr("k"), Some("v&w"));
        assert_eq!(a.text, "one & two");
        assert_eq!(got[0].descendants().len(), 2);
        assert_eq!(got[1].attr("id"), Some("2"));
        // Cut off inside a record, or not XML at all.
        let cut = doc.windows(3).position(|w| w == b"one").unwrap() + 3;
        assert!(matches!(
            for_each_record(&doc[..cut], "rec", &mut |_| Ok(())),
            Err(XmlError::Unterminated { .. })
        ));
        assert!(for_each_record(&b"<rec><a></b></rec>"[..], "rec", &mut |_| Ok(())).is_err());
    }

    #[test]
    fn deep_records_are_refused() {
        let doc = format!("<rec>{}{}</rec>", "<a>".repeat(100), "</a>".repeat(100));
        assert!(matches!(
            for_each_record(doc.as_bytes(), "rec", &mut |_| Ok(())),
            Err(XmlError::TooBig { .. })
        ));
    }
}
