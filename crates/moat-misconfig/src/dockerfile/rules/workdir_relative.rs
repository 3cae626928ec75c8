//! MOAT-DF-024: a relative WORKDIR.
//!
//! **What**: WORKDIR whose path (after expanding ARG/ENV) does not start with `/` (nor a
//! Windows drive, `C:\`).
//! **Why**: a relative WORKDIR depends on the previous WORKDIR, possibly the base image's:
//! the same Dockerfile lands files elsewhere when the base changes.
//! **Example**: `WORKDIR app`.
//! **Fix**: `WORKDIR /app`.
//! **Peers**: hadolint DL3000; Trivy DS009 (DS-0009, AVD-DS-0009); checkov CKV_DOCKER_10.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-024",
    title: "WORKDIR path not absolute",
    severity: Severity::High,
    aliases: &["DL3000", "DS009", "DS-0009", "AVD-DS-0009", "CKV_DOCKER_10"],
    resolution: "Use an absolute path: WORKDIR /app.",
    check,
};

/// A WORKDIR's path: expanded, quotes removed.
pub(super) fn workdir(ins: &Instruction) -> &str {
    let p = ins.expanded.trim();
    p.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(p)
}

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in df.instructions.iter().filter(|i| i.keyword == "WORKDIR") {
        let p = workdir(ins);
        let b = p.as_bytes();
        let windows = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
        if !p.is_empty() && !p.starts_with('/') && !windows {
            out.push(hit(df, ins, format!("WORKDIR {p:?} is relative")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn relative() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nWORKDIR workdir\nWORKDIR \"../w\"\n"),
            vec![2, 3]
        );
    }

    #[test]
    fn absolute_windows_and_variables_are_fine() {
        let src = "FROM a:1\nENV D=/path\nWORKDIR $D/$UNSET\nWORKDIR ${HOME_UNSET}/bin\nWORKDIR c:\\\\windows\nWORKDIR \"/x y\"\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
