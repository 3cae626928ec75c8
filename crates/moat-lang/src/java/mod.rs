//! # Java: archives, `gradle.lockfile`, `pom.xml`, `build.sbt.lock`
//!
//! Four parsers, each a pure function over the bytes of one file, all reporting
//! [`Ecosystem::Maven`](crate::Ecosystem::Maven) packages named `group:artifact`.
//!
//! * [`parse_archive`] reads a JAR, WAR or EAR (and the other zip-based Java archives that
//!   [`crate::wants`] offers) entirely in memory. Each archive is identified, most reliable
//!   source first:
//!   1. every `META-INF/maven/<group>/<artifact>/pom.properties` is one package (a shaded or
//!      fat jar carries several and each is reported);
//!   2. without any, the main section of `META-INF/MANIFEST.MF` (continuation lines joined):
//!      the version from `Implementation-Version`, `Bundle-Version` or `Plugin-Version`; the
//!      artifact from `Bundle-SymbolicName` (minus the group), `Implementation-Title`,
//!      Jenkins' `Short-Name`/`Extension-Name` or `Automatic-Module-Name`; the group from
//!      `Group-Id`, `Implementation-Vendor-Id`, or the dotted prefix of the symbolic or module
//!      name;
//!   3. only when the archive says nothing, the file name (`spring-core-4.3.30.RELEASE.jar`).
//!      A version is never taken from the file name when the manifest gives one.
//!
//!   Metadata: `identified_by` (`pom.properties`, `manifest`, `filename`), `archive` (the
//!   path of the file handed in) and, for archives found inside others, `nested_in`
//!   (`app.war!/WEB-INF/lib/x.jar`). Nested archives (any entry named like a Java archive:
//!   `WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`, an EAR's modules) are opened recursively in
//!   memory within [`ArchiveLimits`]: nesting depth, bytes per entry and bytes per top-level
//!   archive, checked against the sizes the zip declares *and* counted while inflating, since
//!   a zip bomb's declared sizes lie. A WAR or EAR with an identity is `application: true`;
//!   what it contains are dependencies. Unreadable input becomes diagnostics (`too-large`
//!   for a limit, else `parse-error`) that name the entry inside the archive, never a panic.
//! * [`parse_gradle_lock`] reads `group:artifact:version=conf1,conf2` lines; a package used
//!   only by test configurations is `dev`.
//! * [`parse_pom`] reads one `pom.xml` without network access or parent resolution: the
//!   project itself (`application: true`, group and version inherited from `<parent>` when
//!   absent) and `<dependencies>` whose versions are literal or resolve through the same
//!   pom's `<properties>`, `${project.*}` and `<dependencyManagement>`. `test` and
//!   `provided` scopes are `dev` (not runtime dependencies); `optional` is recorded.
//!   What cannot be resolved is skipped and counted in one `unsupported` diagnostic (moat
//!   does not fetch parent poms or pick from ranges); XML it cannot read is a `parse-error`
//!   with its line.
//! * [`parse_sbt_lock`] reads sbt's `build.sbt.lock` (the sbt-dependency-lock plugin): each
//!   dependency with its configurations; one only tests (or `provided`) use is `dev`.
//!
//! Rejected alternative: guessing identities by hashing the jar and asking Maven Central
//! (what Trivy does) needs the network, which parsers here never touch.

mod archive;
mod gradle;
mod manifest;
mod pom;
mod sbt_lock;

pub use archive::{ArchiveLimits, parse_archive, parse_archive_with_limits};
pub use gradle::parse_gradle_lock;
pub use manifest::{Manifest, parse_properties};
pub use pom::parse_pom;
pub use sbt_lock::parse_sbt_lock;

/// Extensions of the zip-based Java archives (opened at the top level and when nested).
pub(crate) const ARCHIVE_EXTENSIONS: [&str; 7] =
    [".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi"];
