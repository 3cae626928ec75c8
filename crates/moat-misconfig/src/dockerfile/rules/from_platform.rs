//! MOAT-DF-034: FROM with a fixed `--platform`.
//!
//! **What**: `FROM --platform=linux/amd64 ...` (a literal, not `$BUILDPLATFORM` /
//! `$TARGETPLATFORM`).
//! **Why**: the image is built for that platform whatever the build is asked for; a
//! multi-platform build silently ships amd64 binaries for arm64.
//! **Example**: `FROM --platform=linux/amd64 node:20`.
//! **Fix**: drop the flag, or use `--platform=$BUILDPLATFORM` for cross-compiling stages.
//! **Peers**: hadolint DL3029.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-034",
    title: "FROM with a fixed --platform",
    severity: Severity::Low,
    aliases: &["DL3029"],
    resolution: "Remove --platform, or use --platform=$BUILDPLATFORM / $TARGETPLATFORM.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for st in &df.stages {
        if let Some(p) = &st.platform
            && !p.contains('$')
            && let Some(ins) = df.instructions.get(st.from)
        {
            out.push(hit(df, ins, format!("the stage is pinned to platform {p}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn fixed_platform() {
        assert_eq!(
            lines(&RULE, "FROM --platform=linux/amd64 node:16 AS foo\n"),
            vec![1]
        );
    }

    #[test]
    fn build_platform_variable_is_fine() {
        assert!(
            lines(
                &RULE,
                "FROM --platform=$BUILDPLATFORM golang:1.22 AS b\nFROM alpine:3\n"
            )
            .is_empty()
        );
    }
}
