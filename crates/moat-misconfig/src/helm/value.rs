//! The values templates see: YAML's data model (Go's `interface{}` as Helm fills it), their
//! printing as Go's `fmt` prints them, their truthiness as Go's templates judge it, and their
//! YAML and JSON forms (`toYaml`, `toJson`) as Helm writes them (keys sorted, sequences not
//! indented under their key, strings quoted only when they would read back as something else).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

/// A template value. Maps keep their keys sorted (Go's `range` and Helm's `toYaml` sort them)
/// and are shared as Go's are (`set` changes the map every holder sees); lists are not
/// changed in place (sprig's list functions return new lists).
#[derive(Debug, Clone, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<Vec<Value>>),
    Map(Rc<RefCell<Map>>),
}

pub type Map = BTreeMap<String, Value>;

/// How deep values are printed and copied (maps may hold themselves through `set`).
pub const MAX_DEPTH: usize = 100;
/// The most nodes a comparison, a copy or a merge visits (values may share parts: a list
/// holding the same list twice, a hundred times over, is small in memory and huge to walk).
pub const MAX_NODES: usize = 1_000_000;
/// Printing stops past this many bytes (the caller's own limit is lower).
pub const MAX_TEXT: usize = 16 << 20;

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        eq_within(self, other, 0, &mut 0)
    }
}

/// Equality, as deep as [`MAX_DEPTH`] and over at most [`MAX_NODES`] (then unequal).
fn eq_within(a: &Value, b: &Value, depth: usize, seen: &mut usize) -> bool {
    *seen += 1;
    if depth > MAX_DEPTH || *seen > MAX_NODES {
        return false;
    }
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            Rc::ptr_eq(x, y)
                || x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|(p, q)| eq_within(p, q, depth + 1, seen))
        }
        (Value::Map(x), Value::Map(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k, p), (l, q))| k == l && eq_within(p, q, depth + 1, seen))
        }
        _ => false,
    }
}

/// Whether `v` nests at most `limit` levels of lists and maps and has at most [`MAX_NODES`]
/// nodes (a map holding itself does not).
pub fn nests_within(v: &Value, limit: usize) -> bool {
    fn walk(v: &Value, limit: usize, seen: &mut usize) -> bool {
        *seen += 1;
        if *seen > MAX_NODES {
            return false;
        }
        match v {
            Value::List(_) | Value::Map(_) if limit == 0 => false,
            Value::List(l) => l.iter().all(|x| walk(x, limit - 1, seen)),
            Value::Map(m) => m.borrow().values().all(|x| walk(x, limit - 1, seen)),
            _ => true,
        }
    }
    walk(v, limit, &mut 0)
}

impl Value {
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    pub fn map(m: Map) -> Value {
        Value::Map(Rc::new(RefCell::new(m)))
    }

    pub fn list(l: Vec<Value>) -> Value {
        Value::List(Rc::new(l))
    }

    /// Go's truthiness: false, 0, nil and empty strings, lists and maps are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.borrow().is_empty(),
        }
    }

    /// Go's kind names (`kindOf`, error messages).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// As Go's `fmt` prints it with `%v` (nil as `<nil>`).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s, 0);
        s
    }

    fn write_text(&self, out: &mut String, depth: usize) {
        if out.len() > MAX_TEXT {
            return;
        }
        if depth > MAX_DEPTH {
            out.push_str("...");
            return;
        }
        match self {
            Value::Nil => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&go_float(*f)),
            Value::Str(s) => out.push_str(s),
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    v.write_text(out, depth + 1);
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push_str("map[");
                for (i, (k, v)) in m.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_text(out, depth + 1);
                }
                out.push(']');
            }
        }
    }

    /// From a JSON value (how YAML documents are read).
    pub fn from_json(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(a) => {
                Value::list(a.into_iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(o) => Value::map(
                o.into_iter()
                    .map(|(k, v)| (k, Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Compact JSON as Go's `encoding/json` writes it (`<`, `>`, `&` escaped).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out, 0);
        out
    }

    fn write_json(&self, out: &mut String, depth: usize) {
        if out.len() > MAX_TEXT {
            return;
        }
        if depth > MAX_DEPTH {
            out.push_str("null");
            return;
        }
        match self {
            Value::Nil => out.push_str("null"),
            Value::Bool(_) | Value::Int(_) => self.write_text(out, 0),
            Value::Float(f) if f.is_finite() => out.push_str(&go_float(*f)),
            Value::Float(_) => out.push_str("null"),
            Value::Str(s) => json_string(s, out),
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out, depth + 1);
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push('{');
                for (i, (k, v)) in m.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_string(k, out);
                    out.push(':');
                    v.write_json(out, depth + 1);
                }
                out.push('}');
            }
        }
    }

    /// YAML as Helm's `toYaml` writes it, with its final newline.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        match self {
            Value::Map(m) if !m.borrow().is_empty() => yaml_map(&m.borrow(), 0, &mut out),
            Value::List(l) if !l.is_empty() => yaml_list(l, 0, &mut out),
            v => {
                yaml_scalar(v, 0, &mut out);
                out.push('\n');
            }
        }
        out
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): the shortest digits, in
/// exponent form below 1e-4 and from 1e21 (whole numbers print without a fraction).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e21).contains(&a) {
        let s = format!("{f:e}");
        // Rust: 1e21, 1.5e-5; Go: 1e+21, 1.5e-05.
        if let Some((m, e)) = s.split_once('e') {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            return format!("{m}e{sign}{digits:0>2}");
        }
        return s;
    }
    format!("{f}")
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn yaml_map(m: &Map, indent: usize, out: &mut String) {
    if out.len() > MAX_TEXT {
        return;
    }
    if indent > 2 * MAX_DEPTH {
        out.push_str("{}\n");
        return;
    }
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        yaml_string(k, indent, out);
        out.push(':');
        yaml_value_after_key(v, indent, out);
    }
}

fn yaml_value_after_key(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Map(m) if !m.borrow().is_empty() => {
            out.push('\n');
            pad(out, indent + 2);
            yaml_map(&m.borrow(), indent + 2, out);
        }
        // Sequences under a key are not indented (go-yaml's style).
        Value::List(l) if !l.is_empty() => {
            out.push('\n');
            pad(out, indent);
            yaml_list(l, indent, out);
        }
        v => {
            out.push(' ');
            yaml_scalar(v, indent + 2, out);
            out.push('\n');
        }
    }
}

fn yaml_list(l: &[Value], indent: usize, out: &mut String) {
    if out.len() > MAX_TEXT {
        return;
    }
    if indent > 2 * MAX_DEPTH {
        out.push_str("[]\n");
        return;
    }
    for (i, v) in l.iter().enumerate() {
        if i > 0 {
            pad(out, indent);
        }
        out.push_str("- ");
        match v {
            Value::Map(m) if !m.borrow().is_empty() => yaml_map(&m.borrow(), indent + 2, out),
            Value::List(l) if !l.is_empty() => yaml_list(l, indent + 2, out),
            v => {
                yaml_scalar(v, indent + 2, out);
                out.push('\n');
            }
        }
    }
}

/// A scalar, or an empty collection (`{}`, `[]`); block literals indent by `indent`.
fn yaml_scalar(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(_) | Value::Int(_) => v.write_text(out, 0),
        Value::Float(f) => out.push_str(&yaml_float(*f)),
        Value::Str(s) => yaml_string(s, indent, out),
        Value::List(_) => out.push_str("[]"),
        Value::Map(_) => out.push_str("{}"),
    }
}

fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "+.inf" } else { "-.inf" }.into()
    } else {
        go_float(f)
    }
}

/// Whether a plain scalar would read back as something other than this string (YAML 1.1's
/// booleans and nulls included, as go-yaml reads them).
fn resolves_to_other(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", ".nan", ".inf",
        "-.inf", "+.inf", "<<",
    ];
    let lower = s.to_ascii_lowercase();
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    let t = t.replace('_', "");
    if t.starts_with("0x") || t.starts_with("0o") || t.starts_with("0b") {
        return t.len() > 2;
    }
    // Numbers, and sexagesimal and date-like forms YAML 1.1 reads specially.
    !t.is_empty()
        && t.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && (t.parse::<f64>().is_ok()
            || t.bytes()
                .all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
            || t.len() >= 8
                && t.as_bytes()[4] == b'-'
                && t[..4].bytes().all(|b| b.is_ascii_digit()))
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // `-x`, `?x`, `:x` are plain when not followed by a space.
        if !("-?:".contains(first) && s.chars().nth(1).is_some_and(|c| c != ' ')) {
            return false;
        }
    }
    if s.starts_with(' ') || s.ends_with(' ') || s.ends_with(':') {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains('\t') {
        return false;
    }
    s.chars().all(|c| !c.is_control() && c != '\u{feff}')
}

fn yaml_string(s: &str, indent: usize, out: &mut String) {
    if resolves_to_other(s) {
        double_quoted(s, out);
    } else if s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && !s.ends_with("\n\n")
        && s.chars().all(|c| c == '\n' || !c.is_control())
    {
        let body = s.strip_suffix('\n').unwrap_or(s);
        out.push_str(if body.len() == s.len() { "|-" } else { "|" });
        for line in body.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                pad(out, indent);
                out.push_str(line);
            }
        }
    } else if plain_ok(s) {
        out.push_str(s);
    } else if s.chars().all(|c| !c.is_control()) {
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    } else {
        double_quoted(s, out);
    }
}

fn double_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02X}", c as u32 & 0xff);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(src: &str) -> Value {
        Value::from_json(serde_saphyr::from_str::<serde_json::Value>(src).unwrap())
    }

    #[test]
    fn to_yaml_writes_as_helm_does() {
        let v = yaml(
            "b: {cpu: 250m, memory: 1Gi}\na: [x, {k: v, j: 2}]\nc: 'true'\nd: ''\ne: 'a: b'\nf: \"x\\ny\\n\"\ng: 1.5\nh: []\ni: null\nj: '0123'\n",
        );
        assert_eq!(
            v.to_yaml(),
            "a:\n- x\n- j: 2\n  k: v\nb:\n  cpu: 250m\n  memory: 1Gi\nc: \"true\"\nd: \"\"\ne: 'a: b'\nf: |\n  x\n  y\ng: 1.5\nh: []\ni: null\nj: \"0123\"\n"
        );
    }

    #[test]
    fn to_json_and_text() {
        let v = yaml("b: [1, 2.5, '<x>']\na: true\n");
        assert_eq!(v.to_json(), r#"{"a":true,"b":[1,2.5,"\u003cx\u003e"]}"#);
        assert_eq!(v.to_text(), "map[a:true b:[1 2.5 <x>]]");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(0.5), "0.5");
    }

    #[test]
    fn truthiness_is_gos() {
        for (v, t) in [
            (Value::Nil, false),
            (Value::Int(0), false),
            (Value::str(""), false),
            (Value::list(vec![]), false),
            (Value::Bool(true), true),
            (Value::str("0"), true),
        ] {
            assert_eq!(v.truthy(), t, "{v:?}");
        }
    }
}
