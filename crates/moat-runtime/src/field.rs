//! How rules read events: the contract between the rule engine and each event source.
//!
//! A rule's condition names fields (`proc.name`, `ka.verb`, `proc.aname[2]`,
//! `jevt.value[/user/name]`). When the rules load, the engine asks the source to
//! [`resolve`](FieldSource::resolve) each one to the source's own compact id and type (an
//! unknown field is a load error or, for `skip-if-unknown-filter` rules, a warning). While
//! events stream, the engine asks for the values of resolved fields only.
//!
//! Extension rule: methods may be added to [`FieldSource`] only with a default body, so that
//! every source keeps compiling.

use std::borrow::Cow;
use std::net::IpAddr;

/// The argument in brackets after a field name, as written in the rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldArg {
    /// No brackets: `proc.name`.
    None,
    /// A number: `proc.aname[2]`, `evt.arg[1]`, `ka.req.pod.containers.image[0]`.
    Index(u64),
    /// Anything else: `evt.arg.fd` / `evt.arg[fd]`, `jevt.value[/user/name]`.
    Key(String),
}

/// What kind of values a field yields: decides how operators compare and how a literal in
/// the rule is parsed (`evt.rawres < 0`, `fd.sip = 10.0.0.1`, `fd.net = 10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// Text (Falco's charbuf and fspath): compared as bytes.
    Str,
    /// Unsigned integers (`uint64`, ports, pids, counts).
    Uint,
    /// Signed integers (`int64`, `evt.rawres`).
    Int,
    /// `true` / `false`.
    Bool,
    /// An IPv4 or IPv6 address.
    Ip,
    /// An IP network (`fd.net`); a literal `a.b.c.d/n` compares by containment.
    IpNet,
    /// Raw bytes (`evt.buffer`): `bcontains` / `bstartswith` compare them.
    Bytes,
}

/// One value of a field on one event. Strings are borrowed from the event or the source's
/// state when they exist there as bytes, owned only when computed (`proc.cmdline`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    Str(Cow<'a, [u8]>),
    Uint(u64),
    Int(i64),
    Bool(bool),
    Ip(IpAddr),
    Bytes(Cow<'a, [u8]>),
}

/// A field the source does not have, or an argument it does not take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("unknown field '{0}'")]
    Unknown(String),
    #[error("field '{field}' {problem}")]
    BadArgument { field: String, problem: String },
}

/// An event source as the rule engine sees it.
pub trait FieldSource {
    /// One event as the source hands it over.
    type Event;
    /// A resolved field: the source's compact id (an enum or an index), cheap to copy.
    type Field: Clone + Send + Sync + std::fmt::Debug;

    /// The rules' `source:` this source serves (`syscall`, `k8s_audit`).
    fn source_name(&self) -> &'static str;

    /// Resolves a field named in a rule, once, when the rules load.
    fn resolve(&self, name: &str, arg: &FieldArg) -> Result<(Self::Field, FieldType), FieldError>;

    /// Pushes the values of `field` on `event` into `out` (cleared by the caller). A scalar
    /// field pushes one value; a list field (`ka.req.pod.containers.image`, `proc.aname`
    /// without an index is not a list) pushes each element; nothing pushed means the field
    /// has no value on this event (Falco's "not exists": comparisons with it are false).
    fn extract<'e>(&'e self, event: &'e Self::Event, field: &Self::Field, out: &mut Vec<Value<'e>>);

    /// The event-type codes an `evt.type` name stands for (`open` may be several codes), so
    /// the engine can index rules by the event types their conditions allow. `None`: the
    /// source has no event types (every rule is tried on every event).
    fn event_type_codes(&self, _name: &str) -> Option<Vec<u16>> {
        None
    }

    /// The event-type code of `event`, when the source has event types.
    fn event_type(&self, _event: &Self::Event) -> Option<u16> {
        None
    }

    /// Whether the source has event types at all (then a rule whose condition does not
    /// restrict `evt.type` gives Falco's `LOAD_NO_EVTTYPE` warning and is tried on every
    /// event).
    fn has_event_types(&self) -> bool {
        false
    }

    /// Whether `field` is a list field (`ka.req.pod.containers.image`): for those, `in`
    /// holds when every value is in the set, `intersects` when one is, and other operators
    /// when one value matches. A scalar field's single value is compared directly.
    fn is_list(&self, _field: &Self::Field) -> bool {
        false
    }

    /// Whether a rule naming a field this source does not have is skipped with a
    /// `LOAD_UNKNOWN_FIELD` warning, as if it said `skip-if-unknown-filter: true`, instead
    /// of failing the load: for sources that fill only part of a larger field set (live
    /// process events offer a few of the syscall fields).
    fn skips_unknown_fields(&self) -> bool {
        false
    }
}

/// `proc.cmdline` as Falco renders it: the process name, then each argument, separated by
/// spaces. `args` holds the arguments after `argv[0]`, each followed by a NUL (the shape both
/// a capture's thread table and `/proc/PID/cmdline` give).
pub fn proc_cmdline(name: &[u8], args: &[u8]) -> Vec<u8> {
    let mut out = name.to_vec();
    for a in args.split(|&c| c == 0).filter(|a| !a.is_empty()) {
        out.push(b' ');
        out.extend_from_slice(a);
    }
    out
}

/// `proc.args`: the arguments after `argv[0]` (NUL-terminated in `args`), space-separated.
pub fn proc_args(args: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(args.len());
    for a in args.split(|&c| c == 0).filter(|a| !a.is_empty()) {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(a);
    }
    out
}
