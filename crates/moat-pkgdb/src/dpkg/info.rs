//! `var/lib/dpkg/info/<pkg>[:arch].list` and `.md5sums` (also `status.d/<pkg>.md5sums`): the
//! files each package owns, one path per line. Lines that are not paths are skipped; these
//! lists report no diagnostics.

/// Reads an `info/<pkg>.list` file: one path per line. Returns absolute paths
/// (a missing leading `/` is added), without the `/.` root entry and blank lines.
pub fn parse_list(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.trim().is_empty())
        .filter_map(absolute)
        .collect()
}

/// Reads an `info/<pkg>.md5sums` (or `status.d/<pkg>.md5sums`) file:
/// `<digest>  <path>` lines. Returns the absolute paths, in order; lines
/// without a digest and a path are skipped.
pub fn parse_md5sums(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .filter_map(|l| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            let (digest, path) = l.split_once(char::is_whitespace)?;
            if digest.is_empty() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let path = path.trim_start();
            if path.is_empty() {
                None
            } else {
                absolute(path)
            }
        })
        .collect()
}

fn absolute(path: &str) -> Option<String> {
    if path == "/." || path == "." || path == "/" {
        return None;
    }
    if path.starts_with('/') {
        Some(path.to_string())
    } else {
        Some(format!("/{path}"))
    }
}

/// Suffixes of the per-package files dpkg keeps in `info/` (and distroless
/// images in `status.d/`).
const INFO_SUFFIXES: &[&str] = &[
    ".list",
    ".md5sums",
    ".conffiles",
    ".preinst",
    ".postinst",
    ".prerm",
    ".postrm",
    ".config",
    ".templates",
    ".triggers",
    ".shlibs",
    ".symbols",
];

/// The package (and architecture qualifier) an `info/` file belongs to:
/// `"var/lib/dpkg/info/libc6:amd64.list"` → `("libc6", Some("amd64"))`,
/// `"…/info/tar.md5sums"` → `("tar", None)`. Only the file name is looked at;
/// None for other suffixes or an empty package name.
pub fn info_file_package(path: &str) -> Option<(String, Option<String>)> {
    let base = path.rsplit('/').next().unwrap_or(path);
    let stem = INFO_SUFFIXES.iter().find_map(|s| base.strip_suffix(s))?;
    let (name, arch) = match stem.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (stem, None),
    };
    if name.is_empty() || arch == Some("") {
        return None;
    }
    Some((name.to_string(), arch.map(str::to_string)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_files() {
        assert_eq!(
            info_file_package("var/lib/dpkg/info/libc6:amd64.list"),
            Some(("libc6".into(), Some("amd64".into())))
        );
        assert_eq!(
            info_file_package("info/tar.md5sums"),
            Some(("tar".into(), None))
        );
        assert_eq!(info_file_package("info/tar.txt"), None);
        assert_eq!(info_file_package(".list"), None);
        assert_eq!(
            parse_list(b"/.\n/usr\r\n\nusr/bin/x\n"),
            vec!["/usr", "/usr/bin/x"]
        );
        assert_eq!(
            parse_md5sums(b"abc123  usr/bin/tar\nbad\n"),
            vec!["/usr/bin/tar"]
        );
    }
}
