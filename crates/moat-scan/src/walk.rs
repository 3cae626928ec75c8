//! One pass over a layer (a tar stream) or a directory tree, producing [`LayerFacts`].
//!
//! Every entry's path is normalised and tested against the analyzers' path patterns
//! ([`crate::analyzers::wants`]). Entries nobody wants are skipped without being read:
//! the tar reader discards their bytes, which still flow through the image reader's
//! digest, so the layer digest covers every byte. A wanted entry is read once into a
//! buffer and analysed. Symlinks, hardlinks, whiteouts and opaque directories are
//! recorded as changes for the merge.

use crate::analyzers::{self, Fact};
use crate::{ScanError, ScanOptions};
use moat_model::{Code, Diagnostic};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// A change that a layer makes to one path.
#[derive(Debug, Clone)]
pub enum Change {
    /// A wanted regular file and what the analyzers made of it.
    File(Arc<Fact>),
    /// A symbolic link with its target as written.
    Symlink(String),
    /// `.wh.<name>`: the path and everything below it is deleted from lower layers.
    Whiteout,
    /// `.wh..wh..opq`: the directory's contents from lower layers are hidden.
    Opaque,
    /// Something nobody analyses (a directory, an executable that is no binary moat reads)
    /// now stands at this path: it hides a lower layer's file or symlink there.
    Shadow,
}

/// What one layer (or directory tree) holds that matters to moat.
#[derive(Debug, Default)]
pub struct LayerFacts {
    /// Paths (relative, no leading `/`) and their changes, in archive order.
    pub changes: Vec<(String, Change)>,
    pub warnings: Vec<Diagnostic>,
    /// Entries seen, for statistics.
    pub entries: u64,
}

/// Why an entry name is refused.
fn normalize(raw: &[u8]) -> Result<Option<String>, String> {
    let s = std::str::from_utf8(raw).map_err(|_| "entry name is not UTF-8".to_string())?;
    if s.starts_with('/') {
        return Err(format!("absolute entry name {s:?}"));
    }
    let mut out = String::with_capacity(s.len());
    for comp in s.split('/') {
        match comp {
            "" | "." => continue,
            ".." => return Err(format!("entry name {s:?} escapes the layer root")),
            c => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(c);
            }
        }
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

/// Reads an executable entry when its first bytes say it is a binary a parser reads, and
/// parses it. `None` when it is not such a binary (only its first bytes were read) or when
/// it is bigger than the entry limit.
fn read_binary<R: Read>(
    entry: &mut R,
    path: &str,
    opts: &ScanOptions,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Fact>> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match entry.read(&mut head[got..])? {
            0 => return Ok(None),
            n => got += n,
        }
    }
    if !moat_lang::is_binary_candidate(&head) {
        return Ok(None);
    }
    buf.clear();
    buf.extend_from_slice(&head);
    entry.take(opts.max_entry_bytes).read_to_end(buf)?;
    if buf.len() as u64 >= opts.max_entry_bytes {
        return Ok(None);
    }
    Ok(Some(analyzers::analyze(analyzers::Want::Binary, path, buf)))
}

/// Wanted files are kept (for hardlinks to them later in the same layer) up to this many
/// bytes per layer in all, so memory stays flat however many wanted files a layer holds;
/// a hardlink to a file that was not kept is reported as a warning.
const KEEP_FOR_HARDLINKS: usize = 8 << 20;

/// Walks one layer's uncompressed tar stream.
pub fn walk_tar<R: Read>(
    reader: R,
    layer: usize,
    input: &str,
    opts: &ScanOptions,
) -> Result<LayerFacts, ScanError> {
    let fail = |message: String| ScanError::Layer {
        input: input.to_string(),
        layer,
        message,
    };
    let mut facts = LayerFacts::default();
    let mut archive = tar::Archive::new(reader);
    let mut kept: HashMap<String, Arc<Vec<u8>>> = HashMap::new();
    let mut kept_bytes = 0usize;
    let mut buf: Vec<u8> = Vec::new();
    let entries = archive.entries().map_err(|e| io_fail(e, input, layer))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| io_fail(e, input, layer))?;
        facts.entries += 1;
        let path = match normalize(&entry.path_bytes()) {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(m) => return Err(fail(m)),
        };
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (d, n),
            None => ("", path.as_str()),
        };
        if let Some(hidden) = name.strip_prefix(".wh.") {
            if hidden == ".wh..opq" {
                facts.changes.push((dir.to_string(), Change::Opaque));
            } else if !hidden.is_empty() {
                let target = if dir.is_empty() {
                    hidden.to_string()
                } else {
                    format!("{dir}/{hidden}")
                };
                facts.changes.push((target, Change::Whiteout));
            }
            continue;
        }
        let ty = entry.header().entry_type();
        if ty.is_symlink() {
            let target = entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            facts
                .changes
                .push((path, Change::Symlink(target.unwrap_or_default())));
            continue;
        }
        let Some(want) = analyzers::wants(&path) else {
            if ty.is_gnu_sparse() && entry.size() > opts.max_entry_bytes {
                return Err(fail(format!(
                    "sparse entry {path:?} claims {} bytes (limit {})",
                    entry.size(),
                    opts.max_entry_bytes
                )));
            }
            let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
            if ty.is_dir() {
                // a directory replaces whatever a lower layer had there (a symlink, say)
                facts.changes.push((path, Change::Shadow));
            } else if ty.is_file() && executable {
                let binary = read_binary(&mut entry, &path, opts, &mut buf)
                    .map_err(|e| io_fail(e, input, layer))?;
                let change = match binary {
                    Some(fact) => Change::File(Arc::new(fact)),
                    None => Change::Shadow,
                };
                facts.changes.push((path, change));
            }
            continue;
        };
        if ty.is_hard_link() {
            let target = entry.link_name_bytes().map(|b| normalize(&b));
            match target {
                Some(Ok(Some(t))) => match kept.get(&t) {
                    Some(data) => {
                        let fact = analyzers::analyze(want, &path, data);
                        facts.changes.push((path, Change::File(Arc::new(fact))));
                    }
                    None => facts.warnings.push(Diagnostic {
                        code: Code::HardlinkUnread,
                        line: None,
                        message: format!("hardlink to {t:?}, which was not read; not analysed"),
                        path: Some(format!("/{path}")),
                        layer: Some(layer),
                    }),
                },
                Some(Err(m)) => return Err(fail(format!("hardlink {path:?}: {m}"))),
                _ => {}
            }
            continue;
        }
        if !(ty.is_file() || ty.is_contiguous() || ty.is_gnu_sparse()) {
            continue;
        }
        let size = entry.size();
        if size > opts.max_entry_bytes {
            if ty.is_gnu_sparse() {
                return Err(fail(format!(
                    "sparse entry {path:?} claims {size} bytes (limit {})",
                    opts.max_entry_bytes
                )));
            }
            facts.warnings.push(Diagnostic {
                code: Code::TooLarge,
                line: None,
                message: format!(
                    "{size} bytes is over the entry limit of {}; not analysed",
                    opts.max_entry_bytes
                ),
                path: Some(format!("/{path}")),
                layer: Some(layer),
            });
            continue;
        }
        buf.clear();
        buf.reserve(size as usize);
        (&mut entry)
            .take(opts.max_entry_bytes)
            .read_to_end(&mut buf)
            .map_err(|e| io_fail(e, input, layer))?;
        let fact = analyzers::analyze(want, &path, &buf);
        if kept_bytes + buf.len() <= KEEP_FOR_HARDLINKS {
            kept_bytes += buf.len();
            kept.insert(path.clone(), Arc::new(buf.clone()));
        }
        facts.changes.push((path, Change::File(Arc::new(fact))));
    }
    Ok(facts)
}

/// Turns an I/O error out of the tar reader into a scan error, keeping typed image errors.
pub(crate) fn io_fail(e: std::io::Error, input: &str, layer: usize) -> ScanError {
    if e.get_ref()
        .is_some_and(|i| i.is::<moat_image::ImageError>())
    {
        if let Some(inner) = e.into_inner()
            && let Ok(img) = inner.downcast::<moat_image::ImageError>()
        {
            return ScanError::Image(*img);
        }
        return ScanError::Layer {
            input: input.to_string(),
            layer,
            message: "unreadable layer".into(),
        };
    }
    let message = match e.kind() {
        std::io::ErrorKind::UnexpectedEof => format!("truncated layer: {e}"),
        _ => format!("corrupt layer: {e}"),
    };
    ScanError::Layer {
        input: input.to_string(),
        layer,
        message,
    }
}

/// Top-level directories of a root filesystem that are never walked.
const SKIP_ROOT_DIRS: &[&str] = &["proc", "sys", "dev"];

/// Walks a directory tree (a rootfs or a project directory) as a single layer.
/// Symlinks are recorded, never followed.
pub fn walk_dir(root: &Path, opts: &ScanOptions) -> Result<LayerFacts, ScanError> {
    let mut facts = LayerFacts::default();
    let mut bin_buf = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            !(e.depth() == 1
                && e.file_type().is_dir()
                && SKIP_ROOT_DIRS.iter().any(|d| e.file_name() == *d))
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                if e.depth() == 0 {
                    return Err(ScanError::Io {
                        path: root.display().to_string(),
                        source: std::io::Error::other(e.to_string()),
                    });
                }
                facts.warnings.push(Diagnostic {
                    code: Code::Unreadable,
                    line: None,
                    message: format!("cannot read: {e}"),
                    path: e.path().map(|p| p.display().to_string()),
                    layer: None,
                });
                continue;
            }
        };
        facts.entries += 1;
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let Some(rel) = rel.to_str() else {
            facts.warnings.push(Diagnostic {
                code: Code::BadPath,
                line: None,
                message: "path is not UTF-8; skipped".into(),
                path: Some(entry.path().display().to_string()),
                layer: None,
            });
            continue;
        };
        if rel.is_empty() {
            continue;
        }
        let rel = rel.replace(std::path::MAIN_SEPARATOR, "/");
        let ft = entry.file_type();
        if ft.is_symlink() {
            match std::fs::read_link(entry.path()) {
                Ok(t) => facts
                    .changes
                    .push((rel, Change::Symlink(t.to_string_lossy().into_owned()))),
                Err(e) => facts.warnings.push(Diagnostic {
                    code: Code::Unreadable,
                    line: None,
                    message: format!("cannot read symlink: {e}"),
                    path: Some(format!("/{rel}")),
                    layer: None,
                }),
            }
            continue;
        }
        if !ft.is_file() {
            continue;
        }
        let Some(want) = analyzers::wants(&rel) else {
            use std::os::unix::fs::PermissionsExt;
            let executable = entry
                .metadata()
                .is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
            if executable {
                let found = std::fs::File::open(entry.path())
                    .and_then(|mut f| read_binary(&mut f, &rel, opts, &mut bin_buf));
                match found {
                    Ok(Some(fact)) => facts.changes.push((rel, Change::File(Arc::new(fact)))),
                    Ok(None) => {}
                    Err(e) => facts.warnings.push(Diagnostic {
                        code: Code::Unreadable,
                        line: None,
                        message: format!("cannot read: {e}"),
                        path: Some(format!("/{rel}")),
                        layer: None,
                    }),
                }
            }
            continue;
        };
        let warn = |code: Code, message: String| Diagnostic {
            code,
            line: None,
            message,
            path: Some(format!("/{rel}")),
            layer: None,
        };
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        if size > opts.max_entry_bytes {
            facts.warnings.push(warn(
                Code::TooLarge,
                format!(
                    "{size} bytes is over the entry limit of {}; not analysed",
                    opts.max_entry_bytes
                ),
            ));
            continue;
        }
        let mut data = Vec::with_capacity(size as usize);
        let read = std::fs::File::open(entry.path())
            .and_then(|f| f.take(opts.max_entry_bytes).read_to_end(&mut data));
        if let Err(e) = read {
            facts
                .warnings
                .push(warn(Code::Unreadable, format!("cannot read: {e}")));
            continue;
        }
        let fact = analyzers::analyze(want, &rel, &data);
        facts.changes.push((rel, Change::File(Arc::new(fact))));
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn entry_names() {
        assert_eq!(
            normalize(b"./etc/os-release").unwrap().as_deref(),
            Some("etc/os-release")
        );
        assert_eq!(normalize(b"usr//lib/").unwrap().as_deref(), Some("usr/lib"));
        assert_eq!(normalize(b"./").unwrap(), None);
        assert!(normalize(b"../etc/passwd").unwrap_err().contains("escapes"));
        assert!(normalize(b"a/../../b").is_err());
        assert!(normalize(b"/etc/passwd").unwrap_err().contains("absolute"));
    }
}
