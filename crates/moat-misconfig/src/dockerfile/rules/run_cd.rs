//! MOAT-DF-025: `cd` in RUN.
//!
//! **What**: a RUN command changes directory with `cd`.
//! **Why**: the directory lasts only for that RUN; later instructions silently run
//! elsewhere, and long `cd a && ... && cd b` chains are hard to read.
//! **Example**: `RUN cd /usr/src/app && make`.
//! **Fix**: `WORKDIR /usr/src/app` then `RUN make` (or `make -C /usr/src/app`).
//! **Peers**: hadolint DL3003; Trivy DS013 (DS-0013, AVD-DS-0013).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-025",
    title: "RUN cd instead of WORKDIR",
    severity: Severity::Medium,
    aliases: &["DL3003", "DS013", "DS-0013", "AVD-DS-0013"],
    resolution: "Use WORKDIR to change directory (or the tool's -C option).",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (ins, cmds) in runs(df) {
        if cmds.iter().any(|c| c.program() == "cd") {
            out.push(hit(df, ins, "RUN changes directory with cd"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn cd_in_run() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nRUN <<EOF\nset -e\ncd /src\nmake\nEOF\n"),
            vec![2]
        );
    }

    #[test]
    fn cd_as_a_word_is_fine() {
        assert!(lines(&RULE, "FROM a:1\nRUN echo cd && make -C /src\n").is_empty());
    }
}
