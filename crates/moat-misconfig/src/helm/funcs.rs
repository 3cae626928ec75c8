//! The functions templates call: Go's built-ins (`printf`, `eq`, `len`, `index`, ...) and
//! the Sprig and Helm functions charts use (`default`, `quote`, `toYaml`, `nindent`, `dict`,
//! `merge`, `semverCompare`, ...). `include` and `tpl` need the template set and live in
//! [`super::exec`]. A function not listed here is an error naming it (the template is then
//! skipped). The `rand*` functions return fixed text (renders must be reproducible).

use super::exec::{ExecError, Limits, fail};
use super::value::{MAX_DEPTH, MAX_NODES, MAX_TEXT, Map, Value, go_float, nests_within};
use std::fmt::Write as _;
use std::rc::Rc;

/// Every function name [`call`] knows (beside `and`, `or`, `include`, `tpl`).
pub const NAMES: &[&str] = &[
    "default",
    "empty",
    "coalesce",
    "ternary",
    "quote",
    "squote",
    "toYaml",
    "toJson",
    "toPrettyJson",
    "fromYaml",
    "fromJson",
    "nindent",
    "indent",
    "trim",
    "trimSuffix",
    "trimPrefix",
    "trimAll",
    "trunc",
    "replace",
    "upper",
    "lower",
    "title",
    "nospace",
    "repeat",
    "cat",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "printf",
    "print",
    "println",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "not",
    "required",
    "fail",
    "b64enc",
    "b64dec",
    "sha256sum",
    "toString",
    "int",
    "int64",
    "float64",
    "atoi",
    "list",
    "dict",
    "get",
    "set",
    "unset",
    "hasKey",
    "keys",
    "pluck",
    "pick",
    "omit",
    "merge",
    "mergeOverwrite",
    "deepCopy",
    "len",
    "index",
    "first",
    "last",
    "rest",
    "initial",
    "append",
    "prepend",
    "concat",
    "uniq",
    "compact",
    "has",
    "without",
    "join",
    "splitList",
    "split",
    "until",
    "add",
    "add1",
    "sub",
    "mul",
    "div",
    "mod",
    "max",
    "min",
    "kindIs",
    "kindOf",
    "typeOf",
    "typeIs",
    "regexMatch",
    "regexReplaceAll",
    "regexFind",
    "semverCompare",
    "lookup",
    "toStrings",
    "randAlphaNum",
    "randAlpha",
    "randNumeric",
    "randAscii",
    "kebabcase",
    "snakecase",
    "camelcase",
];

/// A value as a Go `string` parameter receives it (nil: empty), else as `%v` prints it.
pub fn string(v: &Value) -> String {
    match v {
        Value::Nil => String::new(),
        Value::Str(s) => s.to_string(),
        v => v.to_text(),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| s.trim().parse::<f64>().map_or(0, |f| f as i64)),
        _ => 0,
    }
}

fn float(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn list_of(name: &str, v: &Value) -> Result<Rc<Vec<Value>>, ExecError> {
    match v {
        Value::List(l) => Ok(l.clone()),
        Value::Nil => Ok(Rc::new(Vec::new())),
        other => fail(format!("{name}: expected a list, got {}", other.kind())),
    }
}

fn map_of(name: &str, v: &Value) -> Result<Rc<std::cell::RefCell<Map>>, ExecError> {
    match v {
        Value::Map(m) => Ok(m.clone()),
        other => fail(format!("{name}: expected a map, got {}", other.kind())),
    }
}

fn want(name: &str, args: &[Value], n: usize) -> Result<(), ExecError> {
    if args.len() != n {
        return fail(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

fn at_least(name: &str, args: &[Value], n: usize) -> Result<(), ExecError> {
    if args.len() < n {
        return fail(format!(
            "wrong number of args for {name}: want at least {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

/// The texts of `items` (nil left out) joined by `sep`, each as `each` gives it; an error
/// once the result passes `max` bytes (items may all be the same large string).
fn joined(
    name: &str,
    items: &[Value],
    sep: &str,
    max: usize,
    each: impl Fn(&Value) -> String,
) -> Result<String, ExecError> {
    let mut out = String::new();
    for (i, v) in items.iter().filter(|v| **v != Value::Nil).enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(&each(v));
        if out.len() > max {
            return fail(format!("{name}: result over {max} bytes"));
        }
    }
    Ok(out)
}

/// The most items `until` and `range` over an integer make.
pub const MAX_ITEMS: i64 = 1_000_000;

/// Calls the function `name`.
pub fn call(name: &str, a: Vec<Value>, limits: &Limits) -> Result<Value, ExecError> {
    // The functions that put values inside a new list or map: nothing deeper than
    // MAX_DEPTH is built (printing, comparing and dropping values recurse on their depth).
    if matches!(name, "list" | "dict" | "append" | "prepend" | "set")
        && !a.iter().all(|v| nests_within(v, MAX_DEPTH - 1))
    {
        return fail(format!(
            "{name}: values nested deeper than {MAX_DEPTH} or of more than {MAX_NODES} parts"
        ));
    }
    let s = |i: usize| a.get(i).map(string).unwrap_or_default();
    let max = limits.max_output;
    Ok(match name {
        "default" => {
            at_least(name, &a, 1)?;
            match a.get(1) {
                Some(v) if v.truthy() => v.clone(),
                _ => a[0].clone(),
            }
        }
        "empty" => {
            want(name, &a, 1)?;
            Value::Bool(!a[0].truthy())
        }
        "coalesce" => a.into_iter().find(Value::truthy).unwrap_or_default(),
        "ternary" => {
            want(name, &a, 3)?;
            if a[2].truthy() {
                a[0].clone()
            } else {
                a[1].clone()
            }
        }
        "quote" => Value::str(joined(name, &a, " ", max, |v| go_quote(&string(v)))?),
        "squote" => Value::str(joined(name, &a, " ", max, |v| format!("'{}'", string(v)))?),
        "toYaml" => {
            want(name, &a, 1)?;
            let y = a[0].to_yaml();
            Value::str(y.strip_suffix('\n').unwrap_or(&y))
        }
        "toJson" => {
            want(name, &a, 1)?;
            Value::str(a[0].to_json())
        }
        "toPrettyJson" => {
            want(name, &a, 1)?;
            let j: serde_json::Value = serde_json::from_str(&a[0].to_json()).unwrap_or_default();
            Value::str(serde_json::to_string_pretty(&j).unwrap_or_default())
        }
        "fromYaml" | "fromJson" => {
            want(name, &a, 1)?;
            let text = s(0);
            let r = if name == "fromJson" {
                serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string())
            } else {
                serde_saphyr::from_str_with_options::<serde_json::Value>(
                    &text,
                    crate::k8s::yaml_options(),
                )
                .map_err(|e| e.to_string())
            };
            match r {
                Ok(serde_json::Value::Null) => Value::map(Map::new()),
                Ok(v) => Value::from_json(v),
                Err(e) => Value::map(Map::from([("Error".to_string(), Value::str(e))])),
            }
        }
        "nindent" | "indent" => {
            want(name, &a, 2)?;
            let n = int(&a[0]).clamp(0, 1 << 16) as usize;
            let text = s(1);
            let lines = text.matches('\n').count() + 1;
            if lines.saturating_mul(n).saturating_add(text.len()) > max {
                return fail(format!("{name}: result over {max} bytes"));
            }
            let pad = " ".repeat(n);
            let body = format!("{pad}{}", text.replace('\n', &format!("\n{pad}")));
            Value::str(if name == "nindent" {
                format!("\n{body}")
            } else {
                body
            })
        }
        "trim" => Value::str(s(0).trim()),
        "trimSuffix" => {
            want(name, &a, 2)?;
            let (suf, t) = (s(0), s(1));
            Value::str(t.strip_suffix(suf.as_str()).unwrap_or(&t))
        }
        "trimPrefix" => {
            want(name, &a, 2)?;
            let (pre, t) = (s(0), s(1));
            Value::str(t.strip_prefix(pre.as_str()).unwrap_or(&t))
        }
        "trimAll" => {
            want(name, &a, 2)?;
            let cut: Vec<char> = s(0).chars().collect();
            Value::str(s(1).trim_matches(cut.as_slice()))
        }
        "trunc" => {
            want(name, &a, 2)?;
            let (n, t) = (int(&a[0]), s(1));
            let chars: Vec<char> = t.chars().collect();
            let len = chars.len() as i64;
            let out: String = if n < 0 {
                chars[(len + n).max(0) as usize..].iter().collect()
            } else {
                chars[..n.min(len) as usize].iter().collect()
            };
            Value::str(out)
        }
        "replace" => {
            want(name, &a, 3)?;
            let (old, new, t) = (s(0), s(1), s(2));
            if old.is_empty() {
                Value::str(t)
            } else {
                let count = t.matches(old.as_str()).count();
                if new.len() > old.len()
                    && t.len() + count.saturating_mul(new.len() - old.len()) > max
                {
                    return fail(format!("replace: result over {max} bytes"));
                }
                Value::str(t.replace(old.as_str(), &new))
            }
        }
        "upper" => Value::str(s(0).to_uppercase()),
        "lower" => Value::str(s(0).to_lowercase()),
        "title" => {
            let mut out = String::new();
            let mut start = true;
            for c in s(0).chars() {
                if start && c.is_alphabetic() {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                start = !c.is_alphanumeric() && c != '_' && c != '\'';
            }
            Value::str(out)
        }
        "nospace" => Value::str(s(0).split_whitespace().collect::<String>()),
        "repeat" => {
            want(name, &a, 2)?;
            let n = int(&a[0]).max(0) as usize;
            let t = s(1);
            if n.saturating_mul(t.len()) > max {
                return fail(format!("repeat: result over {max} bytes"));
            }
            Value::str(t.repeat(n))
        }
        "cat" => Value::str(joined(name, &a, " ", max, string)?),
        "contains" => {
            want(name, &a, 2)?;
            Value::Bool(s(1).contains(s(0).as_str()))
        }
        "hasPrefix" => {
            want(name, &a, 2)?;
            Value::Bool(s(1).starts_with(s(0).as_str()))
        }
        "hasSuffix" => {
            want(name, &a, 2)?;
            Value::Bool(s(1).ends_with(s(0).as_str()))
        }
        "printf" => {
            at_least(name, &a, 1)?;
            Value::str(sprintf(&s(0), &a[1..]))
        }
        "print" => {
            let out = sprint(&a);
            if out.len() > max {
                return fail(format!("print: result over {max} bytes"));
            }
            Value::str(out)
        }
        "println" => {
            let all: Vec<Value> = a.iter().map(|v| Value::str(v.to_text())).collect();
            Value::str(joined(name, &all, " ", max, string)? + "\n")
        }
        "eq" => {
            at_least(name, &a, 2)?;
            let mut any = false;
            for b in &a[1..] {
                any |= equal(&a[0], b)?;
            }
            Value::Bool(any)
        }
        "ne" => {
            want(name, &a, 2)?;
            Value::Bool(!equal(&a[0], &a[1])?)
        }
        "lt" | "le" | "gt" | "ge" => {
            want(name, &a, 2)?;
            let o = order(&a[0], &a[1])?;
            Value::Bool(match name {
                "lt" => o.is_lt(),
                "le" => o.is_le(),
                "gt" => o.is_gt(),
                _ => o.is_ge(),
            })
        }
        "not" => {
            want(name, &a, 1)?;
            Value::Bool(!a[0].truthy())
        }
        "required" => {
            want(name, &a, 2)?;
            match &a[1] {
                Value::Nil => return fail(s(0)),
                Value::Str(x) if x.is_empty() => return fail(s(0)),
                v => v.clone(),
            }
        }
        "fail" => return fail(s(0)),
        "b64enc" => Value::str(b64enc(s(0).as_bytes())),
        "b64dec" => Value::str(match b64dec(&s(0)) {
            Some(b) => String::from_utf8_lossy(&b).into_owned(),
            None => "illegal base64 data".to_string(),
        }),
        "sha256sum" => {
            use sha2::Digest;
            let d = sha2::Sha256::digest(s(0).as_bytes());
            Value::str(d.iter().fold(String::new(), |mut o, b| {
                let _ = write!(o, "{b:02x}");
                o
            }))
        }
        "toString" => Value::str(a.first().map(Value::to_text).unwrap_or_default()),
        "int" | "int64" | "atoi" => Value::Int(a.first().map(int).unwrap_or_default()),
        "float64" => Value::Float(a.first().map(float).unwrap_or_default()),
        "list" => Value::list(a),
        "dict" => {
            let mut m = Map::new();
            for pair in a.chunks(2) {
                m.insert(string(&pair[0]), pair.get(1).cloned().unwrap_or_default());
            }
            Value::map(m)
        }
        "get" => {
            want(name, &a, 2)?;
            map_of(name, &a[0])?
                .borrow()
                .get(&s(1))
                .cloned()
                .unwrap_or_else(|| Value::str(""))
        }
        "set" => {
            want(name, &a, 3)?;
            let m = map_of(name, &a[0])?;
            m.borrow_mut().insert(s(1), a[2].clone());
            Value::Map(m)
        }
        "unset" => {
            want(name, &a, 2)?;
            let m = map_of(name, &a[0])?;
            m.borrow_mut().remove(&s(1));
            Value::Map(m)
        }
        "hasKey" => {
            want(name, &a, 2)?;
            Value::Bool(map_of(name, &a[0])?.borrow().contains_key(&s(1)))
        }
        "keys" => {
            let mut k = Vec::new();
            for m in &a {
                k.extend(
                    map_of(name, m)?
                        .borrow()
                        .keys()
                        .map(|x| Value::str(x.as_str())),
                );
            }
            Value::list(k)
        }
        "pluck" => {
            at_least(name, &a, 1)?;
            let key = s(0);
            let mut out = Vec::new();
            for m in &a[1..] {
                if let Some(v) = map_of(name, m)?.borrow().get(&key) {
                    out.push(v.clone());
                }
            }
            Value::list(out)
        }
        "pick" | "omit" => {
            at_least(name, &a, 1)?;
            let keys: Vec<String> = a[1..].iter().map(string).collect();
            let m = map_of(name, &a[0])?;
            let out: Map = m
                .borrow()
                .iter()
                .filter(|(k, _)| keys.contains(k) == (name == "pick"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Value::map(out)
        }
        "merge" | "mergeOverwrite" => {
            at_least(name, &a, 1)?;
            let dst = map_of(name, &a[0])?;
            for src in &a[1..] {
                let src = map_of(name, src)?;
                if Rc::ptr_eq(&dst, &src) {
                    continue;
                }
                let src = src.borrow().clone();
                let mut seen = 0;
                merge_into(
                    &mut dst.borrow_mut(),
                    &src,
                    name == "mergeOverwrite",
                    0,
                    &mut seen,
                );
            }
            Value::Map(dst)
        }
        "deepCopy" => {
            want(name, &a, 1)?;
            if !nests_within(&a[0], MAX_DEPTH) {
                return fail(format!(
                    "deepCopy: values nested deeper than {MAX_DEPTH} or of more than {MAX_NODES} parts"
                ));
            }
            deep_copy(&a[0], 0)
        }
        "len" => {
            want(name, &a, 1)?;
            Value::Int(match &a[0] {
                Value::Str(x) => x.len(),
                Value::List(l) => l.len(),
                Value::Map(m) => m.borrow().len(),
                Value::Nil => 0,
                other => return fail(format!("len of type {}", other.kind())),
            } as i64)
        }
        "index" => {
            at_least(name, &a, 1)?;
            let mut cur = a[0].clone();
            for k in &a[1..] {
                cur = match &cur {
                    Value::Map(m) => m.borrow().get(&string(k)).cloned().unwrap_or_default(),
                    Value::List(l) => match usize::try_from(int(k)).ok().and_then(|i| l.get(i)) {
                        Some(v) => v.clone(),
                        None => return fail(format!("index out of range: {}", int(k))),
                    },
                    Value::Nil => Value::Nil,
                    other => return fail(format!("can't index item of type {}", other.kind())),
                };
            }
            cur
        }
        "first" | "last" | "rest" | "initial" => {
            want(name, &a, 1)?;
            let l = list_of(name, &a[0])?;
            match name {
                "first" => l.first().cloned().unwrap_or_default(),
                "last" => l.last().cloned().unwrap_or_default(),
                "rest" => Value::list(l.iter().skip(1).cloned().collect()),
                _ => Value::list(l[..l.len().saturating_sub(1)].to_vec()),
            }
        }
        "append" | "prepend" => {
            want(name, &a, 2)?;
            let mut l = list_of(name, &a[0])?.as_ref().clone();
            if name == "append" {
                l.push(a[1].clone());
            } else {
                l.insert(0, a[1].clone());
            }
            Value::list(l)
        }
        "concat" => {
            let mut out = Vec::new();
            for l in &a {
                out.extend(list_of(name, l)?.iter().cloned());
            }
            Value::list(out)
        }
        "uniq" => {
            want(name, &a, 1)?;
            let mut out: Vec<Value> = Vec::new();
            for v in list_of(name, &a[0])?.iter() {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Value::list(out)
        }
        "compact" => {
            want(name, &a, 1)?;
            Value::list(
                list_of(name, &a[0])?
                    .iter()
                    .filter(|v| v.truthy())
                    .cloned()
                    .collect(),
            )
        }
        "has" => {
            want(name, &a, 2)?;
            Value::Bool(list_of(name, &a[1])?.contains(&a[0]))
        }
        "without" => {
            at_least(name, &a, 1)?;
            let l = list_of(name, &a[0])?;
            Value::list(l.iter().filter(|v| !a[1..].contains(v)).cloned().collect())
        }
        "join" => {
            want(name, &a, 2)?;
            let items = match &a[1] {
                Value::List(l) => l.clone(),
                v => Rc::new(vec![v.clone()]),
            };
            Value::str(joined(name, &items, &s(0), max, string)?)
        }
        "splitList" | "split" => {
            want(name, &a, 2)?;
            let (sep, t) = (s(0), s(1));
            let parts: Vec<&str> = if sep.is_empty() {
                t.split_terminator("").skip(1).collect()
            } else {
                t.split(sep.as_str()).collect()
            };
            if name == "split" {
                Value::map(
                    parts
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (format!("_{i}"), Value::str(*p)))
                        .collect(),
                )
            } else {
                Value::list(parts.into_iter().map(Value::str).collect())
            }
        }
        "until" => {
            want(name, &a, 1)?;
            let n = int(&a[0]);
            if n > MAX_ITEMS {
                return fail(format!("until {n}: too many items"));
            }
            Value::list((0..n.max(0)).map(Value::Int).collect())
        }
        "add" | "mul" | "max" | "min" => {
            let floats = a.iter().any(|v| matches!(v, Value::Float(_)));
            let init = match name {
                "add" => 0,
                "mul" => 1,
                _ => a.first().map(int).unwrap_or_default(),
            };
            if floats && matches!(name, "add" | "mul") {
                let f = a.iter().map(float).fold(init as f64, |x, y| {
                    if name == "add" { x + y } else { x * y }
                });
                Value::Float(f)
            } else {
                Value::Int(a.iter().map(int).fold(init, |x, y| match name {
                    "add" => x.wrapping_add(y),
                    "mul" => x.wrapping_mul(y),
                    "max" => x.max(y),
                    _ => x.min(y),
                }))
            }
        }
        "add1" => Value::Int(a.first().map(int).unwrap_or_default().wrapping_add(1)),
        "sub" | "div" | "mod" => {
            want(name, &a, 2)?;
            let (x, y) = (int(&a[0]), int(&a[1]));
            Value::Int(match name {
                "sub" => x.wrapping_sub(y),
                _ if y == 0 => return fail(format!("{name}: integer divide by zero")),
                "div" => x.wrapping_div(y),
                _ => x.wrapping_rem(y),
            })
        }
        "kindIs" | "typeIs" => {
            want(name, &a, 2)?;
            let k = if name == "kindIs" {
                a[1].kind()
            } else {
                type_of(&a[1])
            };
            Value::Bool(s(0) == k)
        }
        "kindOf" => Value::str(a.first().map_or("invalid", Value::kind)),
        "typeOf" => Value::str(a.first().map_or("<nil>", type_of)),
        "regexMatch" | "regexFind" | "regexReplaceAll" => {
            at_least(name, &a, 2)?;
            let re = regex::RegexBuilder::new(&s(0))
                .size_limit(1 << 20)
                .build()
                .map_err(|e| ExecError(format!("{name}: {e}")))?;
            match name {
                "regexMatch" => Value::Bool(re.is_match(&s(1))),
                "regexFind" => Value::str(re.find(&s(1)).map_or("", |m| m.as_str())),
                _ => {
                    want(name, &a, 3)?;
                    let (t, repl) = (s(1), s(2));
                    let hits = re.find_iter(&t).count();
                    if t.len()
                        .saturating_add(hits.saturating_mul(repl.len().max(64)))
                        > max
                    {
                        return fail(format!("{name}: result over {max} bytes"));
                    }
                    let out = re.replace_all(&t, repl.as_str()).into_owned();
                    if out.len() > max {
                        return fail(format!("{name}: result over {max} bytes"));
                    }
                    Value::str(out)
                }
            }
        }
        "semverCompare" => {
            want(name, &a, 2)?;
            Value::Bool(semver_compare(&s(0), &s(1))?)
        }
        // No cluster to ask: Helm's `template` gives an empty map too.
        "lookup" => Value::map(Map::new()),
        "toStrings" => {
            want(name, &a, 1)?;
            // Strings are shared, not copied: only the others' texts count.
            let mut total = 0usize;
            let mut out = Vec::new();
            for v in list_of(name, &a[0])?.iter() {
                out.push(match v {
                    Value::Str(_) => v.clone(),
                    v => {
                        let t = string(v);
                        total += t.len();
                        if total > max {
                            return fail(format!("toStrings: result over {max} bytes"));
                        }
                        Value::str(t)
                    }
                });
            }
            Value::list(out)
        }
        "randAlphaNum" | "randAlpha" | "randNumeric" | "randAscii" => {
            want(name, &a, 1)?;
            let n = int(&a[0]).clamp(0, 1 << 16) as usize;
            Value::str(if name == "randNumeric" { "0" } else { "x" }.repeat(n))
        }
        "kebabcase" | "snakecase" | "camelcase" => Value::str(case(name, &s(0))),
        _ => return fail(format!("function {name:?} not defined")),
    })
}

fn case(name: &str, t: &str) -> String {
    // Words: split at non-alphanumerics and before an upper-case letter after a lower one.
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in t.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.push(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    match name {
        "camelcase" => words
            .iter()
            .map(|w| {
                let mut cs = w.chars();
                cs.next()
                    .map(|f| f.to_uppercase().chain(cs).collect::<String>())
                    .unwrap_or_default()
            })
            .collect(),
        sep => words
            .iter()
            .map(|w| w.to_lowercase())
            .collect::<Vec<_>>()
            .join(if sep == "kebabcase" { "-" } else { "_" }),
    }
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float64",
        Value::Str(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
    }
}

fn merge_into(dst: &mut Map, src: &Map, overwrite: bool, depth: usize, seen: &mut usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for (k, v) in src {
        *seen += 1;
        if *seen > MAX_NODES {
            return;
        }
        match dst.get(k) {
            None => {
                dst.insert(k.clone(), v.clone());
            }
            Some(Value::Map(d)) if matches!(v, Value::Map(_)) => {
                if let Value::Map(s) = v
                    && !Rc::ptr_eq(d, s)
                {
                    let s = s.borrow().clone();
                    merge_into(&mut d.borrow_mut(), &s, overwrite, depth + 1, seen);
                }
            }
            Some(d) if overwrite || !d.truthy() => {
                if v.truthy() || !overwrite {
                    dst.insert(k.clone(), v.clone());
                }
            }
            Some(_) => {}
        }
    }
}

pub(crate) fn deep_copy(v: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Nil;
    }
    match v {
        Value::Map(m) => Value::map(
            m.borrow()
                .iter()
                .map(|(k, x)| (k.clone(), deep_copy(x, depth + 1)))
                .collect(),
        ),
        Value::List(l) => Value::list(l.iter().map(|x| deep_copy(x, depth + 1)).collect()),
        v => v.clone(),
    }
}

fn equal(a: &Value, b: &Value) -> Result<bool, ExecError> {
    Ok(match (a, b) {
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => *x as f64 == *y,
        (Value::List(_) | Value::Map(_), _) | (_, Value::List(_) | Value::Map(_)) => {
            return fail("error calling eq: non-comparable type");
        }
        (x, y) => x == y,
    })
}

fn order(a: &Value, b: &Value) -> Result<std::cmp::Ordering, ExecError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => float(a)
            .partial_cmp(&float(b))
            .ok_or_else(|| ExecError("comparison of NaN".into())),
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        _ => fail(format!(
            "incompatible types for comparison: {} and {}",
            a.kind(),
            b.kind()
        )),
    }
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
fn sprint(a: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in a.iter().enumerate() {
        if i > 0 && !matches!(v, Value::Str(_)) && !matches!(a[i - 1], Value::Str(_)) {
            out.push(' ');
        }
        out.push_str(&v.to_text());
        if out.len() > MAX_TEXT {
            break;
        }
    }
    out
}

/// Go's `fmt.Sprintf` for the verbs charts use: `%s %v %d %q %f %x %X %t %%`, with flags
/// `-` and `0`, a width and a precision.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if out.len() > MAX_TEXT {
            break;
        }
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut left, mut zero, mut plus) = (false, false, false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' | '#' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = 0usize;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            width = (width * 10 + d as usize).min(1 << 16);
            chars.next();
        }
        let mut prec = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = 0usize;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                p = (p * 10 + d as usize).min(1 << 10);
                chars.next();
            }
            prec = Some(p);
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        next += 1;
        let numeric = matches!(arg, Value::Int(_) | Value::Float(_));
        let text = match (verb, arg) {
            ('v' | 's', Value::Nil) => {
                if verb == 'v' {
                    "<nil>".into()
                } else {
                    "%!s(<nil>)".into()
                }
            }
            ('s' | 'v', Value::Float(f)) if prec.is_some() && verb == 's' => go_float(*f),
            ('s' | 'v', v) => {
                let t = v.to_text();
                match prec {
                    Some(p) if verb == 's' => t.chars().take(p).collect(),
                    _ => t,
                }
            }
            ('d', Value::Int(i)) => {
                if plus && *i >= 0 {
                    format!("+{i}")
                } else {
                    i.to_string()
                }
            }
            ('f' | 'F', Value::Int(_) | Value::Float(_)) => {
                format!("{:.*}", prec.unwrap_or(6), float(arg))
            }
            ('g', Value::Int(_) | Value::Float(_)) => go_float(float(arg)),
            ('q', Value::Str(s)) => go_quote(s),
            ('q', Value::Int(i)) => {
                format!("'{}'", char::from_u32(*i as u32).unwrap_or('\u{fffd}'))
            }
            ('t', Value::Bool(b)) => b.to_string(),
            ('x', Value::Int(i)) => format!("{i:x}"),
            ('X', Value::Int(i)) => format!("{i:X}"),
            ('x', Value::Str(s)) => s.bytes().fold(String::new(), |mut o, b| {
                let _ = write!(o, "{b:02x}");
                o
            }),
            ('X', Value::Str(s)) => s.bytes().fold(String::new(), |mut o, b| {
                let _ = write!(o, "{b:02X}");
                o
            }),
            (v, a) => format!("%!{v}({}={})", type_of(a), a.to_text()),
        };
        let len = text.chars().count();
        if len >= width {
            out.push_str(&text);
        } else if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', width - len));
        } else if zero && numeric {
            let (sign, digits) = match text.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("", text.as_str()),
            };
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', width - len));
            out.push_str(digits);
        } else {
            out.extend(std::iter::repeat_n(' ', width - len));
            out.push_str(&text);
        }
    }
    if next < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| format!("{}={}", type_of(a), a.to_text()))
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn b64enc(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn b64dec(text: &str) -> Option<Vec<u8>> {
    let t = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(t.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in t.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// A version's numbers and whether it is a pre-release (`v1.31.0`, `1.2`, `1.2.3-rc.1`).
fn version(v: &str) -> Option<([u64; 3], bool)> {
    let v = v.trim().trim_start_matches(['v', 'V']);
    let v = v.split('+').next().unwrap_or(v);
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, !p.is_empty()),
        None => (v, false),
    };
    let mut n = [0u64; 3];
    for (i, p) in core.split('.').enumerate() {
        if i > 2 {
            return None;
        }
        n[i] = p.parse().ok()?;
    }
    Some((n, pre))
}

/// Masterminds' constraints, basically: `||` of comma- or space-separated comparisons
/// (`= != > < >= <= ~ ^`, `x`/`*` wildcards). Pre-release suffixes of the constraint (`-0`)
/// are ignored.
pub fn semver_compare(constraint: &str, ver: &str) -> Result<bool, ExecError> {
    let Some((v, _)) = version(ver) else {
        return fail(format!("semverCompare: invalid semantic version {ver:?}"));
    };
    let bad = || ExecError(format!("semverCompare: improper constraint: {constraint}"));
    'or: for alt in constraint.split("||") {
        // Join operators to their versions: `>= 1.2` is one comparison.
        let mut parts: Vec<String> = Vec::new();
        for tok in alt.split([',', ' ']).filter(|t| !t.is_empty()) {
            match parts.last_mut() {
                Some(last) if last.chars().all(|c| "<>=!~^".contains(c)) => last.push_str(tok),
                _ => parts.push(tok.to_string()),
            }
        }
        if parts.is_empty() {
            continue;
        }
        for p in &parts {
            let op_len = p.find(|c: char| !"<>=!~^".contains(c)).unwrap_or(p.len());
            let (op, rest) = p.split_at(op_len);
            let rest = rest.trim_start_matches(['v', 'V']);
            let rest = rest.split('-').next().unwrap_or(rest);
            let fields: Vec<&str> = rest.split('.').collect();
            let mut n = [0u64; 3];
            let mut fixed = 0;
            for (i, f) in fields.iter().enumerate().take(3) {
                if matches!(*f, "x" | "X" | "*") {
                    break;
                }
                n[i] = f.parse().map_err(|_| bad())?;
                fixed = i + 1;
            }
            let upper = |level: usize| -> [u64; 3] {
                match level {
                    0 => [u64::MAX, 0, 0],
                    1 => [n[0] + 1, 0, 0],
                    2 => [n[0], n[1] + 1, 0],
                    _ => [n[0], n[1], n[2] + 1],
                }
            };
            let ok = match op {
                "" | "=" if fixed < 3 => v >= n && v < upper(fixed),
                "" | "=" => v == n,
                "!=" => v != n,
                ">" if fixed < 3 => v >= upper(fixed),
                ">" => v > n,
                "<" => v < n,
                ">=" | "=>" => v >= n,
                "<=" | "=<" if fixed < 3 => v < upper(fixed),
                "<=" | "=<" => v <= n,
                "~" | "~>" => v >= n && v < upper(fixed.clamp(1, 2)),
                "^" => {
                    let level = if n[0] > 0 || fixed < 2 {
                        1
                    } else if n[1] > 0 || fixed < 3 {
                        2
                    } else {
                        3
                    };
                    v >= n && v < upper(level)
                }
                _ => return Err(bad()),
            };
            if !ok {
                continue 'or;
            }
        }
        return Ok(true);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, a: Vec<Value>) -> Value {
        call(name, a, &Limits::default()).unwrap()
    }

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    #[test]
    fn strings() {
        assert_eq!(f("quote", vec![s("a\"b")]), s("\"a\\\"b\""));
        assert_eq!(f("squote", vec![s("a")]), s("'a'"));
        assert_eq!(
            f("nindent", vec![Value::Int(2), s("a\nb")]),
            s("\n  a\n  b")
        );
        assert_eq!(f("indent", vec![Value::Int(1), s("a")]), s(" a"));
        assert_eq!(f("trunc", vec![Value::Int(3), s("abcdef")]), s("abc"));
        assert_eq!(f("trunc", vec![Value::Int(-2), s("abcdef")]), s("ef"));
        assert_eq!(f("trimSuffix", vec![s("-"), s("a-")]), s("a"));
        assert_eq!(f("trimPrefix", vec![s("v"), s("v1")]), s("1"));
        assert_eq!(f("replace", vec![s("."), s("-"), s("a.b.c")]), s("a-b-c"));
        assert_eq!(
            f("title", vec![s("hello wide world")]),
            s("Hello Wide World")
        );
        assert_eq!(f("upper", vec![s("ab")]), s("AB"));
        assert_eq!(f("b64enc", vec![s("moat!")]), s("bW9hdCE="));
        assert_eq!(f("b64dec", vec![s("bW9hdCE=")]), s("moat!"));
        assert_eq!(
            f("sha256sum", vec![s("abc")]),
            s("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(f("kebabcase", vec![s("fooBar baz")]), s("foo-bar-baz"));
    }

    #[test]
    fn printf_verbs() {
        let out = sprintf(
            "%s-%d-%v-%q-%5s|%-3d|%03d|%x|%%|%d",
            &[
                s("a"),
                Value::Int(7),
                Value::Bool(true),
                s("q"),
                s("r"),
                Value::Int(1),
                Value::Int(5),
                Value::Int(255),
            ],
        );
        assert_eq!(out, "a-7-true-\"q\"-    r|1  |005|ff|%|%!d(MISSING)");
        assert_eq!(sprintf("%d", &[s("x")]), "%!d(string=x)");
    }

    #[test]
    fn comparisons_and_logic() {
        assert_eq!(f("eq", vec![s("a"), s("b"), s("a")]), Value::Bool(true));
        assert_eq!(
            f("ne", vec![Value::Int(1), Value::Float(1.0)]),
            Value::Bool(false)
        );
        assert_eq!(
            f("lt", vec![Value::Int(1), Value::Int(2)]),
            Value::Bool(true)
        );
        assert_eq!(f("gt", vec![s("b"), s("a")]), Value::Bool(true));
        assert!(call("lt", vec![s("a"), Value::Int(1)], &Limits::default()).is_err());
        assert_eq!(f("default", vec![s("d"), s("")]), s("d"));
        assert_eq!(f("default", vec![s("d"), s("x")]), s("x"));
        assert_eq!(f("default", vec![s("d")]), s("d"));
        assert_eq!(
            f("ternary", vec![s("y"), s("n"), Value::Bool(false)]),
            s("n")
        );
        assert_eq!(f("empty", vec![Value::list(vec![])]), Value::Bool(true));
    }

    #[test]
    fn collections() {
        let d = f("dict", vec![s("b"), Value::Int(1), s("a"), Value::Int(2)]);
        assert_eq!(f("toJson", vec![d.clone()]), s(r#"{"a":2,"b":1}"#));
        assert_eq!(f("hasKey", vec![d.clone(), s("a")]), Value::Bool(true));
        assert_eq!(f("get", vec![d.clone(), s("z")]), s(""));
        f("set", vec![d.clone(), s("c"), Value::Int(3)]);
        assert_eq!(
            f("len", vec![d.clone()]),
            Value::Int(3),
            "set changes the map in place"
        );
        let src = f("dict", vec![s("a"), Value::Int(9), s("n"), Value::Int(4)]);
        let m = f("merge", vec![d.clone(), src]);
        assert_eq!(f("toJson", vec![m]), s(r#"{"a":2,"b":1,"c":3,"n":4}"#));
        let l = f("list", vec![s("x"), s("y")]);
        assert_eq!(f("join", vec![s(","), l.clone()]), s("x,y"));
        assert_eq!(f("has", vec![s("y"), l.clone()]), Value::Bool(true));
        assert_eq!(
            f("len", vec![f("until", vec![Value::Int(4)])]),
            Value::Int(4)
        );
        assert_eq!(f("toString", vec![Value::Int(5)]), s("5"));
        assert_eq!(f("int", vec![s("42")]), Value::Int(42));
        assert_eq!(f("contains", vec![s("oa"), s("moat")]), Value::Bool(true));
        assert_eq!(f("hasPrefix", vec![s("mo"), s("moat")]), Value::Bool(true));
        assert_eq!(f("hasSuffix", vec![s("at"), s("moat")]), Value::Bool(true));
    }

    #[test]
    fn required_fail_and_unknown() {
        let e = call(
            "required",
            vec![s("image.tag is required"), Value::Nil],
            &Limits::default(),
        );
        assert_eq!(e.unwrap_err().0, "image.tag is required");
        assert_eq!(
            call("fail", vec![s("no")], &Limits::default())
                .unwrap_err()
                .0,
            "no"
        );
        assert!(
            call("genCA", vec![], &Limits::default())
                .unwrap_err()
                .0
                .contains("\"genCA\" not defined")
        );
        let big = call(
            "repeat",
            vec![Value::Int(1 << 40), s("ab")],
            &Limits::default(),
        );
        assert!(big.unwrap_err().0.contains("over"));
    }

    #[test]
    fn semver() {
        for (c, v, want) in [
            (">=1.19-0", "v1.31.0", true),
            ("<1.19-0", "v1.31.0", false),
            (">= 1.16.0-0, < 1.32", "v1.31.0", true),
            ("~1.31.0", "v1.31.4", true),
            ("^1.2", "1.9.0", true),
            ("^1.2", "2.0.0", false),
            ("1.31.x", "v1.31.2", true),
            ("<1.14 || >=1.30", "v1.31.0", true),
            ("=1.2.3", "1.2.4", false),
        ] {
            assert_eq!(semver_compare(c, v).unwrap(), want, "{c} {v}");
        }
        assert!(semver_compare(">=abc", "1.0.0").is_err());
    }
}
