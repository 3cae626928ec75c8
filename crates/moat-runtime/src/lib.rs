//! Runtime detection: Falco-compatible rule files evaluated over event streams.
//!
//! The rule engine is generic over a [`field::FieldSource`]: an event source (Kubernetes
//! audit events, a capture file's syscall events, live process events) says which fields it
//! has, resolves each field a rule names once when the rules load, and extracts values from
//! its events without allocating where it can.

pub mod field;
