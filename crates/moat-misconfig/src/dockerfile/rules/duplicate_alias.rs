//! MOAT-DF-035: two stages with the same name.
//!
//! **What**: `FROM ... AS x` twice (names compare case-insensitively); the later ones are
//! reported.
//! **Why**: `--from=x` and `FROM x` then mean whichever BuildKit resolves, not what the
//! reader thinks (BuildKit refuses it in recent versions).
//! **Example**: `FROM debian:12 AS build` ... `FROM debian:11 AS build`.
//! **Fix**: give each stage its own name.
//! **Peers**: hadolint DL3024; Trivy DS012 (DS-0012, AVD-DS-0012); checkov CKV_DOCKER_11.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-035",
    title: "Duplicate stage names",
    severity: Severity::Critical,
    aliases: &["DL3024", "DS012", "DS-0012", "AVD-DS-0012", "CKV_DOCKER_11"],
    resolution: "Give each FROM ... AS a unique name.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (i, st) in df.stages.iter().enumerate() {
        if let Some(n) = &st.name
            && df.stages[..i]
                .iter()
                .any(|s| s.name.as_deref() == Some(n.as_str()))
            && let Some(ins) = df.instructions.get(st.from)
        {
            out.push(hit(df, ins, format!("stage name {n:?} is already used")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn duplicate() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nFROM d:2 as build\nFROM d:1 AS Build\n"),
            vec![3]
        );
    }

    #[test]
    fn unique_is_fine() {
        assert!(lines(&RULE, "FROM d:1 as build\nFROM d:1 as another-alias\n").is_empty());
    }
}
