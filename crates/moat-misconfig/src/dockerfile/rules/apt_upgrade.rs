//! MOAT-DF-030: `apt-get upgrade` / `dist-upgrade` in RUN.
//!
//! **What**: `apt-get`/`apt` `upgrade`, `dist-upgrade` or `full-upgrade`.
//! **Why**: the image's content then depends on the day of the build, not on the base
//! image tag; `dist-upgrade` may even move to another release. Update the base image
//! instead.
//! **Example**: `RUN apt-get update && apt-get -y dist-upgrade`.
//! **Fix**: use a newer base image tag; pin the few packages that need a fix.
//! **Peers**: hadolint DL3005 (since retired); Trivy DS024 (DS-0024, AVD-DS-0024;
//! deprecated there).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-030",
    title: "apt-get upgrade or dist-upgrade used",
    severity: Severity::High,
    aliases: &["DL3005", "DS024", "DS-0024", "AVD-DS-0024"],
    resolution: "Rebuild on a newer base image instead of upgrading in the Dockerfile.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (ins, cmds) in runs(df) {
        if let Some(c) = cmds.iter().find(|c| {
            is(
                c,
                &["apt-get", "apt"],
                &["upgrade", "dist-upgrade", "full-upgrade"],
            )
        }) {
            out.push(hit(
                df,
                ins,
                format!("{} {}", c.program(), c.subcommand().unwrap_or("")),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn upgrade() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nRUN apt-get update && apt-get -y dist-upgrade\n"
            ),
            vec![2]
        );
    }

    #[test]
    fn pinned_install_is_fine() {
        assert!(
            lines(
                &RULE,
                "FROM a:1\nRUN apt-get install -y --only-upgrade openssl=3.0.13\n"
            )
            .is_empty()
        );
    }
}
