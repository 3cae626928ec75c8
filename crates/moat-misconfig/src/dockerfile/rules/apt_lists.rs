//! MOAT-DF-012: apt lists left in the image.
//!
//! **What**: a RUN of the shipped stages downloads the package lists (`apt-get update`,
//! `apt update`) but does not remove `/var/lib/apt/lists` in the same RUN (`rm -rf
//! /var/lib/apt/lists/*`, apt 3's `apt-get dist-clean`, or a cache mount on `/var/lib/apt`).
//! An install without an update adds no lists.
//! **Why**: the package lists (tens of MB) stay in the layer; removing them in a later RUN
//! does not shrink the image.
//! **Example**: `RUN apt-get update && apt-get install -y curl`.
//! **Fix**: end the same RUN with `&& rm -rf /var/lib/apt/lists/*`.
//! **Peers**: hadolint DL3009.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-012",
    title: "apt lists not deleted after apt-get update",
    severity: Severity::Low,
    aliases: &["DL3009"],
    resolution: "Finish the RUN with && rm -rf /var/lib/apt/lists/*.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    let chain = final_chain(df);
    for (ins, cmds) in runs(df) {
        if !ins.stage.is_some_and(|s| chain.contains(&s)) {
            continue;
        }
        if cmds.iter().any(|c| is(c, &["apt-get", "apt"], &["update"]))
            && !removes(cmds, &["/var/lib/apt/lists"])
            && !cmds
                .iter()
                .any(|c| is(c, &["apt-get", "apt"], &["dist-clean"]))
            && !cache_mount(ins, &["/var/lib/apt"])
        {
            out.push(hit(df, ins, "apt lists stay in the layer"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn lists_left_behind() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nRUN apt-get update && apt-get install -y x\nRUN rm -rf /var/lib/apt/lists/*\nRUN apt update\n"
            ),
            vec![2, 4]
        );
    }

    #[test]
    fn removed_cached_or_in_a_builder_is_fine() {
        let src = "FROM a:1 AS b\nRUN apt-get update\nFROM c:1\nRUN apt-get update && apt-get install -y y && rm -rf /var/lib/apt/lists/*\nRUN apt-get update; apt-get install -y w; apt-get dist-clean\nRUN --mount=type=cache,target=/var/lib/apt apt-get update\nRUN apt-get install -y z\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
