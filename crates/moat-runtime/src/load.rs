//! Rule files: YAML documents of `list`, `macro`, `rule`, `required_engine_version` and
//! `required_plugin_versions` items, read in order into a [`RuleSet`] the way Falco's loader
//! collects them (definitions, legacy `append`, `override`, `enabled`-only toggles), with
//! Falco's error and warning codes.

use serde_json::Value as Json;

/// The rule-engine version moat implements (Falco's engine version whose semantics it
/// follows); `required_engine_version` above it fails the load.
pub const ENGINE_VERSION: (u64, u64, u64) = (0, 63, 0);

/// A rule file larger than this is refused (Falco's real files are below 200 KiB).
pub const MAX_FILE_BYTES: usize = 16 << 20;

/// Falco's result codes for errors and warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    ErrFileRead,
    ErrYamlParse,
    ErrYamlValidate,
    ErrCompileCondition,
    ErrCompileOutput,
    ErrValidate,
    UnknownSource,
    UnsafeNaCheck,
    NoEvttype,
    UnknownFilter,
    UnusedMacro,
    UnusedList,
    UnknownItem,
    DeprecatedItem,
    AppendNoValues,
    ExceptionNameNotUnique,
    InvalidMacroName,
    InvalidListName,
    UnknownField,
}

impl Code {
    /// Falco's name for the code (`LOAD_ERR_YAML_VALIDATE`, `LOAD_UNUSED_MACRO`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ErrFileRead => "LOAD_ERR_FILE_READ",
            Code::ErrYamlParse => "LOAD_ERR_YAML_PARSE",
            Code::ErrYamlValidate => "LOAD_ERR_YAML_VALIDATE",
            Code::ErrCompileCondition => "LOAD_ERR_COMPILE_CONDITION",
            Code::ErrCompileOutput => "LOAD_ERR_COMPILE_OUTPUT",
            Code::ErrValidate => "LOAD_ERR_VALIDATE",
            Code::UnknownSource => "LOAD_UNKNOWN_SOURCE",
            Code::UnsafeNaCheck => "LOAD_UNSAFE_NA_CHECK",
            Code::NoEvttype => "LOAD_NO_EVTTYPE",
            Code::UnknownFilter => "LOAD_UNKNOWN_FILTER",
            Code::UnusedMacro => "LOAD_UNUSED_MACRO",
            Code::UnusedList => "LOAD_UNUSED_LIST",
            Code::UnknownItem => "LOAD_UNKNOWN_ITEM",
            Code::DeprecatedItem => "LOAD_DEPRECATED_ITEM",
            Code::AppendNoValues => "LOAD_APPEND_NO_VALUES",
            Code::ExceptionNameNotUnique => "LOAD_EXCEPTION_NAME_NOT_UNIQUE",
            Code::InvalidMacroName => "LOAD_INVALID_MACRO_NAME",
            Code::InvalidListName => "LOAD_INVALID_LIST_NAME",
            Code::UnknownField => "LOAD_UNKNOWN_FIELD",
        }
    }

    /// Whether the code is an error (the load fails) rather than a warning.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Code::ErrFileRead
                | Code::ErrYamlParse
                | Code::ErrYamlValidate
                | Code::ErrCompileCondition
                | Code::ErrCompileOutput
                | Code::ErrValidate
        )
    }
}

/// One error or warning: the code, the item (`rule`, `macro`, `list`, `exception`,
/// `rules content`, ...) and its name, the file and the item's position in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub item_type: String,
    pub item_name: String,
    pub message: String,
    pub file: String,
    /// 1-based position of the item in the file's sequence (across documents), 0 when the
    /// problem is with the file as a whole.
    pub item: usize,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = if self.code.is_error() {
            "error"
        } else {
            "warning"
        };
        write!(f, "{}", self.file)?;
        if self.item > 0 {
            write!(f, ": item {}", self.item)?;
        }
        write!(f, ": {sev} {} ({}", self.code.as_str(), self.item_type)?;
        if !self.item_name.is_empty() {
            write!(f, " '{}'", self.item_name)?;
        }
        write!(f, "): {}", self.message)
    }
}

/// Falco's eight priorities, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Informational,
    Debug,
}

impl Priority {
    /// Parses a priority name, case-insensitively (`INFO` is `Informational`).
    pub fn parse(s: &str) -> Option<Priority> {
        Some(match s.to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }

    /// The name Falco prints (`Warning`, `Informational`).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }
}

/// A rule's exception as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    pub name: String,
    /// `fields: f` (a single field) or `fields: [f, ...]`.
    pub fields: ExField,
    pub comps: ExField,
    /// Each value: a string, or (for list fields) a list of strings or nested lists.
    pub values: Vec<Json>,
}

/// A scalar or a list, as `fields:` and `comps:` may be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExField {
    Absent,
    One(String),
    Many(Vec<String>),
}

/// A list as the loader collected it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListDef {
    pub name: String,
    pub items: Vec<String>,
    /// The definition order (a redefinition keeps the first definition's place).
    pub index: usize,
    pub file: String,
    pub item: usize,
}

/// A macro as the loader collected it.
#[derive(Debug, Clone, PartialEq)]
pub struct MacroDef {
    pub name: String,
    pub condition: String,
    pub index: usize,
    pub file: String,
    pub item: usize,
}

/// A rule as the loader collected it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDef {
    pub name: String,
    pub desc: String,
    pub condition: String,
    pub output: String,
    pub priority: Priority,
    pub source: String,
    pub enabled: bool,
    pub tags: Vec<String>,
    pub exceptions: Vec<Exception>,
    pub skip_if_unknown_filter: bool,
    pub warn_evttypes: bool,
    pub index: usize,
    pub file: String,
    pub item: usize,
}

/// Everything the rule files define, in order, and what the loader had to say.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub lists: Vec<ListDef>,
    pub macros: Vec<MacroDef>,
    pub rules: Vec<RuleDef>,
    pub diagnostics: Vec<Diagnostic>,
    /// Plugin requirements (`name`, `version`) as written; moat serves `k8saudit`/`json`
    /// itself and checks none of them.
    pub required_plugins: Vec<(String, String)>,
}

impl RuleSet {
    /// Whether any error was reported.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.code.is_error())
    }

    /// Reads a rule file from disk and loads it after the ones loaded so far.
    pub fn load_file(&mut self, path: &std::path::Path) -> bool {
        let name = path.display().to_string();
        let read = std::fs::File::open(path).and_then(|f| {
            use std::io::Read;
            let mut buf = Vec::new();
            f.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut buf)?;
            Ok(buf)
        });
        match read {
            Ok(bytes) if bytes.len() > MAX_FILE_BYTES => {
                self.file_error(
                    &name,
                    Code::ErrFileRead,
                    format!("file larger than {MAX_FILE_BYTES} bytes"),
                );
                false
            }
            Ok(bytes) => self.load_bytes(&name, &bytes),
            Err(e) => {
                self.file_error(&name, Code::ErrFileRead, format!("cannot read: {e}"));
                false
            }
        }
    }

    fn file_error(&mut self, file: &str, code: Code, message: String) {
        self.diagnostics.push(Diagnostic {
            code,
            item_type: "rules content".into(),
            item_name: String::new(),
            message,
            file: file.into(),
            item: 0,
        });
    }

    /// Loads rule-file content named `file` after the ones loaded so far. Returns false when
    /// the file has an error (its later items are not read, as in Falco).
    pub fn load_bytes(&mut self, file: &str, bytes: &[u8]) -> bool {
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
            Err(e) => {
                self.file_error(file, Code::ErrYamlParse, format!("not UTF-8: {e}"));
                return false;
            }
        };
        if bytes.len() > MAX_FILE_BYTES {
            self.file_error(
                file,
                Code::ErrFileRead,
                format!("file larger than {MAX_FILE_BYTES} bytes"),
            );
            return false;
        }
        let docs: Vec<Json> = match serde_saphyr::from_multiple_with_options(text, yaml_options()) {
            Ok(d) => d,
            Err(e) => {
                let msg = e.to_string();
                let first = msg.lines().next().unwrap_or("").trim().to_string();
                self.file_error(file, Code::ErrYamlParse, first);
                return false;
            }
        };
        let mut n = 0;
        for doc in docs {
            match doc {
                Json::Null => continue,
                Json::Array(items) => {
                    for item in items {
                        n += 1;
                        if let Err(d) = self.item(file, n, item) {
                            self.diagnostics.push(*d);
                            return false;
                        }
                    }
                }
                _ => {
                    self.file_error(
                        file,
                        Code::ErrYamlValidate,
                        "Rules content is not yaml array of objects".into(),
                    );
                    return false;
                }
            }
        }
        true
    }

    fn item(&mut self, file: &str, n: usize, item: Json) -> Result<(), Box<Diagnostic>> {
        let Json::Object(map) = item else {
            return Err(diag(
                Code::ErrYamlValidate,
                "rules content item",
                "",
                file,
                n,
                "Unexpected element type. Each element should be a yaml associative array.",
            ));
        };
        let ctx = Ctx { file, n, map: &map };
        if map.contains_key("required_engine_version") {
            self.engine_version(&ctx)
        } else if map.contains_key("required_plugin_versions") {
            self.plugin_versions(&ctx)
        } else if map.contains_key("list") {
            self.list(&ctx)
        } else if map.contains_key("macro") {
            self.macro_item(&ctx)
        } else if map.contains_key("rule") {
            self.rule(&ctx)
        } else {
            self.diagnostics.push(*diag(
                Code::UnknownItem,
                "rules content item",
                "",
                file,
                n,
                "Unknown top level item",
            ));
            Ok(())
        }
    }

    fn engine_version(&mut self, c: &Ctx) -> Result<(), Box<Diagnostic>> {
        let v = &c.map["required_engine_version"];
        let err = |m: &str| {
            diag(
                Code::ErrYamlValidate,
                "required_engine_version",
                "",
                c.file,
                c.n,
                m,
            )
        };
        let req = match v {
            Json::Number(num) => match num.as_u64() {
                Some(minor) => (0, minor, 0),
                None => {
                    return Err(err(
                        "Value is not a non-negative integer or a semantic version",
                    ));
                }
            },
            Json::String(s) => match parse_semver(s) {
                Some(v) => v,
                None => match s.trim().parse::<u64>() {
                    Ok(minor) => (0, minor, 0),
                    Err(_) => {
                        return Err(err(&format!(
                            "Unable to parse engine version '{s}' as a semver string. Expected \"x.y.z\" semver format."
                        )));
                    }
                },
            },
            _ => return Err(err("Value is not a scalar")),
        };
        if req > ENGINE_VERSION {
            let (a, b, cc) = ENGINE_VERSION;
            return Err(diag(
                Code::ErrValidate,
                "required_engine_version",
                "",
                c.file,
                c.n,
                &format!(
                    "Rules require engine version {}.{}.{}, but engine version is {a}.{b}.{cc}",
                    req.0, req.1, req.2
                ),
            ));
        }
        Ok(())
    }

    fn plugin_versions(&mut self, c: &Ctx) -> Result<(), Box<Diagnostic>> {
        let Json::Array(reqs) = &c.map["required_plugin_versions"] else {
            return Err(diag(
                Code::ErrYamlValidate,
                "required_plugin_versions",
                "",
                c.file,
                c.n,
                "Value is not a sequence",
            ));
        };
        for r in reqs {
            let name = r.get("name").and_then(scalar);
            let version = r.get("version").and_then(scalar);
            match (name, version) {
                (Some(n), Some(v)) => self.required_plugins.push((n, v)),
                _ => {
                    return Err(diag(
                        Code::ErrYamlValidate,
                        "required_plugin_versions",
                        "",
                        c.file,
                        c.n,
                        "Item has no mapping for key 'name' or 'version'",
                    ));
                }
            }
        }
        Ok(())
    }

    fn list(&mut self, c: &Ctx) -> Result<(), Box<Diagnostic>> {
        let name = c.name("list")?;
        let err = |code, m: &str| diag(code, "list", &name, c.file, c.n, m);
        let Some(items_v) = c.map.get("items") else {
            return Err(err(
                Code::ErrYamlValidate,
                "Item has no mapping for key 'items'",
            ));
        };
        let Json::Array(raw) = items_v else {
            return Err(err(Code::ErrYamlValidate, "Value is not a sequence"));
        };
        let mut items = Vec::with_capacity(raw.len());
        for v in raw {
            match scalar(v) {
                Some(s) => items.push(s),
                None => return Err(err(Code::ErrYamlValidate, "List items must be scalars")),
            }
        }
        let mode = c.merge_mode(&name, "list", &["items"], &["items"])?;
        let existing = self.lists.iter_mut().find(|l| l.name == name);
        match (mode_of(&mode, "items"), existing) {
            (Some(Merge::Append), Some(prev)) => prev.items.extend(items),
            (Some(Merge::Append), None) => {
                return Err(err(
                    Code::ErrValidate,
                    "List has 'append' key or an append override but no list by that name already exists",
                ));
            }
            (Some(Merge::Replace), Some(prev)) | (None, Some(prev)) => {
                prev.items = items;
                prev.file = c.file.into();
                prev.item = c.n;
            }
            (Some(Merge::Replace), None) if c.map.contains_key("override") => {
                return Err(err(
                    Code::ErrValidate,
                    "An replace to a list was specified but no list by that name already exists",
                ));
            }
            (_, None) => {
                let index = self.lists.len();
                self.lists.push(ListDef {
                    name,
                    items,
                    index,
                    file: c.file.into(),
                    item: c.n,
                });
            }
        }
        Ok(())
    }

    fn macro_item(&mut self, c: &Ctx) -> Result<(), Box<Diagnostic>> {
        let name = c.name("macro")?;
        let err = |code, m: &str| diag(code, "macro", &name, c.file, c.n, m);
        let Some(cond) = c.map.get("condition") else {
            return Err(err(
                Code::ErrYamlValidate,
                "Item has no mapping for key 'condition'",
            ));
        };
        let Some(cond) = scalar(cond) else {
            return Err(err(Code::ErrYamlValidate, "Value is not a scalar"));
        };
        let mode = c.merge_mode(&name, "macro", &["condition"], &["condition"])?;
        let existing = self.macros.iter_mut().find(|m| m.name == name);
        match (mode_of(&mode, "condition"), existing) {
            (Some(Merge::Append), Some(prev)) => {
                prev.condition = format!("{} {}", prev.condition, cond);
            }
            (Some(Merge::Append), None) => {
                return Err(err(
                    Code::ErrValidate,
                    "Macro has 'append' key or an append override but no macro by that name already exists",
                ));
            }
            (Some(Merge::Replace), None) if c.map.contains_key("override") => {
                return Err(err(
                    Code::ErrValidate,
                    "An replace to a macro was specified but no macro by that name already exists",
                ));
            }
            (_, Some(prev)) => {
                prev.condition = cond;
                prev.file = c.file.into();
                prev.item = c.n;
            }
            (_, None) => {
                let index = self.macros.len();
                self.macros.push(MacroDef {
                    name,
                    condition: cond,
                    index,
                    file: c.file.into(),
                    item: c.n,
                });
            }
        }
        Ok(())
    }

    fn rule(&mut self, c: &Ctx) -> Result<(), Box<Diagnostic>> {
        let name = c.name("rule")?;
        let err = |code, m: &str| diag(code, "rule", &name, c.file, c.n, m);
        let append = c.bool_key("append", "rule", &name)?.unwrap_or(false);
        let has_override = c.map.contains_key("override");
        if append && has_override {
            return Err(err(
                Code::ErrValidate,
                "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.",
            ));
        }
        if append {
            self.diagnostics.push(*diag(Code::DeprecatedItem, "rule", &name, c.file, c.n,
                "The 'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead."));
            if !c.map.contains_key("condition") && !c.map.contains_key("exceptions") {
                return Err(err(
                    Code::ErrValidate,
                    "Appended rule must have exceptions or condition property",
                ));
            }
            let Some(pos) = self.rules.iter().position(|r| r.name == name) else {
                return Err(err(
                    Code::ErrValidate,
                    "Rule has 'append' key but no rule by that name already exists",
                ));
            };
            let mut prev = self.rules[pos].clone();
            for key in ["condition", "output", "desc"] {
                if let Some(v) = c.map.get(key) {
                    let s = c.string(key, v, "rule", &name)?;
                    let slot = rule_text(&mut prev, key);
                    *slot = format!("{slot} {s}");
                }
            }
            if let Some(v) = c.map.get("exceptions") {
                let ex = exceptions(c, v, &name, true)?;
                append_exceptions(c, &mut prev, ex)?;
            }
            if c.map.contains_key("tags")
                && let Some(t) = c.map.get("tags")
            {
                prev.tags.extend(string_list(t).unwrap_or_default());
            }
            self.rules[pos] = prev;
            return Ok(());
        }
        if has_override {
            let mode = c.merge_mode(
                &name,
                "rule",
                &["condition", "output", "desc", "tags", "exceptions"],
                &[
                    "condition",
                    "output",
                    "desc",
                    "priority",
                    "capture",
                    "capture_duration",
                    "tags",
                    "exceptions",
                    "enabled",
                    "warn_evttypes",
                    "skip-if-unknown-filter",
                ],
            )?;
            let Some(pos) = self.rules.iter().position(|r| r.name == name) else {
                return Err(err(
                    Code::ErrValidate,
                    "An override to a rule was specified but no rule by that name already exists",
                ));
            };
            let mut prev = self.rules[pos].clone();
            for (key, m) in &mode {
                let v = &c.map[key.as_str()];
                match key.as_str() {
                    "condition" | "output" | "desc" => {
                        let s = c.string(key, v, "rule", &name)?;
                        let slot = rule_text(&mut prev, key);
                        *slot = match m {
                            Merge::Append => format!("{slot} {s}"),
                            Merge::Replace => s,
                        };
                    }
                    "tags" => {
                        let t = string_list(v).ok_or_else(|| {
                            err(
                                Code::ErrYamlValidate,
                                "tags: value is not a sequence of strings",
                            )
                        })?;
                        match m {
                            Merge::Append => prev.tags.extend(t),
                            Merge::Replace => prev.tags = t,
                        }
                    }
                    "exceptions" => {
                        let ex = exceptions(c, v, &name, *m == Merge::Append)?;
                        match m {
                            Merge::Append => append_exceptions(c, &mut prev, ex)?,
                            Merge::Replace => prev.exceptions = ex,
                        }
                    }
                    "priority" => prev.priority = c.priority(v, &name)?,
                    "enabled" => {
                        prev.enabled = c.bool_key("enabled", "rule", &name)?.unwrap_or(true)
                    }
                    "warn_evttypes" => {
                        prev.warn_evttypes =
                            c.bool_key("warn_evttypes", "rule", &name)?.unwrap_or(true)
                    }
                    "skip-if-unknown-filter" => {
                        prev.skip_if_unknown_filter = c
                            .bool_key("skip-if-unknown-filter", "rule", &name)?
                            .unwrap_or(false)
                    }
                    _ => {}
                }
            }
            self.rules[pos] = prev;
            return Ok(());
        }
        // An item with only `rule` and `enabled` toggles an existing rule.
        let defining = ["condition", "output", "desc", "priority"]
            .iter()
            .any(|k| c.map.contains_key(*k));
        if !defining && c.map.contains_key("enabled") {
            let enabled = c.bool_key("enabled", "rule", &name)?.unwrap_or(true);
            let Some(prev) = self.rules.iter_mut().find(|r| r.name == name) else {
                return Err(err(
                    Code::ErrValidate,
                    "Rule has 'enabled' key but no rule by that name already exists",
                ));
            };
            prev.enabled = enabled;
            return Ok(());
        }
        for key in ["condition", "output", "desc", "priority"] {
            if !c.map.contains_key(key) {
                return Err(err(
                    Code::ErrYamlValidate,
                    &format!("Item has no mapping for key '{key}'"),
                ));
            }
        }
        let condition = c.string("condition", &c.map["condition"], "rule", &name)?;
        let output = c.string("output", &c.map["output"], "rule", &name)?;
        let desc = c.string("desc", &c.map["desc"], "rule", &name)?;
        let priority = c.priority(&c.map["priority"], &name)?;
        let source = match c.map.get("source") {
            Some(v) => c.string("source", v, "rule", &name)?,
            None => "syscall".into(),
        };
        let tags = match c.map.get("tags") {
            Some(v) => string_list(v).ok_or_else(|| {
                err(
                    Code::ErrYamlValidate,
                    "tags: value is not a sequence of strings",
                )
            })?,
            None => Vec::new(),
        };
        let exceptions = match c.map.get("exceptions") {
            Some(v) => exceptions(c, v, &name, false)?,
            None => Vec::new(),
        };
        let mut seen = std::collections::HashSet::new();
        for e in &exceptions {
            if !seen.insert(e.name.clone()) {
                self.diagnostics.push(*diag(
                    Code::ExceptionNameNotUnique,
                    "exception",
                    &e.name,
                    c.file,
                    c.n,
                    "Multiple definitions of exception name in the same rule",
                ));
            }
        }
        let def = RuleDef {
            name: name.clone(),
            desc,
            condition,
            output,
            priority,
            source,
            enabled: c.bool_key("enabled", "rule", &name)?.unwrap_or(true),
            tags,
            exceptions,
            skip_if_unknown_filter: c
                .bool_key("skip-if-unknown-filter", "rule", &name)?
                .unwrap_or(false),
            warn_evttypes: c.bool_key("warn_evttypes", "rule", &name)?.unwrap_or(true),
            index: self.rules.len(),
            file: c.file.into(),
            item: c.n,
        };
        match self.rules.iter_mut().find(|r| r.name == name) {
            Some(prev) => {
                let index = prev.index;
                *prev = RuleDef { index, ..def };
            }
            None => self.rules.push(def),
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Merge {
    Append,
    Replace,
}

struct Ctx<'a> {
    file: &'a str,
    n: usize,
    map: &'a serde_json::Map<String, Json>,
}

impl Ctx<'_> {
    fn name(&self, kind: &str) -> Result<String, Box<Diagnostic>> {
        match self.map.get(kind).and_then(scalar) {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(diag(
                Code::ErrYamlValidate,
                kind,
                "",
                self.file,
                self.n,
                &format!("Mapping for key '{kind}' is empty"),
            )),
        }
    }

    fn string(
        &self,
        key: &str,
        v: &Json,
        kind: &str,
        name: &str,
    ) -> Result<String, Box<Diagnostic>> {
        scalar(v).ok_or_else(|| {
            diag(
                Code::ErrYamlValidate,
                kind,
                name,
                self.file,
                self.n,
                &format!("{key}: value is not a scalar"),
            )
        })
    }

    fn bool_key(&self, key: &str, kind: &str, name: &str) -> Result<Option<bool>, Box<Diagnostic>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(Json::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
            Some(_) => Err(diag(
                Code::ErrYamlValidate,
                kind,
                name,
                self.file,
                self.n,
                &format!("{key}: value is not a boolean"),
            )),
        }
    }

    fn priority(&self, v: &Json, name: &str) -> Result<Priority, Box<Diagnostic>> {
        scalar(v).and_then(|s| Priority::parse(&s)).ok_or_else(|| {
            diag(
                Code::ErrYamlValidate,
                "rule",
                name,
                self.file,
                self.n,
                "Invalid priority",
            )
        })
    }

    /// The append/replace mode of each key of a list, macro or rule item: legacy
    /// `append: true` (every appendable key present), `override:` (validated against the
    /// keys present), or nothing.
    fn merge_mode(
        &self,
        name: &str,
        kind: &str,
        appendable: &[&str],
        replaceable: &[&str],
    ) -> Result<Vec<(String, Merge)>, Box<Diagnostic>> {
        let err = |code, m: &str| diag(code, kind, name, self.file, self.n, m);
        let append = self.bool_key("append", kind, name)?.unwrap_or(false);
        let over = self.map.get("override");
        if append && over.is_some() {
            return Err(err(
                Code::ErrValidate,
                "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.",
            ));
        }
        if append {
            if kind != "rule" {
                // Lists and macros: legacy append is accepted silently by older engines and
                // deprecated by newer ones.
            }
            return Ok(appendable
                .iter()
                .filter(|k| self.map.contains_key(**k))
                .map(|k| (k.to_string(), Merge::Append))
                .collect());
        }
        let Some(over) = over else {
            return Ok(Vec::new());
        };
        let Json::Object(o) = over else {
            return Err(err(Code::ErrYamlValidate, "override: value is not a map"));
        };
        let mut out = Vec::new();
        for (k, v) in o {
            let mode = match v.as_str() {
                Some("append") if appendable.contains(&k.as_str()) => Merge::Append,
                Some("replace") if replaceable.contains(&k.as_str()) => Merge::Replace,
                Some("append") | Some("replace") => {
                    return Err(err(
                        Code::ErrValidate,
                        &format!("Key '{k}' cannot be appended to/replaced"),
                    ));
                }
                _ => {
                    return Err(err(
                        Code::ErrYamlValidate,
                        &format!(
                            "Invalid override value for key '{k}': must be 'append' or 'replace'"
                        ),
                    ));
                }
            };
            if !self.map.contains_key(k) {
                let what = if mode == Merge::Append {
                    "An append"
                } else {
                    "A replace"
                };
                return Err(err(
                    Code::ErrValidate,
                    &format!("{what} override for '{k}' was specified but '{k}' is not defined"),
                ));
            }
            out.push((k.clone(), mode));
        }
        for k in replaceable.iter().chain(appendable) {
            if self.map.contains_key(*k) && !o.contains_key(*k) {
                return Err(err(
                    Code::ErrValidate,
                    &format!(
                        "Unexpected key '{k}': no corresponding entry under 'override' is defined."
                    ),
                ));
            }
        }
        Ok(out)
    }
}

fn mode_of(mode: &[(String, Merge)], key: &str) -> Option<Merge> {
    mode.iter().find(|(k, _)| k == key).map(|(_, m)| *m)
}

fn rule_text<'r>(r: &'r mut RuleDef, key: &str) -> &'r mut String {
    match key {
        "condition" => &mut r.condition,
        "output" => &mut r.output,
        _ => &mut r.desc,
    }
}

fn exceptions(
    c: &Ctx,
    v: &Json,
    rule: &str,
    appending: bool,
) -> Result<Vec<Exception>, Box<Diagnostic>> {
    let Json::Array(items) = v else {
        return Err(diag(
            Code::ErrYamlValidate,
            "rule",
            rule,
            c.file,
            c.n,
            "exceptions: value is not a sequence",
        ));
    };
    let mut out = Vec::new();
    for it in items {
        let name = it.get("name").and_then(scalar).unwrap_or_default();
        let err = |code, m: &str| diag(code, "exception", &name, c.file, c.n, m);
        if name.is_empty() {
            return Err(err(
                Code::ErrYamlValidate,
                "Item has no mapping for key 'name'",
            ));
        }
        let fields = ex_field(it.get("fields")).ok_or_else(|| {
            err(
                Code::ErrYamlValidate,
                "fields: value is not a string or a sequence of strings",
            )
        })?;
        let comps = ex_field(it.get("comps")).ok_or_else(|| {
            err(
                Code::ErrYamlValidate,
                "comps: value is not a string or a sequence of strings",
            )
        })?;
        if !appending && fields == ExField::Absent {
            return Err(err(
                Code::ErrYamlValidate,
                "Item has no mapping for key 'fields'",
            ));
        }
        let values = match it.get("values") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(a)) => a.clone(),
            Some(_) => {
                return Err(err(
                    Code::ErrYamlValidate,
                    "values: value is not a sequence",
                ));
            }
        };
        out.push(Exception {
            name,
            fields,
            comps,
            values,
        });
    }
    Ok(out)
}

fn append_exceptions(
    c: &Ctx,
    prev: &mut RuleDef,
    new: Vec<Exception>,
) -> Result<(), Box<Diagnostic>> {
    for ex in new {
        match prev.exceptions.iter_mut().find(|e| e.name == ex.name) {
            Some(e) => {
                if ex.fields != ExField::Absent || ex.comps != ExField::Absent {
                    return Err(diag(
                        Code::ErrValidate,
                        "exception",
                        &ex.name,
                        c.file,
                        c.n,
                        "Can not append exception fields or comps to existing exception, only values",
                    ));
                }
                e.values.extend(ex.values);
            }
            None => {
                if ex.fields == ExField::Absent {
                    return Err(diag(
                        Code::ErrValidate,
                        "exception",
                        &ex.name,
                        c.file,
                        c.n,
                        "Rule exception must have fields property with a list of values",
                    ));
                }
                prev.exceptions.push(ex);
            }
        }
    }
    Ok(())
}

fn ex_field(v: Option<&Json>) -> Option<ExField> {
    match v {
        None | Some(Json::Null) => Some(ExField::Absent),
        Some(Json::Array(a)) => a
            .iter()
            .map(scalar)
            .collect::<Option<Vec<_>>>()
            .map(ExField::Many),
        Some(v) => scalar(v).map(ExField::One),
    }
}

/// A YAML scalar as text (numbers and booleans as written).
pub(crate) fn scalar(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string_list(v: &Json) -> Option<Vec<String>> {
    match v {
        Json::Array(a) => a.iter().map(scalar).collect(),
        Json::Null => Some(Vec::new()),
        _ => None,
    }
}

fn parse_semver(s: &str) -> Option<(u64, u64, u64)> {
    let mut it = s.trim().split('.');
    let a = it.next()?.parse().ok()?;
    let b = it.next()?.parse().ok()?;
    let c = it.next()?.parse().ok()?;
    it.next().is_none().then_some((a, b, c))
}

fn diag(
    code: Code,
    item_type: &str,
    item_name: &str,
    file: &str,
    item: usize,
    message: &str,
) -> Box<Diagnostic> {
    Box::new(Diagnostic {
        code,
        item_type: item_type.into(),
        item_name: item_name.into(),
        message: message.into(),
        file: file.into(),
        item,
    })
}

/// The YAML limits for rule files (untrusted input): bounded events, nodes, depth and
/// scalar bytes, and few aliases with bounded replay (no alias bombs).
pub fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 2_000_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_depth = 64;
    budget.max_documents = 256;
    budget.max_nodes = 2_000_000;
    budget.max_total_scalar_bytes = 64 << 20;
    budget.max_merge_keys = 1_000;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    opts.alias_limits.max_total_replayed_events = 50_000;
    opts.alias_limits.max_replay_stack_depth = 16;
    opts.alias_limits.max_alias_expansions_per_anchor = 100;
    opts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> RuleSet {
        let mut rs = RuleSet::default();
        rs.load_bytes("t.yaml", text.as_bytes());
        rs
    }

    fn codes(rs: &RuleSet) -> Vec<(&'static str, String, String)> {
        rs.diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.item_type.clone(), d.item_name.clone()))
            .collect()
    }

    #[test]
    fn items_append_and_override() {
        let rs = load(
            "- list: l\n  items: [a, 1]\n- list: l\n  items: [b]\n  append: true\n\
             - macro: m\n  condition: x.y=1\n- macro: m\n  condition: or x.y=2\n  override:\n    condition: append\n\
             - rule: r\n  desc: d\n  condition: m\n  output: o\n  priority: info\n  tags: [t1]\n\
             - rule: r\n  condition: and x.z=3\n  append: true\n\
             - rule: r\n  priority: ERROR\n  tags: [t2]\n  override:\n    priority: replace\n    tags: append\n\
             - rule: r\n  enabled: false\n---\n- rule: s\n  desc: d\n  condition: x.y=1\n  output: o\n  priority: Debug\n  source: k8s_audit\n",
        );
        assert!(!rs.has_errors(), "{:?}", rs.diagnostics);
        assert_eq!(rs.lists[0].items, vec!["a", "1", "b"]);
        assert_eq!(rs.macros[0].condition, "x.y=1 or x.y=2");
        let r = &rs.rules[0];
        assert_eq!(r.condition, "m and x.z=3");
        assert_eq!(r.priority, Priority::Error);
        assert_eq!(r.tags, vec!["t1", "t2"]);
        assert!(!r.enabled);
        assert_eq!(rs.rules[1].source, "k8s_audit");
        assert_eq!(
            codes(&rs),
            vec![("LOAD_DEPRECATED_ITEM", "rule".into(), "r".into())]
        );
    }

    #[test]
    fn errors_with_codes() {
        let cases = [
            (
                "This is not yaml",
                ("LOAD_ERR_YAML_VALIDATE", "rules content", ""),
            ),
            (
                "- foo",
                ("LOAD_ERR_YAML_VALIDATE", "rules content item", ""),
            ),
            (
                "- list: bad_list\n",
                ("LOAD_ERR_YAML_VALIDATE", "list", "bad_list"),
            ),
            (
                "- rule: r\n  desc: d\n  condition: c\n  priority: info\n",
                ("LOAD_ERR_YAML_VALIDATE", "rule", "r"),
            ),
            (
                "- rule: r\n  append: true\n  condition: x\n",
                ("LOAD_ERR_VALIDATE", "rule", "r"),
            ),
            (
                "- required_engine_version: 9999999\n",
                ("LOAD_ERR_VALIDATE", "required_engine_version", ""),
            ),
            (
                "- required_engine_version: not-a-number\n",
                ("LOAD_ERR_YAML_VALIDATE", "required_engine_version", ""),
            ),
            ("- list: [\n", ("LOAD_ERR_YAML_PARSE", "rules content", "")),
            (
                "- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: loud\n",
                ("LOAD_ERR_YAML_VALIDATE", "rule", "r"),
            ),
        ];
        for (text, (code, ty, name)) in cases {
            let rs = load(text);
            let errs: Vec<_> = codes(&rs)
                .into_iter()
                .filter(|c| c.0.starts_with("LOAD_ERR"))
                .collect();
            assert_eq!(
                errs,
                vec![(code, ty.to_string(), name.to_string())],
                "{text}"
            );
        }
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            y.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let rs = load(&format!(
            "- list: l\n  items: []\n- {}",
            y.replace('\n', "\n  ")
        ));
        assert!(rs.has_errors());
    }
}
