//! MOAT-DF-003: a base image without a tag, or tagged `latest`.
//!
//! **What**: `FROM image` or `FROM image:latest` (after expanding global ARGs); `scratch`,
//! digests (`@sha256:...`) and earlier stages are fine.
//! **Why**: the build takes whatever the tag points to today: builds are not reproducible
//! and a new major version arrives unreviewed.
//! **Example**: `FROM alpine`, `FROM node:latest`.
//! **Fix**: pin a version tag (`FROM alpine:3.20`), better a digest.
//! **Peers**: hadolint DL3006 (untagged) and DL3007 (latest); Trivy DS001 (DS-0001,
//! AVD-DS-0001); checkov CKV_DOCKER_7.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-003",
    title: "Base image untagged or 'latest'",
    severity: Severity::Medium,
    aliases: &[
        "DL3006",
        "DL3007",
        "DS001",
        "DS-0001",
        "AVD-DS-0001",
        "CKV_DOCKER_7",
    ],
    resolution: "Pin the base image to a version tag, or better a digest (FROM alpine:3.20@sha256:...).",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (i, st) in df.stages.iter().enumerate() {
        let image = st.image_expanded.as_str();
        let lower = image.to_ascii_lowercase();
        if lower == "scratch" || image.contains('@') || image.is_empty() {
            continue;
        }
        // Unresolved variables: nothing to judge.
        if st.image.contains('$')
            && (image.starts_with(':') || image.ends_with(':') || image.contains("/:"))
        {
            continue;
        }
        if df.stages[..i]
            .iter()
            .any(|s| s.name.as_deref() == Some(lower.as_str()))
        {
            continue;
        }
        let last = image.rsplit('/').next().unwrap_or(image);
        let msg = match last.split_once(':') {
            None => format!("{image:?} has no tag: it means 'latest'"),
            Some((_, "latest")) => format!("{image:?} uses the 'latest' tag"),
            Some(_) => continue,
        };
        if let Some(from) = df.instructions.get(st.from) {
            out.push(hit(df, from, msg));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn untagged_and_latest() {
        assert_eq!(
            lines(&RULE, "FROM alpine\nFROM node:latest AS n\nARG V=latest\n"),
            vec![1, 2]
        );
        assert_eq!(lines(&RULE, "ARG IMG=debian\nFROM ${IMG}\n"), vec![2]);
    }

    #[test]
    fn tags_digests_scratch_and_stages_are_fine() {
        let src = "ARG V=3.20\nFROM alpine:${V} AS base\nFROM registry:5000/x/y:1\nFROM scratch\nFROM base\nFROM a@sha256:abcd\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
