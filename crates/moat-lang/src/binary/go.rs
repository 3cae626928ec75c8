//! Go build info, read from the bytes of a binary (see [`super`] for the overview).
//!
//! The Go linker writes a 32-byte header into the `.go.buildinfo` section (in the data
//! segment, 16-byte aligned): the 14-byte magic `"\xff Go buildinf:"`, the pointer size (4 or
//! 8), and a flags byte (bit 0: big-endian, bit 1: strings inline). When the section header is
//! missing (stripped section table, or not ELF) the file is scanned at 16-byte aligned offsets
//! for the magic; the first of up to 8 matches that reads completely is used (so a string
//! literal that happens to contain the magic does not hide the real header). Two layouts
//! follow the header:
//!
//! * **Go 1.18 and later** (flag bit 1): the Go version and then the module info, each as an
//!   unsigned LEB128 varint length followed by that many bytes.
//! * **Before 1.18**: at offset 16 two pointers (pointer-sized, in the flagged byte order) to Go
//!   string headers `{data pointer, length}` for the version and the module info; the
//!   addresses are translated to file bytes through the ELF section table, or the program
//!   headers when no section covers them.
//!
//! Lengths are capped by [`MAX_GO_STRING`] and by the bytes actually present. The module info,
//! when non-empty, is framed by 16 sentinel bytes on each side (detected as Go does: at least
//! 33 bytes with a `\n` 17 bytes before the end) which are removed. Its lines are
//! tab-separated: `path <import path>`, `mod <path> <version> [<sum>]`, `dep <path> <version>
//! [<sum>]`, `=> <path> <version> [<sum>]` (replaces the `mod`/`dep` line before it) and
//! `build <key>=<value>`.
//!
//! Output, ecosystem [`Ecosystem::Go`]:
//! * the main module (`mod` line; or the `path` with an empty version when the binary was not
//!   built in module mode) as `application: true`, its version kept as written (`(devel)`);
//!   metadata `go_version` (the raw toolchain string), `main_path`, and `build:<key>` for
//!   each build setting;
//! * each `dep` in order. With a module replacement the package takes the replacement's path
//!   and version and records `original_name`, `original_version` and `replaced_by` (`"<path>
//!   <version>"`); with a directory replacement (no version, or a `./`, `../`, `/` path) it
//!   keeps its own name and version with `replaced_by=<dir>` and `local_replace=true`.
//!   `sum` holds the `h1:` hash when present;
//! * the standard library as package `stdlib`, version from [`go_semver`]: `go1.19.8` →
//!   `v1.19.8`, `go1.20` → `v1.20.0`, `go1.22rc1` → `v1.22.0-rc.1`, `go1.21beta2` →
//!   `v1.21.0-beta.2`; experiment and vendor suffixes (`go1.21.0 X:boringcrypto`,
//!   `go1.23.6-xyz`) are dropped from the version (the raw string stays in metadata
//!   `go_version`). A development toolchain (`devel go1.23-abcdef ...`) has no release
//!   version: no `stdlib` package is emitted for it (an `unsupported` diagnostic says so).
//!
//! A header that cannot be read is a [`BuildInfoError`]; the first one met becomes one
//! diagnostic (`too-large` for a string over [`MAX_GO_STRING`], else `parse-error`).

use moat_model::{Code, Diagnostic};
use object::{Object, ObjectSection, ObjectSegment};

use crate::read::is_local_path;
use crate::{Ecosystem, LangPackage, LangParsed};

/// The Go build info magic.
const GO_MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// Largest Go version or module info string accepted.
pub const MAX_GO_STRING: usize = 16 << 20;
/// Magic matches tried when there is no `.go.buildinfo` section.
const MAX_CANDIDATES: usize = 8;

/// Why a Go build info header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BuildInfoError {
    #[error("header truncated")]
    Truncated,
    #[error("bad varint length")]
    BadVarint,
    #[error("string length {len} exceeds the {available} bytes available")]
    PastTheEnd { len: u64, available: usize },
    #[error("string length {0} exceeds the {MAX_GO_STRING}-byte limit")]
    OverLimit(u64),
    #[error("pointer size {0} is neither 4 nor 8")]
    PointerSize(usize),
    #[error("pre-1.18 build info needs the section table, which is unreadable")]
    NoSectionTable,
    #[error("{len} bytes at address {addr:#x} are not in the file")]
    NotMapped { addr: u64, len: u64 },
    #[error("Go version is not UTF-8")]
    VersionNotUtf8,
}

impl BuildInfoError {
    fn diagnostic(&self) -> Diagnostic {
        let code = match self {
            BuildInfoError::OverLimit(_) => Code::TooLarge,
            _ => Code::ParseError,
        };
        Diagnostic::new(code, format!("Go build info: {self}"))
    }
}

/// Reads the Go build info of a binary into `out`: from the `.go.buildinfo` section when
/// there is one, else from every aligned magic in the file (the first one that reads wins;
/// a string literal that happens to hold the magic is skipped that way).
pub(super) fn read(bytes: &[u8], elf: Option<&object::File<'_>>, out: &mut LangParsed) {
    let section = elf.and_then(|f| f.section_by_name(".go.buildinfo"));
    let mut candidates: Vec<&[u8]> = Vec::new();
    match &section {
        Some(s) => match s.data() {
            Ok(d) if d.starts_with(GO_MAGIC) => candidates.push(d),
            Ok(_) => out.warn(Diagnostic::parse(
                ".go.buildinfo section does not start with the build info magic",
            )),
            Err(e) => out.warn(Diagnostic::parse(format!(
                ".go.buildinfo section unreadable: {e}"
            ))),
        },
        None => candidates.extend(scan_magic(bytes).take(MAX_CANDIDATES)),
    }
    let mut first_error: Option<BuildInfoError> = None;
    for data in candidates {
        match read_go_buildinfo(data, elf) {
            Ok((version, modinfo)) => {
                go_packages(&version, &modinfo, out);
                first_error = None;
                break;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        out.warn(e.diagnostic());
    }
}

/// The Go build info headers at 16-byte aligned offsets of the file.
fn scan_magic(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    (0..bytes.len())
        .step_by(16)
        .filter(|&off| bytes[off..].starts_with(GO_MAGIC))
        .map(|off| &bytes[off..])
}

/// Reads an unsigned LEB128 varint; returns the value and the bytes it used.
fn read_uvarint(data: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in data.iter().enumerate().take(10) {
        let chunk = u64::from(b & 0x7f);
        if i == 9 && b > 1 {
            return None; // overflows 64 bits
        }
        value |= chunk << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Reads one varint-prefixed string; returns it and the rest of the data.
fn read_varint_string(data: &[u8]) -> Result<(&[u8], &[u8]), BuildInfoError> {
    let (len, used) = read_uvarint(data).ok_or(BuildInfoError::BadVarint)?;
    let rest = &data[used..];
    if len > MAX_GO_STRING as u64 {
        return Err(BuildInfoError::OverLimit(len));
    }
    let len = usize::try_from(len).map_err(|_| BuildInfoError::OverLimit(len))?;
    if len > rest.len() {
        return Err(BuildInfoError::PastTheEnd {
            len: len as u64,
            available: rest.len(),
        });
    }
    Ok((&rest[..len], &rest[len..]))
}

fn read_uint(data: &[u8], size: usize, big_endian: bool) -> Option<u64> {
    let b = data.get(..size)?;
    Some(match (size, big_endian) {
        (4, false) => u64::from(u32::from_le_bytes(b.try_into().ok()?)),
        (4, true) => u64::from(u32::from_be_bytes(b.try_into().ok()?)),
        (8, false) => u64::from_le_bytes(b.try_into().ok()?),
        (8, true) => u64::from_be_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

/// Returns `len` bytes at virtual address `addr`, looked up in the section table, or in the
/// program headers when no section holds it (section table stripped).
fn read_at_address<'a>(elf: &object::File<'a>, addr: u64, len: u64) -> Option<&'a [u8]> {
    let slice = |start: u64, data: &'a [u8]| -> Option<&'a [u8]> {
        let off = usize::try_from(addr - start).ok()?;
        let end = off.checked_add(usize::try_from(len).ok()?)?;
        data.get(off..end)
    };
    for s in elf.sections() {
        let (start, size) = (s.address(), s.size());
        if addr >= start && addr - start < size {
            return slice(start, s.data().ok()?);
        }
    }
    for s in elf.segments() {
        let (start, size) = (s.address(), s.size());
        if addr >= start && addr - start < size {
            return slice(start, s.data().ok()?);
        }
    }
    None
}

/// Reads a Go string header `{ptr, len}` at `addr` and then the string itself.
fn read_go_string<'a>(
    elf: &object::File<'a>,
    addr: u64,
    ptr_size: usize,
    big_endian: bool,
) -> Result<&'a [u8], BuildInfoError> {
    let header = read_at_address(elf, addr, 2 * ptr_size as u64)
        .ok_or(BuildInfoError::NotMapped { addr, len: 0 })?;
    let data_ptr = read_uint(header, ptr_size, big_endian).ok_or(BuildInfoError::Truncated)?;
    let len =
        read_uint(&header[ptr_size..], ptr_size, big_endian).ok_or(BuildInfoError::Truncated)?;
    if len == 0 {
        return Ok(&[]);
    }
    if len > MAX_GO_STRING as u64 {
        return Err(BuildInfoError::OverLimit(len));
    }
    read_at_address(elf, data_ptr, len).ok_or(BuildInfoError::NotMapped {
        addr: data_ptr,
        len,
    })
}

/// Reads the Go version and module info strings from the 32-byte header onwards.
fn read_go_buildinfo(
    data: &[u8],
    elf: Option<&object::File<'_>>,
) -> Result<(String, String), BuildInfoError> {
    if data.len() < 32 {
        return Err(BuildInfoError::Truncated);
    }
    let ptr_size = usize::from(data[14]);
    let flags = data[15];
    let big_endian = flags & 1 != 0;
    let (version, modinfo): (Vec<u8>, Vec<u8>) = if flags & 2 != 0 {
        let (v, rest) = read_varint_string(&data[32..])?;
        let (m, _) = read_varint_string(rest)?;
        (v.to_vec(), m.to_vec())
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return Err(BuildInfoError::PointerSize(ptr_size));
        }
        let elf = elf.ok_or(BuildInfoError::NoSectionTable)?;
        let vaddr =
            read_uint(&data[16..], ptr_size, big_endian).ok_or(BuildInfoError::Truncated)?;
        let maddr = read_uint(&data[16 + ptr_size..], ptr_size, big_endian)
            .ok_or(BuildInfoError::Truncated)?;
        let v = read_go_string(elf, vaddr, ptr_size, big_endian)?;
        let m = read_go_string(elf, maddr, ptr_size, big_endian)?;
        (v.to_vec(), m.to_vec())
    };
    let version = String::from_utf8(version).map_err(|_| BuildInfoError::VersionNotUtf8)?;
    let mut modinfo = modinfo.as_slice();
    let n = modinfo.len();
    if n >= 33 && modinfo[n - 17] == b'\n' {
        modinfo = &modinfo[16..n - 16];
    }
    let modinfo = String::from_utf8_lossy(modinfo).into_owned();
    Ok((version, modinfo))
}

/// Turns a Go toolchain version (`go1.19.8`, `go1.22rc1`) into the semver form used by the
/// Go vulnerability database (`v1.19.8`, `v1.22.0-rc.1`); `None` for development builds.
/// The rule is moat-model's, which the SBOM reader and the matcher share.
pub fn go_semver(go_version: &str) -> Option<String> {
    moat_model::version::go::toolchain_semver(go_version)
}

fn go_packages(version: &str, modinfo: &str, out: &mut LangParsed) {
    let mut main_path: Option<String> = None;
    let mut main: Option<LangPackage> = None;
    let mut deps: Vec<LangPackage> = Vec::new();
    let mut builds: Vec<(String, String)> = Vec::new();
    // Which package a `=>` line replaces: None, Some(None) = main, Some(Some(i)) = deps[i].
    let mut last: Option<Option<usize>> = None;
    let mut bad_lines = 0usize;
    for line in modinfo.lines() {
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[0] {
            // An empty module path is an unreadable line, never a nameless package.
            "path" if fields.len() >= 2 && !fields[1].is_empty() => {
                main_path = Some(fields[1].to_string())
            }
            "mod" | "dep" if fields.len() >= 3 && !fields[1].is_empty() => {
                let mut pkg = LangPackage::new(Ecosystem::Go, fields[1], fields[2]);
                if let Some(sum) = fields.get(3).filter(|s| !s.is_empty()) {
                    pkg.metadata.insert("sum".into(), sum.to_string().into());
                }
                if fields[0] == "mod" {
                    pkg.application = true;
                    main = Some(pkg);
                    last = Some(None);
                } else {
                    deps.push(pkg);
                    last = Some(Some(deps.len() - 1));
                }
            }
            "=>" if fields.len() >= 2 && !fields[1].is_empty() => {
                let target = match last.take() {
                    Some(None) => main.as_mut(),
                    Some(Some(i)) => deps.get_mut(i),
                    None => None,
                };
                let Some(pkg) = target else {
                    bad_lines += 1;
                    continue;
                };
                let new_path = fields[1];
                let new_version = fields.get(2).copied().unwrap_or("");
                if new_version.is_empty() || is_local_path(new_path) {
                    pkg.metadata
                        .insert("replaced_by".into(), new_path.to_string().into());
                    pkg.metadata.insert("local_replace".into(), "true".into());
                } else {
                    pkg.metadata
                        .insert("original_name".into(), std::mem::take(&mut pkg.name).into());
                    pkg.metadata.insert(
                        "original_version".into(),
                        std::mem::take(&mut pkg.version).into(),
                    );
                    pkg.metadata.insert(
                        "replaced_by".into(),
                        format!("{new_path} {new_version}").into(),
                    );
                    pkg.name = new_path.to_string();
                    pkg.version = new_version.to_string();
                    match fields.get(3).filter(|s| !s.is_empty()) {
                        Some(sum) => {
                            pkg.metadata.insert("sum".into(), sum.to_string().into());
                        }
                        None => {
                            pkg.metadata.remove("sum");
                        }
                    }
                }
            }
            "build" if fields.len() >= 2 => {
                let setting = fields[1..].join("\t");
                let (k, v) = setting.split_once('=').unwrap_or((setting.as_str(), ""));
                builds.push((k.to_string(), v.to_string()));
            }
            _ => bad_lines += 1,
        }
    }
    if bad_lines > 0 {
        out.warn(Diagnostic::parse(format!(
            "Go module info has {bad_lines} unreadable line(s)"
        )));
    }
    let mut app = match (main, &main_path) {
        (Some(m), _) => Some(m),
        (None, Some(p)) => {
            let mut a = LangPackage::new(Ecosystem::Go, p.clone(), "");
            a.application = true;
            Some(a)
        }
        (None, None) => None,
    };
    if let Some(a) = &mut app {
        if !version.is_empty() {
            a.metadata
                .insert("go_version".into(), version.to_string().into());
        }
        if let Some(p) = &main_path {
            a.metadata.insert("main_path".into(), p.clone().into());
        }
        for (k, v) in builds {
            a.metadata.insert(format!("build:{k}").into(), v.into());
        }
    }
    out.packages.extend(app);
    out.packages.extend(deps);
    if let Some(v) = go_semver(version) {
        let mut std = LangPackage::new(Ecosystem::Go, "stdlib", v);
        std.metadata
            .insert("go_version".into(), version.to_string().into());
        out.packages.push(std);
    } else if !version.is_empty() {
        out.warn(Diagnostic::new(
            Code::Unsupported,
            format!("Go toolchain version {version:?} has no release version; no stdlib package"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::parse;

    #[test]
    fn semver_of_go_versions() {
        assert_eq!(go_semver("go1.19.8").as_deref(), Some("v1.19.8"));
        assert_eq!(go_semver("go1.20").as_deref(), Some("v1.20.0"));
        assert_eq!(go_semver("go1.22rc1").as_deref(), Some("v1.22.0-rc.1"));
        assert_eq!(go_semver("go1.21beta2").as_deref(), Some("v1.21.0-beta.2"));
        assert_eq!(
            go_semver("go1.21.0 X:boringcrypto").as_deref(),
            Some("v1.21.0")
        );
        assert_eq!(go_semver("go1.23.6-xyz").as_deref(), Some("v1.23.6"));
        assert_eq!(go_semver("devel go1.23-abcdef Tue"), None);
        assert_eq!(go_semver("go"), None);
    }

    #[test]
    fn varints() {
        assert_eq!(read_uvarint(&[0x05]), Some((5, 1)));
        assert_eq!(read_uvarint(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(read_uvarint(&[0xff; 11]), None);
        assert!(read_varint_string(&[0x7f, b'a']).is_err());
    }

    fn inline_buildinfo(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = GO_MAGIC.to_vec();
        b.push(8);
        b.push(2);
        b.resize(32, 0);
        for s in [version, modinfo] {
            let mut n = s.len();
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    b.push(byte);
                    break;
                }
                b.push(byte | 0x80);
            }
            b.extend_from_slice(s.as_bytes());
        }
        b
    }

    #[test]
    fn inline_modinfo_with_replacements() {
        let info = format!(
            "{}path\tex/cmd\nmod\tex\t(devel)\t\ndep\ta\tv1.0.0\th1:x=\n=>\tb\tv2.0.0\th1:y=\ndep\tc\tv1.0.0\th1:z=\n=>\t../c\t\nbuild\t-compiler=gc\nbuild\tCGO_ENABLED=0\n{}",
            "0123456789abcdef", "\n123456789abcdef"
        );
        // Frame: 16 bytes, info, 16 bytes with '\n' 17 bytes before the end.
        let info = format!("{}{}", &info[..info.len() - 16], "0123456789abcdef");
        let mut file = vec![0u8; 64];
        file.extend(inline_buildinfo("go1.22rc1", &info));
        let p = parse("bin", &file);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let names: Vec<_> = p
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("ex", "(devel)"),
                ("b", "v2.0.0"),
                ("c", "v1.0.0"),
                ("stdlib", "v1.22.0-rc.1")
            ]
        );
        assert!(p.packages[0].application);
        assert_eq!(p.packages[0].metadata["build:CGO_ENABLED"], "0");
        assert_eq!(p.packages[1].metadata["original_name"], "a");
        assert_eq!(p.packages[1].metadata["sum"], "h1:y=");
        assert_eq!(p.packages[2].metadata["local_replace"], "true");
    }

    #[test]
    fn nameless_module_lines_are_unreadable_not_packages() {
        let info = format!(
            "{}path\t\nmod\t\tv1.0.0\t\ndep\t\tv1.0.0\th1:x=\ndep\ta\tv1.0.0\th1:x=\n=>\t\tv2.0.0\t\n{}",
            "0123456789abcdef", "0123456789abcdef"
        );
        let mut file = vec![0u8; 64];
        file.extend(inline_buildinfo("go1.22.0", &info));
        let p = parse("bin", &file);
        let names: Vec<_> = p.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "stdlib"]);
        let msgs: Vec<_> = p.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(msgs, ["Go module info has 4 unreadable line(s)"]);
    }

    #[test]
    fn hostile_inline_lengths() {
        let mut file = vec![0u8; 16];
        let mut b = GO_MAGIC.to_vec();
        b.extend([8, 2]);
        b.resize(32, 0);
        b.extend([0xff, 0xff, 0xff, 0xff, 0x0f]);
        file.extend(b);
        let p = parse("bin", &file);
        assert!(p.packages.is_empty());
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].code, Code::TooLarge);
        assert_eq!(
            p.warnings[0].message,
            "Go build info: string length 4294967295 exceeds the 16777216-byte limit"
        );
    }

    #[test]
    fn bogus_magic_before_the_real_header_is_skipped() {
        let mut file = GO_MAGIC.to_vec();
        file.extend([8, 2]);
        file.resize(32, 0);
        file.extend([0xff; 16]); // unreadable varint
        file.extend(inline_buildinfo("go1.20", "path\tx\n"));
        let p = parse("bin", &file);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.packages.len(), 2);
        assert_eq!(p.packages[0].name, "x");
        assert_eq!(p.packages[1].version, "v1.20.0");
    }

    #[test]
    fn nothing_found_is_quiet() {
        assert_eq!(parse("x", b"hello"), LangParsed::default());
    }
}
