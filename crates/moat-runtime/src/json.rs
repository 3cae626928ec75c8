//! A small JSON reader for audit events: one pass over the bytes into a flat tape of nodes
//! (offsets into the input, no per-node allocation), with lookups by key, index and JSON
//! pointer, strings borrowed unless they hold escapes, and compact or indented re-encoding.

use std::borrow::Cow;

/// Nesting deeper than this is refused.
pub const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    /// A string; `true` when it holds escapes.
    Str(bool),
    Number,
    True,
    False,
    Null,
}

/// One node: its kind, its byte range (a string's range excludes the quotes) and the index
/// of the node after its subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub kind: Kind,
    pub start: u32,
    pub end: u32,
    pub next: u32,
}

/// A parsed document: the input and its tape. Node 0 is the root.
#[derive(Debug, Clone)]
pub struct Doc {
    pub data: Vec<u8>,
    pub nodes: Vec<Node>,
}

/// Why a document does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("unexpected end of JSON input")]
    Eof,
    #[error("invalid JSON at byte {0}")]
    Invalid(usize),
    #[error("JSON nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("JSON document larger than 4 GiB")]
    TooLarge,
}

impl Doc {
    /// Parses one JSON value (surrounding blanks allowed, nothing else).
    pub fn parse(data: Vec<u8>) -> Result<Doc, JsonError> {
        Self::parse_keep(data).map_err(|(e, _)| e)
    }

    /// [`Doc::parse`], handing the bytes back on error.
    pub fn parse_keep(data: Vec<u8>) -> Result<Doc, (JsonError, Vec<u8>)> {
        match tape(&data) {
            Ok(nodes) => Ok(Doc { data, nodes }),
            Err(e) => Err((e, data)),
        }
    }

    pub fn kind(&self, n: usize) -> Kind {
        self.nodes[n].kind
    }

    /// The raw bytes of node `n` (a string's without quotes, escapes as written).
    pub fn raw(&self, n: usize) -> &[u8] {
        let node = &self.nodes[n];
        &self.data[node.start as usize..node.end as usize]
    }

    /// The children of an array, or the values of an object.
    pub fn children(&self, n: usize) -> Children<'_> {
        let node = self.nodes[n];
        let obj = node.kind == Kind::Object;
        Children {
            doc: self,
            i: n + 1,
            end: node.next as usize,
            obj,
        }
    }

    /// The key/value pairs of an object (key node, value node).
    pub fn members(&self, n: usize) -> Members<'_> {
        let node = self.nodes[n];
        let end = if node.kind == Kind::Object {
            node.next as usize
        } else {
            n + 1
        };
        Members {
            doc: self,
            i: n + 1,
            end,
        }
    }

    /// The value of key `k` in object `n`.
    pub fn get(&self, n: usize, k: &str) -> Option<usize> {
        if self.nodes[n].kind != Kind::Object {
            return None;
        }
        self.members(n)
            .find(|&(key, _)| self.key_eq(key, k))
            .map(|(_, v)| v)
    }

    fn key_eq(&self, key: usize, k: &str) -> bool {
        match self.nodes[key].kind {
            Kind::Str(false) => {
                // Keys are short: compared in line rather than by a call to memcmp.
                let r = self.raw(key);
                r.len() == k.len() && r.iter().zip(k.as_bytes()).all(|(a, b)| a == b)
            }
            _ => self.str(key).as_ref() == k.as_bytes(),
        }
    }

    /// Element `i` of array `n`.
    pub fn index(&self, n: usize, i: usize) -> Option<usize> {
        if self.nodes[n].kind != Kind::Array {
            return None;
        }
        self.children(n).nth(i)
    }

    /// Follows `keys` from `n` (fastjson's `Get`: numeric keys index arrays).
    pub fn path(&self, mut n: usize, keys: &[&str]) -> Option<usize> {
        for k in keys {
            n = self.step(n, k)?;
        }
        Some(n)
    }

    /// One step of [`Doc::path`]: key `k` of an object, element `k` of an array.
    pub fn step(&self, n: usize, k: &str) -> Option<usize> {
        match self.nodes[n].kind {
            Kind::Object => self.get(n, k),
            Kind::Array => k.parse::<usize>().ok().and_then(|i| self.index(n, i)),
            _ => None,
        }
    }

    /// Follows a JSON pointer (RFC 6901; the leading `/` is optional, as in Falco).
    pub fn pointer(&self, n: usize, ptr: &str) -> Option<usize> {
        let p = ptr.strip_prefix('/').unwrap_or(ptr);
        let mut cur = n;
        for tok in p.split('/') {
            let key: Cow<str> = if tok.contains('~') {
                Cow::Owned(tok.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(tok)
            };
            cur = self.step(cur, &key)?;
        }
        Some(cur)
    }

    /// A string node's value, unescaped (borrowed when it has no escapes).
    pub fn str(&self, n: usize) -> Cow<'_, [u8]> {
        match self.nodes[n].kind {
            Kind::Str(false) => Cow::Borrowed(self.raw(n)),
            Kind::Str(true) => Cow::Owned(unescape(self.raw(n))),
            _ => Cow::Borrowed(self.raw(n)),
        }
    }

    /// A node as text: a string's value, a scalar as written, an object or array as compact
    /// JSON (fastjson's `MarshalTo`).
    pub fn text(&self, n: usize) -> Cow<'_, [u8]> {
        match self.nodes[n].kind {
            Kind::Str(_) => self.str(n),
            Kind::Number | Kind::True | Kind::False | Kind::Null => Cow::Borrowed(self.raw(n)),
            Kind::Object | Kind::Array => {
                let mut out = Vec::with_capacity(self.raw(n).len());
                self.write_compact(n, &mut out);
                Cow::Owned(out)
            }
        }
    }

    /// Compact JSON of node `n`.
    pub fn write_compact(&self, n: usize, out: &mut Vec<u8>) {
        match self.nodes[n].kind {
            Kind::Object => {
                out.push(b'{');
                for (i, (k, v)) in self.members(n).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_compact(k, out);
                    out.push(b':');
                    self.write_compact(v, out);
                }
                out.push(b'}');
            }
            Kind::Array => {
                out.push(b'[');
                for (i, c) in self.children(n).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_compact(c, out);
                }
                out.push(b']');
            }
            Kind::Str(_) => {
                out.push(b'"');
                out.extend_from_slice(self.raw(n));
                out.push(b'"');
            }
            _ => out.extend_from_slice(self.raw(n)),
        }
    }

    /// JSON of node `n` indented by two spaces per level (Go's `json.Indent`).
    pub fn write_indented(&self, n: usize, level: usize, out: &mut Vec<u8>) {
        let pad = |out: &mut Vec<u8>, l: usize| {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', 2 * l));
        };
        match self.nodes[n].kind {
            Kind::Object => {
                if self.members(n).next().is_none() {
                    out.extend_from_slice(b"{}");
                    return;
                }
                out.push(b'{');
                for (i, (k, v)) in self.members(n).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    pad(out, level + 1);
                    self.write_compact(k, out);
                    out.extend_from_slice(b": ");
                    self.write_indented(v, level + 1, out);
                }
                pad(out, level);
                out.push(b'}');
            }
            Kind::Array => {
                if self.children(n).next().is_none() {
                    out.extend_from_slice(b"[]");
                    return;
                }
                out.push(b'[');
                for (i, c) in self.children(n).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    pad(out, level + 1);
                    self.write_indented(c, level + 1, out);
                }
                pad(out, level);
                out.push(b']');
            }
            _ => self.write_compact(n, out),
        }
    }
}

pub struct Children<'a> {
    doc: &'a Doc,
    i: usize,
    end: usize,
    obj: bool,
}

impl Iterator for Children<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.i >= self.end {
            return None;
        }
        if self.obj {
            let v = self.i + 1;
            self.i = self.doc.nodes[v].next as usize;
            Some(v)
        } else {
            let c = self.i;
            self.i = self.doc.nodes[c].next as usize;
            Some(c)
        }
    }
}

pub struct Members<'a> {
    doc: &'a Doc,
    i: usize,
    end: usize,
}

impl Iterator for Members<'_> {
    type Item = (usize, usize);
    fn next(&mut self) -> Option<(usize, usize)> {
        if self.i >= self.end {
            return None;
        }
        let k = self.i;
        let v = k + 1;
        self.i = self.doc.nodes[v].next as usize;
        Some((k, v))
    }
}

fn tape(data: &[u8]) -> Result<Vec<Node>, JsonError> {
    if data.len() > u32::MAX as usize {
        return Err(JsonError::TooLarge);
    }
    let d = data;
    // Audit events hold a node every 10 to 21 bytes: room for all of them at once.
    let mut nodes = Vec::with_capacity(data.len() / 10 + 8);
    // The open arrays and objects, innermost last (their nodes).
    let mut open: Vec<u32> = Vec::with_capacity(16);
    let mut p = 0usize;
    skip_ws(d, &mut p);
    // One loop, no recursion: each turn reads a value (an object's key and colon already
    // read), then closes what it ends and reads the separator before the next value.
    'value: loop {
        if open.len() > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        let Some(&c) = d.get(p) else {
            return Err(JsonError::Eof);
        };
        match c {
            b'"' => string(d, &mut p, &mut nodes)?,
            b'{' | b'[' => {
                let (kind, close) = if c == b'{' {
                    (Kind::Object, b'}')
                } else {
                    (Kind::Array, b']')
                };
                let me = push(&mut nodes, kind, p, p);
                p += 1;
                skip_ws(d, &mut p);
                if d.get(p) == Some(&close) {
                    p += 1;
                    nodes[me].end = p as u32;
                    nodes[me].next = nodes.len() as u32;
                } else {
                    open.push(me as u32);
                    if kind == Kind::Object {
                        key(d, &mut p, &mut nodes)?;
                    }
                    continue 'value;
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = p;
                p += 1;
                while p < d.len() && matches!(d[p], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    p += 1;
                }
                push(&mut nodes, Kind::Number, start, p);
            }
            b't' => literal(d, &mut p, &mut nodes, b"true", Kind::True)?,
            b'f' => literal(d, &mut p, &mut nodes, b"false", Kind::False)?,
            b'n' => literal(d, &mut p, &mut nodes, b"null", Kind::Null)?,
            _ => return Err(JsonError::Invalid(p)),
        }
        // After a value: the separator or the end of each container it completes.
        while let Some(&top) = open.last() {
            skip_ws(d, &mut p);
            let obj = nodes[top as usize].kind == Kind::Object;
            match d.get(p) {
                Some(b',') => {
                    p += 1;
                    if obj {
                        key(d, &mut p, &mut nodes)?;
                    } else {
                        skip_ws(d, &mut p);
                    }
                    continue 'value;
                }
                Some(b'}') if obj => {}
                Some(b']') if !obj => {}
                Some(_) => return Err(JsonError::Invalid(p)),
                None => return Err(JsonError::Eof),
            }
            p += 1;
            let next = nodes.len() as u32;
            let n = &mut nodes[top as usize];
            n.end = p as u32;
            n.next = next;
            open.pop();
        }
        break;
    }
    skip_ws(d, &mut p);
    if p != d.len() {
        return Err(JsonError::Invalid(p));
    }
    Ok(nodes)
}

/// An object's key and its colon, and the blanks around them.
#[inline(always)]
fn key(d: &[u8], p: &mut usize, nodes: &mut Vec<Node>) -> Result<(), JsonError> {
    skip_ws(d, p);
    match d.get(*p) {
        Some(b'"') => string(d, p, nodes)?,
        Some(_) => return Err(JsonError::Invalid(*p)),
        None => return Err(JsonError::Eof),
    }
    skip_ws(d, p);
    match d.get(*p) {
        Some(b':') => *p += 1,
        Some(_) => return Err(JsonError::Invalid(*p)),
        None => return Err(JsonError::Eof),
    }
    skip_ws(d, p);
    Ok(())
}

#[inline(always)]
fn skip_ws(d: &[u8], p: &mut usize) {
    // Compact JSON has no blanks: one comparison in the common case.
    while let Some(&c) = d.get(*p)
        && c <= b' '
        && matches!(c, b' ' | b'\t' | b'\n' | b'\r')
    {
        *p += 1;
    }
}

#[inline(always)]
fn push(nodes: &mut Vec<Node>, kind: Kind, start: usize, end: usize) -> usize {
    let i = nodes.len();
    nodes.push(Node {
        kind,
        start: start as u32,
        end: end as u32,
        next: (i + 1) as u32,
    });
    i
}

#[inline(always)]
fn literal(
    d: &[u8],
    p: &mut usize,
    nodes: &mut Vec<Node>,
    word: &[u8],
    kind: Kind,
) -> Result<(), JsonError> {
    let end = *p + word.len();
    if end > d.len() {
        return if word.starts_with(&d[*p..]) {
            Err(JsonError::Eof)
        } else {
            Err(JsonError::Invalid(*p))
        };
    }
    if &d[*p..end] != word {
        return Err(JsonError::Invalid(*p));
    }
    push(nodes, kind, *p, end);
    *p = end;
    Ok(())
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The bytes of `x` (little endian) that are a quote, a backslash or a control character,
/// as high bits; the lowest set bit marks the first such byte exactly (the borrows that can
/// mark more only run upwards).
fn special8(x: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let ctl = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
    zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\'))) | ctl
}

#[inline(always)]
fn string(d: &[u8], p: &mut usize, nodes: &mut Vec<Node>) -> Result<(), JsonError> {
    let start = *p + 1;
    let mut i = start;
    let mut escaped = false;
    // A control character makes the string invalid, but only once it is complete (an
    // unterminated string is "more input needed", whatever it holds).
    let mut control = false;
    loop {
        // Eight bytes at a time up to the next byte that needs a look.
        while let Some(w) = d.get(i..i + 8) {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            let m = special8(u64::from_le_bytes(b));
            if m != 0 {
                i += (m.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        let Some(&c) = d.get(i) else {
            return Err(JsonError::Eof);
        };
        match c {
            b'"' => break,
            b'\\' => {
                escaped = true;
                if d.get(i + 1).is_some_and(|&e| e < 0x20) {
                    control = true;
                }
                i += 2;
                if i > d.len() {
                    return Err(JsonError::Eof);
                }
            }
            0..0x20 => {
                control = true;
                i += 1;
            }
            _ => i += 1,
        }
    }
    if control {
        return Err(JsonError::Invalid(start));
    }
    push(nodes, Kind::Str(escaped), start, i);
    *p = i + 1;
    Ok(())
}

/// The value of a JSON string body with escapes.
pub fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' || i + 1 >= raw.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = raw[i + 1];
        i += 2;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'u' => {
                let hex = |s: &[u8]| {
                    std::str::from_utf8(s)
                        .ok()
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                };
                let Some(hi) = raw.get(i..i + 4).and_then(hex) else {
                    out.extend_from_slice(b"\\u");
                    continue;
                };
                i += 4;
                let mut cp = hi;
                if (0xD800..0xDC00).contains(&hi)
                    && raw.get(i..i + 2) == Some(b"\\u")
                    && let Some(lo) = raw.get(i + 2..i + 6).and_then(hex)
                    && (0xDC00..0xE000).contains(&lo)
                {
                    cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
                let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                let mut b = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
            }
            other => out.push(other),
        }
    }
    out
}

/// The recursive parser this module used before (kept to check that the one-loop parser
/// gives the same tapes and the same errors): the same leaves, nesting by recursion.
#[cfg(test)]
mod reference {
    use super::{JsonError, Kind, MAX_DEPTH, Node, literal, push, skip_ws, string};

    pub fn tape(data: &[u8]) -> Result<Vec<Node>, JsonError> {
        if data.len() > u32::MAX as usize {
            return Err(JsonError::TooLarge);
        }
        let mut nodes = Vec::with_capacity(data.len() / 16 + 4);
        let mut p = 0usize;
        skip_ws(data, &mut p);
        value(data, &mut p, &mut nodes, 0)?;
        skip_ws(data, &mut p);
        if p != data.len() {
            return Err(JsonError::Invalid(p));
        }
        Ok(nodes)
    }

    pub fn value(
        d: &[u8],
        p: &mut usize,
        nodes: &mut Vec<Node>,
        depth: usize,
    ) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        let Some(&c) = d.get(*p) else {
            return Err(JsonError::Eof);
        };
        match c {
            b'{' => {
                let me = push(nodes, Kind::Object, *p, *p);
                *p += 1;
                skip_ws(d, p);
                if d.get(*p) == Some(&b'}') {
                    *p += 1;
                } else {
                    loop {
                        skip_ws(d, p);
                        match d.get(*p) {
                            Some(b'"') => string(d, p, nodes)?,
                            Some(_) => return Err(JsonError::Invalid(*p)),
                            None => return Err(JsonError::Eof),
                        }
                        skip_ws(d, p);
                        match d.get(*p) {
                            Some(b':') => *p += 1,
                            Some(_) => return Err(JsonError::Invalid(*p)),
                            None => return Err(JsonError::Eof),
                        }
                        skip_ws(d, p);
                        value(d, p, nodes, depth + 1)?;
                        skip_ws(d, p);
                        match d.get(*p) {
                            Some(b',') => *p += 1,
                            Some(b'}') => {
                                *p += 1;
                                break;
                            }
                            Some(_) => return Err(JsonError::Invalid(*p)),
                            None => return Err(JsonError::Eof),
                        }
                    }
                }
                nodes[me].end = *p as u32;
                nodes[me].next = nodes.len() as u32;
            }
            b'[' => {
                let me = push(nodes, Kind::Array, *p, *p);
                *p += 1;
                skip_ws(d, p);
                if d.get(*p) == Some(&b']') {
                    *p += 1;
                } else {
                    loop {
                        skip_ws(d, p);
                        value(d, p, nodes, depth + 1)?;
                        skip_ws(d, p);
                        match d.get(*p) {
                            Some(b',') => *p += 1,
                            Some(b']') => {
                                *p += 1;
                                break;
                            }
                            Some(_) => return Err(JsonError::Invalid(*p)),
                            None => return Err(JsonError::Eof),
                        }
                    }
                }
                nodes[me].end = *p as u32;
                nodes[me].next = nodes.len() as u32;
            }
            b'"' => string(d, p, nodes)?,
            b't' => literal(d, p, nodes, b"true", Kind::True)?,
            b'f' => literal(d, p, nodes, b"false", Kind::False)?,
            b'n' => literal(d, p, nodes, b"null", Kind::Null)?,
            b'-' | b'0'..=b'9' => {
                let start = *p;
                *p += 1;
                while *p < d.len()
                    && matches!(d[*p], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    *p += 1;
                }
                push(nodes, Kind::Number, start, *p);
            }
            _ => return Err(JsonError::Invalid(*p)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tape_lookups_and_encodings() {
        let d = Doc::parse(br#" {"a": {"b~c/d": [1, "x\"y", true, null, {}]}, "e": "\u00e9\ud83d\ude00", "f": []} "#.to_vec()).unwrap();
        let a = d.get(0, "a").unwrap();
        let arr = d.pointer(0, "/a/b~0c~1d").unwrap();
        assert_eq!(d.path(0, &["a", "b~c/d", "1"]), d.index(arr, 1));
        assert_eq!(d.str(d.index(arr, 1).unwrap()).as_ref(), b"x\"y");
        assert_eq!(d.text(a).as_ref(), br#"{"b~c/d":[1,"x\"y",true,null,{}]}"#);
        assert_eq!(d.str(d.get(0, "e").unwrap()).as_ref(), "é😀".as_bytes());
        assert_eq!(d.children(arr).count(), 5);
        let mut out = Vec::new();
        d.write_indented(a, 0, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"b~c/d\": [\n    1,\n    \"x\\\"y\",\n    true,\n    null,\n    {}\n  ]\n}"
        );
        assert!(d.get(0, "zz").is_none());
    }

    #[test]
    fn strings_scanned_by_words() {
        // Quotes, escapes and control characters at every offset of the eight-byte words.
        for len in 0..40 {
            for at in 0..len {
                let mut esc = vec![b'a'; len];
                esc.splice(at..at, *b"\\\"");
                let mut doc = b"\"".to_vec();
                doc.extend_from_slice(&esc);
                doc.push(b'"');
                let d = Doc::parse(doc).unwrap();
                assert_eq!(d.kind(0), Kind::Str(true), "{len} {at}");
                assert_eq!(d.raw(0), esc.as_slice());
                let mut body = vec![b'a'; len];
                body[at] = 0x1f;
                let mut doc = b"\"".to_vec();
                doc.extend_from_slice(&body);
                doc.push(b'"');
                assert_eq!(Doc::parse(doc.clone()).unwrap_err(), JsonError::Invalid(1));
                // Unterminated: more input is needed, whatever it holds.
                doc.pop();
                assert_eq!(Doc::parse(doc).unwrap_err(), JsonError::Eof);
                body[at] = 0xe9;
                let mut doc = b"[\"".to_vec();
                doc.extend_from_slice(&body);
                doc.extend_from_slice(b"\",1]");
                let d = Doc::parse(doc).unwrap();
                assert_eq!(d.raw(1), body.as_slice());
                assert_eq!(d.raw(2), b"1");
            }
        }
        assert_eq!(
            Doc::parse(b"\"ab\\\ncd\"".to_vec()).unwrap_err(),
            JsonError::Invalid(1)
        );
    }

    /// The one-loop parser and the recursive one it replaced: the same tape, or the same
    /// error at the same byte.
    fn same_as_reference(doc: &[u8]) {
        assert_eq!(
            tape(doc),
            reference::tape(doc),
            "{:?}",
            String::from_utf8_lossy(doc)
        );
    }

    const SAMPLES: [&str; 6] = [
        r#"{"kind":"Event","verb":"create","user":{"username":"a","groups":["x","y"]},"n":-1.5e3,"t":true,"f":false,"z":null,"e":{},"a":[],"s":"q\"\\\u00e9"}"#,
        r#" [ 1 , [ ] , { "a" : [ { } , [ 2 ] ] } , "x" , null ] "#,
        "{\n  \"items\": [\n    {\"kind\": \"Event\"},\n    {\"kind\": \"Event\", \"x\": [1,2,3]}\n  ]\n}\n",
        r#"[[[[{"a":[[{"b":{}}]]}]]]]"#,
        r#""just a string with some length to it""#,
        "-12",
    ];

    #[test]
    fn one_loop_parser_matches_the_recursive_one() {
        let alphabet: &[u8] = b"{}[]\",:\\ \n\t0a-1.eEtfnrul\x1f\xc3";
        for sample in SAMPLES {
            let doc = sample.as_bytes();
            same_as_reference(doc);
            for cut in 0..doc.len() {
                same_as_reference(&doc[..cut]);
                let mut del = doc.to_vec();
                del.remove(cut);
                same_as_reference(&del);
                for &b in alphabet {
                    let mut m = doc.to_vec();
                    m[cut] = b;
                    same_as_reference(&m);
                    m.insert(cut, b);
                    same_as_reference(&m);
                }
            }
        }
        // Nesting at and around the limit, closed, open and with a scalar inside.
        for n in [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 2] {
            for (open, close, inner) in [("[", "]", ""), ("[", "]", "1"), ("{\"k\":", "}", "2")] {
                let doc = format!("{}{inner}{}", open.repeat(n), close.repeat(n));
                same_as_reference(doc.as_bytes());
                same_as_reference(open.repeat(n).as_bytes());
            }
        }
        // Random documents over the same alphabet (a fixed linear congruential sequence).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (x >> 58) as usize;
            let mut doc = Vec::with_capacity(len);
            for _ in 0..len {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                doc.push(alphabet[(x >> 33) as usize % alphabet.len()]);
            }
            same_as_reference(&doc);
        }
    }

    #[test]
    fn one_loop_parser_matches_on_recorded_events() {
        // Falco's recorded audit events (../shared): every line and every file whole.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../../shared/corpus/falco/falcosecurity-falco-legacy-tests/test/trace_files/k8s_audit",
        );
        let Ok(entries) = std::fs::read_dir(&dir) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{} is missing",
                dir.display()
            );
            eprintln!("skipped: {} is missing", dir.display());
            return;
        };
        let mut files = 0;
        for e in entries.flatten() {
            let Ok(data) = std::fs::read(e.path()) else {
                continue;
            };
            files += 1;
            same_as_reference(&data);
            for line in data.split(|&c| c == b'\n') {
                same_as_reference(line);
                // Every truncation of the first 600 bytes.
                for cut in 0..line.len().min(600) {
                    same_as_reference(&line[..cut]);
                }
            }
        }
        assert!(files > 40, "{files} files");
    }

    #[test]
    fn bad_documents() {
        assert_eq!(Doc::parse(b"{\"a\":".to_vec()).unwrap_err(), JsonError::Eof);
        assert_eq!(
            Doc::parse(b"{\"a\" 1}".to_vec()).unwrap_err(),
            JsonError::Invalid(5)
        );
        assert!(Doc::parse(b"[1] x".to_vec()).is_err());
        assert_eq!(
            Doc::parse(vec![b'['; 1000]).unwrap_err(),
            JsonError::TooDeep
        );
        assert!(Doc::parse(b"\"abc".to_vec()).is_err());
    }
}
