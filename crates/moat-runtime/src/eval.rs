//! The evaluation tree: conditions compiled once (fields resolved, literals parsed for the
//! field's type, sets hashed, globs and regexes prepared), then evaluated per event without
//! allocating (string comparisons borrow the event's bytes).

use crate::cond::{Op, Transformer};
use crate::field::{FieldSource, FieldType, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Node<F> {
    And(Vec<Node<F>>),
    Or(Vec<Node<F>>),
    Not(Box<Node<F>>),
    Check(Box<Check<F>>),
}

/// A field with its transformers (innermost first).
#[derive(Debug, Clone)]
pub struct COperand<F> {
    pub field: F,
    pub ty: FieldType,
    pub transforms: Vec<Transformer>,
    /// The operand's slot in the per-event [`FieldCache`]: operands naming the same field,
    /// argument and transformers share one.
    pub slot: u32,
}

/// The values of each operand extracted so far on one event, by slot: the first check
/// reading an operand extracts it, the others (dozens of rules read `ka.verb`) reuse them.
pub struct FieldCache<'e> {
    /// Per slot, the range of its values in `vals`; `UNSET` before its first extraction.
    spans: Vec<(u32, u32)>,
    vals: Vec<Value<'e>>,
    scratch: Vec<Value<'e>>,
    /// Per distinct check ([`Check::memo`]), its result on the event once evaluated: 0 not
    /// yet, 1 false, 2 true. Rules share checks through their macros (`kevt`, `kcreate`,
    /// `pod`: most of the k8saudit rules start with the same three), evaluated once.
    memo: Vec<u8>,
}

const UNSET: (u32, u32) = (u32::MAX, u32::MAX);

/// `v` emptied, as a vector of values that may borrow from another event. Collected from an
/// empty iterator over `v`'s own buffer, which the standard library reuses in place (same
/// size and alignment), so no allocation; were it not reused, only that would be lost.
#[allow(clippy::unnecessary_filter_map)] // the point: a value of the other type, never made
fn emptied<'f>(mut v: Vec<Value<'_>>) -> Vec<Value<'f>> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

impl<'e> FieldCache<'e> {
    /// An empty cache for `slots` operands and `checks` distinct checks (one event's).
    pub fn new(slots: usize, checks: usize) -> Self {
        FieldCache {
            spans: vec![UNSET; slots],
            vals: Vec::with_capacity(slots),
            scratch: Vec::with_capacity(8),
            memo: vec![0; checks],
        }
    }

    /// This cache emptied for another event, its buffers kept: a caller running the rules
    /// on a stream of events keeps one instead of four allocations an event.
    pub fn recycle<'f>(self) -> FieldCache<'f> {
        let FieldCache {
            mut spans,
            vals,
            scratch,
            mut memo,
        } = self;
        spans.fill(UNSET);
        memo.fill(0);
        FieldCache {
            spans,
            vals: emptied(vals),
            scratch: emptied(scratch),
            memo,
        }
    }

    /// The range in `vals` of slot `slot`'s values, extracted by `extract` on first use.
    #[inline(always)]
    fn fill_with(
        &mut self,
        slot: u32,
        extract: impl FnOnce(&mut Vec<Value<'e>>),
    ) -> (usize, usize) {
        if let Some(&(a, b)) = self.spans.get(slot as usize)
            && a != u32::MAX
        {
            return (a as usize, b as usize);
        }
        self.extract_into(slot, extract)
    }

    /// The first read of slot `slot` on the event.
    #[inline(never)]
    fn extract_into(
        &mut self,
        slot: u32,
        extract: impl FnOnce(&mut Vec<Value<'e>>),
    ) -> (usize, usize) {
        let slot = slot as usize;
        self.scratch.clear();
        extract(&mut self.scratch);
        let a = self.vals.len();
        self.vals.append(&mut self.scratch);
        let b = self.vals.len();
        if let Some(s) = self.spans.get_mut(slot) {
            *s = (a as u32, b as u32);
        }
        (a, b)
    }

    /// The range in `vals` of operand `o`'s values, extracted on first use.
    fn fill<S: FieldSource>(
        &mut self,
        o: &COperand<S::Field>,
        src: &'e S,
        ev: &'e S::Event,
    ) -> (usize, usize) {
        self.fill_with(o.slot, |buf| extract(o, src, ev, buf))
    }

    /// Operand `o`'s values on the event.
    pub fn get<S: FieldSource>(
        &mut self,
        o: &COperand<S::Field>,
        src: &'e S,
        ev: &'e S::Event,
    ) -> &[Value<'e>] {
        let (a, b) = self.fill(o, src, ev);
        &self.vals[a..b]
    }

    /// The values of `field` (no transformer) on the event, cached in `slot` (a slot past
    /// the cache's: extracted each time).
    pub fn field<S: FieldSource>(
        &mut self,
        slot: u32,
        field: &S::Field,
        src: &'e S,
        ev: &'e S::Event,
    ) -> &[Value<'e>] {
        let (a, b) = self.fill_with(slot, |buf| src.extract(ev, field, buf));
        &self.vals[a..b]
    }
}

/// The compiled right side of a check.
#[derive(Debug, Clone)]
pub enum CRhs<F> {
    None,
    One(Lit),
    Set(LitSet),
    Field(COperand<F>),
}

/// A compiled comparison.
#[derive(Debug, Clone)]
pub struct Check<F> {
    pub lhs: COperand<F>,
    pub op: Op,
    pub rhs: CRhs<F>,
    /// The field is a list field (`in` then needs every value in the set).
    pub list: bool,
    /// The check's slot in the per-event memo of results ([`FieldCache`]): checks that are
    /// the same (operand, operator and right side) share one.
    pub memo: u32,
}

/// A literal parsed for the field's type and the operator.
#[derive(Debug, Clone)]
pub enum Lit {
    Bytes(Vec<u8>),
    /// Lower-cased, for `icontains`.
    Lower(Vec<u8>),
    Glob(Vec<u8>, bool),
    Regex(Box<regex::bytes::Regex>),
    Uint(u64),
    Int(i64),
    Bool(bool),
    Ip(IpAddr),
    Net(IpAddr, u8),
}

impl Lit {
    /// Parses `v` as a literal for a field of type `ty` under `op`.
    pub fn new(v: &str, ty: FieldType, op: Op) -> Result<Lit, String> {
        Ok(match ty {
            FieldType::Str | FieldType::Bytes => match op {
                Op::Glob => Lit::Glob(v.as_bytes().to_vec(), false),
                Op::IGlob => Lit::Glob(v.to_ascii_lowercase().into_bytes(), true),
                Op::IContains => Lit::Lower(v.to_ascii_lowercase().into_bytes()),
                Op::Regex => Lit::Regex(Box::new(
                    regex::bytes::RegexBuilder::new(v)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|e| format!("invalid regex '{v}': {e}"))?,
                )),
                _ => Lit::Bytes(v.as_bytes().to_vec()),
            },
            FieldType::Uint => {
                Lit::Uint(parse_uint(v).ok_or_else(|| format!("'{v}' is not a valid number"))?)
            }
            FieldType::Int => {
                Lit::Int(parse_int(v).ok_or_else(|| format!("'{v}' is not a valid number"))?)
            }
            FieldType::Bool => match v {
                "true" => Lit::Bool(true),
                "false" => Lit::Bool(false),
                _ => return Err(format!("'{v}' is not a valid boolean")),
            },
            FieldType::Ip | FieldType::IpNet => match v.split_once('/') {
                Some((a, n)) => {
                    let ip: IpAddr = a
                        .parse()
                        .map_err(|_| format!("'{v}' is not a valid IP network"))?;
                    let bits: u8 = n
                        .parse()
                        .map_err(|_| format!("'{v}' is not a valid IP network"))?;
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    if bits > max {
                        return Err(format!("'{v}' is not a valid IP network"));
                    }
                    Lit::Net(ip, bits)
                }
                None => Lit::Ip(
                    v.parse()
                        .map_err(|_| format!("'{v}' is not a valid IP address"))?,
                ),
            },
        })
    }
}

fn parse_uint(v: &str) -> Option<u64> {
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.strip_prefix('+').unwrap_or(v).parse().ok(),
    }
}

fn parse_int(v: &str) -> Option<i64> {
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => i64::from_str_radix(h, 16).ok(),
        None => v.strip_prefix('+').unwrap_or(v).parse().ok(),
    }
}

/// The values of a list operator.
#[derive(Debug, Clone)]
pub enum LitSet {
    /// Strings; hashed when there are many.
    Strs {
        small: Vec<Vec<u8>>,
        big: Option<HashSet<Vec<u8>, BuildHasherDefault<WordHasher>>>,
    },
    /// Path prefixes for `pmatch` (trailing `/` removed).
    Paths(Vec<Vec<u8>>),
    Other(Vec<Lit>),
}

const HASH_FROM: usize = 8;

/// A hasher of byte strings eight bytes at a time (a multiply and a rotate per word), for
/// the sets of rule literals: the set is the rules', the looked-up values the event's, so
/// an event cannot choose collisions among the set's items to slow the lookups down.
#[derive(Default)]
pub struct WordHasher(u64);

impl WordHasher {
    #[inline(always)]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for WordHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves its best bits high; the table reads both ends.
        self.0 ^ (self.0 >> 32)
    }
}

impl LitSet {
    pub fn new(items: &[String], ty: FieldType, op: Op) -> Result<LitSet, String> {
        if op == Op::PMatch {
            return Ok(LitSet::Paths(
                items
                    .iter()
                    .map(|s| {
                        let t = if s.len() > 1 {
                            s.trim_end_matches('/')
                        } else {
                            s.as_str()
                        };
                        t.as_bytes().to_vec()
                    })
                    .collect(),
            ));
        }
        match ty {
            FieldType::Str | FieldType::Bytes => {
                let small: Vec<Vec<u8>> = items.iter().map(|s| s.as_bytes().to_vec()).collect();
                let big = (small.len() >= HASH_FROM).then(|| small.iter().cloned().collect());
                Ok(LitSet::Strs { small, big })
            }
            _ => Ok(LitSet::Other(
                items
                    .iter()
                    .map(|s| Lit::new(s, ty, Op::Eq))
                    .collect::<Result<_, _>>()?,
            )),
        }
    }

    fn contains(&self, v: &Value) -> bool {
        match self {
            LitSet::Strs { small, big } => match v {
                Value::Str(b) | Value::Bytes(b) => match big {
                    Some(h) => h.contains(b.as_ref()),
                    None => small.iter().any(|s| bytes_eq(s, b)),
                },
                _ => false,
            },
            LitSet::Paths(paths) => match v {
                Value::Str(b) | Value::Bytes(b) => paths.iter().any(|p| path_prefix(p, b)),
                _ => false,
            },
            LitSet::Other(lits) => lits.iter().any(|l| cmp_lit(v, Op::Eq, l)),
        }
    }
}

/// `p` is `v` or a leading run of whole path components of `v`.
fn path_prefix(p: &[u8], v: &[u8]) -> bool {
    if p == b"/" {
        return v.first() == Some(&b'/');
    }
    v.starts_with(p) && (v.len() == p.len() || v[p.len()] == b'/')
}

impl<F> Node<F> {
    /// Evaluates the condition on `event`, reading operands through `cache` (the event's).
    pub fn eval<'e, S: FieldSource<Field = F>>(
        &self,
        src: &'e S,
        ev: &'e S::Event,
        cache: &mut FieldCache<'e>,
    ) -> bool {
        match self {
            Node::And(v) => v.iter().all(|n| n.eval(src, ev, cache)),
            Node::Or(v) => v.iter().any(|n| n.eval(src, ev, cache)),
            Node::Not(n) => !n.eval(src, ev, cache),
            Node::Check(c) => {
                let m = c.memo as usize;
                match cache.memo.get(m) {
                    Some(1) => false,
                    Some(2) => true,
                    _ => {
                        let r = c.eval(src, ev, cache);
                        if let Some(x) = cache.memo.get_mut(m) {
                            *x = 1 + u8::from(r);
                        }
                        r
                    }
                }
            }
        }
    }
}

/// Extracts the operand's values into `buf`, transformed.
pub fn extract<'e, S: FieldSource>(
    o: &COperand<S::Field>,
    src: &'e S,
    ev: &'e S::Event,
    buf: &mut Vec<Value<'e>>,
) {
    buf.clear();
    src.extract(ev, &o.field, buf);
    for t in &o.transforms {
        let mut i = 0;
        while i < buf.len() {
            match transform(*t, &buf[i]) {
                Some(v) => {
                    buf[i] = v;
                    i += 1;
                }
                None => {
                    buf.remove(i);
                }
            }
        }
    }
}

fn transform<'e>(t: Transformer, v: &Value<'e>) -> Option<Value<'e>> {
    let bytes: &[u8] = match v {
        Value::Str(b) | Value::Bytes(b) => b,
        _ => {
            return if t == Transformer::Len {
                None
            } else {
                Some(v.clone())
            };
        }
    };
    Some(match t {
        Transformer::ToLower => Value::Str(Cow::Owned(bytes.to_ascii_lowercase())),
        Transformer::ToUpper => Value::Str(Cow::Owned(bytes.to_ascii_uppercase())),
        Transformer::B64 => {
            use base64::Engine as _;
            let d = base64::engine::general_purpose::STANDARD
                .decode(bytes)
                .ok()?;
            Value::Str(Cow::Owned(d))
        }
        Transformer::Basename => {
            let start = bytes.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
            Value::Str(Cow::Owned(bytes[start..].to_vec()))
        }
        Transformer::Len => Value::Uint(bytes.len() as u64),
    })
}

impl<F> Check<F> {
    fn eval<'e, S: FieldSource<Field = F>>(
        &self,
        src: &'e S,
        ev: &'e S::Event,
        cache: &mut FieldCache<'e>,
    ) -> bool {
        let (a, b) = cache.fill(&self.lhs, src, ev);
        if a == b {
            return false;
        }
        let buf = &cache.vals[a..b];
        match &self.rhs {
            CRhs::None => true,
            CRhs::One(lit) => buf.iter().any(|v| cmp_lit(v, self.op, lit)),
            CRhs::Set(set) => {
                if self.op == Op::In && self.list {
                    buf.iter().all(|v| set.contains(v))
                } else {
                    buf.iter().any(|v| set.contains(v))
                }
            }
            CRhs::Field(o) => {
                let (c, d) = cache.fill(o, src, ev);
                let (buf, rhs) = (&cache.vals[a..b], &cache.vals[c..d]);
                match self.op {
                    Op::In | Op::Intersects | Op::PMatch => {
                        let hit = |v: &Value| {
                            rhs.iter().any(|r| {
                                if self.op == Op::PMatch {
                                    matches!((r, v), (Value::Str(p), Value::Str(b)) if path_prefix(p, b))
                                } else {
                                    cmp_values(v, Op::Eq, r)
                                }
                            })
                        };
                        if self.op == Op::In && self.list {
                            buf.iter().all(hit)
                        } else {
                            buf.iter().any(hit)
                        }
                    }
                    op => buf
                        .iter()
                        .any(|v| rhs.first().is_some_and(|r| cmp_values(v, op, r))),
                }
            }
        }
    }
}

fn cmp_ord(o: std::cmp::Ordering, op: Op) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq | Op::In | Op::Intersects => o == Equal,
        Op::Ne => o != Equal,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
        _ => false,
    }
}

fn cmp_bytes(b: &[u8], op: Op, l: &[u8]) -> bool {
    match op {
        Op::Contains | Op::BContains => memchr::memmem::find(b, l).is_some(),
        Op::StartsWith | Op::BStartsWith => b.starts_with(l),
        Op::EndsWith => b.ends_with(l),
        Op::IContains => icontains(b, l),
        Op::Glob => glob(l, b, false),
        Op::IGlob => glob(l, b, true),
        Op::PMatch => path_prefix(l, b),
        // Equality without an ordering: lengths first, no call to memcmp when they differ.
        Op::Eq | Op::In | Op::Intersects => bytes_eq(b, l),
        Op::Ne => !bytes_eq(b, l),
        op => cmp_ord(b.cmp(l), op),
    }
}

/// Byte strings equal: lengths first, then eight bytes at a time in line (the values are
/// short: a call to memcmp costs more than the comparison).
#[inline]
fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_ne_bytes(w)
    };
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    for (p, q) in (&mut x).zip(&mut y) {
        if word(p) != word(q) {
            return false;
        }
    }
    x.remainder().iter().zip(y.remainder()).all(|(p, q)| p == q)
}

/// Compares one value with a literal.
fn cmp_lit(v: &Value, op: Op, l: &Lit) -> bool {
    match (v, l) {
        (Value::Str(b) | Value::Bytes(b), Lit::Bytes(l) | Lit::Lower(l)) => cmp_bytes(b, op, l),
        (Value::Str(b) | Value::Bytes(b), Lit::Glob(p, icase)) => glob(p, b, *icase),
        (Value::Str(b) | Value::Bytes(b), Lit::Regex(re)) => re.is_match(b),
        (Value::Uint(a), Lit::Uint(b)) => cmp_ord(a.cmp(b), op),
        (Value::Int(a), Lit::Int(b)) => cmp_ord(a.cmp(b), op),
        (Value::Uint(a), Lit::Int(b)) => cmp_ord(i128::from(*a).cmp(&i128::from(*b)), op),
        (Value::Int(a), Lit::Uint(b)) => cmp_ord(i128::from(*a).cmp(&i128::from(*b)), op),
        (Value::Bool(a), Lit::Bool(b)) => cmp_ord(a.cmp(b), op),
        (Value::Ip(a), Lit::Ip(b)) => cmp_ord(a.cmp(b), op),
        (Value::Ip(a), Lit::Net(n, bits)) => {
            let inside = in_net(a, n, *bits);
            if op == Op::Ne { !inside } else { inside }
        }
        _ => false,
    }
}

/// Compares two values (a field against a field).
fn cmp_values(a: &Value, op: Op, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x) | Value::Bytes(x), Value::Str(y) | Value::Bytes(y)) => cmp_bytes(x, op, y),
        (Value::Uint(x), Value::Uint(y)) => cmp_ord(x.cmp(y), op),
        (Value::Int(x), Value::Int(y)) => cmp_ord(x.cmp(y), op),
        (Value::Uint(x), Value::Int(y)) => cmp_ord(i128::from(*x).cmp(&i128::from(*y)), op),
        (Value::Int(x), Value::Uint(y)) => cmp_ord(i128::from(*x).cmp(&i128::from(*y)), op),
        (Value::Bool(x), Value::Bool(y)) => cmp_ord(x.cmp(y), op),
        (Value::Ip(x), Value::Ip(y)) => cmp_ord(x.cmp(y), op),
        _ => false,
    }
}

fn in_net(a: &IpAddr, n: &IpAddr, bits: u8) -> bool {
    match (a, n) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            (u32::from(*a) & mask) == (u32::from(*n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            (u128::from(*a) & mask) == (u128::from(*n) & mask)
        }
        _ => false,
    }
}

/// ASCII case-insensitive substring search (`needle` already lower case).
fn icontains(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    hay.windows(needle.len()).any(|w| {
        w.iter()
            .zip(needle)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

/// fnmatch(3)-style matching without flags: `*`, `?`, `[...]` (with `!`/`^` negation and
/// ranges), `\` escapes. `icase`: the pattern is lower case and the text is compared lower
/// cased. Iterative with single-star backtracking: linear space, no recursion.
pub fn glob(pat: &[u8], text: &[u8], icase: bool) -> bool {
    let lc = |c: u8| if icase { c.to_ascii_lowercase() } else { c };
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = class(pat, p, lc(text[t]), icase) {
                        if matched {
                            p = next;
                            t += 1;
                            continue;
                        }
                    } else if lc(text[t]) == b'[' {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pat.len() => {
                    if lc(text[t]) == pat[p + 1] {
                        p += 2;
                        t += 1;
                        continue;
                    }
                }
                c => {
                    if lc(text[t]) == c {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    while p < pat.len() && pat[p] == b'*' {
        p += 1;
    }
    p == pat.len()
}

/// A `[...]` class at `pat[p]`: whether `c` matches and the index after the class; `None`
/// when the class is not closed.
fn class(pat: &[u8], p: usize, c: u8, icase: bool) -> Option<(bool, usize)> {
    let mut i = p + 1;
    let negate = matches!(pat.get(i), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < pat.len() {
        let mut lo = pat[i];
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if lo == b'\\' && i + 1 < pat.len() {
            i += 1;
            lo = pat[i];
        }
        let lo = if icase { lo.to_ascii_lowercase() } else { lo };
        if i + 2 < pat.len() && pat[i + 1] == b'-' && pat[i + 2] != b']' {
            let hi = if icase {
                pat[i + 2].to_ascii_lowercase()
            } else {
                pat[i + 2]
            };
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_recycled_cache_is_empty_and_keeps_its_buffers() {
        use super::{FieldCache, UNSET, Value};
        let text = String::from("create");
        let mut c: FieldCache<'_> = FieldCache::new(3, 2);
        c.fill_with(1, |v| {
            v.push(Value::Str(std::borrow::Cow::Borrowed(text.as_bytes())))
        });
        c.memo[1] = 2;
        let (cap, spans, memo) = (c.vals.capacity(), c.spans.capacity(), c.memo.len());
        assert!(cap >= 1);
        let c: FieldCache<'static> = c.recycle();
        // Nothing of the old event is borrowed any more.
        drop(text);
        assert!(c.vals.is_empty() && c.scratch.is_empty());
        assert!(c.spans.iter().all(|s| *s == UNSET) && c.memo.iter().all(|m| *m == 0));
        assert_eq!((c.spans.capacity(), c.memo.len()), (spans, memo));
        // The values' buffer is the same one (no allocation for the next event).
        assert_eq!(c.vals.capacity(), cap);
    }

    use super::*;

    #[test]
    fn globs() {
        assert!(glob(b"/etc/*", b"/etc/passwd", false));
        assert!(glob(b"*.conf", b"/etc/x/y.conf", false));
        assert!(!glob(b"*.conf", b"/etc/x/y.confx", false));
        assert!(glob(b"a?c", b"abc", false));
        assert!(glob(b"[a-c]x[!0-9]", b"bxz", false));
        assert!(!glob(b"[a-c]x[!0-9]", b"bx1", false));
        assert!(glob(b"abc*", b"ABCD", true));
        assert!(!glob(b"*a*a*a*a*a*a*b", &[b'a'; 64], false));
        assert!(glob(b"\\*x", b"*x", false));
    }

    #[test]
    fn literals_and_sets() {
        let s = LitSet::new(
            &["/etc".into(), "/usr/lib/".into()],
            FieldType::Str,
            Op::PMatch,
        )
        .unwrap();
        assert!(s.contains(&Value::Str(Cow::Borrowed(b"/etc/passwd"))));
        assert!(s.contains(&Value::Str(Cow::Borrowed(b"/usr/lib"))));
        assert!(!s.contains(&Value::Str(Cow::Borrowed(b"/etcx"))));
        let n = Lit::new("10.0.0.0/8", FieldType::IpNet, Op::Eq).unwrap();
        assert!(cmp_lit(&Value::Ip("10.1.2.3".parse().unwrap()), Op::Eq, &n));
        assert!(!cmp_lit(
            &Value::Ip("11.1.2.3".parse().unwrap()),
            Op::Eq,
            &n
        ));
        assert!(Lit::new("abc", FieldType::Uint, Op::Eq).is_err());
        assert!(cmp_lit(
            &Value::Int(-1),
            Op::Lt,
            &Lit::new("0", FieldType::Int, Op::Lt).unwrap()
        ));
        assert!(cmp_lit(
            &Value::Str(Cow::Borrowed(b"Hello World")),
            Op::IContains,
            &Lit::new("WORLD", FieldType::Str, Op::IContains).unwrap()
        ));
        let long = b"0123456789abcdefghij".as_slice();
        for n in 0..long.len() {
            for m in 0..long.len() {
                let (a, mut b) = (&long[..n], long[..m].to_vec());
                assert_eq!(bytes_eq(a, &b), a == b.as_slice(), "{n} {m}");
                if let Some(last) = b.last_mut() {
                    *last ^= 1;
                    assert_eq!(bytes_eq(a, &b), a == b.as_slice(), "{n} {m}");
                }
            }
        }
        let many: Vec<String> = (0..20).map(|i| format!("v{i}")).collect();
        let set = LitSet::new(&many, FieldType::Str, Op::In).unwrap();
        assert!(set.contains(&Value::Str(Cow::Borrowed(b"v17"))));
        assert!(!set.contains(&Value::Str(Cow::Borrowed(b"v20"))));
        // Keys longer than a word, and ones differing in the last byte only.
        let paths: Vec<String> = (0..40)
            .map(|i| format!("/var/lib/kubelet/pods/{i}"))
            .collect();
        let set = LitSet::new(&paths, FieldType::Str, Op::In).unwrap();
        for p in &paths {
            assert!(
                set.contains(&Value::Str(Cow::Borrowed(p.as_bytes()))),
                "{p}"
            );
        }
        assert!(!set.contains(&Value::Str(Cow::Borrowed(b"/var/lib/kubelet/pods/40"))));
        assert!(!set.contains(&Value::Str(Cow::Borrowed(b"/var/lib/kubelet/pods/"))));
    }
}
