//! What a scan reads: an image or directory (through `moat-image`), or an SBOM file.
//!
//! `git:PATH` names a git repository (a work tree, its `.git`, or a bare repository) whose
//! history the secret scanner reads (`moat-git`); `--since REV` is kept with it.
//!
//! `sbom:PATH` names an SBOM (CycloneDX or SPDX JSON, moat's or another tool's); the five
//! image and directory prefixes are `moat-image`'s. A bare path that is a JSON file (its first
//! non-blank byte is `{`) is an SBOM too, so `moat scan sbom.cdx.json` keeps working; any other
//! bare path is detected by `moat-image`.

use moat_image::TargetSpec;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A parsed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An image or a directory.
    Image(TargetSpec),
    /// An SBOM file to read instead of scanning.
    Sbom(PathBuf),
    /// A git repository's history.
    Git(GitTarget),
}

/// `git:PATH`, and the first commit not to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitTarget {
    pub path: PathBuf,
    /// Only commits after this revision (`--since`).
    pub since: Option<String>,
}

impl Target {
    /// Parses `kind:path`, `sbom:path`, or a bare path whose kind is detected.
    pub fn parse(s: &str) -> Result<Target, moat_image::ImageError> {
        if let Some(rest) = s.strip_prefix("sbom:") {
            if rest.is_empty() {
                return Err(moat_image::ImageError::InvalidSpec {
                    spec: s.to_string(),
                    reason: "empty path".into(),
                });
            }
            return Ok(Target::Sbom(PathBuf::from(rest)));
        }
        if let Some(rest) = s.strip_prefix("git:") {
            if rest.is_empty() {
                return Err(moat_image::ImageError::InvalidSpec {
                    spec: s.to_string(),
                    reason: "empty path".into(),
                });
            }
            return Ok(Target::Git(GitTarget {
                path: PathBuf::from(rest),
                since: None,
            }));
        }
        let path = Path::new(s);
        if !has_image_prefix(s) && looks_like_json(path) {
            return Ok(Target::Sbom(path.to_path_buf()));
        }
        TargetSpec::parse(s).map(Target::Image)
    }
}

fn has_image_prefix(s: &str) -> bool {
    [
        "docker-archive:",
        "oci-archive:",
        "oci:",
        "rootfs:",
        "dir:",
        "registry:",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

/// A regular file whose first non-blank byte is `{`.
fn looks_like_json(p: &Path) -> bool {
    if !p.is_file() {
        return false;
    }
    let Ok(mut f) = std::fs::File::open(p) else {
        return false;
    };
    let mut head = [0u8; 64];
    let Ok(n) = f.read(&mut head) else {
        return false;
    };
    head[..n].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbom_prefix_and_detection() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("bom.json");
        std::fs::write(&json, "  {\"bomFormat\":\"CycloneDX\"}").unwrap();
        let s = json.display().to_string();
        assert_eq!(Target::parse(&s).unwrap(), Target::Sbom(json.clone()));
        assert_eq!(
            Target::parse(&format!("sbom:{s}")).unwrap(),
            Target::Sbom(json.clone())
        );
        // a prefixed image kind is never an SBOM, even when the file is JSON
        assert!(matches!(
            Target::parse(&format!("dir:{}", dir.path().display())).unwrap(),
            Target::Image(TargetSpec::Dir(_))
        ));
        assert!(Target::parse("sbom:").is_err());
    }
}
