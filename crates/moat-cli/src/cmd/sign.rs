//! `moat key generate`, `sign-blob`, `verify-blob`, `sign`, `verify`, `attest`,
//! `verify-attestation` (OCI layouts and registries), and the signature checks and attestation
//! of `moat scan` ([`scan_gate`]): cosign-compatible, key-based ([`moat_sign`]). Exit codes of
//! the verifying commands: 0 verified, 1 not verified (the reason on stderr), 2 usage or input
//! error.

use crate::output::{escape, write_out};
use crate::settings::{Env, RegistryAccessArgs};
use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use moat_sign::image::{self, PredicateKind};
use moat_sign::registry::RegistryStore;
use moat_sign::store::{ArtifactStore, ImageRef, OciLayout};
use moat_sign::{PublicKey, SignError, SigningKey};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Key, signature and public-key files are small: read at most this much of them.
const MAX_KEY_FILE: u64 = 1 << 20;
/// The largest blob `sign-blob` / `verify-blob` read (they sign the whole content).
const MAX_BLOB: u64 = 1 << 30;

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Write a new ECDSA P-256 key pair: PREFIX.key (encrypted as cosign does) and PREFIX.pub.
    /// The password comes from $MOAT_PASSWORD, else from a prompt (asked twice).
    Generate(GenerateArgs),
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(long, default_value = "moat", value_name = "PREFIX")]
    output_key_prefix: String,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct SignBlobArgs {
    /// The private key (cosign's encrypted format, or PKCS#8 / EC / RSA PEM).
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// Write the base64 signature to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    output_signature: Option<PathBuf>,
    file: PathBuf,
}

#[derive(Args)]
pub struct VerifyBlobArgs {
    /// The public key (PEM PUBLIC KEY).
    #[arg(long, value_name = "PUB")]
    key: PathBuf,
    /// The file holding the base64 signature, as cosign writes it.
    #[arg(long, value_name = "SIG")]
    signature: PathBuf,
    file: PathBuf,
}

#[derive(Args)]
pub struct SignArgs {
    /// The image: REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:..., registry:REF, or oci:DIR (an OCI
    /// layout; oci:DIR:NAME or oci:DIR@sha256:... picks one of several).
    target: String,
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    #[command(flatten)]
    registry: RegistryAccessArgs,
    /// An annotation of the signature (the payload's `optional`), k=v; repeatable.
    #[arg(short = 'a', long = "annotation", value_name = "K=V")]
    annotations: Vec<String>,
    /// The image's name in the payload (critical.identity.docker-reference); default:
    /// REGISTRY/REPO, or the layout directory's name.
    #[arg(long, value_name = "NAME")]
    reference: Option<String>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum VerifyFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The image: REGISTRY/REPO:TAG, ...@sha256:..., registry:REF, oci:DIR (oci:DIR:NAME,
    /// oci:DIR@sha256:...).
    target: String,
    #[command(flatten)]
    registry: RegistryAccessArgs,
    /// The public key (PEM PUBLIC KEY).
    #[arg(long, value_name = "PUB")]
    key: PathBuf,
    #[arg(long, short = 'f', value_enum, default_value_t = VerifyFormat::Text)]
    format: VerifyFormat,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PredicateType {
    Cyclonedx,
    Spdx,
    Vuln,
    Custom,
}

impl PredicateType {
    fn kind(self) -> PredicateKind {
        match self {
            PredicateType::Cyclonedx => PredicateKind::Cyclonedx,
            PredicateType::Spdx => PredicateKind::Spdx,
            PredicateType::Vuln => PredicateKind::Vuln,
            PredicateType::Custom => PredicateKind::Custom,
        }
    }
}

#[derive(Args)]
pub struct AttestArgs {
    /// The image: REGISTRY/REPO:TAG, ...@sha256:..., registry:REF, oci:DIR (oci:DIR:NAME,
    /// oci:DIR@sha256:...).
    target: String,
    #[command(flatten)]
    registry: RegistryAccessArgs,
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// The predicate: a JSON document (cyclonedx, spdx, vuln) or any text (custom).
    #[arg(long, value_name = "FILE")]
    predicate: PathBuf,
    #[arg(long = "type", value_enum, default_value_t = PredicateType::Custom)]
    kind: PredicateType,
    /// The subject's name in the statement; default: REGISTRY/REPO, or the layout
    /// directory's name.
    #[arg(long, value_name = "NAME")]
    reference: Option<String>,
}

#[derive(Args)]
pub struct VerifyAttestationArgs {
    /// The image: REGISTRY/REPO:TAG, ...@sha256:..., registry:REF, oci:DIR (oci:DIR:NAME,
    /// oci:DIR@sha256:...).
    target: String,
    #[command(flatten)]
    registry: RegistryAccessArgs,
    #[arg(long, value_name = "PUB")]
    key: PathBuf,
    /// Only attestations of this predicate type count.
    #[arg(long = "type", value_enum)]
    kind: Option<PredicateType>,
    #[arg(long, short = 'f', value_enum, default_value_t = VerifyFormat::Text)]
    format: VerifyFormat,
}

/// A key, signature, predicate or file to sign, read whole up to `max` bytes.
fn read_bounded(path: &Path, max: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    moat_sign::store::read_bounded(path, max).with_context(|| format!("reading {what}"))
}

/// The password: $MOAT_PASSWORD, else $COSIGN_PASSWORD (as cosign reads it), else asked on
/// the terminal (twice when `confirm`).
fn password(confirm: bool) -> Result<Vec<u8>, SignError> {
    for var in ["MOAT_PASSWORD", "COSIGN_PASSWORD"] {
        if let Some(p) = std::env::var_os(var) {
            return Ok(p.into_encoded_bytes());
        }
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt).map_err(|e| {
            SignError::Password(format!(
                "cannot ask on a terminal ({e}); set MOAT_PASSWORD (or COSIGN_PASSWORD)"
            ))
        })
    };
    let first = ask("Enter password for private key: ")?;
    if confirm {
        let again = ask("Enter password for private key again: ")?;
        if again != first {
            return Err(SignError::Password("the two passwords differ".into()));
        }
    }
    Ok(first.into_bytes())
}

fn signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = read_bounded(path, MAX_KEY_FILE, "key")?;
    Ok(SigningKey::from_pem(
        &text,
        &path.display().to_string(),
        &mut || password(false),
    )?)
}

pub(crate) fn public_key(path: &Path) -> anyhow::Result<PublicKey> {
    let text = read_bounded(path, MAX_KEY_FILE, "public key")?;
    Ok(PublicKey::from_pem(&text, &path.display().to_string())?)
}

/// Where an image's signatures are.
pub enum Store {
    Layout(OciLayout),
    Registry(Box<RegistryStore>),
}

/// An image to sign or verify: where its artifacts go, the digest signed, the default
/// identity of payloads.
pub struct Opened {
    pub store: Store,
    pub image: ImageRef,
    pub reference: String,
}

impl Opened {
    pub fn store(&self) -> &dyn ArtifactStore {
        match &self.store {
            Store::Layout(l) => l,
            Store::Registry(r) => r.as_ref(),
        }
    }

    pub fn store_mut(&mut self) -> &mut dyn ArtifactStore {
        match &mut self.store {
            Store::Layout(l) => l,
            Store::Registry(r) => r.as_mut(),
        }
    }
}

/// `oci:DIR`, `oci:DIR:NAME`, `oci:DIR@sha256:HEX`, or an image reference (`registry:REF`,
/// `REGISTRY/REPO:TAG`, `...@sha256:HEX`) -> the store and the image's digest.
pub fn open_target(target: &str, access: &RegistryAccessArgs, env: &Env) -> anyhow::Result<Opened> {
    if let Some(rest) = target.strip_prefix("oci:") {
        let (dir, sel) = if Path::new(rest).is_dir() {
            (rest, None)
        } else if let Some((d, digest)) = rest.rsplit_once('@') {
            (d, Some(digest))
        } else if let Some((d, name)) = rest.rsplit_once(':') {
            (d, Some(name))
        } else {
            (rest, None)
        };
        let store = OciLayout::open(Path::new(dir))?;
        let image = store
            .resolve_image(sel)
            .context("name the image as oci:DIR:NAME or oci:DIR@sha256:...")?;
        let reference = default_reference(&store);
        return Ok(Opened {
            store: Store::Layout(store),
            image,
            reference,
        });
    }
    let text = target.strip_prefix("registry:").unwrap_or(target);
    if Path::new(text).exists() {
        bail!(
            "{}: a path, not an image: sign and verify take REGISTRY/REPO:TAG, registry:REF or oci:DIR",
            escape(target)
        );
    }
    let r = moat_registry::Reference::parse(text)?;
    let opts = access.options(env)?;
    let client = moat_image::connect_registry(&r, &opts)?;
    let store = registry_store(client, r, &opts)?;
    let image = store.resolve_image()?;
    let reference = store.repository_name();
    Ok(Opened {
        store: Store::Registry(Box::new(store)),
        image,
        reference,
    })
}

/// The image's repository as a signature store; its signatures and attestations are kept in
/// `$COSIGN_REPOSITORY` instead when that is set, as cosign does (a repository of the same
/// or another registry, reached with the same credentials and TLS settings).
pub fn registry_store(
    client: moat_registry::Client,
    r: moat_registry::Reference,
    opts: &moat_image::RegistryOptions,
) -> anyhow::Result<RegistryStore> {
    let store = RegistryStore::new(client, r);
    let Some(repo) = std::env::var("COSIGN_REPOSITORY")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(store);
    };
    let what = || format!("COSIGN_REPOSITORY={}", escape(&repo));
    let a = moat_registry::Reference::parse(repo.trim()).with_context(what)?;
    if a.digest.is_some()
        || repo
            .trim()
            .rsplit('/')
            .next()
            .is_some_and(|l| l.contains(':'))
    {
        bail!("{}: a repository, without a tag or digest", what());
    }
    let client = moat_image::connect_registry(&a, opts).with_context(what)?;
    Ok(store.with_artifacts_in(client, a))
}

fn default_reference(store: &OciLayout) -> String {
    let root = store.root();
    let abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    abs.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".to_string())
}

fn not_verified(reason: &str) -> ExitCode {
    eprintln!("moat: not verified: {}", escape(reason));
    ExitCode::from(1)
}

pub fn key(cmd: KeyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeyCommand::Generate(a) => {
            let key_path = PathBuf::from(format!("{}.key", a.output_key_prefix));
            let pub_path = PathBuf::from(format!("{}.pub", a.output_key_prefix));
            if !a.force {
                for p in [&key_path, &pub_path] {
                    if p.exists() {
                        bail!("{} exists; pass --force to replace it", p.display());
                    }
                }
            }
            let pw = password(true)?;
            let (k, pkcs8) = SigningKey::generate_ecdsa_p256()?;
            let pem = moat_sign::encrypted::encrypt(&pkcs8, &pw)?;
            write_private(&key_path, pem.as_bytes())?;
            std::fs::write(&pub_path, k.public_key().to_pem())
                .with_context(|| format!("writing {}", pub_path.display()))?;
            eprintln!("Private key written to {}", key_path.display());
            eprintln!("Public key written to {}", pub_path.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(data)
        .with_context(|| format!("writing {}", path.display()))
}

pub fn sign_blob(a: SignBlobArgs) -> anyhow::Result<ExitCode> {
    let k = signing_key(&a.key)?;
    let data = read_bounded(&a.file, MAX_BLOB, "file")?;
    let sig = moat_sign::sign_blob(&k, &data)?;
    match &a.output_signature {
        Some(p) => {
            std::fs::write(p, sig.as_bytes())
                .with_context(|| format!("writing {}", p.display()))?;
            eprintln!("Wrote signature to {}", p.display());
        }
        None => write_out(None, format!("{sig}\n").as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn verify_blob(a: VerifyBlobArgs) -> anyhow::Result<ExitCode> {
    let k = public_key(&a.key)?;
    let sig = read_bounded(&a.signature, MAX_KEY_FILE, "signature")?;
    let sig = String::from_utf8(sig)
        .map_err(|_| anyhow::anyhow!("signature {}: not base64 text", a.signature.display()))?;
    let data = read_bounded(&a.file, MAX_BLOB, "file")?;
    match moat_sign::verify_blob(
        &k,
        &data,
        &sig,
        &format!("signature {}", a.signature.display()),
    ) {
        Ok(()) => {
            eprintln!("Verified OK");
            Ok(ExitCode::SUCCESS)
        }
        Err(SignError::NotVerified(reason)) => Ok(not_verified(&reason)),
        Err(e) => Err(e.into()),
    }
}

fn parse_annotations(list: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for a in list {
        let Some((k, v)) = a.split_once('=') else {
            bail!("annotation {a:?}: expected KEY=VALUE");
        };
        if k.is_empty() {
            bail!("annotation {a:?}: empty key");
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// `Signed|Attested TARGET ([the index ]DIGEST) with key FINGERPRINT; stored as WHERE:TAG`.
fn say_stored(verb: &str, target: &str, t: &Opened, k: &SigningKey, tag: &str) {
    eprintln!(
        "{verb} {} ({}{}) with key {}; stored as {}:{}",
        escape(target),
        if moat_registry::is_index_type(&t.image.media_type) {
            "the index "
        } else {
            ""
        },
        t.image.digest,
        k.public_key().fingerprint(),
        escape(&t.store().location()),
        tag
    );
}

pub fn sign(a: SignArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let annotations = parse_annotations(&a.annotations)?;
    let k = signing_key(&a.key)?;
    let mut t = open_target(&a.target, &a.registry, env)?;
    let img = t.image.clone();
    let reference = a.reference.unwrap_or_else(|| t.reference.clone());
    let s = image::sign_image(t.store_mut(), &k, &img.digest, &reference, &annotations)?;
    say_stored("Signed", &a.target, &t, &k, &s.tag);
    Ok(ExitCode::SUCCESS)
}

pub fn verify(a: VerifyArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let k = public_key(&a.key)?;
    let t = open_target(&a.target, &a.registry, env)?;
    let img = &t.image;
    let v = match image::verify_image(t.store(), &k, &img.digest) {
        Ok(v) => v,
        Err(SignError::NotVerified(reason)) => return Ok(not_verified(&reason)),
        Err(e) => return Err(e.into()),
    };
    match a.format {
        VerifyFormat::Json => {
            let mut out = serde_json::to_vec_pretty(&v)?;
            out.push(b'\n');
            write_out(None, &out)?;
        }
        VerifyFormat::Text => {
            let mut out = String::new();
            for s in &v.signatures {
                if s.verified {
                    let ann = match &s.annotations {
                        Some(m) if !m.is_empty() => {
                            format!(" annotations {}", serde_json::to_string(m)?)
                        }
                        _ => String::new(),
                    };
                    out.push_str(&format!(
                        "signature {}: verified: {} signed {} as {:?}{ann}\n",
                        s.layer,
                        v.key,
                        v.digest,
                        s.identity.as_deref().unwrap_or_default()
                    ));
                } else {
                    out.push_str(&format!(
                        "signature {}: not verified: {}\n",
                        s.layer,
                        s.reason.as_deref().unwrap_or_default()
                    ));
                }
            }
            write_out(None, escape(&out).as_bytes())?;
        }
    }
    if v.verified {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(not_verified(&format!(
            "none of the {} signature(s) of {} verifies with key {}",
            v.signatures.len(),
            v.digest,
            v.key
        )))
    }
}

pub fn attest(a: AttestArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let predicate = read_bounded(&a.predicate, image::MAX_PAYLOAD / 2, "predicate")?;
    let k = signing_key(&a.key)?;
    let mut t = open_target(&a.target, &a.registry, env)?;
    let img = t.image.clone();
    let reference = a.reference.unwrap_or_else(|| t.reference.clone());
    let now = jiff::Timestamp::now().to_string();
    let s = image::attest_image(
        t.store_mut(),
        &k,
        &img.digest,
        &reference,
        a.kind.kind(),
        &predicate,
        &now,
    )
    .map_err(|e| match e {
        SignError::Invalid { what, reason } if what == "predicate" => {
            anyhow::anyhow!("predicate {}: {reason}", a.predicate.display())
        }
        e => e.into(),
    })?;
    say_stored("Attested", &a.target, &t, &k, &s.tag);
    Ok(ExitCode::SUCCESS)
}

pub fn verify_attestation(a: VerifyAttestationArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let k = public_key(&a.key)?;
    let t = open_target(&a.target, &a.registry, env)?;
    let img = &t.image;
    let v = match image::verify_attestations(
        t.store(),
        &k,
        &img.digest,
        a.kind.map(PredicateType::kind),
    ) {
        Ok(v) => v,
        Err(SignError::NotVerified(reason)) => return Ok(not_verified(&reason)),
        Err(e) => return Err(e.into()),
    };
    match a.format {
        VerifyFormat::Json => {
            let mut out = serde_json::to_vec_pretty(&v)?;
            out.push(b'\n');
            write_out(None, &out)?;
        }
        VerifyFormat::Text => {
            let mut out = Vec::new();
            for at in &v.attestations {
                match (&at.predicate, &at.reason) {
                    (Some(p), _) => {
                        eprintln!(
                            "attestation {}: verified: {} attests {} ({})",
                            at.layer,
                            v.key,
                            v.digest,
                            at.predicate_type.as_deref().unwrap_or_default()
                        );
                        out.extend(serde_json::to_vec_pretty(p)?);
                        out.push(b'\n');
                    }
                    (None, reason) => eprintln!(
                        "attestation {}: not verified: {}",
                        at.layer,
                        escape(reason.as_deref().unwrap_or_default())
                    ),
                }
            }
            write_out(None, &out)?;
        }
    }
    if v.verified {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(not_verified(&format!(
            "none of the {} attestation(s) of {} verifies with key {}",
            v.attestations.len(),
            v.digest,
            v.key
        )))
    }
}

/// `moat scan --require-signature [--key PUB ...] [--trust-policy FILE]` and
/// `moat scan --attest --key KEY`.
#[derive(Args)]
pub struct TrustArgs {
    /// Scan an image only when it carries a signature of its digest by an allowed key
    /// (--key PUB, the trust policy's signers) and comes from a trusted registry; else exit
    /// 1, before the scan. Registry images and oci: layouts.
    #[arg(long)]
    pub require_signature: bool,
    /// Attach the scan's CycloneDX report to the image as a signed attestation (cosign's
    /// `attest --type cyclonedx`), signed with the private key of --key.
    #[arg(long)]
    pub attest: bool,
    /// A public key whose signatures --require-signature accepts (repeatable), or the
    /// private key --attest signs with.
    #[arg(long = "key", value_name = "PUB|KEY")]
    pub keys: Vec<PathBuf>,
    /// Trusted registries and signers, a TOML file (see README; with --require-signature).
    #[arg(long, value_name = "FILE", requires = "require_signature")]
    pub trust_policy: Option<PathBuf>,
}

/// The verdict of `--require-signature`, as `--format json` reports it (`signature`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignatureStatus {
    pub verified: bool,
    /// The signed digest (an index's own digest for an index).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The key file whose signature verified, and its fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The payload's `critical.identity.docker-reference`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Why the image is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl SignatureStatus {
    fn refused(digest: Option<String>, location: Option<String>, reason: String) -> Self {
        SignatureStatus {
            verified: false,
            digest,
            location,
            key: None,
            fingerprint: None,
            identity: None,
            reason: Some(reason),
        }
    }
}

/// What `--require-signature` and `--attest` found and need: the verdict, the image (its
/// store and digest), the signing key.
pub struct ScanGate {
    /// `None` without --require-signature.
    pub status: Option<SignatureStatus>,
    image: Option<Opened>,
    signer: Option<SigningKey>,
}

fn is_public_pem(text: &[u8]) -> bool {
    String::from_utf8_lossy(text).contains("-----BEGIN PUBLIC KEY-----")
}

/// Reads the keys and policy of `--require-signature` / `--attest` (usage errors first, the
/// private key's password asked before any work), checks the scan's target and opens its
/// store. A registry image is then scanned by the digest that was checked (the tag cannot
/// move in between). Errors: usage and input errors (exit 2); a refusal is a status with
/// `verified: false`.
pub fn scan_gate(
    t: &TrustArgs,
    target: &mut moat_pipeline::Target,
    open: &moat_image::OpenOptions,
) -> anyhow::Result<ScanGate> {
    use moat_image::TargetSpec;
    let policy = match &t.trust_policy {
        Some(p) => {
            crate::settings::refuse_special(p, "trust policy")?;
            moat_sign::policy::TrustPolicy::read(p)?
        }
        None => moat_sign::policy::TrustPolicy::default(),
    };
    let mut public = Vec::new();
    let mut private = Vec::new();
    for p in &t.keys {
        crate::settings::refuse_special(p, "key")?;
        let text = read_bounded(p, MAX_KEY_FILE, "key")?;
        if is_public_pem(&text) {
            public.push((p.clone(), public_key(p)?));
        } else {
            private.push(p.clone());
        }
    }
    if !t.require_signature && !t.attest {
        bail!("--key applies to --require-signature (public keys) and --attest (a private key)");
    }
    if !t.require_signature && !public.is_empty() {
        bail!(
            "--key {}: a public key; --attest signs with a private key (add --require-signature to check signatures)",
            public[0].0.display()
        );
    }
    let signer = if t.attest {
        match private.as_slice() {
            [one] => Some(signing_key(one)?),
            [] => bail!("--attest needs the private key to sign with: --key KEY"),
            _ => bail!("--attest signs with one private key: several --key are private keys"),
        }
    } else {
        if let Some(p) = private.first() {
            bail!(
                "--key {}: not a public key (PEM PUBLIC KEY); --require-signature checks signatures with public keys",
                p.display()
            );
        }
        None
    };
    if t.require_signature && public.is_empty() && policy.signers.is_empty() {
        bail!("--require-signature needs a key: --key PUB, or signers in --trust-policy");
    }
    let what = if t.require_signature {
        "--require-signature"
    } else {
        "--attest"
    };
    let spec = match target {
        moat_pipeline::Target::Image(spec) => spec,
        _ => bail!("{what} applies to registry images and oci: layouts"),
    };
    let (opened, name) = match spec {
        TargetSpec::Oci(dir) => {
            let store = OciLayout::open(dir)?;
            let image = store
                .resolve_image(open.image.as_deref())
                .context("scan picks an image of a layout with --image NAME (or a digest)")?;
            let reference = default_reference(&store);
            let opened = Opened {
                store: Store::Layout(store),
                image,
                reference,
            };
            (opened, None)
        }
        TargetSpec::Registry(text) => {
            let text = text.to_string_lossy().into_owned();
            let r = moat_registry::Reference::parse(&text)?;
            let name = format!("{}/{}", r.registry, r.repository);
            if t.require_signature && !policy.registry_trusted(&name) {
                let reason = format!(
                    "{name} is not in a trusted registry (the trust policy's trusted-registries: {})",
                    policy.trusted_registries.join(", ")
                );
                return Ok(ScanGate {
                    status: Some(SignatureStatus::refused(None, Some(name), reason)),
                    image: None,
                    signer,
                });
            }
            let client = moat_image::connect_registry(&r, &open.registry)?;
            let pinned = r.digest.is_none();
            let store = registry_store(client, r, &open.registry)?;
            let image = store.resolve_image()?;
            if pinned {
                *spec = TargetSpec::Registry(PathBuf::from(format!("{text}@{}", image.digest)));
            }
            let reference = store.repository_name();
            let opened = Opened {
                store: Store::Registry(Box::new(store)),
                image,
                reference,
            };
            (opened, Some(name))
        }
        _ => bail!("{what} applies to registry images and oci: layouts"),
    };
    let status = if t.require_signature {
        let location = opened.store().location();
        let digest = opened.image.digest.clone();
        let mut keys: Vec<(&Path, &PublicKey)> =
            public.iter().map(|(p, k)| (p.as_path(), k)).collect();
        keys.extend(
            policy
                .signers_for(name.as_deref())
                .into_iter()
                .map(|s| (s.path.as_path(), &s.key)),
        );
        Some(
            match moat_sign::policy::require_signature(opened.store(), &digest, &keys) {
                Ok(a) => {
                    let good = a.verification.signatures.iter().find(|s| s.verified);
                    SignatureStatus {
                        verified: true,
                        digest: Some(digest),
                        location: Some(location),
                        key: Some(a.key_path.display().to_string()),
                        fingerprint: Some(a.verification.key.clone()),
                        identity: good.and_then(|s| s.identity.clone()),
                        reason: None,
                    }
                }
                Err(SignError::NotVerified(reason)) => {
                    SignatureStatus::refused(Some(digest), Some(location), reason)
                }
                Err(e) => return Err(e.into()),
            },
        )
    } else {
        None
    };
    Ok(ScanGate {
        status,
        image: Some(opened),
        signer,
    })
}

impl ScanGate {
    /// With --attest: attaches `bom` (the scan's CycloneDX document) to the image as a
    /// cyclonedx attestation; returns what was done, for stderr.
    pub fn attest(&mut self, bom: &[u8]) -> anyhow::Result<Option<String>> {
        let (Some(key), Some(img)) = (&self.signer, &mut self.image) else {
            return Ok(None);
        };
        let digest = img.image.digest.clone();
        let reference = img.reference.clone();
        let now = jiff::Timestamp::now().to_string();
        let s = image::attest_image(
            img.store_mut(),
            key,
            &digest,
            &reference,
            PredicateKind::Cyclonedx,
            bom,
            &now,
        )?;
        Ok(Some(format!(
            "attested {digest} (CycloneDX) with key {}; stored as {}:{}",
            key.public_key().fingerprint(),
            escape(&img.store().location()),
            s.tag
        )))
    }
}
