//! MOAT-DF-017: `zypper install` without `zypper clean`.
//!
//! **What**: a RUN installs with zypper (`install`/`in`) but runs neither `zypper clean`
//! (`cc`) nor removes `/var/cache/zypp` in the same RUN.
//! **Why**: the package cache stays in the layer.
//! **Example**: `RUN zypper install -y nginx`.
//! **Fix**: `RUN zypper install -y nginx && zypper clean`.
//! **Peers**: hadolint DL3036; Trivy DS020 (DS-0020, AVD-DS-0020).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-017",
    title: "zypper install without zypper clean",
    severity: Severity::High,
    aliases: &["DL3036", "DS020", "DS-0020", "AVD-DS-0020"],
    resolution: "Finish the RUN with && zypper clean.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    super::yum_clean::uncleaned(
        df,
        out,
        &["zypper"],
        &["install", "in"],
        &["clean", "cc"],
        false,
        &["/var/cache/zypp"],
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn no_clean() {
        assert_eq!(lines(&RULE, "FROM a:1\nRUN zypper -n in nginx\n"), vec![2]);
    }

    #[test]
    fn clean_is_fine() {
        assert!(lines(&RULE, "FROM a:1\nRUN zypper install -y a && zypper cc\n").is_empty());
    }
}
