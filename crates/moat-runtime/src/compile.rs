//! From a [`RuleSet`] to an [`Engine`]: list expansion (textual, as Falco does it), macro
//! expansion (on the parsed tree, with Falco's visibility order), the exceptions' condition
//! rewriting, field resolution against a [`FieldSource`], and the evaluation tree.

use crate::cond::{self, Expr, FieldRef, Op, Operand, Rhs, Transformer};
use crate::engine::{CompiledRule, Engine};
use crate::eval::{COperand, CRhs, Check, Lit, LitSet, Node};
use crate::field::{FieldArg, FieldSource, FieldType};
use crate::load::{Code, Diagnostic, ExField, Exception, RuleDef, RuleSet, scalar};
use crate::output::OutputFormat;
use std::collections::{BTreeSet, HashMap};

/// A macro expanded into more nodes than this is refused (macros referring to macros twice
/// at every level would otherwise grow exponentially).
pub const MAX_EXPANDED_NODES: usize = 1 << 20;

/// The result of compiling: the engine for one source, and every error and warning (those
/// of the loader first). The load failed when any diagnostic is an error.
pub struct Compiled<S: FieldSource> {
    pub engine: Engine<S>,
    pub diagnostics: Vec<Diagnostic>,
}

impl<S: FieldSource> Compiled<S> {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.code.is_error())
    }
}

struct Diags {
    out: Vec<Diagnostic>,
}

impl Diags {
    fn push(
        &mut self,
        code: Code,
        item_type: &str,
        item_name: &str,
        file: &str,
        item: usize,
        message: String,
    ) {
        self.out.push(Diagnostic {
            code,
            item_type: item_type.into(),
            item_name: item_name.into(),
            message,
            file: file.into(),
            item,
        });
    }
}

/// Compiles the rules of `rules` whose `source:` is the source's, against `source`.
/// `other_sources` names the sources other engines compile (their rules are left alone);
/// rules of any other source give a `LOAD_UNKNOWN_SOURCE` warning.
pub fn compile<S: FieldSource>(rules: &RuleSet, source: S, other_sources: &[&str]) -> Compiled<S> {
    let mut d = Diags {
        out: rules.diagnostics.clone(),
    };
    let mut engine = Engine::new(source);
    let mut slots = Slots::default();
    if rules.has_errors() {
        return Compiled {
            engine,
            diagnostics: d.out,
        };
    }

    // Lists: an item naming an earlier list is replaced by its items.
    let mut list_used = vec![false; rules.lists.len()];
    let mut resolved: Vec<Vec<String>> = Vec::with_capacity(rules.lists.len());
    for l in &rules.lists {
        let mut items = Vec::new();
        for it in &l.items {
            match rules.lists.iter().position(|o| &o.name == it) {
                Some(j) if rules.lists[j].index < l.index => {
                    list_used[j] = true;
                    items.extend(resolved[j].iter().cloned());
                }
                _ => items.push(it.clone()),
            }
        }
        resolved.push(items);
    }
    let mut list_order: Vec<usize> = (0..rules.lists.len()).collect();
    list_order.sort_by_key(|&i| rules.lists[i].index);
    let expand = |text: &str, used: &mut Vec<bool>| -> String {
        let mut s = text.to_string();
        for &i in &list_order {
            if let Some(t) = expand_list(&s, &rules.lists[i].name, &resolved[i]) {
                used[i] = true;
                s = t;
            }
        }
        s
    };

    // Macros: parse each, then inline the macros each refers to (only earlier ones).
    let macro_idx: HashMap<&str, usize> = rules
        .macros
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    let mut macro_ast: Vec<Option<Expr>> = vec![None; rules.macros.len()];
    let mut macro_used = vec![false; rules.macros.len()];
    let mut order: Vec<usize> = (0..rules.macros.len()).collect();
    order.sort_by_key(|&i| rules.macros[i].index);
    for &i in &order {
        let m = &rules.macros[i];
        let text = expand(&m.condition, &mut list_used);
        let who = Item("macro", &m.name, &m.file, m.item);
        if let Some(e) = condition_tree(
            &text,
            who,
            Some(m.index),
            (&macro_idx, &macro_ast, &rules.macros),
            &mut macro_used,
            &mut d,
        ) {
            macro_ast[i] = Some(e);
        }
    }

    let has_evttypes = engine.source().has_event_types();
    let source_name = engine.source().source_name();
    for r in &rules.rules {
        let text = match exception_condition(r, engine.source(), source_name == r.source) {
            Ok(t) => t,
            Err((name, msg)) => {
                d.push(Code::ErrValidate, "exception", &name, &r.file, r.item, msg);
                continue;
            }
        };
        let text = expand(&text, &mut list_used);
        let who = Item("rule", &r.name, &r.file, r.item);
        let Some(expanded) = condition_tree(
            &text,
            who,
            None,
            (&macro_idx, &macro_ast, &rules.macros),
            &mut macro_used,
            &mut d,
        ) else {
            continue;
        };
        if r.source != source_name {
            if !other_sources.contains(&r.source.as_str()) {
                d.push(
                    Code::UnknownSource,
                    "rule",
                    &r.name,
                    &r.file,
                    r.item,
                    format!("Unknown source {}, skipping", r.source),
                );
            }
            continue;
        }
        if expanded.depth() > cond::MAX_DEPTH {
            d.push(
                Code::ErrCompileCondition,
                "rule",
                &r.name,
                &r.file,
                r.item,
                "exceeded max depth limit after macro expansion".into(),
            );
            continue;
        }
        let node = match build(&expanded, engine.source(), &mut slots) {
            Ok(n) => n,
            Err(BuildError::UnknownField(msg))
                if r.skip_if_unknown_filter || engine.source().skips_unknown_fields() =>
            {
                d.push(Code::UnknownField, "rule", &r.name, &r.file, r.item, msg);
                continue;
            }
            Err(BuildError::UnknownField(msg)) | Err(BuildError::Other(msg)) => {
                d.push(
                    Code::ErrCompileCondition,
                    "rule",
                    &r.name,
                    &r.file,
                    r.item,
                    msg,
                );
                continue;
            }
        };
        let output = match OutputFormat::compile_slots(&r.output, engine.source(), &mut |n, a| {
            slots.slot(n, a, &[])
        }) {
            Ok(o) => o,
            Err(msg) => {
                d.push(
                    Code::ErrCompileOutput,
                    "rule",
                    &r.name,
                    &r.file,
                    r.item,
                    msg,
                );
                continue;
            }
        };
        let evttypes = if has_evttypes {
            evttypes(&expanded, engine.source())
        } else {
            None
        };
        if has_evttypes && evttypes.is_none() && r.warn_evttypes {
            d.push(Code::NoEvttype, "rule", &r.name, &r.file, r.item,
                "Rule matches too many evt.type values. This has a significant performance penalty.".into());
        }
        engine.add(CompiledRule {
            name: r.name.clone(),
            desc: r.desc.clone(),
            priority: r.priority,
            source: r.source.clone(),
            tags: r.tags.clone(),
            enabled: r.enabled,
            condition: node,
            output,
            evttypes: evttypes.map(|s| s.into_iter().collect()),
        });
    }
    for (i, m) in rules.macros.iter().enumerate() {
        if !macro_used[i] {
            d.push(
                Code::UnusedMacro,
                "macro",
                &m.name,
                &m.file,
                m.item,
                "Macro not referred to by any other rule/macro".into(),
            );
        }
    }
    for (i, l) in rules.lists.iter().enumerate() {
        if !list_used[i] {
            d.push(
                Code::UnusedList,
                "list",
                &l.name,
                &l.file,
                l.item,
                "List not referred to by any other rule/macro".into(),
            );
        }
    }
    engine.set_slots(slots.map.len());
    engine.set_checks(slots.checks.len());
    Compiled {
        engine,
        diagnostics: d.out,
    }
}

/// Falco's textual list substitution: every occurrence of `name` delimited by
/// `[ \t\n\r(),=]` or the ends of the text becomes the items joined by `, ` (quoted when they
/// hold a space). `None` when the name does not occur.
fn expand_list(text: &str, name: &str, items: &[String]) -> Option<String> {
    let delim = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b',' | b'=');
    let b = text.as_bytes();
    let mut out = String::new();
    let mut last = 0;
    let mut found = false;
    let mut from = 0;
    while let Some(off) = text[from..].find(name) {
        let start = from + off;
        let end = start + name.len();
        let before_ok = start == 0 || delim(b[start - 1]);
        let after_ok = end == b.len() || delim(b[end]);
        if before_ok && after_ok {
            found = true;
            out.push_str(&text[last..start]);
            let joined: Vec<String> = items.iter().map(|s| quote_item(s)).collect();
            let mut skip_to = end;
            if joined.is_empty() {
                // An empty list: drop a comma right after it (or the one before it).
                let rest = &text[end..];
                let trimmed = rest.trim_start_matches([' ', '\t']);
                if trimmed.starts_with(',') {
                    skip_to = end + (rest.len() - trimmed.len()) + 1;
                } else if out.trim_end_matches([' ', '\t']).ends_with(',') {
                    let t = out.trim_end_matches([' ', '\t']).len();
                    out.truncate(t - 1);
                }
            }
            out.push_str(&joined.join(", "));
            last = skip_to;
            from = skip_to;
        } else {
            from = start + name.len().max(1);
        }
        if from >= text.len() {
            break;
        }
    }
    if !found {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// A list item or exception value as it goes into a condition: quoted when it holds a space
/// and is not quoted already.
fn quote_item(s: &str) -> String {
    if s.contains(' ') && !s.starts_with('"') && !s.starts_with('\'') {
        format!("\"{s}\"")
    } else {
        s.to_string()
    }
}

/// Replaces macro references by the macros' trees. `visible`: only macros defined before
/// this index may be used (a macro's own expansion); `None` for rules.
/// A macro or rule as its diagnostics name it: item type, name, file, item number.
#[derive(Clone, Copy)]
struct Item<'a>(&'static str, &'a str, &'a str, usize);

/// The macros a condition may refer to: by name, their expanded trees (`None` until
/// compiled, or when they failed), their definitions.
type MacroTable<'a> = (
    &'a HashMap<&'a str, usize>,
    &'a [Option<Expr>],
    &'a [crate::load::MacroDef],
);

/// Parses a macro's or rule's condition (lists already expanded) and inlines the macros it
/// names (those defined before `visible`, for a macro); a parse error is the item's
/// `LOAD_ERR_COMPILE_CONDITION`, a bad macro reference its `LOAD_ERR_VALIDATE` (an empty
/// message: already reported on the macro), and either gives `None`.
fn condition_tree(
    text: &str,
    who: Item<'_>,
    visible: Option<usize>,
    (idx, asts, macros): MacroTable<'_>,
    used: &mut [bool],
    d: &mut Diags,
) -> Option<Expr> {
    let Item(kind, name, file, item) = who;
    let parsed = match cond::parse(text) {
        Ok(e) => e,
        Err(e) => {
            d.push(
                Code::ErrCompileCondition,
                kind,
                name,
                file,
                item,
                format!("{e}"),
            );
            return None;
        }
    };
    let mut budget = MAX_EXPANDED_NODES;
    match inline(&parsed, idx, asts, visible, macros, used, &mut budget) {
        Ok(e) => Some(e),
        Err(msg) => {
            if !msg.is_empty() {
                d.push(Code::ErrValidate, kind, name, file, item, msg);
            }
            None
        }
    }
}

fn inline(
    e: &Expr,
    idx: &HashMap<&str, usize>,
    asts: &[Option<Expr>],
    visible: Option<usize>,
    macros: &[crate::load::MacroDef],
    used: &mut [bool],
    budget: &mut usize,
) -> Result<Expr, String> {
    if *budget == 0 {
        return Err("condition too large after macro expansion".into());
    }
    *budget -= 1;
    Ok(match e {
        Expr::And(v) => Expr::And(
            v.iter()
                .map(|x| inline(x, idx, asts, visible, macros, used, budget))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(v) => Expr::Or(
            v.iter()
                .map(|x| inline(x, idx, asts, visible, macros, used, budget))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(x) => Expr::Not(Box::new(inline(
            x, idx, asts, visible, macros, used, budget,
        )?)),
        Expr::Check(c) => Expr::Check(c.clone()),
        Expr::Ident(name) => {
            let undefined = || format!("Undefined macro '{name}' used in filter.");
            let Some(&i) = idx.get(name.as_str()) else {
                return Err(undefined());
            };
            if visible.is_some_and(|v| macros[i].index >= v) {
                return Err(undefined());
            }
            used[i] = true;
            let Some(ast) = &asts[i] else {
                // The macro itself failed (its error is reported on the macro, and only there).
                return Err(String::new());
            };
            let n = count(ast);
            if n > *budget {
                return Err("condition too large after macro expansion".into());
            }
            *budget -= n;
            ast.clone()
        }
    })
}

fn count(e: &Expr) -> usize {
    match e {
        Expr::And(v) | Expr::Or(v) => 1 + v.iter().map(count).sum::<usize>(),
        Expr::Not(x) => 1 + count(x),
        _ => 1,
    }
}

/// The rule's condition with its exceptions appended: `(<cond>) and not <ex1> and not ...`.
/// Exception fields are checked against the source when `check_fields`.
fn exception_condition<S: FieldSource>(
    r: &RuleDef,
    source: &S,
    check_fields: bool,
) -> Result<String, (String, String)> {
    let mut out = String::new();
    for ex in &r.exceptions {
        let part = exception(ex, source, check_fields).map_err(|m| (ex.name.clone(), m))?;
        if let Some(p) = part {
            out.push_str(" and not ");
            out.push_str(&p);
        }
    }
    if out.is_empty() {
        return Ok(r.condition.clone());
    }
    Ok(format!("({}){out}", r.condition))
}

fn check_field<S: FieldSource>(f: &str, source: &S) -> Result<(), String> {
    let (fr, used) =
        cond::parse_field_prefix(f).ok_or_else(|| format!("'{f}' is not a valid field"))?;
    if used != f.len() {
        return Err(format!("'{f}' is not a valid field"));
    }
    source
        .resolve(&fr.name, &fr.arg)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn check_comp(c: &str) -> Result<Op, String> {
    Op::from_word(c).ok_or_else(|| format!("'{c}' is not a supported comparison operator"))
}

fn exception<S: FieldSource>(
    ex: &Exception,
    source: &S,
    check_fields: bool,
) -> Result<Option<String>, String> {
    match &ex.fields {
        ExField::Absent => Err("Rule exception must have fields property".into()),
        ExField::One(f) => {
            if check_fields {
                check_field(f, source)?;
            }
            let comp = match &ex.comps {
                ExField::Absent => "in".to_string(),
                ExField::One(c) => c.clone(),
                ExField::Many(_) => {
                    return Err(
                        "When fields is a single value, comps must also be a single value".into(),
                    );
                }
            };
            let op = check_comp(&comp)?;
            if !op.takes_list() {
                return Err(format!(
                    "When fields is a single value, comps must be one of (in, pmatch, intersects), not '{comp}'"
                ));
            }
            if ex.values.is_empty() {
                return Ok(None);
            }
            let mut vals = Vec::new();
            for v in &ex.values {
                match v {
                    serde_json::Value::Array(a) => {
                        for x in a {
                            vals.push(quote_item(
                                &scalar(x).ok_or("exception values must be scalars")?,
                            ));
                        }
                    }
                    v => vals.push(quote_item(
                        &scalar(v).ok_or("exception values must be scalars")?,
                    )),
                }
            }
            Ok(Some(format!("({f} {comp} ({}))", vals.join(", "))))
        }
        ExField::Many(fields) => {
            if check_fields {
                for f in fields {
                    check_field(f, source)?;
                }
            }
            let comps: Vec<String> = match &ex.comps {
                ExField::Absent => vec!["=".into(); fields.len()],
                ExField::Many(c) => c.clone(),
                ExField::One(_) => {
                    return Err("When fields is a list, comps must also be a list".into());
                }
            };
            if comps.len() != fields.len() {
                return Err("Fields and comps lists must have equal length".into());
            }
            let ops = comps
                .iter()
                .map(|c| check_comp(c))
                .collect::<Result<Vec<_>, _>>()?;
            if ex.values.is_empty() {
                return Ok(None);
            }
            let mut alts = Vec::new();
            for v in &ex.values {
                let serde_json::Value::Array(vs) = v else {
                    return Err("Expected values array to contain a list of values".into());
                };
                if vs.len() != fields.len() {
                    return Err("Fields and values lists must have equal length".into());
                }
                let mut conj = Vec::new();
                for ((f, (c, op)), val) in fields.iter().zip(comps.iter().zip(&ops)).zip(vs) {
                    let rendered = match val {
                        serde_json::Value::Array(items) => {
                            let it: Vec<String> = items
                                .iter()
                                .filter_map(scalar)
                                .map(|s| quote_item(&s))
                                .collect();
                            format!("({})", it.join(", "))
                        }
                        v => {
                            let s = scalar(v).ok_or("exception values must be scalars or lists")?;
                            if op.takes_list() && !s.starts_with('(') {
                                format!("({s})")
                            } else {
                                quote_item(&s)
                            }
                        }
                    };
                    conj.push(format!("{f} {c} {rendered}"));
                }
                alts.push(format!("({})", conj.join(" and ")));
            }
            Ok(Some(format!("({})", alts.join(" or "))))
        }
    }
}

enum BuildError {
    UnknownField(String),
    Other(String),
}

/// The per-event cache slot of each distinct operand (a field, its argument and its
/// transformers) of the rules compiled so far: rules naming the same operand share its slot,
/// so its values are extracted once per event whatever the number of rules reading it.
#[derive(Default)]
struct Slots {
    map: HashMap<(String, FieldArg, Vec<Transformer>), u32>,
    /// Each distinct check (left operand's slot, operator, right side as written): its slot
    /// in the per-event memo of results.
    checks: HashMap<String, u32>,
}

impl Slots {
    fn slot(&mut self, name: &str, arg: &FieldArg, transforms: &[Transformer]) -> u32 {
        let next = self.map.len() as u32;
        *self
            .map
            .entry((name.to_string(), arg.clone(), transforms.to_vec()))
            .or_insert(next)
    }
}

fn build<S: FieldSource>(e: &Expr, s: &S, slots: &mut Slots) -> Result<Node<S::Field>, BuildError> {
    Ok(match e {
        Expr::And(v) => Node::And(
            v.iter()
                .map(|x| build(x, s, slots))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(v) => Node::Or(
            v.iter()
                .map(|x| build(x, s, slots))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(x) => Node::Not(Box::new(build(x, s, slots)?)),
        Expr::Ident(name) => {
            return Err(BuildError::Other(format!(
                "Undefined macro '{name}' used in filter."
            )));
        }
        Expr::Check(c) => {
            let lhs = operand(&c.lhs, s, slots)?;
            let rhs = match &c.rhs {
                Rhs::None => CRhs::None,
                Rhs::Field(o) => CRhs::Field(operand(o, s, slots)?),
                Rhs::Value(v) => {
                    if c.op.takes_list() {
                        CRhs::Set(
                            LitSet::new(std::slice::from_ref(v), lhs.ty, c.op)
                                .map_err(BuildError::Other)?,
                        )
                    } else {
                        CRhs::One(Lit::new(v, lhs.ty, c.op).map_err(BuildError::Other)?)
                    }
                }
                Rhs::List(items) => {
                    if !c.op.takes_list() {
                        return Err(BuildError::Other(format!(
                            "operator '{}' does not take a list",
                            c.op.as_str()
                        )));
                    }
                    CRhs::Set(LitSet::new(items, lhs.ty, c.op).map_err(BuildError::Other)?)
                }
            };
            check_op_type(c.op, lhs.ty).map_err(BuildError::Other)?;
            if let Operand::Field(f) = &c.lhs
                && f.name == "evt.type"
                && s.has_event_types()
            {
                let names: Vec<&String> = match &c.rhs {
                    Rhs::Value(v) => vec![v],
                    Rhs::List(v) => v.iter().collect(),
                    _ => Vec::new(),
                };
                for n in names {
                    if s.event_type_codes(n).is_none_or(|c| c.is_empty()) {
                        return Err(BuildError::Other(format!("unknown event type {n}")));
                    }
                }
            }
            let list = lhs.transforms.is_empty() && s.is_list(&lhs.field);
            let rhs_slot = match &rhs {
                CRhs::Field(o) => o.slot,
                _ => u32::MAX,
            };
            let key = format!("{}\0{}\0{:?}\0{rhs_slot}", lhs.slot, c.op.as_str(), c.rhs);
            let next = slots.checks.len() as u32;
            let memo = *slots.checks.entry(key).or_insert(next);
            Node::Check(Box::new(Check {
                lhs,
                op: c.op,
                rhs,
                list,
                memo,
            }))
        }
    })
}

fn check_op_type(op: Op, ty: FieldType) -> Result<(), String> {
    let ok = match ty {
        FieldType::Str | FieldType::Bytes => true,
        FieldType::Uint | FieldType::Int => matches!(
            op,
            Op::Eq
                | Op::Ne
                | Op::Lt
                | Op::Le
                | Op::Gt
                | Op::Ge
                | Op::In
                | Op::Intersects
                | Op::Exists
        ),
        FieldType::Bool => matches!(op, Op::Eq | Op::Ne | Op::In | Op::Intersects | Op::Exists),
        FieldType::Ip | FieldType::IpNet => {
            matches!(op, Op::Eq | Op::Ne | Op::In | Op::Intersects | Op::Exists)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "operator '{}' is not supported on fields of type {ty:?}",
            op.as_str()
        ))
    }
}

fn operand<S: FieldSource>(
    o: &Operand,
    s: &S,
    slots: &mut Slots,
) -> Result<COperand<S::Field>, BuildError> {
    let mut transforms = Vec::new();
    let mut cur = o;
    while let Operand::Transform(t, inner) = cur {
        transforms.push(*t);
        cur = inner;
    }
    transforms.reverse();
    let Operand::Field(FieldRef { name, arg }) = cur else {
        return Err(BuildError::Other("bad operand".into()));
    };
    let (field, mut ty) = s.resolve(name, arg).map_err(|e| match e {
        crate::field::FieldError::Unknown(f) => {
            BuildError::UnknownField(format!("filter_check called with nonexistent field {f}"))
        }
        other => BuildError::Other(other.to_string()),
    })?;
    for t in &transforms {
        ty = match (t, ty) {
            (Transformer::Len, _) => FieldType::Uint,
            (
                Transformer::ToLower
                | Transformer::ToUpper
                | Transformer::B64
                | Transformer::Basename,
                FieldType::Str | FieldType::Bytes,
            ) => ty,
            _ => {
                return Err(BuildError::Other(format!(
                    "transformer {t:?} is not supported on fields of type {ty:?}"
                )));
            }
        };
    }
    let slot = slots.slot(name, arg, &transforms);
    Ok(COperand {
        field,
        ty,
        transforms,
        slot,
    })
}

/// The event-type codes a condition can match, `None` for all (no restriction found).
fn evttypes<S: FieldSource>(e: &Expr, s: &S) -> Option<BTreeSet<u16>> {
    match e {
        Expr::And(v) => {
            let mut acc: Option<BTreeSet<u16>> = None;
            for x in v {
                if let Some(set) = evttypes(x, s) {
                    acc = Some(match acc {
                        None => set,
                        Some(a) => a.intersection(&set).copied().collect(),
                    });
                }
            }
            acc
        }
        Expr::Or(v) => {
            let mut acc = BTreeSet::new();
            for x in v {
                acc.extend(evttypes(x, s)?);
            }
            Some(acc)
        }
        Expr::Not(_) | Expr::Ident(_) => None,
        Expr::Check(c) => {
            let Operand::Field(f) = &c.lhs else {
                return None;
            };
            if f.name != "evt.type" {
                return None;
            }
            let names: Vec<&String> = match (&c.op, &c.rhs) {
                (Op::Eq, Rhs::Value(v)) => vec![v],
                (Op::In, Rhs::List(v)) => v.iter().collect(),
                _ => return None,
            };
            let mut set = BTreeSet::new();
            for n in names {
                set.extend(s.event_type_codes(n)?);
            }
            Some(set)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_expansion_is_textual_with_delimiters() {
        let items = vec!["a".to_string(), "b c".to_string()];
        assert_eq!(
            expand_list("x in (l)", "l", &items).unwrap(),
            "x in (a, \"b c\")"
        );
        assert_eq!(
            expand_list("x in (l, z) and y=l", "l", &items).unwrap(),
            "x in (a, \"b c\", z) and y=a, \"b c\""
        );
        assert_eq!(expand_list("x in (ll, l_x)", "l", &items), None);
        assert_eq!(expand_list("x in (l, z)", "l", &[]).unwrap(), "x in ( z)");
        assert_eq!(expand_list("x in (z, l)", "l", &[]).unwrap(), "x in (z)");
    }

    /// A source whose fields `t.<name>[arg]` are their name (and argument), counting the
    /// extractions of each.
    struct Counting {
        calls: std::cell::RefCell<HashMap<String, usize>>,
    }

    impl FieldSource for Counting {
        type Event = ();
        type Field = String;

        fn source_name(&self) -> &'static str {
            "test"
        }

        fn resolve(
            &self,
            name: &str,
            arg: &FieldArg,
        ) -> Result<(String, FieldType), crate::field::FieldError> {
            match name.strip_prefix("t.") {
                Some(n) => Ok((
                    match arg {
                        FieldArg::None => n.to_string(),
                        FieldArg::Index(i) => format!("{n}{i}"),
                        FieldArg::Key(k) => format!("{n}{k}"),
                    },
                    FieldType::Str,
                )),
                None => Err(crate::field::FieldError::Unknown(name.into())),
            }
        }

        fn extract<'e>(&'e self, _: &'e (), f: &String, out: &mut Vec<crate::field::Value<'e>>) {
            *self.calls.borrow_mut().entry(f.clone()).or_default() += 1;
            out.push(crate::field::Value::Str(std::borrow::Cow::Owned(
                f.clone().into_bytes(),
            )));
        }
    }

    #[test]
    fn each_operand_is_extracted_once_per_event() {
        let yaml = r#"
- rule: r1
  desc: d
  condition: t.a = a and t.k[1] = k1
  output: "%t.a %t.b %t.k[1]"
  priority: WARNING
  source: test
- rule: r2
  desc: d
  condition: t.a = a and toupper(t.a) = A and t.k[2] = k2 and t.a = val(t.a)
  output: "%t.a %t.b"
  priority: WARNING
  source: test
- rule: r3
  desc: d
  condition: t.a in (a, b) and not t.k[1] = nope
  output: "%t.c"
  priority: WARNING
  source: test
"#;
        let mut rs = RuleSet::default();
        rs.load_bytes("r.yaml", yaml.as_bytes());
        let mut c = compile(
            &rs,
            Counting {
                calls: Default::default(),
            },
            &[],
        );
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        c.engine.matching = crate::engine::Matching::All;
        let e = &c.engine;
        let mut cache = e.cache();
        let mut hits = Vec::new();
        e.process_cached(&(), &mut cache, |i| hits.push(i));
        assert_eq!(hits, [0, 1, 2]);
        // `t.a = a` is one check for r1 and r2 (its result kept for the event): 7 of 8.
        assert_eq!(e.checks(), 7);
        let texts: Vec<String> = hits
            .iter()
            .map(|&i| e.render_cached(i, &(), true, &mut cache).0)
            .collect();
        assert_eq!(texts, ["a b k1", "a b", "c"]);
        let calls = e.source().calls.borrow().clone();
        // t.a: once plain, once under toupper (another operand); the rest once each.
        let want: HashMap<String, usize> = [("a", 2), ("k1", 1), ("k2", 1), ("b", 1), ("c", 1)]
            .into_iter()
            .map(|(k, n)| (k.to_string(), n))
            .collect();
        assert_eq!(calls, want);
        // Without a shared cache (Engine::process, Engine::render) each call extracts anew.
        e.source().calls.borrow_mut().clear();
        e.process(&(), |_| {});
        assert_eq!(e.render(0, &()).0, "a b k1");
        assert_eq!(e.source().calls.borrow()["a"], 2 + 1);
    }
}
