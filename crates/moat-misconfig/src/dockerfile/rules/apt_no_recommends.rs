//! MOAT-DF-010: `apt-get install` without `--no-install-recommends`.
//!
//! **What**: `apt-get install` that lets apt pull in recommended packages.
//! **Why**: recommends add packages nobody asked for: a larger image and more software with
//! vulnerabilities to patch.
//! **Example**: `RUN apt-get install -y curl`.
//! **Fix**: `apt-get install -y --no-install-recommends curl` (or set
//! `APT::Install-Recommends "false"` with `-o`).
//! **Peers**: hadolint DL3015; Trivy DS029 (DS-0029, AVD-DS-0029).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-010",
    title: "apt-get install without --no-install-recommends",
    severity: Severity::High,
    aliases: &["DL3015", "DS029", "DS-0029", "AVD-DS-0029"],
    resolution: "Add --no-install-recommends to apt-get install.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (ins, cmds) in runs(df) {
        let bad = cmds.iter().any(|c| {
            is(c, &["apt-get"], &["install"])
                && !c.has_flag(&["--no-install-recommends"], None)
                && !c.args().iter().any(|a| {
                    a.contains("Install-Recommends=false") || a.contains("Install-Recommends=0")
                })
        });
        if bad {
            out.push(hit(
                df,
                ins,
                "apt-get install without --no-install-recommends",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn recommends_installed() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nRUN apt-get install -y curl\n"),
            vec![2]
        );
    }

    #[test]
    fn flag_or_apt_option_is_fine() {
        let src = "FROM a:1\nRUN apt-get install -y --no-install-recommends a\nRUN apt-get -o APT::Install-Recommends=false install -y b\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
