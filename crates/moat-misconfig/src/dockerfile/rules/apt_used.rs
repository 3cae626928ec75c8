//! MOAT-DF-040: `apt` instead of `apt-get` in RUN.
//!
//! **What**: a RUN runs `apt` (the interactive front end).
//! **Why**: apt's command-line interface is not stable for scripts (it warns so itself) and
//! its progress output and prompts are meant for people.
//! **Example**: `RUN apt install -y curl`.
//! **Fix**: `apt-get install -y curl` (and `apt-cache` for queries).
//! **Peers**: hadolint DL3027; checkov CKV_DOCKER_9.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-040",
    title: "apt used instead of apt-get",
    severity: Severity::Low,
    aliases: &["DL3027", "CKV_DOCKER_9"],
    resolution: "Use apt-get (and apt-cache) in Dockerfiles.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (ins, cmds) in runs(df) {
        if cmds.iter().any(|c| c.program() == "apt") {
            out.push(hit(
                df,
                ins,
                "RUN uses apt, whose interface is not meant for scripts",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn apt() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nRUN apt update && apt-get install -y x\n"),
            vec![2]
        );
    }

    #[test]
    fn apt_get_and_apt_key_are_fine() {
        assert!(
            lines(
                &RULE,
                "FROM a:1\nRUN apt-get install -y x && apt-key add k && apt-cache policy\n"
            )
            .is_empty()
        );
    }
}
