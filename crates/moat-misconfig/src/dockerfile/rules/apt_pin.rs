//! MOAT-DF-011: `apt-get install` of unpinned packages.
//!
//! **What**: a package named without `=version` (local `.deb` files and variables are not
//! judged).
//! **Why**: the build installs whatever the mirror has that day; two builds of the same
//! Dockerfile differ.
//! **Example**: `RUN apt-get install -y curl`.
//! **Fix**: `apt-get install -y curl=7.88.1-10+deb12u5`.
//! **Peers**: hadolint DL3008.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-011",
    title: "apt-get install without version pins",
    severity: Severity::Low,
    aliases: &["DL3008"],
    resolution: "Pin versions: apt-get install -y <package>=<version>.",
    check,
};

pub(super) const APT_OPTS_WITH_VALUE: &[&str] =
    &["-o", "-t", "--target-release", "-c", "--config-file"];

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    // Pinned, or a local .deb, or a release-qualified name (`foo/bookworm-backports`).
    unpinned(df, out, "apt-get", &["install"], APT_OPTS_WITH_VALUE, |p| {
        p.contains('=') || p.ends_with(".deb") || p.contains('/')
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
                "FROM a:1\nRUN apt-get install -y -o Dpkg::Options::=x a=1 curl\n"
            ),
            vec![2]
        );
    }

    #[test]
    fn pinned_or_local_is_fine() {
        let src = "FROM a:1\nRUN apt-get install -y curl=7.88.1 ./x.deb \"$PKGS\"\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
