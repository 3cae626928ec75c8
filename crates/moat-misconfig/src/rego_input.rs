//! The input documents Rego policies see, in the shapes Trivy gives its checks (so that
//! Trivy's custom checks run unchanged); `docs/rego-input.md` documents them.
//!
//! * Dockerfile: `{"Stages": [{"Name", "Commands": [{"Cmd", "SubCmd", "Flags", "Value",
//!   "Original", "JSON", "Stage", "Path", "StartLine", "EndLine"}]}]}`, built from moat's
//!   parser and the file's own text the way BuildKit's node tree gives it to Trivy: `Cmd`
//!   lowercase, `Original` the logical line as written (continuations joined, comment lines
//!   inside dropped; heredoc bodies after a line break), `Value` split per instruction
//!   (ENV/LABEL as key, value, `=` triples; FROM, ARG, EXPOSE, COPY, ADD at blanks; RUN, CMD,
//!   ENTRYPOINT, USER and the others as one string; the exec form's words; a heredoc's
//!   body), ARGs before the first FROM in a stage named `""`.
//! * Kubernetes: each YAML (or JSON) document as JSON, with `__defsec_metadata`
//!   (`startline`, `endline`, `filepath`, `offset`) on every mapping, so that
//!   `result.new(msg, input.spec.containers[i])` knows its lines.
//! * Compose: the whole file as JSON, `__defsec_metadata` on the top-level mapping and on
//!   each service (network, volume), not on the maps keyed by the user's names.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, json};

use crate::dockerfile::Dockerfile;

/// The Dockerfile input document of `df`, parsed from `text`, for the file `path`.
pub fn dockerfile(path: &str, text: &str, df: &Dockerfile) -> Value {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut stages: Vec<Value> = Vec::new();
    let mut commands: Vec<Value> = Vec::new();
    let mut name = String::new();
    let mut started = false;
    for ins in &df.instructions {
        let original = original(&lines, ins, df.escape);
        let (cmd, sub, flags, rest) = split_instruction(&original, ins.onbuild);
        if ins.keyword == "FROM" && !ins.onbuild {
            if started || !commands.is_empty() {
                stages.push(json!({"Name": name, "Commands": std::mem::take(&mut commands)}));
            }
            started = true;
            name = original
                .split_once(char::is_whitespace)
                .map(|(_, r)| r.trim().to_string())
                .unwrap_or_default();
        }
        let value = value_of(ins, &cmd, &sub, &rest);
        commands.push(json!({
            "Cmd": cmd,
            "SubCmd": sub,
            "Flags": flags,
            "Value": value,
            "Original": original,
            "JSON": ins.json.is_some(),
            "Stage": ins.stage.unwrap_or(0),
            "Path": path,
            "StartLine": ins.line,
            "EndLine": ins.end_line,
        }));
    }
    if started || !commands.is_empty() {
        stages.push(json!({"Name": name, "Commands": commands}));
    }
    json!({ "Stages": stages })
}

/// The instruction as written: its logical line (continuations joined, comment and blank
/// lines inside dropped), then its heredoc lines after line breaks.
fn original(lines: &[&str], ins: &crate::dockerfile::Instruction, escape: char) -> String {
    let first = ins.line.saturating_sub(1) as usize;
    let last = (ins.end_line as usize).min(lines.len());
    let logical_end = match ins.heredocs.first() {
        Some(h) => (h.line.saturating_sub(1) as usize).min(last),
        None => last,
    };
    let mut s = String::new();
    for (k, l) in lines
        .get(first..logical_end)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let t = l.trim();
        if k > 0 && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        let head = l.trim_end_matches([' ', '\t']);
        match head.strip_suffix(escape) {
            Some(h) => s.push_str(h),
            None => {
                s.push_str(l);
                break;
            }
        }
    }
    let mut s = s.trim().to_string();
    for l in lines.get(logical_end..last).unwrap_or(&[]) {
        s.push('\n');
        s.push_str(l);
    }
    s
}

/// `(cmd, subcmd, flags, rest)` of an instruction's original text: the keyword lowercase,
/// ONBUILD's inner keyword, the leading `--flag`s as written, the arguments' text.
fn split_instruction(original: &str, onbuild: bool) -> (String, String, Vec<String>, String) {
    let logical = original.split('\n').next().unwrap_or("");
    let (kw, mut rest) = split_word(logical);
    let mut sub = String::new();
    if onbuild {
        let (inner, r) = split_word(rest);
        sub = inner.to_ascii_uppercase();
        rest = r;
    }
    let mut flags = Vec::new();
    while rest.starts_with("--") {
        let (f, r) = split_word(rest);
        flags.push(f.to_string());
        rest = r;
    }
    (kw.to_ascii_lowercase(), sub, flags, rest.to_string())
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

/// `Value`: what BuildKit's parser gives for the instruction's arguments.
fn value_of(ins: &crate::dockerfile::Instruction, cmd: &str, sub: &str, rest: &str) -> Value {
    if let Some(words) = &ins.json {
        if words.is_empty() {
            return Value::Null;
        }
        return json!(words);
    }
    if !ins.heredocs.is_empty() {
        return ins
            .heredocs
            .iter()
            .map(|h| Value::from(h.content.strip_suffix('\n').unwrap_or(&h.content)))
            .collect();
    }
    let keyword = if cmd == "onbuild" {
        sub.to_ascii_lowercase()
    } else {
        cmd.to_string()
    };
    let rest = rest.trim();
    match keyword.as_str() {
        "env" | "label" => key_value_triples(rest),
        "from" | "arg" | "expose" | "copy" | "add" | "volume" => {
            rest.split_whitespace().map(Value::from).collect()
        }
        "healthcheck" => {
            let (first, more) = split_word(rest);
            if first.eq_ignore_ascii_case("cmd") {
                json!(["CMD", more])
            } else {
                json!([first.to_ascii_uppercase()])
            }
        }
        _ if rest.is_empty() => json!([]),
        _ => json!([rest]),
    }
}

/// ENV and LABEL: `k=v k2="v 2"` as `[k, v, "=", k2, "\"v 2\"", "="]`; the legacy `K V`
/// form as `[K, V, ""]`.
fn key_value_triples(rest: &str) -> Value {
    let words = quoted_words(rest);
    let mut out = Vec::new();
    if words.first().is_some_and(|w| w.contains('=')) {
        for w in words {
            let (k, v) = w.split_once('=').unwrap_or((w.as_str(), ""));
            out.extend([Value::from(k), Value::from(v), Value::from("=")]);
        }
    } else {
        let (k, v) = split_word(rest);
        out.extend([Value::from(k), Value::from(v), Value::from("")]);
    }
    Value::Array(out)
}

/// Blank-separated words, quotes kept and blanks inside quotes not splitting.
fn quoted_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match (quote, c) {
            (_, '\\') => {
                cur.push(c);
                escaped = true;
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// A YAML document as JSON with `__defsec_metadata` on every mapping: the mapping's first
/// line and the last line any value inside it starts on. `None` when the document does not
/// parse under moat's YAML budget.
pub fn yaml_with_lines(doc: &str, first_line: u32, path: &str) -> Option<Value> {
    let node: serde_saphyr::Spanned<Node> =
        serde_saphyr::from_str_with_options(doc, crate::k8s::yaml_options()).ok()?;
    let offset = first_line.saturating_sub(1);
    Some(to_json(node, offset, path, None, 0).0)
}

/// A Compose file as JSON with `__defsec_metadata` on the top-level mapping and on each
/// entry of its top-level maps (each service, network, volume), not on the maps keyed by
/// the user's names (`services`, `environment`, `labels`), where a policy iterating the keys
/// would meet it.
pub fn compose_with_lines(text: &str, path: &str) -> Option<Value> {
    let node: serde_saphyr::Spanned<Node> =
        serde_saphyr::from_str_with_options(text, crate::k8s::yaml_options()).ok()?;
    Some(to_json(node, 0, path, Some(&[0, 2]), 0).0)
}

/// A YAML node and its children, each with the line it starts on.
enum Node {
    Scalar(Value),
    Seq(Vec<serde_saphyr::Spanned<Node>>),
    Map(Vec<(String, serde_saphyr::Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(k) = map.next_key::<KeyText>()? {
            items.push((k.0, map.next_value()?));
        }
        Ok(Node::Map(items))
    }
}

/// A mapping key as text (YAML allows numbers and booleans as keys; JSON wants strings).
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyText, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a scalar key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The JSON of a node, and the last line a value inside it starts on.
fn to_json(
    node: serde_saphyr::Spanned<Node>,
    offset: u32,
    path: &str,
    depths: Option<&[usize]>,
    depth: usize,
) -> (Value, u32) {
    let start = u32::try_from(node.referenced.line())
        .unwrap_or(u32::MAX)
        .saturating_add(offset);
    match node.value {
        Node::Scalar(v) => (v, start),
        Node::Seq(items) => {
            let mut end = start;
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                let (v, e) = to_json(i, offset, path, depths, depth + 1);
                end = end.max(e);
                out.push(v);
            }
            (Value::Array(out), end)
        }
        Node::Map(items) => {
            let mut end = start;
            let mut out = Map::new();
            for (k, i) in items {
                let (v, e) = to_json(i, offset, path, depths, depth + 1);
                end = end.max(e);
                out.insert(k, v);
            }
            if depths.is_some_and(|d| !d.contains(&depth)) {
                return (Value::Object(out), end);
            }
            out.insert(
                "__defsec_metadata".to_string(),
                json!({"startline": start, "endline": end, "filepath": path, "offset": 0}),
            );
            (Value::Object(out), end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn df_input(text: &str) -> Value {
        let df = crate::dockerfile::parse(text.as_bytes()).unwrap();
        dockerfile("Dockerfile", text, &df)
    }

    #[test]
    fn dockerfile_in_trivys_shape() {
        let v = df_input(
            "ARG B=alpine\nFROM --platform=linux/amd64 ${B}:3 AS build\nenv A=1 C=\"two words\"\nENV D 4\nRUN --mount=type=cache,target=/c \\\n    apk add curl && \\\n    # note\n    echo done\nRUN [\"echo\", \"json\"]\nCOPY <<EOF /a\ncontent\nEOF\nFROM build\nONBUILD COPY . /x\nHEALTHCHECK --interval=5s CMD curl x\nCMD []\nUSER 1000:1000\n",
        );
        let stages = v["Stages"].as_array().unwrap();
        assert_eq!(stages.len(), 3);
        assert_eq!(stages[0]["Name"], "");
        assert_eq!(stages[0]["Commands"][0]["Value"], json!(["B=alpine"]));
        assert_eq!(stages[1]["Name"], "--platform=linux/amd64 ${B}:3 AS build");
        let c = &stages[1]["Commands"];
        assert_eq!(
            c[0],
            json!({"Cmd": "from", "SubCmd": "", "Flags": ["--platform=linux/amd64"],
                "Value": ["${B}:3", "AS", "build"], "Original": "FROM --platform=linux/amd64 ${B}:3 AS build",
                "JSON": false, "Stage": 0, "Path": "Dockerfile", "StartLine": 2, "EndLine": 2})
        );
        assert_eq!(
            c[1]["Value"],
            json!(["A", "1", "=", "C", "\"two words\"", "="])
        );
        assert_eq!(c[1]["Cmd"], "env");
        assert_eq!(c[2]["Value"], json!(["D", "4", ""]));
        assert_eq!(c[3]["Value"], json!(["apk add curl &&     echo done"]));
        assert_eq!(c[3]["Flags"], json!(["--mount=type=cache,target=/c"]));
        assert_eq!(
            c[3]["Original"],
            "RUN --mount=type=cache,target=/c     apk add curl &&     echo done"
        );
        assert_eq!(
            (c[3]["StartLine"].as_u64(), c[3]["EndLine"].as_u64()),
            (Some(5), Some(8))
        );
        assert_eq!(c[4]["Value"], json!(["echo", "json"]));
        assert_eq!(c[4]["JSON"], true);
        assert_eq!(c[5]["Value"], json!(["content"]));
        assert_eq!(c[5]["Original"], "COPY <<EOF /a\ncontent\nEOF");
        let c = &stages[2]["Commands"];
        assert_eq!(c[0]["Stage"], 1);
        assert_eq!(c[1]["Cmd"], "onbuild");
        assert_eq!(c[1]["SubCmd"], "COPY");
        assert_eq!(c[1]["Value"], json!([".", "/x"]));
        assert_eq!(c[2]["Value"], json!(["CMD", "curl x"]));
        assert_eq!(c[2]["Flags"], json!(["--interval=5s"]));
        assert_eq!(c[3]["Value"], Value::Null);
        assert_eq!(c[4]["Value"], json!(["1000:1000"]));
    }

    #[test]
    fn yaml_mappings_carry_their_lines() {
        let v = yaml_with_lines(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n",
            3,
            "pod.yaml",
        )
        .unwrap();
        assert_eq!(v["__defsec_metadata"]["startline"], 3);
        assert_eq!(v["__defsec_metadata"]["endline"], 10);
        assert_eq!(v["metadata"]["__defsec_metadata"]["startline"], 6);
        let c = &v["spec"]["containers"][0]["__defsec_metadata"];
        assert_eq!(
            (c["startline"].as_u64(), c["endline"].as_u64()),
            (Some(9), Some(10))
        );
        assert_eq!(c["filepath"], "pod.yaml");
        assert_eq!(v["spec"]["containers"][0]["image"], "nginx");
        assert!(yaml_with_lines("a: [\n", 1, "x").is_none());
        let c = compose_with_lines(
            "services:\n  web:\n    image: a\n    environment:\n      A: b\n",
            "compose.yaml",
        )
        .unwrap();
        assert!(c["__defsec_metadata"].is_object());
        assert!(c["services"].get("__defsec_metadata").is_none());
        assert_eq!(c["services"]["web"]["__defsec_metadata"]["startline"], 3);
        assert!(
            c["services"]["web"]["environment"]
                .get("__defsec_metadata")
                .is_none()
        );
    }
}
