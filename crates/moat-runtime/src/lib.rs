//! Runtime detection: Falco-compatible rule files evaluated over event streams.
//!
//! The rule engine is generic over a [`field::FieldSource`]: an event source (Kubernetes
//! audit events, a capture file's syscall events, live process events) says which fields it
//! has, resolves each field a rule names once when the rules load, and extracts values from
//! its events without allocating where it can.
//!
//! [`load::RuleSet`] reads rule files in order (Falco's loader semantics and codes),
//! [`compile::compile`] turns the rules of one source into an [`engine::Engine`], and
//! [`k8s`] is the Kubernetes audit source.

pub mod compile;
pub mod cond;
pub mod engine;
pub mod eval;
pub mod field;
pub mod join;
pub mod json;
pub mod k8s;
pub mod listen;
pub mod live;
pub mod load;
pub mod output;
pub mod sink;

pub use compile::{Compiled, compile};
pub use engine::{Engine, Matching};
pub use load::{Code, Diagnostic, Priority, RuleSet};
