//! MOAT-DF-009: `apt-get install` without `-y`.
//!
//! **What**: `apt-get install` with neither `-y`/`--yes`/`--assume-yes` nor `-qq`
//! (which implies it).
//! **Why**: without it apt asks for confirmation; a build has no one to answer and fails,
//! or behaves differently with another apt version.
//! **Example**: `RUN apt-get install curl`.
//! **Fix**: `apt-get install -y curl`.
//! **Peers**: hadolint DL3014; Trivy DS021 (DS-0021, AVD-DS-0021).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-009",
    title: "apt-get install without -y",
    severity: Severity::High,
    aliases: &["DL3014", "DS021", "DS-0021", "AVD-DS-0021"],
    resolution: "Add -y (or --yes) to apt-get install.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (ins, cmds) in runs(df) {
        let bad = cmds.iter().any(|c| {
            is(c, &["apt-get"], &["install"])
                && !c.has_flag(
                    &["--yes", "--assume-yes", "-qq", "-q=2", "--quiet=2"],
                    Some('y'),
                )
        });
        if bad {
            out.push(hit(df, ins, "apt-get install without -y"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn install_without_yes() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nRUN apt-get update && apt-get install curl\n"
            ),
            vec![2]
        );
    }

    #[test]
    fn yes_in_any_spelling_is_fine() {
        let src = "FROM a:1\nRUN apt-get install -qy a\nRUN apt-get --yes install b\nRUN apt-get -qq install c\nRUN apt-get update\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
