//! MOAT-DF-002: no USER in the image's stages: it runs as root by default.
//!
//! **What**: neither the final stage nor a stage it is built on sets USER.
//! **Why**: without USER, the container's process runs as root (unless the base image set
//! another user, which moat cannot see from the Dockerfile).
//! **Example**: `FROM debian:12` ... `CMD ["app"]` with no USER.
//! **Fix**: add `USER app` (after creating the user) before the CMD/ENTRYPOINT.
//! **Peers**: Trivy DS002 (DS-0002, AVD-DS-0002), which reports both cases as one check;
//! checkov CKV_DOCKER_3.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-002",
    title: "No USER: the image runs as root",
    severity: Severity::High,
    aliases: &["DS002", "DS-0002", "AVD-DS-0002", "CKV_DOCKER_3"],
    resolution: "Create an unprivileged user and add USER before CMD/ENTRYPOINT.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    let chain = final_chain(df);
    if chain_instructions(df, &chain)
        .iter()
        .any(|i| i.keyword == "USER")
    {
        return;
    }
    if let Some(&last) = chain.first()
        && let Some(from) = df.instructions.get(df.stages[last].from)
    {
        out.push(hit(
            df,
            from,
            "no USER instruction: the container runs as root",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn no_user_in_final_stage() {
        assert_eq!(
            lines(&RULE, "FROM a:1 AS b\nUSER app\nFROM c:1\nRUN x\n"),
            vec![3]
        );
    }

    #[test]
    fn user_inherited_from_a_stage_base_counts() {
        assert!(lines(&RULE, "FROM a:1 AS b\nUSER app\nFROM b\nRUN x\n").is_empty());
    }
}
