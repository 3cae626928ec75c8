//! MOAT-DF-013: `apk add` without `--no-cache`.
//!
//! **What**: `apk add` that leaves the package index cache in the layer (unless the same RUN
//! removes `/var/cache/apk` or mounts a cache there).
//! **Why**: the index stays in the image: size, and stale metadata.
//! **Example**: `RUN apk add curl`.
//! **Fix**: `apk add --no-cache curl`.
//! **Peers**: hadolint DL3019; Trivy DS025 (DS-0025, AVD-DS-0025).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-013",
    title: "apk add without --no-cache",
    severity: Severity::High,
    aliases: &["DL3019", "DS025", "DS-0025", "AVD-DS-0025"],
    resolution: "Use apk add --no-cache.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (ins, cmds) in runs(df) {
        if cmds
            .iter()
            .any(|c| is(c, &["apk"], &["add"]) && !c.has_flag(&["--no-cache"], None))
            && !removes(cmds, &["/var/cache/apk"])
            && !cache_mount(ins, &["/var/cache/apk", "/etc/apk/cache"])
        {
            out.push(hit(df, ins, "apk add without --no-cache"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn cache_kept() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nRUN apk update && apk add curl\n"),
            vec![2]
        );
    }

    #[test]
    fn no_cache_or_removed_is_fine() {
        let src = "FROM a:1\nRUN apk add --no-cache curl\nRUN apk add x && rm -rf /var/cache/apk/*\nRUN apk del y\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
