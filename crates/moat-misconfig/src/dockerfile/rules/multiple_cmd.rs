//! MOAT-DF-028: more than one CMD in a stage.
//!
//! **What**: a stage with several CMD instructions; each after the first is
//! reported (as hadolint does).
//! **Why**: only the last takes effect.
//! **Example**: `CMD ["a"]` ... `CMD ["b"]`.
//! **Fix**: keep one CMD.
//! **Peers**: hadolint DL4003; Trivy DS016 (DS-0016, AVD-DS-0016).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-028",
    title: "Multiple CMD instructions",
    severity: Severity::High,
    aliases: &["DL4003", "DS016", "DS-0016", "AVD-DS-0016"],
    resolution: "Keep a single CMD per stage.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    super::multiple_entrypoint::all_but_first(df, "CMD", out);
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn two_in_a_stage() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nCMD a\nRUN x\nCMD b\nCMD c\n"),
            vec![4, 5]
        );
    }

    #[test]
    fn onbuild_cmd_is_not_counted() {
        assert!(lines(&RULE, "FROM a:1\nONBUILD CMD a\nCMD b\n").is_empty());
    }
}
