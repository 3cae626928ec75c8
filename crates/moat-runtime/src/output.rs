//! Output format strings: text with `%field`, `%field[arg]` and `%(field)` substitutions,
//! resolved when the rules load and rendered per alert (`<NA>` for a field without value,
//! `(a,b)` for several values).

use crate::cond::parse_field_prefix;
use crate::field::{FieldSource, Value};

/// A compiled output format.
#[derive(Debug, Clone)]
pub struct OutputFormat<F> {
    parts: Vec<Part<F>>,
}

#[derive(Debug, Clone)]
enum Part<F> {
    Text(String),
    Field { name: String, field: F },
}

impl<F: Clone> OutputFormat<F> {
    /// Parses and resolves `format` against `source`.
    pub fn compile<S: FieldSource<Field = F>>(format: &str, source: &S) -> Result<Self, String> {
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
                name: fr.to_string(),
                field,
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
    ) -> (String, Vec<(String, Option<String>)>) {
        let mut out = String::with_capacity(256);
        let mut fields: Vec<(String, Option<String>)> = Vec::with_capacity(self.parts.len());
        let mut buf = Vec::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field { name, field } => {
                    buf.clear();
                    src.extract(ev, field, &mut buf);
                    let v = render_values(&buf);
                    out.push_str(v.as_deref().unwrap_or("<NA>"));
                    if !fields.iter().any(|(n, _)| n == name) {
                        fields.push((name.clone(), v));
                    }
                }
            }
        }
        (out, fields)
    }
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
