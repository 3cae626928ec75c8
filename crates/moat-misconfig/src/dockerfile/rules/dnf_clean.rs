//! MOAT-DF-016: `dnf`/`microdnf install` without `clean all`.
//!
//! **What**: a RUN installs with dnf or microdnf but neither runs `dnf clean all` /
//! `microdnf clean all` nor removes `/var/cache/dnf` (or `/var/cache/yum`) in the same RUN.
//! **Why**: the package cache stays in the layer.
//! **Example**: `RUN dnf install -y nginx`.
//! **Fix**: `RUN dnf install -y nginx && dnf clean all`.
//! **Peers**: hadolint DL3040; Trivy DS019 (DS-0019, AVD-DS-0019) for dnf and DS027
//! (DS-0027, AVD-DS-0027) for microdnf.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-016",
    title: "dnf/microdnf install without clean all",
    severity: Severity::High,
    aliases: &[
        "DL3040",
        "DS019",
        "DS-0019",
        "AVD-DS-0019",
        "DS027",
        "DS-0027",
        "AVD-DS-0027",
    ],
    resolution: "Finish the RUN with && dnf clean all (microdnf clean all).",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    super::yum_clean::uncleaned(
        df,
        out,
        &["dnf", "microdnf"],
        &["install", "groupinstall", "reinstall"],
        &["clean"],
        true,
        &["/var/cache/dnf", "/var/cache/yum"],
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn no_clean() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nRUN microdnf install -y nginx\n"),
            vec![2]
        );
    }

    #[test]
    fn clean_all_is_fine() {
        assert!(lines(&RULE, "FROM a:1\nRUN dnf -y install a && dnf clean all\n").is_empty());
    }
}
