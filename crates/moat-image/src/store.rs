//! Blob storage behind an image: a directory (OCI layout) or an uncompressed tar
//! indexed once by header (docker-archive, oci-archive). Blobs are opened as a
//! fresh `File` + seek + `take(size)`; nothing is copied out.

use crate::error::ImageError;
use crate::tarstream::{EntryKind, TarError, TarReader};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// How deep symlink chains inside an outer tar are followed.
const MAX_LINK_DEPTH: usize = 8;

/// Bytes of names the index of an outer tar may hold in all. The reader caps each header
/// record (1 MiB); this caps their sum, so memory stays flat however many entries a hostile
/// archive has. 64 MiB is hundreds of thousands of names, far more than any image archive.
const MAX_INDEX_NAMES: usize = 64 << 20;

#[derive(Debug, Clone)]
enum TarEntry {
    File {
        offset: u64,
        size: u64,
    },
    /// A symlink or hardlink, already resolved to an archive-root-relative name.
    Link {
        target: String,
    },
    /// Something that is not a file (a directory, a FIFO, a device, a sparse file).
    Other {
        kind: &'static str,
    },
}

/// Header index of an uncompressed tar: normalised name -> data position.
#[derive(Debug, Clone, Default)]
pub(crate) struct TarIndex {
    entries: HashMap<String, TarEntry>,
}

impl TarIndex {
    /// Read the headers of `path` (seeking over the data) and index regular files and links.
    pub(crate) fn build(path: &Path) -> Result<TarIndex, ImageError> {
        let mut file = File::open(path).map_err(|e| open_err(path, e))?;
        let mut magic = [0u8; 4];
        let n =
            read_up_to(&mut file, &mut magic).map_err(|e| ImageError::io(path, "reading", e))?;
        let magic = magic.get(..n).unwrap_or_default();
        if magic.starts_with(&[0x1f, 0x8b]) {
            return Err(ImageError::CompressedArchive {
                path: path.to_path_buf(),
                compression: "gzip",
            });
        }
        if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            return Err(ImageError::CompressedArchive {
                path: path.to_path_buf(),
                compression: "zstd",
            });
        }
        let len = file
            .metadata()
            .map_err(|e| ImageError::io(path, "reading metadata", e))?
            .len();
        file.seek(SeekFrom::Start(0))
            .map_err(|e| ImageError::io(path, "seeking", e))?;
        let not_tar = |e: TarError| ImageError::UnknownTarget {
            path: path.to_path_buf(),
            reason: format!("not a readable tar archive ({e})"),
        };
        let mut tar = TarReader::seekable(file);
        let mut index = TarIndex::default();
        let mut names = 0usize;
        while let Some(h) = tar.next_entry().map_err(not_tar)? {
            let Some(name) = normalise(&String::from_utf8_lossy(h.path())) else {
                continue; // names escaping the archive root are never blobs we look up
            };
            let value = match h.kind() {
                EntryKind::File if h.is_sparse() => TarEntry::Other {
                    kind: "a sparse file",
                },
                EntryKind::File => {
                    let offset = h.data_offset();
                    let size = h.stored_size();
                    if offset.saturating_add(size) > len {
                        return Err(ImageError::Invalid {
                            path: path.to_path_buf(),
                            file: name,
                            reason: format!(
                                "archive truncated: entry needs {size} bytes at offset {offset}, the file has {len}"
                            ),
                        });
                    }
                    TarEntry::File { offset, size }
                }
                kind @ (EntryKind::Symlink | EntryKind::HardLink) => {
                    let link = String::from_utf8_lossy(h.link()).into_owned();
                    let target = if kind == EntryKind::Symlink && !link.starts_with('/') {
                        match name.rsplit_once('/') {
                            Some((dir, _)) => format!("{dir}/{link}"),
                            None => link,
                        }
                    } else {
                        link
                    };
                    match normalise(&target) {
                        Some(target) => TarEntry::Link { target },
                        None => continue,
                    }
                }
                EntryKind::Dir => TarEntry::Other {
                    kind: "a directory",
                },
                EntryKind::Fifo => TarEntry::Other { kind: "a FIFO" },
                EntryKind::CharDevice | EntryKind::BlockDevice => {
                    TarEntry::Other { kind: "a device" }
                }
                EntryKind::Other(_) => TarEntry::Other {
                    kind: "a special file",
                },
            };
            names += name.len();
            if names > MAX_INDEX_NAMES {
                return Err(ImageError::UnknownTarget {
                    path: path.to_path_buf(),
                    reason: format!(
                        "the archive's entry names exceed {} MiB",
                        MAX_INDEX_NAMES >> 20
                    ),
                });
            }
            // A later entry of the same name replaces an earlier one, as on extraction.
            index.entries.insert(name, value);
        }
        Ok(index)
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        normalise(name).is_some_and(|n| self.entries.contains_key(&n))
    }

    /// The blob stored under `name` (links followed): (resolved name, offset, size).
    fn blob(&self, input: &Path, name: &str) -> Result<(String, u64, u64), ImageError> {
        match self.resolve(name) {
            Some(Ok(found)) => Ok(found),
            Some(Err(kind)) => Err(ImageError::NotAFile {
                path: input.to_path_buf(),
                name: name.to_string(),
                kind,
            }),
            None => Err(ImageError::MissingBlob {
                path: input.to_path_buf(),
                name: name.to_string(),
            }),
        }
    }

    /// Follow links to a regular file: (resolved name, offset, size); `Err` with what
    /// stands there when that is no file.
    fn resolve(&self, name: &str) -> Option<Result<(String, u64, u64), &'static str>> {
        let mut cur = normalise(name)?;
        for _ in 0..=MAX_LINK_DEPTH {
            match self.entries.get(&cur)? {
                TarEntry::File { offset, size } => return Some(Ok((cur, *offset, *size))),
                TarEntry::Link { target } => cur = target.clone(),
                TarEntry::Other { kind } => return Some(Err(kind)),
            }
        }
        None
    }
}

/// Collapse `.`, `..` and empty components of a `/`-separated name; `None` if it
/// climbs above the root. A leading `/` is dropped (tar names are relative).
fn normalise(name: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            p => out.push(p),
        }
    }
    Some(out.join("/"))
}

/// Names taken from manifests must stay inside the layout: relative, no `..`.
pub(crate) fn check_name(input: &Path, name: &str) -> Result<(), ImageError> {
    let bad = name.is_empty()
        || name.starts_with('/')
        || name.contains('\\')
        || name.split('/').any(|p| p == "..")
        || Path::new(name)
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if bad {
        return Err(ImageError::UnsafePath {
            path: input.to_path_buf(),
            name: name.to_string(),
        });
    }
    Ok(())
}

fn open_err(path: &Path, e: io::Error) -> ImageError {
    if e.kind() == io::ErrorKind::NotFound {
        ImageError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        ImageError::io(path, "opening", e)
    }
}

pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let Some(rest) = buf.get_mut(n..) else { break };
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Where blobs live.
#[derive(Debug)]
pub(crate) enum Store {
    /// An OCI layout directory.
    Dir { root: PathBuf },
    /// An uncompressed tar file and its header index.
    Tar { path: PathBuf, index: TarIndex },
    /// Blobs of a registry image in a directory laid out as `blobs/<algo>/<hex>` (the blob
    /// cache, or a temporary directory kept alive here); `label` is the reference, for
    /// messages.
    Blobs {
        label: PathBuf,
        root: PathBuf,
        _tmp: Option<std::sync::Arc<tempfile::TempDir>>,
    },
}

/// An opened blob: a reader limited to the blob, its size and its resolved name.
pub(crate) struct Blob {
    pub(crate) reader: io::Take<File>,
    pub(crate) size: u64,
    /// The name after following links (for tar stores), else the name asked for.
    pub(crate) name: String,
}

impl Store {
    /// The input path (for messages).
    pub(crate) fn input(&self) -> &Path {
        match self {
            Store::Dir { root } => root,
            Store::Tar { path, .. } => path,
            Store::Blobs { label, .. } => label,
        }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        match self {
            Store::Dir { root } | Store::Blobs { root, .. } => {
                check_name(root, name).is_ok() && root.join(name).is_file()
            }
            Store::Tar { index, .. } => index.contains(name),
        }
    }

    /// The resolved name and size of a blob without opening it.
    pub(crate) fn stat(&self, name: &str) -> Result<(String, u64), ImageError> {
        let input = self.input();
        check_name(input, name)?;
        let missing = || ImageError::MissingBlob {
            path: input.to_path_buf(),
            name: name.to_string(),
        };
        match self {
            Store::Dir { root } | Store::Blobs { root, .. } => {
                let full = root.join(name);
                let meta = match std::fs::metadata(&full) {
                    Ok(m) => m,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(missing()),
                    Err(e) => return Err(ImageError::io(input, format!("reading {name}"), e)),
                };
                if !meta.is_file() {
                    let ft = meta.file_type();
                    use std::os::unix::fs::FileTypeExt;
                    let kind = if ft.is_dir() {
                        "a directory"
                    } else if ft.is_fifo() {
                        "a FIFO"
                    } else if ft.is_socket() {
                        "a socket"
                    } else if ft.is_block_device() || ft.is_char_device() {
                        "a device"
                    } else {
                        "no regular file"
                    };
                    return Err(ImageError::NotAFile {
                        path: input.to_path_buf(),
                        name: name.to_string(),
                        kind,
                    });
                }
                // A symlink inside the layout must not lead outside it.
                if std::fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_symlink()) {
                    let real =
                        std::fs::canonicalize(&full).map_err(|e| ImageError::io(input, name, e))?;
                    let base = std::fs::canonicalize(root)
                        .map_err(|e| ImageError::io(input, "resolving", e))?;
                    if !real.starts_with(&base) {
                        return Err(ImageError::UnsafePath {
                            path: input.to_path_buf(),
                            name: name.to_string(),
                        });
                    }
                }
                Ok((name.to_string(), meta.len()))
            }
            Store::Tar { index, .. } => {
                let (resolved, _, size) = index.blob(input, name)?;
                Ok((resolved, size))
            }
        }
    }

    /// Open a blob for streaming with a new file handle (safe to call from several threads).
    pub(crate) fn open(&self, name: &str) -> Result<Blob, ImageError> {
        let input = self.input();
        check_name(input, name)?;
        match self {
            Store::Dir { root } | Store::Blobs { root, .. } => {
                let (resolved, _) = self.stat(name)?;
                let file = File::open(root.join(name)).map_err(|e| match e.kind() {
                    io::ErrorKind::NotFound => ImageError::MissingBlob {
                        path: input.to_path_buf(),
                        name: name.to_string(),
                    },
                    _ => ImageError::io(input, format!("opening {name}"), e),
                })?;
                // Size from the opened handle: the file may have changed since stat.
                let size = file
                    .metadata()
                    .map_err(|e| ImageError::io(input, format!("reading {name}"), e))?
                    .len();
                Ok(Blob {
                    reader: file.take(size),
                    size,
                    name: resolved,
                })
            }
            Store::Tar { path, index } => {
                let (resolved, offset, size) = index.blob(input, name)?;
                let mut file = File::open(path).map_err(|e| open_err(path, e))?;
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| ImageError::io(path, format!("seeking to {name}"), e))?;
                Ok(Blob {
                    reader: file.take(size),
                    size,
                    name: resolved,
                })
            }
        }
    }

    /// Read a small JSON document (manifest, index, config) whole, bounded by `limit`.
    /// Returns the raw bytes (to be hashed as stored) and the resolved name.
    pub(crate) fn read_small(
        &self,
        name: &str,
        limit: u64,
    ) -> Result<(Vec<u8>, String), ImageError> {
        let input = self.input();
        let mut blob = self.open(name)?;
        if blob.size > limit {
            return Err(ImageError::JsonTooLarge {
                path: input.to_path_buf(),
                file: name.to_string(),
                size: blob.size,
                limit,
            });
        }
        let mut buf = Vec::with_capacity(usize::try_from(blob.size).unwrap_or(0));
        blob.reader
            .read_to_end(&mut buf)
            .map_err(|e| ImageError::io(input, format!("reading {name}"), e))?;
        if buf.len() as u64 != blob.size {
            return Err(ImageError::SizeMismatch {
                path: input.to_path_buf(),
                subject: format!("{name} (truncated)"),
                expected: blob.size,
                actual: buf.len() as u64,
            });
        }
        Ok((buf, blob.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_names() {
        assert_eq!(normalise("./a//b/./c").as_deref(), Some("a/b/c"));
        assert_eq!(normalise("x/../y").as_deref(), Some("y"));
        assert_eq!(normalise("../y"), None);
        assert_eq!(normalise("/abs/p").as_deref(), Some("abs/p"));
    }

    #[test]
    fn unsafe_names() {
        let p = Path::new("in");
        assert!(check_name(p, "blobs/sha256/abc").is_ok());
        assert!(check_name(p, "../x").is_err());
        assert!(check_name(p, "a/../../x").is_err());
        assert!(check_name(p, "/etc/passwd").is_err());
        assert!(check_name(p, "").is_err());
    }
}
