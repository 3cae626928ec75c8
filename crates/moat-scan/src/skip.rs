//! `--skip-dirs` / `--skip-files` (Trivy's flags): paths the walkers leave alone.
//!
//! Patterns are globs over the path relative to the target's root (an image's path without
//! its leading `/`, a `dir:` target's path below the directory): `*` and `?` stay inside one
//! directory, `**` crosses them (`**/node_modules` is every `node_modules` directory at any
//! depth, `usr/share/doc` only that one); a leading `/` or `./` and a trailing `/` are
//! dropped. A skipped directory of a `dir:` target is never opened or listed; in a layer its
//! entries are not read (their bytes still go through the layer's digest). A skipped file
//! is never opened, and in a layer it still hides what lower layers had at its path.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// A pattern that is no glob.
#[derive(Debug, thiserror::Error)]
pub enum SkipError {
    #[error("--{flag} {pattern:?}: {message}")]
    Bad {
        flag: &'static str,
        pattern: String,
        message: String,
    },
}

/// The directories and files a scan skips (empty: none).
#[derive(Debug, Clone, Default)]
pub struct PathSkip {
    dirs: Option<GlobSet>,
    files: Option<GlobSet>,
    /// The patterns as cleaned, for the layer cache's key.
    written: Vec<String>,
}

/// A pattern without a leading `/` or `./` and a trailing `/`.
fn clean(p: &str) -> &str {
    let mut p = p.trim();
    loop {
        let q = p.trim_start_matches('/');
        let q = q.strip_prefix("./").unwrap_or(q);
        if q.len() == p.len() {
            break;
        }
        p = q;
    }
    p.trim_end_matches('/')
}

fn compile(flag: &'static str, patterns: &[String]) -> Result<Option<GlobSet>, SkipError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let bad = |pattern: &str, message: String| SkipError::Bad {
        flag,
        pattern: pattern.to_string(),
        message,
    };
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let c = clean(p);
        if c.is_empty() || c == "." {
            return Err(bad(
                p,
                "empty pattern (it would skip the whole target)".into(),
            ));
        }
        let g = GlobBuilder::new(c)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| bad(p, e.kind().to_string()))?;
        b.add(g);
    }
    b.build().map(Some).map_err(|e| bad("", e.to_string()))
}

impl PathSkip {
    /// The skips of `--skip-dirs` (`dirs`) and `--skip-files` (`files`).
    pub fn new(dirs: &[String], files: &[String]) -> Result<PathSkip, SkipError> {
        let mut written: Vec<String> = dirs.iter().map(|p| format!("dir {}", clean(p))).collect();
        written.extend(files.iter().map(|p| format!("file {}", clean(p))));
        Ok(PathSkip {
            dirs: compile("skip-dirs", dirs)?,
            files: compile("skip-files", files)?,
            written,
        })
    }

    /// Whether nothing is skipped.
    pub fn is_empty(&self) -> bool {
        self.dirs.is_none() && self.files.is_none()
    }

    /// Whether the directory at `rel` (relative, no leading `/`) is skipped.
    pub fn skips_dir(&self, rel: &str) -> bool {
        self.dirs.as_ref().is_some_and(|d| d.is_match(rel))
    }

    /// Whether the file at `rel` is skipped by a file pattern (its directories aside).
    pub fn skips_file(&self, rel: &str) -> bool {
        self.files.as_ref().is_some_and(|f| f.is_match(rel))
    }

    /// Whether the file at `rel` is skipped: by a file pattern, or because one of the
    /// directories above it is (a layer's entries come in no particular order).
    pub fn skips_path(&self, rel: &str) -> bool {
        if self.skips_file(rel) {
            return true;
        }
        let Some(dirs) = &self.dirs else {
            return false;
        };
        rel.match_indices('/')
            .any(|(i, _)| dirs.is_match(&rel[..i]))
    }

    /// The patterns, one a line, for the layer cache's key ("" when none).
    pub(crate) fn key(&self) -> String {
        self.written.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(dirs: &[&str], files: &[&str]) -> PathSkip {
        let v = |s: &[&str]| s.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        PathSkip::new(&v(dirs), &v(files)).unwrap()
    }

    #[test]
    fn globs_over_paths_relative_to_the_root() {
        let s = skip(
            &["**/node_modules", "/usr/share/doc/", "./build"],
            &["**/*.min.js", "etc/shadow"],
        );
        assert!(!s.is_empty());
        assert!(s.skips_dir("node_modules"));
        assert!(s.skips_dir("app/node_modules"));
        assert!(s.skips_dir("app/node_modules/a/node_modules"));
        assert!(!s.skips_dir("app/node_modules_x"));
        assert!(s.skips_dir("usr/share/doc"));
        assert!(!s.skips_dir("usr/share/docs"));
        assert!(
            !s.skips_dir("usr/share/doc/x"),
            "a directory pattern names the directory"
        );
        assert!(s.skips_dir("build"));
        assert!(
            !s.skips_dir("app/build"),
            "without ** a pattern is anchored at the root"
        );
        assert!(s.skips_file("app/x.min.js"));
        assert!(s.skips_file("x.min.js"));
        assert!(s.skips_file("etc/shadow"));
        assert!(!s.skips_file("etc/shadow-"));
        // a layer's entry: any directory above it
        assert!(s.skips_path("app/node_modules/debug/.coveralls.yml"));
        assert!(s.skips_path("usr/share/doc/x/copyright"));
        assert!(
            !s.skips_path("usr/share/node_modules"),
            "a file named like a directory"
        );
        assert!(!s.skips_path("app/.env"));
        assert!(s.skips_path("app/vendor/a.min.js"));
        assert_eq!(
            s.key(),
            "dir **/node_modules\ndir usr/share/doc\ndir build\nfile **/*.min.js\nfile etc/shadow"
        );
    }

    #[test]
    fn star_stays_in_one_directory() {
        let s = skip(&["app/*"], &["*.pem"]);
        assert!(s.skips_dir("app/x"));
        assert!(!s.skips_dir("app/x/y"));
        assert!(s.skips_file("key.pem"));
        assert!(!s.skips_file("certs/key.pem"));
        assert!(s.skips_path("app/x/y/z"));
    }

    #[test]
    fn none_skips_nothing() {
        let s = PathSkip::default();
        assert!(s.is_empty());
        assert!(!s.skips_dir("node_modules"));
        assert!(!s.skips_path("a/b/c"));
        assert_eq!(s.key(), "");
    }

    #[test]
    fn bad_patterns_are_errors_naming_them() {
        let e = PathSkip::new(&["a[".into()], &[]).unwrap_err().to_string();
        assert!(e.starts_with("--skip-dirs \"a[\": "), "{e}");
        let e = PathSkip::new(&[], &["/".into()]).unwrap_err().to_string();
        assert!(e.contains("--skip-files \"/\": empty pattern"), "{e}");
    }
}
