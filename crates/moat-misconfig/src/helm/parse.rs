//! Go's text/template syntax, the subset charts use: text and `{{ }}` actions with the
//! `{{- ` / ` -}}` trim markers, `/* */` comments, pipelines of commands (fields, variables,
//! literals, function calls, parenthesised pipelines), variable declarations and
//! assignments, `if`/`else if`/`else`, `with`/`else with`, `range` (with `$i, $v :=`),
//! `break`, `continue`, `define`, `template` and `block`.
//!
//! Hand-written (the `gtmpl` crate, the one Rust implementation, gives functions no access
//! to the template set, which `include` and `tpl` need, and is unmaintained since 2021).
//! Nesting is capped at [`MAX_NESTING`] and every error names its line.

use std::fmt;

/// The deepest nesting of blocks and parentheses read.
pub const MAX_NESTING: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    /// An action printing its pipeline's value (or declaring variables: nothing printed).
    Action(Pipe),
    If {
        branches: Vec<(Pipe, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    With {
        branches: Vec<(Pipe, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    Range {
        pipe: Pipe,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    Template {
        name: String,
        pipe: Option<Pipe>,
        line: u32,
    },
    Break,
    Continue,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipe {
    /// Variables declared (`:=`) or assigned (`=`), without the `$`.
    pub decl: Vec<String>,
    pub assign: bool,
    pub cmds: Vec<Vec<Arg>>,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `.` or `.a.b`: fields of dot.
    Field(Vec<String>),
    /// `$x.a.b` (`$` alone: name empty).
    Var(String, Vec<String>),
    /// A function name.
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    /// `(pipeline).a.b`
    Sub(Box<Pipe>, Vec<String>),
}

/// A template file: its top-level nodes and the templates it defines.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub root: Vec<Node>,
    pub defines: Vec<(String, Vec<Node>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: u32,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Bar,
    Declare,
    Assign,
    Comma,
    Field(Vec<String>),
    Var(String, Vec<String>),
    /// A field chain right after `)`.
    Chain(Vec<String>),
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Close,
}

/// One piece of the source: text, or an action's tokens.
enum Piece {
    Text(String),
    Action(Vec<Tok>, u32),
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
    pending: Option<Tok>,
}

fn err<T>(line: u32, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        message: message.into(),
    })
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn advance(&mut self, n: usize) {
        let n = n.min(self.src.len() - self.pos);
        self.line += self.src[self.pos..self.pos + n].matches('\n').count() as u32;
        self.pos += n;
    }

    fn skip_space(&mut self) {
        let n = self.rest().len() - self.rest().trim_start().len();
        self.advance(n);
    }

    fn pieces(mut self) -> Result<Vec<Piece>, ParseError> {
        const WS: [char; 4] = [' ', '\t', '\r', '\n'];
        let mut out: Vec<Piece> = Vec::new();
        let mut trim_next = false;
        while self.pos < self.src.len() {
            let rest = self.rest();
            let open = rest.find("{{");
            let mut text = &rest[..open.unwrap_or(rest.len())];
            if trim_next {
                text = text.trim_start_matches(WS);
            }
            let trim_left = open.is_some_and(|i| {
                let a = &rest[i + 2..];
                a.starts_with('-') && a[1..].starts_with(WS)
            });
            if trim_left {
                text = text.trim_end_matches(WS);
            }
            if !text.is_empty() {
                out.push(Piece::Text(text.to_string()));
            }
            let Some(open) = open else {
                break;
            };
            self.advance(open + 2 + usize::from(trim_left));
            let line = self.line;
            self.skip_space();
            // A comment: `/* ... */` then the close.
            if self.rest().starts_with("/*") {
                let Some(end) = self.rest().find("*/") else {
                    return err(line, "unclosed comment");
                };
                self.advance(end + 2);
                let r = self.rest();
                if r.starts_with(" -}}") {
                    self.advance(4);
                    trim_next = true;
                } else if r.starts_with("}}") {
                    self.advance(2);
                    trim_next = false;
                } else {
                    return err(line, "comment ends before closing delimiter");
                }
                continue;
            }
            let mut toks = Vec::new();
            loop {
                let t = self.token(line)?;
                match t {
                    (Tok::Close, trim) => {
                        trim_next = trim;
                        break;
                    }
                    (t, _) => toks.push(t),
                }
                if toks.len() > 100_000 {
                    return err(line, "action too long");
                }
            }
            out.push(Piece::Action(toks, line));
        }
        Ok(out)
    }

    /// The next token of an action (and, for the close, whether it trims).
    fn token(&mut self, line: u32) -> Result<(Tok, bool), ParseError> {
        if let Some(t) = self.pending.take() {
            return Ok((t, false));
        }
        let before = self.pos;
        self.skip_space();
        let spaced = self.pos > before;
        let r = self.rest();
        let Some(c) = r.chars().next() else {
            return err(line, "unclosed action");
        };
        if spaced && r.starts_with("-}}") {
            self.advance(3);
            return Ok((Tok::Close, true));
        }
        if r.starts_with("}}") {
            self.advance(2);
            return Ok((Tok::Close, false));
        }
        let simple = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '|' => Some(Tok::Bar),
            ',' => Some(Tok::Comma),
            '=' => Some(Tok::Assign),
            _ => None,
        };
        if let Some(t) = simple {
            self.advance(1);
            if t == Tok::RParen && self.rest().starts_with('.') {
                // `).a.b`: the chain comes next.
                self.pending = Some(Tok::Chain(self.chain(line)?));
            }
            return Ok((t, false));
        }
        if r.starts_with(":=") {
            self.advance(2);
            return Ok((Tok::Declare, false));
        }
        if c == '"' {
            return self.quoted(line).map(|s| (Tok::Str(s), false));
        }
        if c == '`' {
            let Some(end) = r[1..].find('`') else {
                return err(line, "unterminated raw string");
            };
            let s = r[1..1 + end].to_string();
            self.advance(end + 2);
            return Ok((Tok::Str(s), false));
        }
        if c == '\'' {
            let mut it = r[1..].char_indices();
            let (ch, used) = match it.next() {
                Some((_, '\\')) => match it.next() {
                    Some((_, 'n')) => ('\n', 2),
                    Some((_, 't')) => ('\t', 2),
                    Some((_, x)) => (x, 1 + x.len_utf8()),
                    None => return err(line, "unterminated character constant"),
                },
                Some((_, x)) => (x, x.len_utf8()),
                None => return err(line, "unterminated character constant"),
            };
            if !r[1 + used..].starts_with('\'') {
                return err(line, "unterminated character constant");
            }
            self.advance(used + 2);
            return Ok((Tok::Int(ch as i64), false));
        }
        if c == '.' && !r[1..].starts_with(|d: char| d.is_ascii_digit()) {
            let chain = self.chain(line)?;
            return Ok((Tok::Field(chain), false));
        }
        if c == '$' {
            self.advance(1);
            let name = self.ident();
            let chain = if self.rest().starts_with('.') {
                self.chain(line)?
            } else {
                Vec::new()
            };
            return Ok((Tok::Var(name, chain), false));
        }
        if c.is_ascii_digit() || ((c == '-' || c == '+' || c == '.') && r.len() > 1) {
            let n = r
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || "+-._".contains(ch)))
                .unwrap_or(r.len());
            let text = &r[..n];
            // Signs only lead or follow an exponent.
            let t = text.replace('_', "");
            let v = parse_number(&t);
            self.advance(n);
            return match v {
                Some(t) => Ok((t, false)),
                None => err(line, format!("bad number syntax: {text:?}")),
            };
        }
        if c.is_alphabetic() || c == '_' {
            let name = self.ident();
            return Ok((Tok::Ident(name), false));
        }
        err(line, format!("unexpected {c:?} in action"))
    }

    fn ident(&mut self) -> String {
        let r = self.rest();
        let n = r
            .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
            .unwrap_or(r.len());
        let s = r[..n].to_string();
        self.advance(n);
        s
    }

    /// `.a.b.c` (`.` alone: empty).
    fn chain(&mut self, line: u32) -> Result<Vec<String>, ParseError> {
        let mut out = Vec::new();
        while self.rest().starts_with('.') {
            self.advance(1);
            let name = self.ident();
            if name.is_empty() {
                if out.is_empty() {
                    break;
                }
                return err(line, "bad field chain");
            }
            out.push(name);
            if out.len() > 1000 {
                return err(line, "field chain too long");
            }
        }
        Ok(out)
    }

    fn quoted(&mut self, line: u32) -> Result<String, ParseError> {
        let r = self.rest();
        let mut s = String::new();
        let mut it = r.char_indices().skip(1);
        while let Some((i, c)) = it.next() {
            match c {
                '"' => {
                    self.advance(i + 1);
                    return Ok(s);
                }
                '\n' => break,
                '\\' => match it.next() {
                    Some((_, 'n')) => s.push('\n'),
                    Some((_, 't')) => s.push('\t'),
                    Some((_, 'r')) => s.push('\r'),
                    Some((_, '0')) => s.push('\0'),
                    Some((_, x)) => s.push(x),
                    None => break,
                },
                c => s.push(c),
            }
        }
        err(line, "unterminated quoted string")
    }
}

fn parse_number(t: &str) -> Option<Tok> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let radix = |p: &str, r: u32| {
        body.strip_prefix(p)
            .and_then(|d| i64::from_str_radix(d, r).ok())
    };
    let int = radix("0x", 16)
        .or_else(|| radix("0X", 16))
        .or_else(|| radix("0o", 8))
        .or_else(|| radix("0b", 2))
        .or_else(|| body.parse::<i64>().ok());
    if let Some(i) = int {
        return Some(Tok::Int(if neg { -i } else { i }));
    }
    if body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && let Ok(f) = body.parse::<f64>()
    {
        return Some(Tok::Float(if neg { -f } else { f }));
    }
    None
}

/// Parses a template file.
pub fn parse(src: &str) -> Result<Parsed, ParseError> {
    let pieces = Lexer {
        src,
        pos: 0,
        line: 1,
        pending: None,
    }
    .pieces()?;
    let mut p = Parser {
        pieces: pieces.into_iter(),
        defines: Vec::new(),
        depth: 0,
    };
    let (root, term) = p.list()?;
    if let Some((t, line)) = term {
        let what = match t {
            Term::End => "end",
            Term::Else(_) => "else",
        };
        return err(line, format!("unexpected {{{{{what}}}}}"));
    }
    Ok(Parsed {
        root,
        defines: p.defines,
    })
}

/// Nodes, and the `end` or `else` that ended them (with its line).
type Listed = (Vec<Node>, Option<(Term, u32)>);

enum Term {
    End,
    Else(Toks),
}

struct Parser {
    pieces: std::vec::IntoIter<Piece>,
    defines: Vec<(String, Vec<Node>)>,
    depth: usize,
}

impl Parser {
    /// Nodes up to an `end` or `else` (returned) or the end of the source.
    fn list(&mut self) -> Result<Listed, ParseError> {
        self.depth += 1;
        let r = self.list_inner();
        self.depth -= 1;
        r
    }

    fn list_inner(&mut self) -> Result<Listed, ParseError> {
        let mut nodes = Vec::new();
        while let Some(piece) = self.pieces.next() {
            let (toks, line) = match piece {
                Piece::Text(t) => {
                    nodes.push(Node::Text(t));
                    continue;
                }
                Piece::Action(toks, line) => (toks, line),
            };
            if self.depth > MAX_NESTING {
                return err(line, format!("blocks nested deeper than {MAX_NESTING}"));
            }
            let mut ts = Toks { toks, i: 0, line };
            let keyword = match ts.peek() {
                Some(Tok::Ident(k)) => k.clone(),
                _ => String::new(),
            };
            match keyword.as_str() {
                "end" => {
                    ts.i += 1;
                    ts.expect_end()?;
                    return Ok((nodes, Some((Term::End, line))));
                }
                "else" => {
                    ts.i += 1;
                    return Ok((nodes, Some((Term::Else(ts), line))));
                }
                "if" | "with" => {
                    ts.i += 1;
                    nodes.push(self.conditional(keyword == "if", ts, line)?);
                }
                "range" => {
                    ts.i += 1;
                    let pipe = ts.whole_pipe()?;
                    if pipe.decl.len() > 2 {
                        return err(line, "range declares at most two variables");
                    }
                    let (body, term) = self.list()?;
                    let otherwise = match term {
                        Some((Term::End, _)) => Vec::new(),
                        Some((Term::Else(e), l)) => {
                            e.expect_end()?;
                            self.until_end(l)?
                        }
                        None => return err(line, "unclosed range"),
                    };
                    nodes.push(Node::Range {
                        pipe,
                        body,
                        otherwise,
                    });
                }
                "define" | "block" => {
                    ts.i += 1;
                    let name = ts.name()?;
                    let pipe = if keyword == "block" {
                        Some(ts.whole_pipe()?)
                    } else {
                        ts.expect_end()?;
                        None
                    };
                    let body = self.until_end(line)?;
                    self.defines.push((name.clone(), body));
                    if let Some(pipe) = pipe {
                        nodes.push(Node::Template {
                            name,
                            pipe: Some(pipe),
                            line,
                        });
                    }
                }
                "template" => {
                    ts.i += 1;
                    let name = ts.name()?;
                    let pipe = if ts.peek().is_some() {
                        Some(ts.whole_pipe()?)
                    } else {
                        None
                    };
                    nodes.push(Node::Template { name, pipe, line });
                }
                "break" | "continue" => {
                    ts.i += 1;
                    ts.expect_end()?;
                    nodes.push(if keyword == "break" {
                        Node::Break
                    } else {
                        Node::Continue
                    });
                }
                _ => nodes.push(Node::Action(ts.whole_pipe()?)),
            }
        }
        Ok((nodes, None))
    }

    fn until_end(&mut self, line: u32) -> Result<Vec<Node>, ParseError> {
        match self.list()? {
            (nodes, Some((Term::End, _))) => Ok(nodes),
            (_, Some((Term::Else(_), l))) => err(l, "unexpected {{else}}"),
            (_, None) => err(line, "unclosed block (no {{end}})"),
        }
    }

    fn conditional(&mut self, is_if: bool, mut ts: Toks, line: u32) -> Result<Node, ParseError> {
        let word = if is_if { "if" } else { "with" };
        let mut branches = Vec::new();
        let mut pipe = ts.whole_pipe()?;
        let otherwise = loop {
            let (body, term) = self.list()?;
            branches.push((pipe, body));
            match term {
                None => return err(line, format!("unclosed {word} (no {{{{end}}}})")),
                Some((Term::End, _)) => break Vec::new(),
                Some((Term::Else(mut e), l)) => match e.peek() {
                    None => break self.until_end(l)?,
                    Some(Tok::Ident(k)) if k == word => {
                        e.i += 1;
                        pipe = e.whole_pipe()?;
                    }
                    Some(t) => return err(l, format!("unexpected {t:?} after else")),
                },
            }
        };
        Ok(if is_if {
            Node::If {
                branches,
                otherwise,
            }
        } else {
            Node::With {
                branches,
                otherwise,
            }
        })
    }
}

/// An action's tokens being read.
struct Toks {
    toks: Vec<Tok>,
    i: usize,
    line: u32,
}

impl Toks {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }

    fn expect_end(&self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => err(self.line, format!("unexpected {t:?} in action")),
        }
    }

    /// A template name: a string.
    fn name(&mut self) -> Result<String, ParseError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(s),
            _ => err(self.line, "expected a template name (a string)"),
        }
    }

    /// A pipeline filling the rest of the action.
    fn whole_pipe(&mut self) -> Result<Pipe, ParseError> {
        let p = self.pipe(0)?;
        self.expect_end()?;
        Ok(p)
    }

    fn pipe(&mut self, depth: usize) -> Result<Pipe, ParseError> {
        let mut p = Pipe {
            line: self.line,
            ..Default::default()
        };
        // `$a :=`, `$a =`, `$i, $v :=`
        if matches!(self.peek(), Some(Tok::Var(_, c)) if c.is_empty()) {
            let start = self.i;
            let mut names = Vec::new();
            loop {
                match self.next() {
                    Some(Tok::Var(n, c)) if c.is_empty() => names.push(n),
                    _ => break,
                }
                match self.next() {
                    Some(Tok::Comma) => continue,
                    Some(Tok::Declare) => {
                        p.decl = std::mem::take(&mut names);
                        break;
                    }
                    Some(Tok::Assign) => {
                        p.decl = std::mem::take(&mut names);
                        p.assign = true;
                        break;
                    }
                    _ => break,
                }
            }
            if p.decl.is_empty() {
                self.i = start;
            }
        }
        loop {
            let mut args = Vec::new();
            while !matches!(self.peek(), None | Some(Tok::Bar) | Some(Tok::RParen)) {
                args.push(self.operand(depth)?);
            }
            if args.is_empty() {
                return err(self.line, "missing value for command");
            }
            p.cmds.push(args);
            if self.peek() == Some(&Tok::Bar) {
                self.i += 1;
            } else {
                break;
            }
        }
        Ok(p)
    }

    fn operand(&mut self, depth: usize) -> Result<Arg, ParseError> {
        Ok(match self.next() {
            Some(Tok::LParen) => {
                if depth >= MAX_NESTING {
                    return err(
                        self.line,
                        format!("parentheses nested deeper than {MAX_NESTING}"),
                    );
                }
                let p = self.pipe(depth + 1)?;
                if self.next() != Some(Tok::RParen) {
                    return err(self.line, "unclosed left paren");
                }
                let chain = match self.peek() {
                    Some(Tok::Chain(_)) => match self.next() {
                        Some(Tok::Chain(c)) => c,
                        _ => Vec::new(),
                    },
                    _ => Vec::new(),
                };
                Arg::Sub(Box::new(p), chain)
            }
            Some(Tok::Field(c)) => Arg::Field(c),
            Some(Tok::Var(n, c)) => Arg::Var(n, c),
            Some(Tok::Ident(i)) => match i.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                "nil" => Arg::Nil,
                _ => Arg::Ident(i),
            },
            Some(Tok::Str(s)) => Arg::Str(s),
            Some(Tok::Int(i)) => Arg::Int(i),
            Some(Tok::Float(f)) => Arg::Float(f),
            Some(t) => return err(self.line, format!("unexpected {t:?} in operand")),
            None => return err(self.line, "missing operand"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_markers_and_comments() {
        let p = parse("a  {{- .x -}}  b {{/* c */}} d\n{{- /* e */ -}}\n f").unwrap();
        assert_eq!(
            p.root,
            [
                Node::Text("a".into()),
                Node::Action(Pipe {
                    cmds: vec![vec![Arg::Field(vec!["x".into()])]],
                    line: 1,
                    ..Default::default()
                }),
                Node::Text("b ".into()),
                Node::Text(" d".into()),
                Node::Text("f".into()),
            ]
        );
    }

    #[test]
    fn a_minus_number_is_no_trim_marker() {
        let p = parse("{{-3}}").unwrap();
        assert_eq!(
            p.root[0],
            Node::Action(Pipe {
                cmds: vec![vec![Arg::Int(-3)]],
                line: 1,
                ..Default::default()
            })
        );
    }

    #[test]
    fn structures_and_defines() {
        let p = parse(
            "{{ define \"x\" }}X{{ end }}{{ if .a }}1{{ else if .b }}2{{ else }}3{{ end }}{{ range $i, $v := .l }}{{ $i }}{{ end }}",
        )
        .unwrap();
        assert_eq!(p.defines.len(), 1);
        assert!(
            matches!(&p.root[0], Node::If { branches, otherwise } if branches.len() == 2 && otherwise.len() == 1)
        );
        assert!(matches!(&p.root[1], Node::Range { pipe, .. } if pipe.decl == ["i", "v"]));
    }

    #[test]
    fn errors_name_their_line() {
        for (src, line, what) in [
            ("a\n{{ if .x }}", 2, "unclosed if"),
            ("\n\n{{ end }}", 3, "unexpected {{end}}"),
            ("{{ \"abc }}", 1, "unterminated"),
            ("x\n{{ .a ( }}", 2, "missing value"),
            ("x\n{{ (.a }}", 2, "unclosed left paren"),
            ("{{ }}", 1, "missing value"),
            ("{{ /* x", 1, "unclosed comment"),
            ("{{ .a", 1, "unclosed action"),
        ] {
            let e = parse(src).unwrap_err();
            assert_eq!(e.line, line, "{src}: {e}");
            assert!(e.message.contains(what), "{src}: {e}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "{{ if 1 }}".repeat(MAX_NESTING + 5);
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        let parens = format!("{{{{ {}1{} }}}}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&parens).unwrap_err().message.contains("nested"));
    }
}
