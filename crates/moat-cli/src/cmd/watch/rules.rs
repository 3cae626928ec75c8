//! moat's copy of the Falco rules: `moat watch --update-rules` pulls them as Falco's own
//! tooling (falcoctl) distributes them, OCI artifacts of type "rulesfile", and `moat watch`
//! without `--rules` loads the copy of the source it watches.
//!
//! An artifact is an OCI image manifest whose config has the media type [`CONFIG_TYPE`]
//! (JSON: the artifact's `name`, `version`, dependencies) and whose one layer of type
//! [`LAYER_TYPE`] is a gzip-compressed tar of the rule file(s). The manifest, the config and
//! the layer are checked against their digests as they are read; the rule files must load and
//! compile for their source before they replace anything.
//!
//! The store (`--rules-dir`, by default `$XDG_CACHE_HOME/moat/rules`) holds one directory
//! per pulled manifest, `sha256-<hex>/` with the rule files, and one pointer per source,
//! `syscall.json` / `k8s_audit.json`, saying which directory holds that source's rules, from
//! which reference and digest, and when they were fetched. A pull writes its directory under
//! a temporary name and renames it, then replaces the pointer by a rename: a reader sees the
//! old rules or the new ones, never a mix, and a failed pull leaves the old ones.

use super::{SOURCES, WatchArgs};
use crate::output::escape;
use crate::settings::Env;
use anyhow::{Context, bail};
use moat_registry::{Digest, Reference};
use moat_runtime::k8s::K8sAudit;
use moat_runtime::{RuleSet, compile};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The media type of a rulesfile artifact's config (falcoctl's).
pub const CONFIG_TYPE: &str = "application/vnd.cncf.falco.rulesfile.config.v1+json";
/// The media type of a rulesfile artifact's layer: a tar.gz of the rule files.
pub const LAYER_TYPE: &str = "application/vnd.cncf.falco.rulesfile.layer.v1+tar.gz";
/// What `--update-rules` pulls without `--rules-ref`: the stable rules for syscalls at the
/// current major version Falco installs (`falco-rules:5`), and the k8saudit plugin's ruleset.
pub const DEFAULT_REFS: &[&str] = &[
    "ghcr.io/falcosecurity/rules/falco-rules:5",
    "ghcr.io/falcosecurity/plugins/ruleset/k8saudit:0",
];
/// Where a Falco package installs its rules; used when nothing is stored.
const ETC_FALCO: &[(&str, &str)] = &[
    ("syscall", "/etc/falco/falco_rules.yaml"),
    ("k8s_audit", "/etc/falco/k8s_audit_rules.yaml"),
];
const MAX_MANIFEST: u64 = 1 << 20;
const MAX_CONFIG: u64 = 1 << 20;
/// The largest layer read, and the most its rule files may hold decompressed.
const MAX_LAYER: u64 = 32 << 20;
const MAX_RULES: u64 = 64 << 20;

/// The pointer of one source: which rules are stored for it and where they come from.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Origin {
    pub source: String,
    /// The reference pulled (`ghcr.io/falcosecurity/rules/falco-rules:5`).
    pub reference: String,
    /// The manifest's digest.
    pub digest: String,
    /// The artifact's `name` and `version`, from its config.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    /// When it was pulled (RFC 3339, UTC).
    pub fetched: String,
    /// The directory of the rule files, under the store.
    pub dir: String,
    /// The rule files, in load order.
    pub files: Vec<String>,
}

/// The store's directory: `--rules-dir`, else `$XDG_CACHE_HOME/moat/rules` (or
/// `~/.cache/moat/rules`).
pub fn store_dir(a: &WatchArgs, env: &Env) -> PathBuf {
    a.rules_dir
        .clone()
        .unwrap_or_else(|| env.default_rules_dir())
}

/// The rules of `source` stored in `dir`, and what they are; `None` when none are.
pub fn stored(dir: &Path, source: &str) -> anyhow::Result<Option<(Origin, Vec<PathBuf>)>> {
    let pointer = dir.join(format!("{source}.json"));
    let text = match std::fs::read_to_string(&pointer) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", pointer.display())),
    };
    let origin: Origin = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a rule store pointer; run `moat watch --update-rules` again",
            pointer.display()
        )
    })?;
    if !is_store_name(&origin.dir) || origin.files.iter().any(|f| !is_file_name(f)) {
        bail!(
            "{}: names outside the store; run `moat watch --update-rules` again",
            pointer.display()
        );
    }
    let files: Vec<PathBuf> = origin
        .files
        .iter()
        .map(|f| dir.join(&origin.dir).join(f))
        .collect();
    if let Some(missing) = files.iter().find(|f| !f.is_file()) {
        bail!(
            "{} is missing; run `moat watch --update-rules` again",
            missing.display()
        );
    }
    Ok(Some((origin, files)))
}

/// A directory name the store writes (`sha256-<hex>`).
fn is_store_name(s: &str) -> bool {
    s.strip_prefix("sha256-")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A plain file name (no directory part, not `.`/`..`, not hidden).
fn is_file_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && !s.contains(['/', '\\', '\0'])
        && Path::new(s).file_name().is_some_and(|n| n == s)
}

/// The rule files `moat watch` loads without `--rules` for `source` (`syscall` or
/// `k8s_audit`): the stored copy (what it is goes to stderr), else Falco's installed file
/// under /etc/falco. `Ok(None)`: nothing to load (the message is printed; exit 2).
pub fn default_rules(
    a: &WatchArgs,
    env: &Env,
    source: &str,
) -> anyhow::Result<Option<Vec<PathBuf>>> {
    let dir = store_dir(a, env);
    if let Some((o, files)) = stored(&dir, source)? {
        let age = age(&o.fetched, env.now());
        eprintln!(
            "moat: {source} rules: {}@{}{} from {}, fetched {}{age} (moat watch --update-rules refreshes them)",
            escape(&o.reference),
            escape(&o.digest),
            if o.name.is_empty() {
                String::new()
            } else {
                format!(" ({} {})", escape(&o.name), escape(&o.version))
            },
            escape(&dir.join(&o.dir).display().to_string()),
            escape(&o.fetched),
        );
        return Ok(Some(files));
    }
    if let Some((_, p)) = ETC_FALCO.iter().find(|(s, _)| *s == source) {
        let p = Path::new(p);
        if p.is_file() {
            eprintln!(
                "moat: {source} rules: {} (Falco's installed copy; none in moat's store {})",
                p.display(),
                escape(&dir.display().to_string())
            );
            return Ok(Some(vec![p.to_path_buf()]));
        }
    }
    eprintln!(
        "moat: error: no Falco rules for the {source} source: run `moat watch --update-rules` to fetch them into {} (from {}), or give --rules FILE",
        escape(&dir.display().to_string()),
        DEFAULT_REFS
            .iter()
            .find(|r| (source == "k8s_audit") == r.contains("k8saudit"))
            .unwrap_or(&DEFAULT_REFS[0])
    );
    Ok(None)
}

/// ` (3 days ago)`, from an RFC 3339 time.
fn age(fetched: &str, now: jiff::Timestamp) -> String {
    let Ok(t) = fetched.parse::<jiff::Timestamp>() else {
        return String::new();
    };
    let secs = now.as_second() - t.as_second();
    if secs < 0 {
        return String::new();
    }
    let (n, unit) = match secs {
        0..120 => (secs, "second"),
        120..7200 => (secs / 60, "minute"),
        7200..172_800 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!(" ({n} {unit}{} ago)", if n == 1 { "" } else { "s" })
}

/// A pulled artifact: its rule files, checked.
struct Pulled {
    digest: Digest,
    name: String,
    version: String,
    files: Vec<(String, Vec<u8>)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    media_type: Option<String>,
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    digest: String,
    size: u64,
}

#[derive(Deserialize, Default)]
struct ArtifactConfig {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
}

/// `moat watch --update-rules`: pulls each reference (`--rules-ref`, else
/// [`DEFAULT_REFS`]) and stores it for its source.
pub fn update(a: &WatchArgs, env: &Env) -> anyhow::Result<()> {
    let refs: Vec<String> = if a.rules_ref.is_empty() {
        DEFAULT_REFS.iter().map(|s| s.to_string()).collect()
    } else {
        a.rules_ref.clone()
    };
    let ro = a.access.options(env)?;
    let dir = store_dir(a, env);
    for text in &refs {
        let reference = Reference::parse(text).with_context(|| format!("--rules-ref {text}"))?;
        let pulled = pull(&reference, &ro).with_context(|| format!("pulling {reference}"))?;
        let source = check(&pulled).with_context(|| format!("{reference}@{}", pulled.digest))?;
        let origin = install(&dir, &reference, source, &pulled, env)
            .with_context(|| format!("storing {reference} in {}", dir.display()))?;
        eprintln!(
            "moat: stored {}@{} ({} {}: {}) as the {source} rules in {}",
            escape(&origin.reference),
            origin.digest,
            escape(&origin.name),
            escape(&origin.version),
            escape(&origin.files.join(", ")),
            escape(&dir.join(&origin.dir).display().to_string())
        );
    }
    Ok(())
}

/// The manifest, config and layer of a rulesfile artifact, each checked against its digest;
/// the layer's YAML files.
fn pull(reference: &Reference, ro: &moat_image::RegistryOptions) -> anyhow::Result<Pulled> {
    let client = moat_image::connect_registry(reference, ro)?;
    let repo = &reference.repository;
    let fetched = client.get_manifest(repo, &reference.manifest_ref(), MAX_MANIFEST)?;
    if moat_registry::is_index_type(&fetched.media_type) {
        bail!(
            "it is an image index ({}), not a Falco rulesfile artifact",
            fetched.media_type
        );
    }
    let m: Manifest = serde_json::from_slice(&fetched.bytes)
        .context("its manifest is not an OCI image manifest")?;
    if let Some(t) = &m.media_type
        && t != "application/vnd.oci.image.manifest.v1+json"
    {
        bail!("its manifest is of type {t}, not an OCI image manifest");
    }
    if m.config.media_type != CONFIG_TYPE {
        bail!(
            "not a Falco rulesfile artifact: its config is of type {:?}, not {CONFIG_TYPE:?}",
            m.config.media_type
        );
    }
    let layer = match m
        .layers
        .iter()
        .filter(|l| l.media_type == LAYER_TYPE)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [l] => *l,
        found => bail!(
            "a Falco rulesfile artifact has one layer of type {LAYER_TYPE:?}; this one has {}",
            found.len()
        ),
    };
    let digest_of = |d: &Descriptor| {
        Digest::parse(&d.digest).map_err(|e| anyhow::anyhow!("digest {:?}: {e}", d.digest))
    };
    let config_digest = digest_of(&m.config)?;
    let config = client.get_blob(repo, &config_digest, MAX_CONFIG)?;
    let config: ArtifactConfig = serde_json::from_slice(&config).unwrap_or_default();
    if layer.size > MAX_LAYER {
        bail!(
            "its layer is {} bytes; moat reads rule layers of at most {MAX_LAYER}",
            layer.size
        );
    }
    let mut blob = Vec::new();
    client.get_blob_to(
        repo,
        &digest_of(layer)?,
        Some(layer.size),
        MAX_LAYER,
        &mut blob,
    )?;
    let files = unpack(&blob)?;
    Ok(Pulled {
        digest: fetched.digest,
        name: config.name,
        version: config.version,
        files,
    })
}

/// The YAML files of a rulesfile layer (a tar.gz), by their file names, in name order.
fn unpack(blob: &[u8]) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let gz = flate2::read::GzDecoder::new(blob);
    let mut tar = tar::Archive::new(gz.take(MAX_RULES + 1));
    let mut files = Vec::new();
    let mut total = 0u64;
    for entry in tar.entries().context("its layer is not a tar.gz")? {
        let mut entry = entry.context("its layer is not a tar.gz")?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .context("a file name in its layer")?
            .into_owned();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if !is_file_name(&name) || !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(MAX_RULES + 1 - total)
            .read_to_end(&mut bytes)
            .context("its layer does not decompress")?;
        total += bytes.len() as u64;
        if total > MAX_RULES {
            bail!("its rule files hold more than {MAX_RULES} bytes");
        }
        if files.iter().any(|(n, _)| *n == name) {
            bail!("its layer holds two files named {name}");
        }
        files.push((name, bytes));
    }
    if files.is_empty() {
        bail!("its layer holds no .yaml rule file");
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// The source the pulled rules are for (the one most of their rules name), after checking
/// they load and compile for it as `moat watch` would.
fn check(p: &Pulled) -> anyhow::Result<&'static str> {
    let mut rs = RuleSet::default();
    for (name, bytes) in &p.files {
        rs.load_bytes(name, bytes);
    }
    let count = |s: &str| rs.rules.iter().filter(|r| r.source == s).count();
    let Some(source) = SOURCES
        .iter()
        .copied()
        .filter(|s| count(s) > 0)
        .max_by_key(|s| count(s))
    else {
        bail!(
            "its rule files hold no rule for a source moat watches ({})",
            SOURCES.join(", ")
        );
    };
    let others: Vec<&str> = SOURCES.iter().copied().filter(|s| *s != source).collect();
    let diagnostics = if source == "k8s_audit" {
        compile(&rs, K8sAudit, &others).diagnostics
    } else {
        let state = moat_scap::State::new(&moat_scap::Metadata::default());
        compile(&rs, state, &others).diagnostics
    };
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.code.is_error())
        .take(3)
        .map(|d| d.to_string())
        .collect();
    if !errors.is_empty() {
        bail!(
            "its rules do not load in this moat, the stored rules are kept: {}",
            errors.join("; ")
        );
    }
    Ok(source)
}

/// Writes the files under `sha256-<hex>/` and points `<source>.json` at them (both by
/// rename), then removes directories no pointer names.
fn install(
    dir: &Path,
    reference: &Reference,
    source: &str,
    p: &Pulled,
    env: &Env,
) -> anyhow::Result<Origin> {
    std::fs::create_dir_all(dir)?;
    let name = format!("sha256-{}", p.digest.hex());
    let target = dir.join(&name);
    let same = p
        .files
        .iter()
        .all(|(f, b)| std::fs::read(target.join(f)).is_ok_and(|have| have == *b));
    if !same {
        let tmp = tempfile::Builder::new().prefix(".pull-").tempdir_in(dir)?;
        for (f, b) in &p.files {
            std::fs::write(tmp.path().join(f), b)?;
        }
        if target.exists() {
            std::fs::remove_dir_all(&target)?;
        }
        std::fs::rename(tmp.path(), &target)?;
        // The directory is renamed: nothing is left to delete.
        let _ = tmp.keep();
    }
    let origin = Origin {
        source: source.to_string(),
        reference: reference.to_string(),
        digest: p.digest.to_string(),
        name: p.name.clone(),
        version: p.version.clone(),
        fetched: crate::settings::timestamp(env.now()),
        dir: name,
        files: p.files.iter().map(|(f, _)| f.clone()).collect(),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".pointer-")
        .tempfile_in(dir)?;
    serde_json::to_writer_pretty(&mut tmp, &origin)?;
    tmp.as_file().sync_all()?;
    tmp.persist(dir.join(format!("{source}.json")))?;
    // Directories of earlier pulls no pointer names any more.
    let mut keep = Vec::new();
    for s in SOURCES {
        if let Ok(Some((o, _))) = stored(dir, s) {
            keep.push(o.dir);
        }
    }
    for e in std::fs::read_dir(dir)?.flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        if is_store_name(&n) && !keep.contains(&n) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    Ok(origin)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_the_store_accepts() {
        assert!(is_file_name("falco_rules.yaml"));
        for bad in ["", "..", ".", "a/b.yaml", ".hidden.yaml", "a\\b"] {
            assert!(!is_file_name(bad), "{bad}");
        }
        assert!(is_store_name(&format!("sha256-{}", "ab".repeat(32))));
        assert!(!is_store_name("sha256-../../etc"));
    }

    #[test]
    fn ages() {
        let now: jiff::Timestamp = "2026-01-10T00:00:00Z".parse().unwrap();
        assert_eq!(age("2026-01-10T00:00:00Z", now), " (0 seconds ago)");
        assert_eq!(age("2026-01-09T23:00:00Z", now), " (60 minutes ago)");
        assert_eq!(age("2026-01-07T00:00:00Z", now), " (3 days ago)");
        assert_eq!(age("garbage", now), "");
    }
}
