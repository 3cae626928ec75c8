//! MOAT-DF-027: more than one ENTRYPOINT in a stage.
//!
//! **What**: a stage with several ENTRYPOINT instructions; each after the first is reported
//! (as hadolint does).
//! **Why**: only the last takes effect; the others mislead the reader.
//! **Example**: `ENTRYPOINT ["a"]` ... `ENTRYPOINT ["b"]`.
//! **Fix**: keep one ENTRYPOINT.
//! **Peers**: hadolint DL4004; Trivy DS007 (DS-0007, AVD-DS-0007).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-027",
    title: "Multiple ENTRYPOINT instructions",
    severity: Severity::Critical,
    aliases: &["DL4004", "DS007", "DS-0007", "AVD-DS-0007"],
    resolution: "Keep a single ENTRYPOINT per stage.",
    check,
};

/// Every instruction `keyword` of a stage after its first (ONBUILD ones left out).
pub(super) fn all_but_first(df: &Dockerfile, keyword: &str, out: &mut Vec<Hit>) {
    for s in 0..df.stages.len() {
        let list: Vec<&Instruction> = df
            .stage_instructions(s)
            .iter()
            .filter(|i| i.keyword == keyword && !i.onbuild)
            .collect();
        if let Some((_, later)) = list.split_first() {
            for ins in later {
                out.push(hit(
                    df,
                    ins,
                    format!("another {keyword} in the same stage: only the last takes effect"),
                ));
            }
        }
    }
}

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    all_but_first(df, "ENTRYPOINT", out);
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn two_in_a_stage() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nENTRYPOINT [\"a\"]\nENTRYPOINT [\"b\"]\n"),
            vec![3]
        );
    }

    #[test]
    fn one_per_stage_is_fine() {
        assert!(
            lines(
                &RULE,
                "FROM a:1 AS x\nENTRYPOINT [\"a\"]\nFROM x\nENTRYPOINT [\"b\"]\n"
            )
            .is_empty()
        );
    }
}
