//! MOAT-DF-014: `apk add` of unpinned packages.
//!
//! **What**: a package named without `=version` (or `~version`); the name of a virtual
//! package (`-t`/`--virtual NAME`), `.apk` files and variables are not judged.
//! **Why**: builds are not reproducible; a new version arrives unreviewed.
//! **Example**: `RUN apk add --no-cache curl`.
//! **Fix**: `apk add --no-cache curl=8.5.0-r0`.
//! **Peers**: hadolint DL3018.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-014",
    title: "apk add without version pins",
    severity: Severity::Low,
    aliases: &["DL3018"],
    resolution: "Pin versions: apk add <package>=<version>.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    let with_value = ["-t", "--virtual", "-X", "--repository", "--root", "-p"];
    unpinned(df, out, "apk", &["add"], &with_value, |p| {
        p.contains(['=', '~']) || p.ends_with(".apk")
    });
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn unpinned_package() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nRUN apk add --no-cache --virtual .deps gcc=13.2.1-r0 make\n"
            ),
            vec![2]
        );
    }

    #[test]
    fn pinned_is_fine() {
        assert!(
            lines(
                &RULE,
                "FROM a:1\nRUN apk add --no-cache -t .deps gcc=13.2.1-r0 musl-dev~1.2\n"
            )
            .is_empty()
        );
    }
}
