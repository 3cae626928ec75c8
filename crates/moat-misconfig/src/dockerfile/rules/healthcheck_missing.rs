//! MOAT-DF-023: no HEALTHCHECK.
//!
//! **What**: neither the final stage nor a stage it is built on has a HEALTHCHECK
//! (`HEALTHCHECK NONE`, an explicit choice, counts as one).
//! **Why**: without it, Docker and Swarm cannot tell a hung service from a healthy one.
//! (Kubernetes ignores HEALTHCHECK and uses probes; the severity is low.)
//! **Example**: a service image with `CMD ["server"]` and no HEALTHCHECK.
//! **Fix**: `HEALTHCHECK CMD curl -fsS http://localhost:8080/health || exit 1`.
//! **Peers**: Trivy DS026 (DS-0026, AVD-DS-0026); checkov CKV_DOCKER_2.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-023",
    title: "No HEALTHCHECK defined",
    severity: Severity::Low,
    aliases: &["DS026", "DS-0026", "AVD-DS-0026", "CKV_DOCKER_2"],
    resolution: "Add a HEALTHCHECK instruction (or HEALTHCHECK NONE to say there is none on purpose).",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    let chain = final_chain(df);
    if chain_instructions(df, &chain)
        .iter()
        .any(|i| i.keyword == "HEALTHCHECK")
    {
        return;
    }
    if let Some(&last) = chain.first()
        && let Some(from) = df.instructions.get(df.stages[last].from)
    {
        out.push(hit(df, from, "the image has no HEALTHCHECK"));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn missing() {
        assert_eq!(
            lines(&RULE, "FROM a:1 AS b\nHEALTHCHECK NONE\nFROM c:1\nCMD x\n"),
            vec![3]
        );
    }

    #[test]
    fn present_in_final_or_base_stage() {
        assert!(
            lines(
                &RULE,
                "FROM a:1 AS b\nHEALTHCHECK --interval=5s \\\n  CMD true\nFROM b\n"
            )
            .is_empty()
        );
    }
}
