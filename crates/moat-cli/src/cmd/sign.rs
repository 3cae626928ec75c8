//! `moat key generate`, `sign-blob`, `verify-blob`, `sign`, `verify`, `attest`,
//! `verify-attestation`: cosign-compatible, key-based, offline ([`moat_sign`]). Exit codes of
//! the verifying commands: 0 verified, 1 not verified (the reason on stderr), 2 usage or input
//! error.

use crate::output::{escape, write_out};
use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use moat_sign::image::{self, PredicateKind};
use moat_sign::store::OciLayout;
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
    /// The image: oci:DIR (an OCI layout; oci:DIR:NAME or oci:DIR@sha256:... picks one of
    /// several).
    target: String,
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// An annotation of the signature (the payload's `optional`), k=v; repeatable.
    #[arg(short = 'a', long = "annotation", value_name = "K=V")]
    annotations: Vec<String>,
    /// The image's name in the payload (critical.identity.docker-reference); default: the
    /// layout directory's name.
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
    /// The image: oci:DIR (oci:DIR:NAME, oci:DIR@sha256:...).
    target: String,
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
    /// The image: oci:DIR (oci:DIR:NAME, oci:DIR@sha256:...).
    target: String,
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// The predicate: a JSON document (cyclonedx, spdx, vuln) or any text (custom).
    #[arg(long, value_name = "FILE")]
    predicate: PathBuf,
    #[arg(long = "type", value_enum, default_value_t = PredicateType::Custom)]
    kind: PredicateType,
    /// The subject's name in the statement; default: the layout directory's name.
    #[arg(long, value_name = "NAME")]
    reference: Option<String>,
}

#[derive(Args)]
pub struct VerifyAttestationArgs {
    /// The image: oci:DIR (oci:DIR:NAME, oci:DIR@sha256:...).
    target: String,
    #[arg(long, value_name = "PUB")]
    key: PathBuf,
    /// Only attestations of this predicate type count.
    #[arg(long = "type", value_enum)]
    kind: Option<PredicateType>,
    #[arg(long, short = 'f', value_enum, default_value_t = VerifyFormat::Text)]
    format: VerifyFormat,
}

fn read_bounded(path: &Path, max: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let f =
        std::fs::File::open(path).with_context(|| format!("reading {what} {}", path.display()))?;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    if buf.len() as u64 > max {
        bail!("{what} {}: larger than {max} bytes", path.display());
    }
    Ok(buf)
}

/// The password: $MOAT_PASSWORD, else asked on the terminal (twice when `confirm`).
fn password(confirm: bool) -> Result<Vec<u8>, SignError> {
    if let Some(p) = std::env::var_os("MOAT_PASSWORD") {
        return Ok(p.into_encoded_bytes());
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt).map_err(|e| {
            SignError::Password(format!("cannot ask on a terminal ({e}); set MOAT_PASSWORD"))
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

fn public_key(path: &Path) -> anyhow::Result<PublicKey> {
    let text = read_bounded(path, MAX_KEY_FILE, "public key")?;
    Ok(PublicKey::from_pem(&text, &path.display().to_string())?)
}

/// `oci:DIR`, `oci:DIR:NAME` or `oci:DIR@sha256:HEX` -> (layout, selector).
fn layout(target: &str) -> anyhow::Result<(OciLayout, Option<String>)> {
    let Some(rest) = target.strip_prefix("oci:") else {
        bail!(
            "{target}: signing and verification read OCI layouts for now (oci:DIR); registries come with the registry client"
        );
    };
    let (dir, sel) = if Path::new(rest).is_dir() {
        (rest, None)
    } else if let Some((d, digest)) = rest.rsplit_once('@') {
        (d, Some(digest.to_string()))
    } else if let Some((d, name)) = rest.rsplit_once(':') {
        (d, Some(name.to_string()))
    } else {
        (rest, None)
    };
    Ok((OciLayout::open(Path::new(dir))?, sel))
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

pub fn sign(a: SignArgs) -> anyhow::Result<ExitCode> {
    let annotations = parse_annotations(&a.annotations)?;
    let (mut store, sel) = layout(&a.target)?;
    let img = store.resolve_image(sel.as_deref())?;
    let k = signing_key(&a.key)?;
    let reference = a.reference.unwrap_or_else(|| default_reference(&store));
    let s = image::sign_image(&mut store, &k, &img.digest, &reference, &annotations)?;
    eprintln!(
        "Signed {} ({}) with key {}; stored as {}",
        escape(&a.target),
        img.digest,
        k.public_key().fingerprint(),
        s.tag
    );
    Ok(ExitCode::SUCCESS)
}

pub fn verify(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let k = public_key(&a.key)?;
    let (store, sel) = layout(&a.target)?;
    let img = store.resolve_image(sel.as_deref())?;
    let v = match image::verify_image(&store, &k, &img.digest) {
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

pub fn attest(a: AttestArgs) -> anyhow::Result<ExitCode> {
    let (mut store, sel) = layout(&a.target)?;
    let img = store.resolve_image(sel.as_deref())?;
    let predicate = read_bounded(&a.predicate, image::MAX_PAYLOAD / 2, "predicate")?;
    let k = signing_key(&a.key)?;
    let reference = a.reference.unwrap_or_else(|| default_reference(&store));
    let now = jiff::Timestamp::now().to_string();
    let s = image::attest_image(
        &mut store,
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
    eprintln!(
        "Attested {} ({}) with key {}; stored as {}",
        escape(&a.target),
        img.digest,
        k.public_key().fingerprint(),
        s.tag
    );
    Ok(ExitCode::SUCCESS)
}

pub fn verify_attestation(a: VerifyAttestationArgs) -> anyhow::Result<ExitCode> {
    let k = public_key(&a.key)?;
    let (store, sel) = layout(&a.target)?;
    let img = store.resolve_image(sel.as_deref())?;
    let v = match image::verify_attestations(
        &store,
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
