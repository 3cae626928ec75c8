//! MOAT-DF-001: the last USER of the image is root.
//!
//! **What**: the final stage (or the stage it is built on) ends with `USER root` or
//! `USER 0` (with or without a group).
//! **Why**: a process running as root in a container is one kernel or runtime bug away from
//! root on the host; anything it is tricked into writing, it may write anywhere.
//! **Example**: `USER root` as the last USER before `CMD`.
//! **Fix**: create an unprivileged user and end with `USER app` (or a numeric uid).
//! **Peers**: hadolint DL3002; Trivy DS002 (DS-0002, AVD-DS-0002); checkov CKV_DOCKER_8.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-001",
    title: "Last USER is root",
    severity: Severity::High,
    aliases: &["DL3002", "DS002", "DS-0002", "AVD-DS-0002", "CKV_DOCKER_8"],
    resolution: "End the final stage with USER set to an unprivileged user (USER app, USER 10001).",
    check,
};

/// Whether a USER value (`root`, `0:0`, `root:wheel`) is root.
pub(super) fn is_root(user: &str) -> bool {
    let name = user
        .trim()
        .trim_matches('"')
        .split(':')
        .next()
        .unwrap_or("");
    name == "root" || name == "0"
}

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    let chain = final_chain(df);
    let last = chain_instructions(df, &chain)
        .into_iter()
        .rev()
        .find(|i| i.keyword == "USER");
    if let Some(u) = last
        && is_root(&u.expanded)
    {
        out.push(hit(
            df,
            u,
            format!("the image runs as {:?}", u.expanded.trim()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn last_user_root() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nUSER app\nARG U=0\nUSER ${U}:0\n"),
            vec![4]
        );
    }

    #[test]
    fn root_then_unprivileged_is_fine() {
        assert!(lines(&RULE, "FROM a:1\nUSER root\nRUN x\nUSER rootless\n").is_empty());
        // A builder stage's root does not reach the final image.
        assert!(lines(&RULE, "FROM a:1 AS b\nUSER root\nFROM c:1\nUSER app\n").is_empty());
    }
}
