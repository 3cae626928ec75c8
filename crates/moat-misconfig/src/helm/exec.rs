//! Executing parsed templates: Go's text/template semantics (dot, `$`, variables scoped to
//! their block, Go's truthiness, missing map keys as nil, fields of nil an error), with the
//! template set at hand for `template`, `include` and `tpl`. Bounded: output size, nesting of
//! `template`/`include`/`tpl`, and steps (nodes run, loop iterations, calls).

use super::funcs;
use super::parse::{self, Arg, Node, Pipe};
use super::value::Value;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// Bounds of one execution.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most bytes one template (or one string value) may grow to.
    pub max_output: usize,
    /// The deepest nesting of `template`, `include` and `tpl` (Helm stops at 1000; each level
    /// here costs stack, so fewer).
    pub max_depth: usize,
    /// The most steps (nodes run, loop iterations, function calls) of one execution.
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_output: 8 << 20,
            max_depth: 100,
            max_steps: 5_000_000,
        }
    }
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecError(pub String);

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn fail<T>(msg: impl Into<String>) -> Result<T, ExecError> {
    Err(ExecError(msg.into()))
}

enum Flow {
    Normal,
    Break,
    Continue,
}

type Vars = Vec<(String, Value)>;

/// The named templates (every `define` of the chart, and each template file by its name)
/// and the state of one execution.
pub struct Engine {
    /// Each template's body and the file that defines it.
    templates: HashMap<String, (Rc<Vec<Node>>, Rc<str>)>,
    limits: Limits,
    steps: u64,
    depth: usize,
    /// Blocks being run, templates included (each costs stack).
    nest: usize,
    /// The templates being run, innermost last (`tpl` text as `tpl`).
    running: Vec<String>,
    /// Where the error being returned arose: template and line.
    error_at: Option<(String, u32)>,
}

/// The deepest nesting of blocks run, across templates.
const MAX_NEST: usize = 400;

impl Engine {
    pub fn new(limits: Limits) -> Self {
        Engine {
            templates: HashMap::new(),
            limits,
            steps: 0,
            depth: 0,
            nest: 0,
            running: Vec::new(),
            error_at: None,
        }
    }

    /// Adds a parsed file: its defines (a later define of a name replaces an earlier one, as
    /// in Go) and, under `name`, its body.
    pub fn add(&mut self, name: &str, parsed: parse::Parsed) {
        let file: Rc<str> = Rc::from(name);
        for (n, body) in parsed.defines {
            self.templates.insert(n, (Rc::new(body), file.clone()));
        }
        self.templates
            .insert(name.to_string(), (Rc::new(parsed.root), file));
    }

    /// Renders the template `name` with `dot`.
    pub fn render(&mut self, name: &str, dot: &Value) -> Result<String, ExecError> {
        self.steps = 0;
        self.depth = 0;
        self.nest = 0;
        self.running.clear();
        self.error_at = None;
        let mut out = String::new();
        match self.exec_named(name, dot, &mut out) {
            Ok(()) => Ok(out),
            Err(e) => Err(match self.error_at.take() {
                Some((t, line)) => ExecError(format!("{t}:{line}: {}", e.0)),
                None => e,
            }),
        }
    }

    fn exec_named(&mut self, name: &str, dot: &Value, out: &mut String) -> Result<(), ExecError> {
        let Some((body, file)) = self.templates.get(name).cloned() else {
            return fail(format!("no template {name:?} associated with template"));
        };
        if self.depth >= self.limits.max_depth {
            return fail(format!(
                "template/include nested deeper than {} (at {name:?})",
                self.limits.max_depth
            ));
        }
        self.depth += 1;
        self.running.push(file.to_string());
        let mut vars = vec![(String::new(), dot.clone())];
        let r = self.exec_nodes(&body, dot, &mut vars, out);
        self.running.pop();
        self.depth -= 1;
        r.map(|_| ())
    }

    /// Records where an error arose, unless an inner template or pipeline already did.
    fn locate(&mut self, line: u32) {
        if self.error_at.is_none() {
            let t = self.running.last().cloned().unwrap_or_default();
            self.error_at = Some((t, line));
        }
    }

    fn step(&mut self) -> Result<(), ExecError> {
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return fail(format!(
                "more than {} steps: stopped (a loop too long?)",
                self.limits.max_steps
            ));
        }
        Ok(())
    }

    fn push_out(&self, out: &mut String, s: &str) -> Result<(), ExecError> {
        if out.len() + s.len() > self.limits.max_output {
            return fail(format!(
                "output over {} bytes: stopped",
                self.limits.max_output
            ));
        }
        out.push_str(s);
        Ok(())
    }

    fn exec_nodes(
        &mut self,
        nodes: &[Node],
        dot: &Value,
        vars: &mut Vars,
        out: &mut String,
    ) -> Result<Flow, ExecError> {
        if self.nest >= MAX_NEST {
            return fail(format!(
                "blocks and templates nested deeper than {MAX_NEST}"
            ));
        }
        self.nest += 1;
        let r = self.exec_nodes_inner(nodes, dot, vars, out);
        self.nest -= 1;
        r
    }

    fn exec_nodes_inner(
        &mut self,
        nodes: &[Node],
        dot: &Value,
        vars: &mut Vars,
        out: &mut String,
    ) -> Result<Flow, ExecError> {
        for n in nodes {
            self.step()?;
            match n {
                Node::Text(t) => self.push_out(out, t)?,
                Node::Action(p) => {
                    let v = self.pipe(p, dot, vars)?;
                    if p.decl.is_empty() {
                        // Helm prints missing values as nothing (not Go's `<no value>`).
                        if v != Value::Nil {
                            self.push_out(out, &v.to_text())?;
                        }
                    }
                }
                Node::If {
                    branches,
                    otherwise,
                }
                | Node::With {
                    branches,
                    otherwise,
                } => {
                    let with = matches!(n, Node::With { .. });
                    let mark = vars.len();
                    let mut flow = None;
                    for (p, body) in branches {
                        let v = self.pipe(p, dot, vars)?;
                        if v.truthy() {
                            let d = if with { &v } else { dot };
                            flow = Some(self.exec_nodes(body, d, vars, out)?);
                            break;
                        }
                    }
                    let flow = match flow {
                        Some(f) => f,
                        None => self.exec_nodes(otherwise, dot, vars, out)?,
                    };
                    vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Range {
                    pipe,
                    body,
                    otherwise,
                } => {
                    let v = self
                        .cmds(pipe, dot, vars)
                        .inspect_err(|_| self.locate(pipe.line))?;
                    let items: Vec<(Value, Value)> = match &v {
                        Value::List(l) => l
                            .iter()
                            .enumerate()
                            .map(|(i, x)| (Value::Int(i as i64), x.clone()))
                            .collect(),
                        Value::Map(m) => m
                            .borrow()
                            .iter()
                            .map(|(k, x)| (Value::str(k.as_str()), x.clone()))
                            .collect(),
                        Value::Int(n) => {
                            if *n > funcs::MAX_ITEMS {
                                return fail(format!("range over {n}: too many iterations"));
                            }
                            (0..(*n).max(0))
                                .map(|i| (Value::Int(i), Value::Int(i)))
                                .collect()
                        }
                        Value::Nil => Vec::new(),
                        other => {
                            return fail(format!("range can't iterate over {}", other.to_text()));
                        }
                    };
                    if items.is_empty() {
                        let mark = vars.len();
                        let flow = self.exec_nodes(otherwise, dot, vars, out)?;
                        vars.truncate(mark);
                        if !matches!(flow, Flow::Normal) {
                            return Ok(flow);
                        }
                        continue;
                    }
                    for (k, x) in items {
                        self.step()?;
                        let mark = vars.len();
                        match pipe.decl.as_slice() {
                            [v] => vars.push((v.clone(), x.clone())),
                            [i, v] => {
                                vars.push((i.clone(), k));
                                vars.push((v.clone(), x.clone()));
                            }
                            _ => {}
                        }
                        let flow = self.exec_nodes(body, &x, vars, out)?;
                        vars.truncate(mark);
                        if matches!(flow, Flow::Break) {
                            break;
                        }
                    }
                }
                Node::Template { name, pipe, .. } => {
                    let d = match pipe {
                        Some(p) => self.pipe(p, dot, vars)?,
                        None => Value::Nil,
                    };
                    self.exec_named(name, &d, out)?;
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    /// A pipeline's value, its variables declared or assigned.
    fn pipe(&mut self, p: &Pipe, dot: &Value, vars: &mut Vars) -> Result<Value, ExecError> {
        let v = self
            .cmds(p, dot, vars)
            .inspect_err(|_| self.locate(p.line))?;
        for name in &p.decl {
            if p.assign {
                match vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = v.clone(),
                    None => return fail(format!("undefined variable: ${name}")),
                }
            } else {
                vars.push((name.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn cmds(&mut self, p: &Pipe, dot: &Value, vars: &mut Vars) -> Result<Value, ExecError> {
        let mut prev = None;
        for c in &p.cmds {
            prev = Some(self.cmd(c, dot, vars, prev)?);
        }
        Ok(prev.unwrap_or_default())
    }

    fn cmd(
        &mut self,
        args: &[Arg],
        dot: &Value,
        vars: &mut Vars,
        prev: Option<Value>,
    ) -> Result<Value, ExecError> {
        let Some(first) = args.first() else {
            return fail("empty command");
        };
        let has_args = args.len() > 1 || prev.is_some();
        match first {
            Arg::Ident(name) => self.call(name, &args[1..], dot, vars, prev),
            // A method of Helm's objects: `.Capabilities.APIVersions.Has "x"`, `.Files.Get "f"`.
            Arg::Field(chain) | Arg::Var(_, chain) if has_args && !chain.is_empty() => {
                let (method, path) = chain.split_last().unwrap_or((&chain[0], &[]));
                let base = match first {
                    Arg::Var(n, _) => self.var(n, vars)?,
                    _ => dot.clone(),
                };
                let recv = field(&base, path)?;
                let mut vals = Vec::new();
                for a in &args[1..] {
                    vals.push(self.arg(a, dot, vars)?);
                }
                vals.extend(prev);
                method_call(&recv, method, &vals)
            }
            _ if has_args => fail("can't give argument to non-function"),
            a => self.arg(a, dot, vars),
        }
    }

    fn var(&self, name: &str, vars: &Vars) -> Result<Value, ExecError> {
        match vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => fail(format!("undefined variable: ${name}")),
        }
    }

    fn arg(&mut self, a: &Arg, dot: &Value, vars: &mut Vars) -> Result<Value, ExecError> {
        Ok(match a {
            Arg::Field(chain) => field(dot, chain)?,
            Arg::Var(n, chain) => field(&self.var(n, vars)?, chain)?,
            Arg::Ident(name) => self.call(name, &[], dot, vars, None)?,
            Arg::Str(s) => Value::str(s.as_str()),
            Arg::Int(i) => Value::Int(*i),
            Arg::Float(f) => Value::Float(*f),
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Nil => Value::Nil,
            Arg::Sub(p, chain) => {
                let v = self.pipe(p, dot, vars)?;
                field(&v, chain)?
            }
        })
    }

    fn call(
        &mut self,
        name: &str,
        args: &[Arg],
        dot: &Value,
        vars: &mut Vars,
        prev: Option<Value>,
    ) -> Result<Value, ExecError> {
        self.step()?;
        // `and` and `or` evaluate their arguments until the answer is known.
        if name == "and" || name == "or" {
            if args.is_empty() && prev.is_none() {
                return fail(format!(
                    "wrong number of args for {name}: want at least 1 got 0"
                ));
            }
            let mut last = Value::Nil;
            for a in args {
                last = self.arg(a, dot, vars)?;
                if last.truthy() != (name == "and") {
                    return Ok(last);
                }
            }
            if let Some(p) = prev {
                last = p;
            }
            return Ok(last);
        }
        let mut vals = Vec::with_capacity(args.len() + 1);
        for a in args {
            vals.push(self.arg(a, dot, vars)?);
        }
        vals.extend(prev);
        match name {
            "include" => {
                let [n, data] = vals.as_slice() else {
                    return fail(format!(
                        "wrong number of args for include: want 2 got {}",
                        vals.len()
                    ));
                };
                let mut out = String::new();
                self.exec_named(&funcs::string(n), data, &mut out)?;
                Ok(Value::str(out))
            }
            "tpl" => {
                let [text, data] = vals.as_slice() else {
                    return fail(format!(
                        "wrong number of args for tpl: want 2 got {}",
                        vals.len()
                    ));
                };
                let parsed = parse::parse(&funcs::string(text))
                    .map_err(|e| ExecError(format!("tpl: {e}")))?;
                for (n, body) in parsed.defines {
                    self.templates.insert(n, (Rc::new(body), Rc::from("tpl")));
                }
                if self.depth >= self.limits.max_depth {
                    return fail(format!("tpl nested deeper than {}", self.limits.max_depth));
                }
                self.depth += 1;
                self.running.push("tpl".to_string());
                let mut out = String::new();
                let mut vars = vec![(String::new(), data.clone())];
                let r = self.exec_nodes(&parsed.root, data, &mut vars, &mut out);
                self.running.pop();
                self.depth -= 1;
                r?;
                Ok(Value::str(out))
            }
            _ => {
                let v = funcs::call(name, vals, &self.limits)?;
                if let Value::Str(s) = &v
                    && s.len() > self.limits.max_output
                {
                    return fail(format!(
                        "{name}: result over {} bytes",
                        self.limits.max_output
                    ));
                }
                Ok(v)
            }
        }
    }
}

/// `v.a.b`: map keys (a missing key is nil); a field of nil is an error, as in Go.
pub fn field(v: &Value, chain: &[String]) -> Result<Value, ExecError> {
    let mut cur = v.clone();
    for name in chain {
        cur = match &cur {
            Value::Map(m) => m.borrow().get(name).cloned().unwrap_or_default(),
            Value::Nil => return fail(format!("nil pointer evaluating interface {{}}.{name}")),
            other => {
                return fail(format!(
                    "can't evaluate field {name} in type {}",
                    other.kind()
                ));
            }
        };
    }
    Ok(cur)
}

fn method_call(recv: &Value, method: &str, args: &[Value]) -> Result<Value, ExecError> {
    match (recv, method, args) {
        (Value::List(l), "Has", [x]) => Ok(Value::Bool(l.iter().any(|v| v == x))),
        (Value::Map(m), "Get", [x]) => Ok(m
            .borrow()
            .get(&funcs::string(x))
            .cloned()
            .unwrap_or_else(|| Value::str(""))),
        _ => fail(format!(
            "can't call method {method} on {} with {} arguments",
            recv.kind(),
            args.len()
        )),
    }
}
