//! MOAT-DF-004: `sudo` in RUN.
//!
//! **What**: a RUN command runs `sudo`.
//! **Why**: builds run as the current USER; sudo inside an image means a sudo binary and
//! sudoers policy ship in it, a privilege-escalation path, and its TTY/environment
//! behaviour is unpredictable in a build.
//! **Example**: `RUN sudo apt-get install -y curl`.
//! **Fix**: switch with `USER root` for the step, then back to the unprivileged user
//! (or use `gosu`/`su-exec` at run time).
//! **Peers**: hadolint DL3004; Trivy DS010 (DS-0010, AVD-DS-0010).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-004",
    title: "RUN uses sudo",
    severity: Severity::Critical,
    aliases: &["DL3004", "DS010", "DS-0010", "AVD-DS-0010"],
    resolution: "Use USER root for the privileged step and USER <app> after it; do not install sudo.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (ins, cmds) in runs(df) {
        if cmds.iter().any(|c| c.program() == "sudo") {
            out.push(hit(df, ins, "RUN uses sudo"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn sudo_anywhere_in_the_script() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nRUN make && \\\n  sudo make install\n"),
            vec![2]
        );
    }

    #[test]
    fn the_word_sudo_as_an_argument_is_fine() {
        assert!(
            lines(
                &RULE,
                "FROM a:1\nRUN apt-get install -y sudo && echo sudo\n"
            )
            .is_empty()
        );
    }
}
