//! Output format strings: text with `%field`, `%field[arg]` and `%(field)` substitutions,
//! resolved when the rules load and rendered per alert (`<NA>` for a field without value,
//! `(a,b)` for several values).

use crate::cond::parse_field_prefix;
use crate::eval::FieldCache;
use crate::field::{FieldArg, FieldSource, Value};
use std::fmt::Write as _;
use std::sync::Arc;

/// A compiled output format.
#[derive(Debug, Clone)]
pub struct OutputFormat<F> {
    parts: Vec<Part<F>>,
}

#[derive(Debug, Clone)]
enum Part<F> {
    Text(String),
    /// A field and its slot in the per-event [`FieldCache`] (shared with the conditions'
    /// operands naming the same field without transformers).
    Field {
        name: Arc<str>,
        field: F,
        slot: u32,
    },
}

impl<F: Clone> OutputFormat<F> {
    /// Parses and resolves `format` against `source`.
    pub fn compile<S: FieldSource<Field = F>>(format: &str, source: &S) -> Result<Self, String> {
        Self::compile_slots(format, source, &mut |_, _| u32::MAX)
    }

    /// [`OutputFormat::compile`], each field given the cache slot `slot(name, arg)` says.
    pub(crate) fn compile_slots<S: FieldSource<Field = F>>(
        format: &str,
        source: &S,
        slot: &mut dyn FnMut(&str, &FieldArg) -> u32,
    ) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = format;
        while let Some(i) = rest.find('%') {
            text.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let (inner, paren) = match after.strip_prefix('(') {
                Some(p) => match p.find(')') {
                    Some(j) => (&p[..j], true),
                    None => return Err(format!("invalid output format '{format}': missing ')'")),
                },
                None => (after, false),
            };
            if !inner.starts_with(|c: char| c.is_ascii_alphabetic()) {
                if paren {
                    return Err(format!(
                        "invalid output format '{format}': empty field in %()"
                    ));
                }
                text.push('%');
                rest = after;
                continue;
            }
            let Some((fr, used)) = parse_field_prefix(inner) else {
                let word: String = inner
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                return Err(format!("invalid formatting token %{word}: not a field"));
            };
            if paren && used != inner.len() {
                return Err(format!(
                    "invalid output format '{format}': bad field in %({inner})"
                ));
            }
            let (field, _) = source
                .resolve(&fr.name, &fr.arg)
                .map_err(|e| format!("invalid formatting token %{fr}: {e}"))?;
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Field {
                name: Arc::from(fr.to_string()),
                field,
                slot: slot(&fr.name, &fr.arg),
            });
            rest = if paren {
                &after[inner.len() + 2..]
            } else {
                &inner[used..]
            };
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(OutputFormat { parts })
    }

    /// The rendered text and each field's rendered value (`None` when it has none).
    #[allow(clippy::type_complexity)]
    pub fn render<'e, S: FieldSource<Field = F>>(
        &self,
        src: &'e S,
        ev: &'e S::Event,
    ) -> (String, Vec<(Arc<str>, Option<String>)>) {
        self.render_with(src, ev, true)
    }

    /// [`OutputFormat::render`]; without `with_fields` the list of fields' values is left
    /// empty (a text line does not show it) and only the text is built.
    #[allow(clippy::type_complexity)]
    pub fn render_with<'e, S: FieldSource<Field = F>>(
        &self,
        src: &'e S,
        ev: &'e S::Event,
        with_fields: bool,
    ) -> (String, Vec<(Arc<str>, Option<String>)>) {
        self.render_cached(src, ev, with_fields, &mut FieldCache::new(0, 0))
    }

    /// [`OutputFormat::render_with`], the fields read through the event's `cache`.
    #[allow(clippy::type_complexity)]
    pub fn render_cached<'e, S: FieldSource<Field = F>>(
        &self,
        src: &'e S,
        ev: &'e S::Event,
        with_fields: bool,
        cache: &mut FieldCache<'e>,
    ) -> (String, Vec<(Arc<str>, Option<String>)>) {
        let mut out = String::with_capacity(256);
        let mut fields: Vec<(Arc<str>, Option<String>)> = if with_fields {
            Vec::with_capacity(self.parts.len())
        } else {
            Vec::new()
        };
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field { name, field, slot } => {
                    let vals = cache.field(*slot, field, src, ev);
                    let start = out.len();
                    let has = write_values(vals, &mut out);
                    if with_fields && !fields.iter().any(|(n, _)| n == name) {
                        fields.push((Arc::clone(name), has.then(|| out[start..].to_string())));
                    }
                }
            }
        }
        (out, fields)
    }
}

/// Appends `vals` as [`render_values`] has them to `out`, `<NA>` for none; whether there
/// was a value.
fn write_values(vals: &[Value], out: &mut String) -> bool {
    match vals {
        [] => {
            out.push_str("<NA>");
            false
        }
        [one] => {
            write_value(one, out);
            true
        }
        many => {
            out.push('(');
            for (i, v) in many.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(v, out);
            }
            out.push(')');
            true
        }
    }
}

/// Appends [`render_value`]'s text of `v` to `out`.
fn write_value(v: &Value, out: &mut String) {
    // Writing to a String cannot fail.
    let _ = match v {
        Value::Str(b) | Value::Bytes(b) => {
            match std::str::from_utf8(b) {
                Ok(s) => out.push_str(s),
                Err(_) => out.push_str(&String::from_utf8_lossy(b)),
            }
            Ok(())
        }
        Value::Uint(n) => write!(out, "{n}"),
        Value::Int(n) => write!(out, "{n}"),
        Value::Bool(b) => write!(out, "{b}"),
        Value::Ip(ip) => write!(out, "{ip}"),
    };
}

/// One value as text.
pub fn render_value(v: &Value) -> String {
    match v {
        Value::Str(b) | Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Uint(n) => n.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Ip(ip) => ip.to_string(),
    }
}

/// Values as Falco prints them: one value as is, several as `(a,b)`, none as `None`.
pub fn render_values(vals: &[Value]) -> Option<String> {
    match vals {
        [] => None,
        [one] => Some(render_value(one)),
        many => Some(format!(
            "({})",
            many.iter().map(render_value).collect::<Vec<_>>().join(",")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn written_values_are_the_rendered_ones() {
        let ip: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let cases: Vec<Vec<Value>> = vec![
            vec![],
            vec![Value::Str(Cow::Borrowed(b"a\xffb"))],
            vec![Value::Uint(42)],
            vec![Value::Int(-7), Value::Bool(true), Value::Ip(ip)],
            vec![
                Value::Bytes(Cow::Borrowed(b"x")),
                Value::Str(Cow::Borrowed(b"")),
            ],
        ];
        for vals in cases {
            let mut out = String::from("pre ");
            let has = write_values(&vals, &mut out);
            let want = render_values(&vals);
            assert_eq!(has, want.is_some());
            assert_eq!(out, format!("pre {}", want.as_deref().unwrap_or("<NA>")));
        }
    }
}
