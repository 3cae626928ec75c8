//! MOAT-DF-029: more than one HEALTHCHECK in a stage.
//!
//! **What**: a stage with several HEALTHCHECK instructions; each after the first is
//! reported (as hadolint does).
//! **Why**: only the last takes effect.
//! **Example**: two `HEALTHCHECK CMD ...` lines.
//! **Fix**: keep one HEALTHCHECK.
//! **Peers**: hadolint DL3012; Trivy DS023 (DS-0023, AVD-DS-0023).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-029",
    title: "Multiple HEALTHCHECK instructions",
    severity: Severity::Medium,
    aliases: &["DL3012", "DS023", "DS-0023", "AVD-DS-0023"],
    resolution: "Keep a single HEALTHCHECK per stage.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    super::multiple_entrypoint::all_but_first(df, "HEALTHCHECK", out);
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn two_in_a_stage() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nHEALTHCHECK NONE\nHEALTHCHECK CMD true\n"),
            vec![3]
        );
    }

    #[test]
    fn one_per_stage_is_fine() {
        assert!(
            lines(
                &RULE,
                "FROM a:1\nHEALTHCHECK CMD a\nFROM b:1\nHEALTHCHECK CMD b\n"
            )
            .is_empty()
        );
    }
}
