//! MOAT-DF-032: MAINTAINER is deprecated.
//!
//! **What**: a MAINTAINER instruction.
//! **Why**: deprecated since Docker 1.13; the value is not visible to tools that read labels.
//! **Example**: `MAINTAINER jane@example.com`.
//! **Fix**: `LABEL org.opencontainers.image.authors="jane@example.com"`.
//! **Peers**: hadolint DL4000; Trivy DS022 (DS-0022, AVD-DS-0022); checkov CKV_DOCKER_6.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-032",
    title: "Deprecated MAINTAINER used",
    severity: Severity::High,
    aliases: &["DL4000", "DS022", "DS-0022", "AVD-DS-0022", "CKV_DOCKER_6"],
    resolution: "Use LABEL org.opencontainers.image.authors=\"...\" instead.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in df.instructions.iter().filter(|i| i.keyword == "MAINTAINER") {
        out.push(hit(df, ins, "MAINTAINER is deprecated"));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn maintainer() {
        assert_eq!(lines(&RULE, "FROM a:1\nmaintainer x\n"), vec![2]);
    }

    #[test]
    fn label_is_fine() {
        assert!(lines(&RULE, "FROM a:1\nLABEL maintainer=x\n").is_empty());
    }
}
