//! # moat-misconfig: insecure and fragile configuration
//!
//! Pure functions over bytes, no I/O: given a file's path and contents, a checker returns
//! [`moat_model::Finding`]s of kind `misconfiguration` (with
//! [`moat_model::finding::MisconfigDetail`]) and typed diagnostics for what it could not read.
//! The `moat config` command (files and directories named on the command line) and the
//! `misconfig` analyzer of `moat-scan` (files inside an image or a `dir:` target) call the
//! same functions, so a Dockerfile gives the same findings wherever it is found.
//!
//! ## Layout: one module per file type
//! * [`dockerfile`]: a parser faithful to BuildKit's (parser directives, line continuations
//!   with the escape character, heredocs, JSON and shell forms, flags, multi-stage builds,
//!   ARG scoping, ONBUILD; every instruction with its line and column) and the rules over its
//!   result, one file per rule under `dockerfile/rules/`.
//! * [`k8s`]: Kubernetes manifests (multi-document YAML and JSON split at their `---`
//!   lines, `List` kinds, every workload reduced to its pod spec), the Pod Security
//!   Standards ([`k8s::pss`], evaluated as the Kubernetes reference implementation does and
//!   checked against its 4,537 fixtures) and the checks beyond them ([`k8s::rules`]:
//!   resources, images, probes, RBAC, Services, network isolation across files); findings
//!   at the offending field's line ([`k8s::lines`]).
//! * [`helm`]: Helm charts rendered as `helm template` renders them (a Go text/template
//!   subset written here, Sprig's and Helm's common functions, values merged in Helm's
//!   order), so that [`k8s`] checks their output under each template's name.
//! * [`compose`]: Docker Compose files, one rule per risk of a service.
//! * [`image`]: the image itself, whatever built it: its run config (user, health check,
//!   exposed ports) and the modes of the files its layers leave (setuid/setgid,
//!   world-writable files in system directories).
//! * [`rego`]: users' own checks in Rego (Trivy's custom-check layout and input shapes), run
//!   by the `regorus` interpreter beside the built-in rules.
//!
//! ## Rules
//! A [`Rule`] is data: moat's stable id (`MOAT-DF-001`, ...; never reused), a title, a
//! severity (Trivy's where Trivy has the check), the ids the same check has in hadolint,
//! Trivy (in every spelling Trivy prints: `DS002`, `DS-0002`, `AVD-DS-0002`), checkov and,
//! for Kubernetes, kubesec, kube-score and Polaris, a
//! resolution, and a check function. Each rule's file opens with a doc block (what, why, an
//! example, the fix, the peer ids) and holds its tests: a true positive and a near miss.
//! A finding's `id` and `rule` are moat's id; `aliases` lists the peers' ids, so results can
//! be compared and ignore files migrated.
//!
//! ## Bounds
//! Input is hostile: a file over [`dockerfile::MAX_FILE_BYTES`] is refused, instruction and
//! heredoc counts are capped, nothing recurses on input depth (ONBUILD takes one
//! instruction, which may not itself be ONBUILD), and every error says its line.
//!
//! Rejected alternatives: a parser combinator crate (winnow; no new dependency may enter the
//! lock this session, and BuildKit's line grammar is small enough to write by hand); running
//! peers' Rego through an engine for the built-in rules (slow to start, and each rule wants
//! the parsed shell commands of RUN, which Rego input would have to carry anyway); one big
//! match over instruction kinds (a rule per file keeps the documentation beside the code).

pub mod compose;
pub mod dockerfile;
pub mod helm;
pub mod image;
pub mod k8s;
pub mod rego;
mod rule;

pub use dockerfile::Checked;
pub use rule::{Hit, Rule};
