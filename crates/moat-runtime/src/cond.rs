//! The condition language: a recursive-descent parser from a condition string to an [`Expr`].
//!
//! Grammar (Falco's filter language, as libsinsp parses it): `or` binds loosest, then `and`,
//! then `not`; keywords are lower case and need a blank (or `(`) after them; a check is a
//! field (with an optional `[arg]`), possibly wrapped in transformers (`tolower(...)`,
//! `toupper(...)`, `b64(...)`, `basename(...)`, `len(...)`), followed by an operator and its
//! value: a bare or quoted string, a parenthesised list, or a field on the right (`val(f)` or a
//! transformer). A bare identifier is a macro reference.

use crate::field::FieldArg;

/// Nesting deeper than this is a parse error (Falco sets the same cap on its parser).
pub const MAX_DEPTH: usize = 1000;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    BContains,
    StartsWith,
    BStartsWith,
    EndsWith,
    Glob,
    IGlob,
    PMatch,
    In,
    Intersects,
    Exists,
    Regex,
}

impl Op {
    /// The operator as written in a condition.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
            Op::IContains => "icontains",
            Op::BContains => "bcontains",
            Op::StartsWith => "startswith",
            Op::BStartsWith => "bstartswith",
            Op::EndsWith => "endswith",
            Op::Glob => "glob",
            Op::IGlob => "iglob",
            Op::PMatch => "pmatch",
            Op::In => "in",
            Op::Intersects => "intersects",
            Op::Exists => "exists",
            Op::Regex => "regex",
        }
    }

    /// The operator a word or symbol names (`==` is `=`).
    pub fn from_word(s: &str) -> Option<Op> {
        Some(match s {
            "=" | "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "bcontains" => Op::BContains,
            "startswith" => Op::StartsWith,
            "bstartswith" => Op::BStartsWith,
            "endswith" => Op::EndsWith,
            "glob" => Op::Glob,
            "iglob" => Op::IGlob,
            "pmatch" => Op::PMatch,
            "in" => Op::In,
            "intersects" => Op::Intersects,
            "exists" => Op::Exists,
            "regex" => Op::Regex,
            _ => return None,
        })
    }

    /// Operators whose value is a list.
    pub fn takes_list(self) -> bool {
        matches!(self, Op::In | Op::Intersects | Op::PMatch)
    }
}

/// A field transformer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transformer {
    ToLower,
    ToUpper,
    B64,
    Basename,
    Len,
}

impl Transformer {
    fn from_word(s: &str) -> Option<Transformer> {
        Some(match s {
            "tolower" => Transformer::ToLower,
            "toupper" => Transformer::ToUpper,
            "b64" => Transformer::B64,
            "basename" => Transformer::Basename,
            "len" => Transformer::Len,
            _ => return None,
        })
    }
}

/// A field as a rule names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldRef {
    pub name: String,
    pub arg: FieldArg,
}

impl std::fmt::Display for FieldRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.arg {
            FieldArg::None => write!(f, "{}", self.name),
            FieldArg::Index(i) => write!(f, "{}[{i}]", self.name),
            FieldArg::Key(k) => write!(f, "{}[{k}]", self.name),
        }
    }
}

/// The left side of a check, or a field on the right: a field, possibly transformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Field(FieldRef),
    Transform(Transformer, Box<Operand>),
}

impl Operand {
    /// The field under the transformers.
    pub fn field(&self) -> &FieldRef {
        match self {
            Operand::Field(f) => f,
            Operand::Transform(_, inner) => inner.field(),
        }
    }
}

/// The right side of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rhs {
    /// `exists` takes nothing.
    None,
    /// One value (quoted strings unquoted and unescaped).
    Value(String),
    /// A parenthesised list.
    List(Vec<String>),
    /// Another field: `val(f)` or a transformer.
    Field(Operand),
}

/// A comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub lhs: Operand,
    pub op: Op,
    pub rhs: Rhs,
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A macro reference.
    Ident(String),
    Check(Check),
}

impl Expr {
    /// Calls `f` on every macro reference.
    pub fn idents(&self, f: &mut dyn FnMut(&str)) {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.idents(f)),
            Expr::Not(e) => e.idents(f),
            Expr::Ident(name) => f(name),
            Expr::Check(_) => {}
        }
    }

    /// The nesting depth of the tree.
    pub fn depth(&self) -> usize {
        match self {
            Expr::And(v) | Expr::Or(v) => 1 + v.iter().map(Expr::depth).max().unwrap_or(0),
            Expr::Not(e) => 1 + e.depth(),
            _ => 1,
        }
    }
}

/// A condition that does not parse: what is wrong and the byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {pos}")]
pub struct ParseError {
    pub message: String,
    pub pos: usize,
}

/// Parses a condition.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
    };
    p.blank();
    if p.pos >= p.s.len() {
        return Err(p.err("empty condition"));
    }
    let e = p.or_expr()?;
    p.blank();
    if p.pos < p.s.len() {
        return Err(p.err("unexpected token after a complete expression"));
    }
    Ok(e)
}

/// Parses a field name with an optional argument, as found in output format strings
/// (`ka.user.name`, `proc.aname[2]`, `jevt.value[/a/b]`); returns the field and the number
/// of bytes it took, `None` when `text` does not start with a field name.
pub fn parse_field_prefix(text: &str) -> Option<(FieldRef, usize)> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
    };
    let name = p.field_name()?;
    if !name.contains('.') {
        return None;
    }
    let save = p.pos;
    let arg = match p.field_arg() {
        Ok(a) => a,
        Err(_) => {
            p.pos = save;
            FieldArg::None
        }
    };
    Some((FieldRef { name, arg }, p.pos))
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x08 | 0x0c | 0x0b)
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic()
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl<'a> Parser<'a> {
    fn err(&self, message: &str) -> ParseError {
        ParseError {
            message: message.to_string(),
            pos: self.pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn blank(&mut self) {
        while self.peek().is_some_and(is_blank) {
            self.pos += 1;
        }
    }

    /// Consumes keyword `kw` when it is followed by a blank or `(` (or, with `paren_ok`
    /// false, only a blank).
    fn keyword(&mut self, kw: &str) -> bool {
        let end = self.pos + kw.len();
        if self.s.len() >= end && &self.s[self.pos..end] == kw.as_bytes() {
            match self.s.get(end) {
                Some(&c) if is_blank(c) || c == b'(' => {
                    self.pos = end;
                    true
                }
                _ => false,
            }
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("exceeded max depth limit"));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        self.chain("or", Self::and_expr, Expr::Or)
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        self.chain("and", Self::not_expr, Expr::And)
    }

    /// `operand (kw operand)*`: one operand as it is, several joined by `join`.
    fn chain(
        &mut self,
        kw: &str,
        operand: fn(&mut Self) -> Result<Expr, ParseError>,
        join: fn(Vec<Expr>) -> Expr,
    ) -> Result<Expr, ParseError> {
        self.enter()?;
        let mut items = vec![operand(self)?];
        loop {
            self.blank();
            if self.keyword(kw) {
                self.blank();
                items.push(operand(self)?);
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            join(items)
        })
    }

    fn not_expr(&mut self) -> Result<Expr, ParseError> {
        self.blank();
        if self.keyword("not") {
            self.enter()?;
            self.blank();
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.check()
    }

    fn check(&mut self) -> Result<Expr, ParseError> {
        self.blank();
        match self.peek() {
            None => Err(self.err("unexpected end of condition, expecting a check")),
            Some(b'(') => {
                self.pos += 1;
                self.enter()?;
                let e = self.or_expr()?;
                self.depth -= 1;
                self.blank();
                if self.peek() != Some(b')') {
                    return Err(self.err("missing closing parenthesis"));
                }
                self.pos += 1;
                Ok(e)
            }
            Some(c) if is_ident_start(c) => {
                let start = self.pos;
                if let Some(lhs) = self.transformer_operand()? {
                    return self.condition(lhs);
                }
                self.pos = start;
                let name = self
                    .field_name()
                    .ok_or_else(|| self.err("expecting a field or a macro name"))?;
                if !name.contains('.') {
                    // An identifier: a macro reference. It must not be followed by an operator.
                    return Ok(Expr::Ident(name));
                }
                let arg = self.field_arg()?;
                self.condition(Operand::Field(FieldRef { name, arg }))
            }
            Some(_) => Err(self.err("unexpected character, expecting a check")),
        }
    }

    /// `tolower(` ... `)` etc. when the text here starts with a transformer.
    fn transformer_operand(&mut self) -> Result<Option<Operand>, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        let word = &self.text[start..self.pos];
        let Some(t) = Transformer::from_word(word) else {
            self.pos = start;
            return Ok(None);
        };
        if self.peek() != Some(b'(') {
            self.pos = start;
            return Ok(None);
        }
        self.pos += 1;
        self.enter()?;
        self.blank();
        let inner = match self.transformer_operand()? {
            Some(op) => op,
            None => Operand::Field(self.field()?),
        };
        self.blank();
        if self.peek() != Some(b')') {
            return Err(self.err("missing closing parenthesis of a transformer"));
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(Some(Operand::Transform(t, Box::new(inner))))
    }

    fn field(&mut self) -> Result<FieldRef, ParseError> {
        let name = self
            .field_name()
            .ok_or_else(|| self.err("expecting a field name"))?;
        if !name.contains('.') {
            return Err(self.err("expecting a field name"));
        }
        let arg = self.field_arg()?;
        Ok(FieldRef { name, arg })
    }

    /// `[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)*`.
    fn field_name(&mut self) -> Option<String> {
        let start = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        loop {
            while self.peek().is_some_and(is_ident_char) {
                self.pos += 1;
            }
            if self.peek() == Some(b'.')
                && self.s.get(self.pos + 1).is_some_and(|&c| is_ident_start(c))
            {
                self.pos += 1;
                continue;
            }
            break;
        }
        Some(self.text[start..self.pos].to_string())
    }

    fn field_arg(&mut self) -> Result<FieldArg, ParseError> {
        if self.peek() != Some(b'[') {
            return Ok(FieldArg::None);
        }
        self.pos += 1;
        let arg = match self.peek() {
            Some(b'"') | Some(b'\'') => self.quoted()?,
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| !is_blank(c) && !matches!(c, b'[' | b']' | b'"' | b'\''))
                {
                    self.pos += 1;
                }
                if self.pos == start {
                    return Err(self.err("empty field argument"));
                }
                self.text[start..self.pos].to_string()
            }
        };
        if self.peek() != Some(b']') {
            return Err(self.err("missing ']' after a field argument"));
        }
        self.pos += 1;
        Ok(
            if !arg.is_empty() && arg.bytes().all(|c| c.is_ascii_digit()) {
                match arg.parse::<u64>() {
                    Ok(n) => FieldArg::Index(n),
                    Err(_) => FieldArg::Key(arg),
                }
            } else {
                FieldArg::Key(arg)
            },
        )
    }

    fn operator(&mut self) -> Result<Op, ParseError> {
        for sym in ["==", "!=", "<=", ">=", "=", "<", ">"] {
            if self.s[self.pos..].starts_with(sym.as_bytes()) {
                self.pos += sym.len();
                return Op::from_word(sym).ok_or_else(|| self.err("unknown operator"));
            }
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        let word = &self.text[start..self.pos];
        let Some(op) = Op::from_word(word) else {
            self.pos = start;
            return Err(self.err("expecting an operator"));
        };
        // Word operators need a blank after them; list operators may be followed by `(`;
        // `exists` may end the condition or be followed by `)`.
        match self.peek() {
            Some(c) if is_blank(c) => {}
            Some(b'(') if op.takes_list() => {}
            None | Some(b')') if op == Op::Exists => {}
            _ => {
                self.pos = start;
                return Err(self.err("expecting an operator"));
            }
        }
        Ok(op)
    }

    fn condition(&mut self, lhs: Operand) -> Result<Expr, ParseError> {
        self.blank();
        let op = self.operator()?;
        if op == Op::Exists {
            return Ok(Expr::Check(Check {
                lhs,
                op,
                rhs: Rhs::None,
            }));
        }
        self.blank();
        // A field on the right: val(f) or a transformer.
        let start = self.pos;
        if self.s[self.pos..].starts_with(b"val(") {
            self.pos += 4;
            self.blank();
            let f = self.field()?;
            self.blank();
            if self.peek() != Some(b')') {
                return Err(self.err("missing closing parenthesis of val()"));
            }
            self.pos += 1;
            return Ok(Expr::Check(Check {
                lhs,
                op,
                rhs: Rhs::Field(Operand::Field(f)),
            }));
        }
        if self.peek().is_some_and(is_ident_start) {
            if let Some(t) = self.transformer_operand()? {
                return Ok(Expr::Check(Check {
                    lhs,
                    op,
                    rhs: Rhs::Field(t),
                }));
            }
            self.pos = start;
        }
        if op.takes_list() {
            if self.peek() == Some(b'(') {
                self.pos += 1;
                let mut items = Vec::new();
                self.blank();
                if self.peek() == Some(b')') {
                    self.pos += 1;
                    return Ok(Expr::Check(Check {
                        lhs,
                        op,
                        rhs: Rhs::List(items),
                    }));
                }
                loop {
                    self.blank();
                    items.push(self.value()?);
                    self.blank();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b')') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(self.err("expecting ',' or ')' in a list")),
                    }
                }
                return Ok(Expr::Check(Check {
                    lhs,
                    op,
                    rhs: Rhs::List(items),
                }));
            }
            // A bare identifier (a list name that was not expanded): a one-item list.
            let v = self.value()?;
            return Ok(Expr::Check(Check {
                lhs,
                op,
                rhs: Rhs::List(vec![v]),
            }));
        }
        let v = self.value()?;
        Ok(Expr::Check(Check {
            lhs,
            op,
            rhs: Rhs::Value(v),
        }))
    }

    fn value(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(b'"') | Some(b'\'') => self.quoted(),
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(|c| {
                    !is_blank(c) && !matches!(c, b'(' | b')' | b',' | b'=' | b'"' | b'\'')
                }) {
                    self.pos += 1;
                }
                if self.pos == start {
                    return Err(self.err("expecting a value"));
                }
                Ok(self.text[start..self.pos].to_string())
            }
        }
    }

    /// A quoted string, unescaped.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let Some(q) = self.peek() else {
            return Err(self.err("expecting a quoted string"));
        };
        let open = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = open;
                    return Err(self.err("unterminated quoted string"));
                }
                Some(c) if c == q => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let Some(&next) = self.s.get(self.pos + 1) else {
                        self.pos += 1;
                        continue;
                    };
                    let ch = match next {
                        b'b' => Some(0x08),
                        b'f' => Some(0x0c),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'"' | b'\'' | b'\\' | b'/' => Some(next),
                        _ => None,
                    };
                    match ch {
                        Some(c) => {
                            out.push(c);
                            self.pos += 2;
                        }
                        None => {
                            out.push(b'\\');
                            self.pos += 1;
                        }
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| self.err("quoted string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> Operand {
        Operand::Field(FieldRef {
            name: name.into(),
            arg: FieldArg::None,
        })
    }

    #[test]
    fn precedence_and_lists() {
        let e = parse("a and not b or ka.verb in (create, \"x y\") and proc.name=cat").unwrap();
        let Expr::Or(items) = e else { panic!("{e:?}") };
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0],
            Expr::And(vec![
                Expr::Ident("a".into()),
                Expr::Not(Box::new(Expr::Ident("b".into())))
            ])
        );
        let Expr::And(right) = &items[1] else {
            panic!()
        };
        assert_eq!(
            right[0],
            Expr::Check(Check {
                lhs: field("ka.verb"),
                op: Op::In,
                rhs: Rhs::List(vec!["create".into(), "x y".into()])
            })
        );
        assert_eq!(
            right[1],
            Expr::Check(Check {
                lhs: field("proc.name"),
                op: Op::Eq,
                rhs: Rhs::Value("cat".into())
            })
        );
    }

    #[test]
    fn field_arguments_transformers_and_val() {
        let e =
            parse("jevt.value[/a~1b] exists and tolower(proc.aname[2]) = val(proc.name)").unwrap();
        let Expr::And(v) = e else { panic!() };
        assert_eq!(
            v[0],
            Expr::Check(Check {
                lhs: Operand::Field(FieldRef {
                    name: "jevt.value".into(),
                    arg: FieldArg::Key("/a~1b".into())
                }),
                op: Op::Exists,
                rhs: Rhs::None
            })
        );
        assert_eq!(
            v[1],
            Expr::Check(Check {
                lhs: Operand::Transform(
                    Transformer::ToLower,
                    Box::new(Operand::Field(FieldRef {
                        name: "proc.aname".into(),
                        arg: FieldArg::Index(2)
                    }))
                ),
                op: Op::Eq,
                rhs: Rhs::Field(field("proc.name"))
            })
        );
    }

    #[test]
    fn bare_values_with_dots_and_slashes() {
        let e =
            parse("fd.name startswith /etc and container.image.repository = docker.io/library/x")
                .unwrap();
        let Expr::And(v) = e else { panic!() };
        assert_eq!(
            v[0],
            Expr::Check(Check {
                lhs: field("fd.name"),
                op: Op::StartsWith,
                rhs: Rhs::Value("/etc".into())
            })
        );
        assert_eq!(
            v[1],
            Expr::Check(Check {
                lhs: field("container.image.repository"),
                op: Op::Eq,
                rhs: Rhs::Value("docker.io/library/x".into())
            })
        );
    }

    #[test]
    fn errors() {
        assert!(parse("").is_err());
        assert!(parse("proc.name =").is_err());
        assert!(parse("(proc.name = a").is_err());
        assert!(parse("proc.name foo bar").is_err());
        assert!(parse("proc.name = a b").is_err());
        assert!(parse("proc.name in (a, b").is_err());
        assert!(parse("evt.type=execve foo").is_err());
        assert!(parse("proc.namecontains x").is_err());
        let deep = "(".repeat(2000) + "a" + &")".repeat(2000);
        assert_eq!(
            parse(&deep).unwrap_err().message,
            "exceeded max depth limit"
        );
        let nots = "not ".repeat(5000) + "a";
        assert!(parse(&nots).is_err());
    }

    #[test]
    fn quoted_escapes() {
        let e = parse(r#"proc.cmdline = "a \"b\" c" and x.y = 'it''"#);
        assert!(e.is_err());
        let e = parse(r#"proc.cmdline = "a \"b\" c""#).unwrap();
        assert_eq!(
            e,
            Expr::Check(Check {
                lhs: field("proc.cmdline"),
                op: Op::Eq,
                rhs: Rhs::Value("a \"b\" c".into())
            })
        );
    }
}
