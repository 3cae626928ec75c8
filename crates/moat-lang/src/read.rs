//! # Reading one file's bytes: what every parser shares
//!
//! Decoding text (UTF-8 with or without a BOM, UTF-16 with one), JSON, TOML and YAML with
//! their limits, and the [`Diagnostic`]s for input that does not parse. Each parser calls
//! these instead of keeping its own copy, so a JSON error reads the same (and carries its
//! line) whatever the format, and every YAML parser runs under the same budget.
//!
//! Limits: JSON through `serde_json` (recursion limit 128), YAML through `serde-saphyr` with
//! [`yaml_options`] (event, node, depth and alias-replay budgets: no alias bombs), TOML through
//! the `toml` crate (its own nesting limit); sizes by each format's [`crate::budget`] (and
//! the inner limits some parsers keep), and packages per file by [`MAX_PACKAGES`]. JSON that
//! can be large is read straight into typed records ([`json_as`]) whose fields tolerate any
//! value as a `serde_json::Value` lookup would ([`lenient`]).

use moat_model::{Code, Diagnostic};

/// Upper bound on packages returned from one file.
pub const MAX_PACKAGES: usize = 100_000;

/// A 1-based line number from a count, saturating.
pub(crate) fn line_no(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The 1-based line of byte `offset` in `text` (the last line for an offset at or past the
/// end).
pub(crate) fn line_at(text: &[u8], offset: usize) -> u32 {
    let end = offset.min(text.len().saturating_sub(1));
    line_no(text[..end].iter().filter(|&&b| b == b'\n').count() + 1)
}

/// `bytes` as UTF-8 text, a leading BOM removed.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, Diagnostic> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        Diagnostic::parse(format!("not UTF-8: {e}")).line(line_at(bytes, e.valid_up_to()))
    })
}

/// Text of a file that may be UTF-16 (with a BOM) or UTF-8 (BOM tolerated); invalid
/// sequences are replaced.
pub(crate) fn decode_lossy(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| from([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    };
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        return utf16(rest, u16::from_be_bytes);
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

/// Refuses input over `limit` bytes.
pub(crate) fn check_size(bytes: &[u8], limit: usize) -> Result<(), Diagnostic> {
    if bytes.len() > limit {
        return Err(Diagnostic::new(
            Code::TooLarge,
            format!("{} bytes, over the {limit}-byte limit", bytes.len()),
        ));
    }
    Ok(())
}

/// A JSON document.
pub(crate) fn json(bytes: &[u8]) -> Result<serde_json::Value, Diagnostic> {
    json_as(bytes)
}

/// A JSON document read straight into `T` (no `serde_json::Value` tree: memory is what `T`
/// keeps), with the same diagnostics as [`json`].
pub(crate) fn json_as<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Diagnostic> {
    serde_json::from_slice(bytes).map_err(|e| {
        let d = Diagnostic::parse(format!("invalid JSON: {e}"));
        if e.line() > 0 {
            d.line(line_no(e.line()))
        } else {
            d
        }
    })
}

/// Streaming JSON that tolerates any value where a parser expects one shape, as reading a
/// `serde_json::Value` and asking it would: a value of another type is read and dropped.
pub(crate) mod lenient {
    use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::collections::BTreeMap;
    use std::fmt;

    /// An object read as `T`, a string, or anything else (dropped).
    #[derive(Debug, Default)]
    pub(crate) enum Lenient<T> {
        Object(T),
        String(String),
        #[default]
        Other,
    }

    impl<T> Lenient<T> {
        pub(crate) fn str(&self) -> Option<&str> {
            match self {
                Lenient::String(s) => Some(s),
                _ => None,
            }
        }
        pub(crate) fn object(&self) -> Option<&T> {
            match self {
                Lenient::Object(t) => Some(t),
                _ => None,
            }
        }
    }

    /// A JSON string, or nothing.
    pub(crate) type Str = Lenient<IgnoredAny>;

    /// The visits of values a lenient type does not keep: scalars give the default, arrays
    /// and objects are read through and dropped. Named: `bool`, `num` (integers and
    /// floats), `null`, `seq`, `str`, `map`.
    macro_rules! drop_others {
        ($($kind:ident),*) => { $(drop_others!(@ $kind);)* };
        (@ bool) => {
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Default::default())
            }
        };
        (@ num) => {
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Default::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Default::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Default::default())
            }
        };
        (@ null) => {
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Default::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Default::default())
            }
        };
        (@ seq) => {
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Default::default())
            }
        };
        (@ str) => {
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Default::default())
            }
        };
        (@ map) => {
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Default::default())
            }
        };
    }

    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<T>(std::marker::PhantomData<T>);
            impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
                type Value = Lenient<T>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("any JSON value")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(Lenient::String(v.to_string()))
                }
                fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                    Ok(Lenient::String(v))
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                    T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Lenient::Object)
                }
                drop_others!(bool, num, null, seq);
            }
            d.deserialize_any(V(std::marker::PhantomData))
        }
    }

    /// A JSON boolean; `false` for any other value.
    #[derive(Debug, Default, Clone, Copy)]
    pub(crate) struct Flag(pub(crate) bool);

    impl<'de> Deserialize<'de> for Flag {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Flag;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("any JSON value")
                }
                fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                    Ok(Flag(v))
                }
                drop_others!(num, null, seq, str, map);
            }
            d.deserialize_any(V)
        }
    }

    /// An object's entries by key (sorted, a repeated key keeps its last value, as in a
    /// `serde_json::Map`), at most `super::MAX_PACKAGES` of them: the keys past it are read
    /// and dropped, and `dropped` says so.
    #[derive(Debug)]
    pub(crate) struct Capped<V> {
        pub(crate) map: BTreeMap<String, V>,
        pub(crate) dropped: bool,
    }

    impl<V> Default for Capped<V> {
        fn default() -> Self {
            Capped {
                map: BTreeMap::new(),
                dropped: false,
            }
        }
    }

    impl<'de, V: Deserialize<'de>> Deserialize<'de> for Capped<V> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Vis<V>(std::marker::PhantomData<V>);
            impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
                type Value = Capped<V>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                    let mut out = Capped::default();
                    while let Some(key) = m.next_key::<String>()? {
                        if out.map.len() < super::MAX_PACKAGES || out.map.contains_key(&key) {
                            let v = m.next_value::<V>()?;
                            out.map.insert(key, v);
                        } else {
                            m.next_value::<IgnoredAny>()?;
                            out.dropped = true;
                        }
                    }
                    Ok(out)
                }
            }
            d.deserialize_map(Vis(std::marker::PhantomData))
        }
    }
}

/// A JSON document that must be an object (`what` names the format: `not a {what} object`).
pub(crate) fn json_object(bytes: &[u8], what: &str) -> Result<serde_json::Value, Diagnostic> {
    let doc = json(bytes)?;
    if doc.is_object() {
        Ok(doc)
    } else {
        Err(Diagnostic::parse(format!("not a {what} object")))
    }
}

/// A JSON document that may have trailing commas and `//` or `/* */` comments (JSONC, as
/// `bun.lock` is written): those are blanked out (newlines kept, so error lines stay
/// right) and the rest is read as [`json`].
pub(crate) fn json_lenient(bytes: &[u8]) -> Result<serde_json::Value, Diagnostic> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut out = bytes.to_vec();
    let blank = |out: &mut [u8], from: usize, to: usize| {
        for b in &mut out[from..to] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    // Where the next significant byte after `i` is, skipping whitespace and comments.
    let next_significant = |mut i: usize| -> Option<u8> {
        while i < bytes.len() {
            match bytes[i] {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/'))
                    {
                        i += 1;
                    }
                    i += 2;
                }
                b => return Some(b),
            }
        }
        None
    };
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = bytes[i + 2..]
                    .windows(2)
                    .position(|w| w == b"*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
                blank(&mut out, i, end);
                i = end;
                continue;
            }
            b',' if matches!(next_significant(i + 1), Some(b'}' | b']')) => out[i] = b' ',
            _ => {}
        }
        i += 1;
    }
    json(&out)
}

/// A JSON object of at most `limit` bytes (`what` names the format, as for
/// [`json_object`]).
pub(crate) fn json_object_within(
    bytes: &[u8],
    limit: usize,
    what: &str,
) -> Result<serde_json::Value, Diagnostic> {
    check_size(bytes, limit)?;
    json_object(bytes, what)
}

/// A YAML document of at most `limit` bytes (UTF-8, BOM tolerated) as JSON values, read
/// under [`yaml_options`]; `None` for a blank file.
pub(crate) fn yaml_within(
    bytes: &[u8],
    limit: usize,
) -> Result<Option<serde_json::Value>, Diagnostic> {
    check_size(bytes, limit)?;
    let text = utf8(bytes)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_saphyr::from_str_with_options(text, yaml_options())
        .map(Some)
        .map_err(|e| yaml_error(&e))
}

/// The `unsupported` diagnostic for entries a parser left out, `None` when there are none:
/// `"<count> <what>: <names, comma-separated>"`.
pub(crate) fn left_out(what: &str, names: &[String]) -> Option<Diagnostic> {
    (!names.is_empty()).then(|| {
        Diagnostic::new(
            Code::Unsupported,
            format!("{} {what}: {}", names.len(), names.join(", ")),
        )
    })
}

/// A path with `.`, `..` and empty components resolved, made absolute (`/` for the root).
pub fn absolute_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for p in parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// A TOML document (UTF-8, BOM tolerated).
pub(crate) fn toml(bytes: &[u8]) -> Result<toml::Table, Diagnostic> {
    let text = utf8(bytes)?;
    text.parse::<toml::Table>().map_err(|e| {
        let d = Diagnostic::parse(format!("not valid TOML: {}", e.message().trim()));
        match e.span() {
            Some(span) => d.line(line_at(text.as_bytes(), span.start)),
            None => d,
        }
    })
}

/// The options every YAML parser here uses: a bounded budget and alias-replay limits (no
/// alias bombs); a repeated key keeps its last value (yarn berry lockfiles in the wild
/// repeat keys).
pub fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 5_000_000;
    budget.max_aliases = 10_000;
    budget.max_anchors = 10_000;
    budget.max_depth = 64;
    budget.max_documents = 16;
    budget.max_nodes = 5_000_000;
    budget.max_total_scalar_bytes = 256 << 20;
    budget.max_merge_keys = 10_000;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    opts.alias_limits.max_total_replayed_events = 100_000;
    opts.alias_limits.max_replay_stack_depth = 16;
    opts.alias_limits.max_alias_expansions_per_anchor = 1_000;
    opts
}

/// The diagnostic for a YAML document that does not deserialize: the first line of the
/// error (the rest is a source snippet) and its line.
pub(crate) fn yaml_error(e: &serde_saphyr::Error) -> Diagnostic {
    let msg = e.to_string();
    let first = msg.lines().next().unwrap_or("").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let d = Diagnostic::parse(format!("invalid YAML: {first}"));
    match e.location().map(|l| l.line()).filter(|&l| l > 0) {
        Some(l) => d.line(u32::try_from(l).unwrap_or(u32::MAX)),
        None => d,
    }
}

/// The diagnostic for a file cut short at [`MAX_PACKAGES`] `what`s.
pub(crate) fn too_many(what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::TooLarge,
        format!("more than {MAX_PACKAGES} {what}; the rest is not read"),
    )
}

/// Case-insensitive (ASCII) `ends_with`.
pub(crate) fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// A Go module replacement that points at a directory (`./x`, `../x`, `/x`) rather than a
/// module.
pub(crate) fn is_local_path(p: &str) -> bool {
    p.starts_with("./") || p.starts_with("../") || p.starts_with('/') || p == "." || p == ".."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_carry_lines_and_no_path() {
        let d = json(b"{\n  \"a\": 1,\n  oops\n}").unwrap_err();
        assert_eq!((d.code, d.line), (Code::ParseError, Some(3)));
        assert!(d.message.starts_with("invalid JSON: "), "{}", d.message);

        let d = toml(b"a = 1\nb = \"x\"\nc =\n").unwrap_err();
        assert_eq!((d.code, d.line), (Code::ParseError, Some(3)));
        assert!(d.message.starts_with("not valid TOML: "), "{}", d.message);

        let d = utf8(b"ok\nok\n\xff").unwrap_err();
        assert_eq!(d.line, Some(3));
        assert!(d.message.starts_with("not UTF-8"), "{}", d.message);

        let e = serde_saphyr::from_str_with_options::<serde_json::Value>(
            "a: 1\nb: [\n",
            yaml_options(),
        )
        .unwrap_err();
        let d = yaml_error(&e);
        assert!(d.message.starts_with("invalid YAML: "), "{}", d.message);
        assert!(!d.message.contains('\n'));
        assert!(d.line.is_some(), "{d:?}");
    }

    #[test]
    fn lenient_json_drops_trailing_commas_and_comments() {
        let v = json_lenient(
            b"{\n  // a comment, with a comma\n  \"a\": [1, 2,],\n  \"b\": \"x,}\", /* c */\n}\n",
        )
        .unwrap();
        assert_eq!(v["a"], serde_json::json!([1, 2]));
        assert_eq!(v["b"], "x,}");
        let d = json_lenient(b"{\n,\n\"a\": 1,\n oops\n}").unwrap_err();
        assert_eq!(d.line, Some(2));
        assert!(json_lenient(b"[1, /* unterminated").is_err());
    }

    #[test]
    fn limits_are_too_large() {
        let d = check_size(b"12345", 4).unwrap_err();
        assert_eq!(d.code, Code::TooLarge);
        assert_eq!(d.message, "5 bytes, over the 4-byte limit");
        assert_eq!(too_many("gems").code, Code::TooLarge);
    }

    #[test]
    fn lines_of_offsets() {
        assert_eq!(line_at(b"a\nb\nc", 0), 1);
        assert_eq!(line_at(b"a\nb\nc", 2), 2);
        assert_eq!(line_at(b"a\nb\nc", 99), 3);
        assert_eq!(line_at(b"a\nb\n", 4), 2);
        assert_eq!(line_at(b"", 0), 1);
        assert_eq!(decode_lossy(b"\xff\xfea\x00b\x00"), "ab");
        assert_eq!(decode_lossy(b"\xef\xbb\xbfx"), "x");
    }
}
