//! The Dockerfile parser, following BuildKit's (`moby/buildkit`'s `frontend/dockerfile/parser`
//! and `instructions`): what it accepts, moat accepts; what it refuses is an error here too,
//! with the line.
//!
//! 1. Parser directives: `# key=value` comment lines at the very top (`syntax`, `escape`,
//!    `check`); the first other line (a blank line, another comment, an instruction) ends
//!    them. `escape` is `\` (the default) or `` ` ``.
//! 2. Logical lines: an instruction continues while its physical line ends with the escape
//!    character (trailing blanks allowed); comment lines and blank lines inside a
//!    continuation are skipped; the escape character and the line break are removed.
//! 3. The keyword (case-insensitive), then leading `--flag[=value]` words, then the arguments.
//!    ONBUILD wraps one instruction, which may not be ONBUILD, FROM or MAINTAINER.
//! 4. Heredocs on RUN, COPY and ADD: every `<<WORD`, `<<-WORD` (leading tabs stripped),
//!    `<<"WORD"` / `<<'WORD'` (not expanded) on the logical line, in order, each taking the
//!    physical lines up to its terminator.
//! 5. JSON (exec) form when the arguments parse as a JSON array of strings, else shell form,
//!    exactly as BuildKit falls back.
//! 6. Stages: `FROM [--platform=P] IMAGE [AS NAME]`; ARGs before the first FROM are global
//!    (usable in FROM; a stage sees them only after re-declaring `ARG NAME`), ARG and ENV in
//!    a stage are visible to the instructions after them. The arguments of FROM, USER,
//!    WORKDIR and EXPOSE are expanded (`$V`, `${V}`, `${V:-d}`, `${V-d}`, `${V:+a}`,
//!    `${V+a}`) into [`Instruction::expanded`] for the checks.
//!
//! Bounds: [`MAX_FILE_BYTES`], [`MAX_INSTRUCTIONS`], [`MAX_HEREDOCS`] per instruction, and
//! [`MAX_EXPANDED_BYTES`] of expanded text per file; no recursion.

use std::collections::HashMap;

/// The largest Dockerfile read (BuildKit's own limit on a context file is far larger, but no
/// real Dockerfile comes near this).
pub const MAX_FILE_BYTES: usize = 4 << 20;
/// The most instructions kept.
pub const MAX_INSTRUCTIONS: usize = 50_000;
/// The most heredocs one instruction may open.
pub const MAX_HEREDOCS: usize = 64;
/// The most bytes of expanded arguments per file (an `ARG` expanded many times over).
pub const MAX_EXPANDED_BYTES: usize = 8 << 20;
const MAX_ONE_EXPANSION: usize = 64 << 10;

/// Why a Dockerfile could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("file is {0} bytes, over the {MAX_FILE_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("more than {MAX_INSTRUCTIONS} instructions")]
    TooManyInstructions { line: u32 },
    #[error("line {line}: {message}")]
    At { line: u32, message: String },
}

impl ParseError {
    /// The 1-based line the error is about, where there is one.
    pub fn line(&self) -> Option<u32> {
        match self {
            ParseError::TooLarge(_) => None,
            ParseError::TooManyInstructions { line } | ParseError::At { line, .. } => Some(*line),
        }
    }
}

fn at(line: u32, message: impl Into<String>) -> ParseError {
    ParseError::At {
        line,
        message: message.into(),
    }
}

/// A `--name[=value]` flag of an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// Without the dashes, lowercase: `from`, `chown`, `mount`, `platform`.
    pub name: String,
    pub value: Option<String>,
}

/// A heredoc's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    /// The lines between the marker's line and the terminator, each ending in `\n`.
    pub content: String,
    /// `<<-`: leading tabs were stripped.
    pub chomp: bool,
    /// Unquoted delimiter: variables in the body are expanded by the shell / BuildKit.
    pub expand: bool,
    /// The line of its first content line.
    pub line: u32,
}

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Uppercase: `FROM`, `RUN`, ...; for `ONBUILD RUN x`, `RUN` with [`Instruction::onbuild`].
    pub keyword: String,
    /// 1-based line of the keyword, and the last line (continuations and heredocs included).
    pub line: u32,
    pub end_line: u32,
    /// 1-based column (in characters) of the keyword.
    pub column: u32,
    /// Inside `ONBUILD`.
    pub onbuild: bool,
    pub flags: Vec<Flag>,
    /// The arguments after the flags, continuations joined, as written otherwise.
    pub args: String,
    /// The exec (JSON) form's words, when the arguments are one.
    pub json: Option<Vec<String>>,
    pub heredocs: Vec<Heredoc>,
    /// For RUN: the simple commands its shell runs ([`crate::dockerfile::shell`]), parsed
    /// once for every rule.
    pub commands: Vec<crate::dockerfile::shell::Command>,
    /// For FROM, USER, WORKDIR and EXPOSE: the arguments with variables expanded (from the
    /// ARG and ENV in scope); the arguments as written for the others.
    pub expanded: String,
    /// The stage it is in (an index into [`Dockerfile::stages`]); none before the first FROM.
    pub stage: Option<usize>,
}

impl Instruction {
    /// The flag `name`'s value (the last one given), if present.
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == name)
    }

    /// What a RUN's shell runs: the shell-form arguments followed by the heredoc bodies, or
    /// the exec form's words joined.
    pub fn shell_text(&self) -> String {
        let mut s = match &self.json {
            Some(words) => words.join(" "),
            None => self.args.clone(),
        };
        for h in &self.heredocs {
            s.push('\n');
            s.push_str(&h.content);
        }
        s
    }

    /// The instruction as a one-line cause for a finding (capped).
    pub fn cause(&self) -> String {
        let mut s = String::new();
        if self.onbuild {
            s.push_str("ONBUILD ");
        }
        s.push_str(&self.keyword);
        for f in &self.flags {
            s.push_str(" --");
            s.push_str(&f.name);
            if let Some(v) = &f.value {
                s.push('=');
                s.push_str(v);
            }
        }
        if !self.args.is_empty() {
            s.push(' ');
            s.push_str(&self.args);
        }
        cap(&mut s, 512);
        s
    }
}

fn cap(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
}

/// A build stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The base image as written, and expanded with the global ARGs' defaults.
    pub image: String,
    pub image_expanded: String,
    /// `AS name`, lowercase (stage names are case-insensitive).
    pub name: Option<String>,
    pub platform: Option<String>,
    /// The FROM instruction's index in [`Dockerfile::instructions`]; the stage's
    /// instructions run to the next stage's FROM.
    pub from: usize,
    pub end: usize,
}

impl Stage {
    /// `stage:NAME` or `stage:N`, for findings.
    pub fn resource(&self, index: usize) -> String {
        match &self.name {
            Some(n) => format!("stage:{n}"),
            None => format!("stage:{index}"),
        }
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dockerfile {
    /// Parser directives, key lowercase, with their line.
    pub directives: Vec<(String, String, u32)>,
    pub escape: char,
    pub instructions: Vec<Instruction>,
    pub stages: Vec<Stage>,
    /// What BuildKit would refuse but moat read past (an unknown instruction), with the line.
    pub warnings: Vec<(u32, String)>,
}

impl Dockerfile {
    /// The instructions of stage `i` (its FROM first).
    pub fn stage_instructions(&self, i: usize) -> &[Instruction] {
        self.stages
            .get(i)
            .and_then(|s| self.instructions.get(s.from..s.end))
            .unwrap_or(&[])
    }

    /// The index of the stage named `name` (case-insensitive) or numbered `name`.
    pub fn stage_by_ref(&self, name: &str) -> Option<usize> {
        let lower = name.to_ascii_lowercase();
        if let Some(i) = self
            .stages
            .iter()
            .position(|s| s.name.as_deref() == Some(lower.as_str()))
        {
            return Some(i);
        }
        lower
            .parse::<usize>()
            .ok()
            .filter(|i| *i < self.stages.len())
    }
}

const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

const JSON_FORM: &[&str] = &["RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"];

/// Parses a Dockerfile.
pub fn parse(bytes: &[u8]) -> Result<Dockerfile, ParseError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ParseError::TooLarge(bytes.len()));
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut df = Dockerfile {
        escape: '\\',
        ..Default::default()
    };
    read_directives(&lines, &mut df)?;
    let escape = df.escape;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        if df.instructions.len() >= MAX_INSTRUCTIONS {
            return Err(ParseError::TooManyInstructions { line: lineno(i) });
        }
        let start = i;
        let column = line.chars().take_while(|c| c.is_whitespace()).count() as u32 + 1;
        // The logical line.
        let mut buf = String::new();
        loop {
            let l = lines[i];
            i += 1;
            match continued(l, escape) {
                Some(head) => {
                    buf.push_str(head);
                    // The next line that is neither blank nor a comment continues it.
                    while i < lines.len() {
                        let t = lines[i].trim();
                        if t.is_empty() || lines[i].trim_start().starts_with('#') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    if i >= lines.len() {
                        break;
                    }
                }
                None => {
                    buf.push_str(l);
                    break;
                }
            }
        }
        let mut ins = instruction(buf.trim(), lineno(start), column)?;
        if !KEYWORDS.contains(&ins.keyword.as_str()) {
            // BuildKit refuses the file; moat says so and checks the rest.
            df.warnings.push((
                lineno(start),
                format!("unknown instruction: {}", ins.keyword),
            ));
        }
        if ins.onbuild && matches!(ins.keyword.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
            return Err(at(
                lineno(start),
                format!("{} isn't allowed as an ONBUILD trigger", ins.keyword),
            ));
        }
        if matches!(ins.keyword.as_str(), "RUN" | "COPY" | "ADD") && ins.args.contains("<<") {
            for (name, chomp, expand) in heredoc_markers(&ins.args) {
                if ins.heredocs.len() >= MAX_HEREDOCS {
                    return Err(at(lineno(start), "too many heredocs"));
                }
                let first = i;
                let mut content = String::new();
                let mut done = false;
                while i < lines.len() {
                    let l = lines[i];
                    i += 1;
                    let l = if chomp { l.trim_start_matches('\t') } else { l };
                    if l == name {
                        done = true;
                        break;
                    }
                    content.push_str(l);
                    content.push('\n');
                }
                if !done {
                    return Err(at(lineno(start), format!("unterminated heredoc {name:?}")));
                }
                ins.heredocs.push(Heredoc {
                    name,
                    content,
                    chomp,
                    expand,
                    line: lineno(first),
                });
            }
        }
        ins.end_line = (i as u32).max(ins.line);
        if ins.keyword == "RUN" {
            ins.commands = crate::dockerfile::shell::commands(&ins.shell_text());
        }
        df.instructions.push(ins);
    }
    scope(&mut df)?;
    Ok(df)
}

fn lineno(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX - 1).saturating_add(1)
}

/// The line without its continuation (escape character and trailing blanks), when it has one.
fn continued(line: &str, escape: char) -> Option<&str> {
    let t = line.trim_end_matches([' ', '\t']);
    t.strip_suffix(escape)
}

fn read_directives(lines: &[&str], df: &mut Dockerfile) -> Result<(), ParseError> {
    for (i, l) in lines.iter().enumerate() {
        let Some(rest) = l.trim().strip_prefix('#') else {
            return Ok(());
        };
        let Some((key, value)) = rest.split_once('=') else {
            return Ok(());
        };
        let key = key.trim();
        if key.is_empty()
            || !key.starts_with(|c: char| c.is_ascii_alphabetic())
            || !key.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Ok(());
        }
        let key = key.to_ascii_lowercase();
        if !matches!(key.as_str(), "syntax" | "escape" | "check") {
            return Ok(());
        }
        if df.directives.iter().any(|(k, _, _)| *k == key) {
            return Err(at(
                lineno(i),
                format!("only one {key} parser directive can be used"),
            ));
        }
        let value = value.trim().to_string();
        if key == "escape" {
            df.escape = match value.as_str() {
                "\\" => '\\',
                "`" => '`',
                _ => {
                    return Err(at(
                        lineno(i),
                        format!("invalid escape token {value:?} does not validate"),
                    ));
                }
            };
        }
        df.directives.push((key, value, lineno(i)));
    }
    Ok(())
}

/// Splits a logical line into keyword, flags and arguments.
fn instruction(text: &str, line: u32, column: u32) -> Result<Instruction, ParseError> {
    let (kw, rest) = split_first(text);
    let mut keyword = kw.to_ascii_uppercase();
    let mut rest = rest;
    let mut onbuild = false;
    if keyword == "ONBUILD" {
        let (inner, r) = split_first(rest);
        if inner.is_empty() {
            return Err(at(line, "ONBUILD requires an instruction"));
        }
        keyword = inner.to_ascii_uppercase();
        rest = r;
        onbuild = true;
    }
    let mut flags = Vec::new();
    loop {
        let (word, r) = split_first(rest);
        let Some(f) = word.strip_prefix("--") else {
            break;
        };
        if f.is_empty() {
            rest = r;
            break;
        }
        // Not a flag in HEALTHCHECK NONE / CMD ... once past them; flags only lead.
        let (name, value) = match f.split_once('=') {
            Some((n, v)) => (n, Some(unquote(v).to_string())),
            None => (f, None),
        };
        flags.push(Flag {
            name: name.to_ascii_lowercase(),
            value,
        });
        rest = r;
    }
    let args = rest.trim().to_string();
    let json = if JSON_FORM.contains(&keyword.as_str()) && args.starts_with('[') {
        serde_json::from_str::<Vec<String>>(&args).ok()
    } else {
        None
    };
    Ok(Instruction {
        keyword,
        line,
        end_line: line,
        column,
        onbuild,
        flags,
        expanded: args.clone(),
        args,
        json,
        heredocs: Vec::new(),
        commands: Vec::new(),
        stage: None,
    })
}

fn split_first(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(p) => (&s[..p], s[p..].trim_start()),
        None => (s, ""),
    }
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|x| x.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// The heredoc markers of a line, in order: (delimiter, `<<-`, unquoted).
pub(crate) fn heredoc_markers(s: &str) -> Vec<(String, bool, bool)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' && q == b'"' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'\\' => {
                i += 2;
                continue;
            }
            b'\'' | b'"' => quote = Some(c),
            b'<' if b.get(i + 1) == Some(&b'<') && b.get(i + 2) != Some(&b'<') => {
                if i > 0 && b[i - 1] == b'<' {
                    i += 2;
                    continue;
                }
                let mut j = i + 2;
                let chomp = b.get(j) == Some(&b'-');
                if chomp {
                    j += 1;
                }
                let q = match b.get(j) {
                    Some(&x) if x == b'"' || x == b'\'' => {
                        j += 1;
                        Some(x)
                    }
                    _ => None,
                };
                let start = j;
                while j < b.len()
                    && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'.' | b'-'))
                {
                    j += 1;
                }
                if j > start {
                    let name = String::from_utf8_lossy(&b[start..j]).into_owned();
                    let closed = match q {
                        Some(q) if b.get(j) == Some(&q) => {
                            j += 1;
                            true
                        }
                        Some(_) => false,
                        None => true,
                    };
                    if closed {
                        out.push((name, chomp, q.is_none()));
                    }
                }
                i = j.max(i + 2);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Stages, ARG scoping and expansion, in one pass.
fn scope(df: &mut Dockerfile) -> Result<(), ParseError> {
    let escape = df.escape;
    let mut global: HashMap<String, Option<String>> = HashMap::new();
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut budget = MAX_EXPANDED_BYTES;
    let mut stages: Vec<Stage> = Vec::new();
    let n = df.instructions.len();
    for idx in 0..n {
        let ins = &mut df.instructions[idx];
        if ins.onbuild {
            ins.stage = stages.len().checked_sub(1);
            continue;
        }
        match ins.keyword.as_str() {
            "FROM" => {
                if let Some(last) = stages.last_mut() {
                    last.end = idx;
                }
                let lookup = |k: &str| global.get(k).cloned().flatten();
                let expanded = expand(&ins.args, escape, &lookup, &mut budget);
                let words: Vec<&str> = expanded.split_whitespace().collect();
                let Some(image) = words.first() else {
                    return Err(at(ins.line, "FROM requires an image"));
                };
                let name = match words.as_slice() {
                    [_] => None,
                    [_, a, n] if a.eq_ignore_ascii_case("as") => Some(n.to_ascii_lowercase()),
                    _ => {
                        return Err(at(
                            ins.line,
                            "FROM requires either one or three arguments (IMAGE [AS NAME])",
                        ));
                    }
                };
                let raw_image = ins.args.split_whitespace().next().unwrap_or("").to_string();
                stages.push(Stage {
                    image: raw_image,
                    image_expanded: image.to_string(),
                    name,
                    platform: ins.flag("platform").and_then(|f| f.value.clone()),
                    from: idx,
                    end: n,
                });
                ins.expanded = expanded;
                ins.stage = Some(stages.len() - 1);
                vars.clear();
            }
            "ARG" => {
                let pairs = key_values(&ins.args, escape, false);
                if stages.is_empty() {
                    for (k, v) in pairs {
                        global.insert(k, v);
                    }
                } else {
                    for (k, v) in pairs {
                        let v = match v {
                            Some(v) => {
                                let lookup = |x: &str| vars.get(x).cloned();
                                Some(expand(&v, escape, &lookup, &mut budget))
                            }
                            None => global.get(&k).cloned().flatten(),
                        };
                        match v {
                            Some(v) => {
                                vars.insert(k, v);
                            }
                            None => {
                                vars.entry(k).or_default();
                            }
                        }
                    }
                }
                ins.stage = stages.len().checked_sub(1);
            }
            "ENV" => {
                for (k, v) in key_values(&ins.args, escape, true) {
                    let lookup = |x: &str| vars.get(x).cloned();
                    let v = expand(&v.unwrap_or_default(), escape, &lookup, &mut budget);
                    vars.insert(k, v);
                }
                ins.stage = stages.len().checked_sub(1);
            }
            kw => {
                if matches!(kw, "USER" | "WORKDIR" | "EXPOSE") {
                    let lookup = |x: &str| vars.get(x).cloned();
                    ins.expanded = expand(&ins.args, escape, &lookup, &mut budget);
                }
                if stages.is_empty() {
                    return Err(at(
                        ins.line,
                        format!("{kw} before the first FROM (only ARG may come before it)"),
                    ));
                }
                ins.stage = Some(stages.len() - 1);
            }
        }
    }
    if stages.is_empty() {
        let line = df.instructions.last().map_or(1, |i| i.line);
        return Err(at(
            line,
            "no FROM instruction: the file defines no build stage",
        ));
    }
    df.stages = stages;
    Ok(())
}

/// `KEY=VALUE ...` (values unquoted), or with `legacy` also `KEY VALUE...` (ENV's old form);
/// ARG's bare `NAME` has no value.
pub(crate) fn key_values(args: &str, escape: char, legacy: bool) -> Vec<(String, Option<String>)> {
    let words = words(args, escape);
    if legacy
        && let Some(first) = words.first()
        && !first.contains('=')
    {
        let (k, v) = split_first(args);
        return vec![(k.to_string(), Some(unquote(v.trim()).to_string()))];
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
}

/// Splits on blanks outside quotes, removing quotes and escapes.
pub(crate) fn words(s: &str, escape: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == escape => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            Some(_) => cur.push(c),
            None if c == escape => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    has = true;
                }
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                has = true;
            }
            None if c.is_whitespace() => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            None => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        out.push(cur);
    }
    out
}

/// Expands `$V`, `${V}`, `${V:-d}`, `${V-d}`, `${V:+a}`, `${V+a}` (no nesting in the
/// modifier's word beyond plain text); an unknown variable is empty, as in BuildKit. Text
/// over the budget is left as written.
pub(crate) fn expand(
    s: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
    budget: &mut usize,
) -> String {
    if !s.contains('$') {
        return s.to_string();
    }
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == escape && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            let Some(close) = chars[i + 2..].iter().position(|&c| c == '}') else {
                out.extend(&chars[i..]);
                break;
            };
            let inner: String = chars[i + 2..i + 2 + close].iter().collect();
            i += close + 3;
            let name_end = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let (name, op) = inner.split_at(name_end);
            let val = lookup(name);
            let set = val.as_deref().is_some_and(|v| !v.is_empty());
            let piece = if let Some(d) = op.strip_prefix(":-") {
                if set {
                    val.unwrap_or_default()
                } else {
                    d.to_string()
                }
            } else if let Some(d) = op.strip_prefix('-') {
                val.unwrap_or_else(|| d.to_string())
            } else if let Some(a) = op.strip_prefix(":+") {
                if set { a.to_string() } else { String::new() }
            } else if let Some(a) = op.strip_prefix('+') {
                if val.is_some() {
                    a.to_string()
                } else {
                    String::new()
                }
            } else {
                val.unwrap_or_default()
            };
            out.push_str(&piece);
        } else {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if j == start {
                out.push('$');
                i += 1;
                continue;
            }
            let name: String = chars[start..j].iter().collect();
            out.push_str(&lookup(&name).unwrap_or_default());
            i = j;
        }
        if out.len() > MAX_ONE_EXPANSION || out.len() > *budget {
            return s.to_string();
        }
    }
    *budget = budget.saturating_sub(out.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Dockerfile {
        parse(s.as_bytes()).unwrap()
    }

    fn err_line(s: &str) -> Option<u32> {
        parse(s.as_bytes()).unwrap_err().line()
    }

    #[test]
    fn directives_escape_and_continuations() {
        let df = p(
            "# syntax=docker/dockerfile:1\n# escape=`\n\nFROM a:1\nRUN echo a `\n# a comment inside\n\n  && echo b\nCOPY c:\\x d\\\n",
        );
        assert_eq!(df.escape, '`');
        assert_eq!(
            df.directives[0],
            ("syntax".into(), "docker/dockerfile:1".into(), 1)
        );
        let run = &df.instructions[1];
        assert_eq!((run.line, run.end_line), (5, 8));
        assert_eq!(run.args, "echo a   && echo b");
        // With ` as the escape, a trailing backslash is an ordinary character.
        assert_eq!(df.instructions[2].args, "c:\\x d\\");
        // A directive after a comment is a comment.
        let df = p("# hello\n# escape=`\nFROM a:1\n");
        assert_eq!(df.escape, '\\');
        assert!(df.directives.is_empty());
        assert_eq!(err_line("# escape=x\nFROM a\n"), Some(1));
    }

    #[test]
    fn heredocs_several_per_line_chomped_and_quoted() {
        let src = "FROM a:1\nRUN <<EOF1 cat >/x && <<-\"EOF2\" sh\nline one\nEOF1\n\techo $HOME\n\tEOF2\nCOPY <<'CONF' /etc/c\nk=v\nCONF\nRUN echo after\n";
        let df = p(src);
        let run = &df.instructions[1];
        assert_eq!(run.heredocs.len(), 2);
        assert_eq!(
            (
                run.heredocs[0].name.as_str(),
                run.heredocs[0].content.as_str()
            ),
            ("EOF1", "line one\n")
        );
        assert!(run.heredocs[0].expand && !run.heredocs[0].chomp);
        assert_eq!(run.heredocs[1].content, "echo $HOME\n");
        assert!(!run.heredocs[1].expand && run.heredocs[1].chomp);
        assert_eq!((run.line, run.end_line), (2, 6));
        assert_eq!(df.instructions[2].heredocs[0].content, "k=v\n");
        assert_eq!(df.instructions[3].line, 10);
        // Not heredocs: a here-string, a quoted <<.
        assert!(
            p("FROM a\nRUN cat <<<x && echo '<<EOF'\n").instructions[1]
                .heredocs
                .is_empty()
        );
        assert_eq!(err_line("FROM a\nRUN <<EOF\nno end\n"), Some(2));
    }

    #[test]
    fn json_and_shell_forms_flags_and_onbuild() {
        let df = p(
            "FROM --platform=$BUILDPLATFORM a:1 AS b\nCMD [\"a\", \"b c\"]\nENTRYPOINT [\"a\" oops]\nCOPY --from=b --chown=1:1 --chmod=755 x /y\nRUN --mount=type=cache,target=/root/.cache pip install x\nONBUILD RUN make\n",
        );
        let [from, cmd, ep, copy, run, onb] = &df.instructions[..] else {
            panic!()
        };
        assert_eq!(
            from.flag("platform").unwrap().value.as_deref(),
            Some("$BUILDPLATFORM")
        );
        assert_eq!(
            cmd.json.as_deref(),
            Some(&["a".to_string(), "b c".to_string()][..])
        );
        assert_eq!(ep.json, None, "invalid JSON falls back to the shell form");
        assert_eq!(copy.flags.len(), 3);
        assert_eq!(copy.flag("from").unwrap().value.as_deref(), Some("b"));
        assert_eq!(copy.args, "x /y");
        assert_eq!(run.commands[0].words, ["pip", "install", "x"]);
        assert!(onb.onbuild && onb.keyword == "RUN");
        assert_eq!(err_line("FROM a\nONBUILD ONBUILD RUN x\n"), Some(2));
        assert_eq!(p("FROM a\n  run x\n").instructions[1].column, 3);
    }

    #[test]
    fn stages_and_arg_scoping() {
        let src = "ARG BASE=debian\nARG TAG=12\nARG USERNAME=app\nFROM ${BASE}:${TAG} AS Build\nUSER $USERNAME\nARG USERNAME\nENV HOME=/home/$USERNAME\nWORKDIR ${HOME}/src\nFROM build\nUSER ${USERNAME:-nobody}\nEXPOSE ${PORT:-8080}\n";
        let df = p(src);
        assert_eq!(df.stages.len(), 2);
        assert_eq!(df.stages[0].image_expanded, "debian:12");
        assert_eq!(df.stages[0].name.as_deref(), Some("build"));
        assert_eq!(df.stage_by_ref("BUILD"), Some(0));
        assert_eq!(df.stage_by_ref("1"), Some(1));
        let expanded: Vec<&str> = df
            .instructions
            .iter()
            .map(|i| i.expanded.as_str())
            .collect();
        // A global ARG is not visible in a stage until re-declared there.
        assert_eq!(expanded[4], "");
        assert_eq!(expanded[7], "/home/app/src");
        // Each stage starts afresh.
        assert_eq!(expanded[9], "nobody");
        assert_eq!(expanded[10], "8080");
        assert_eq!(df.instructions[9].stage, Some(1));
    }

    #[test]
    fn located_errors_and_bounds() {
        assert_eq!(err_line("RUN x\nFROM a\n"), Some(1));
        assert_eq!(err_line("# just a comment\n"), Some(1));
        assert_eq!(err_line("FROM a b c d\n"), Some(1));
        assert!(matches!(
            parse(&vec![b'#'; MAX_FILE_BYTES + 1]),
            Err(ParseError::TooLarge(_))
        ));
        let many = format!("FROM a\n{}", "RUN x\n".repeat(MAX_INSTRUCTIONS));
        assert!(matches!(
            parse(many.as_bytes()),
            Err(ParseError::TooManyInstructions { .. })
        ));
        // An ARG expanded over and over stays within the budget (left as written).
        let bomb = format!(
            "ARG A={}\nFROM a\nARG A\n{}",
            "x".repeat(60_000),
            "USER $A$A$A$A$A$A$A$A$A$A\n".repeat(2_000)
        );
        let df = p(&bomb);
        let total: usize = df.instructions.iter().map(|i| i.expanded.len()).sum();
        assert!(total < MAX_EXPANDED_BYTES + 2_000 * 40, "{total}");
        // A continuation at the end of the file ends the instruction.
        assert_eq!(p("FROM a\nRUN x \\").instructions[1].args, "x");
    }
}
