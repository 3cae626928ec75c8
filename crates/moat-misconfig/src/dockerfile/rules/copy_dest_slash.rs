//! MOAT-DF-038: COPY/ADD of several sources to a destination without a trailing slash.
//!
//! **What**: more than one source and a destination not ending in `/`.
//! **Why**: BuildKit refuses it ("When using COPY with more than one source file, the
//! destination must be a directory and end with a /").
//! **Example**: `COPY a.txt b.txt /app`.
//! **Fix**: `COPY a.txt b.txt /app/`.
//! **Peers**: hadolint DL3021; Trivy DS011 (DS-0011, AVD-DS-0011).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-038",
    title: "Several sources copied to a destination without a trailing slash",
    severity: Severity::Critical,
    aliases: &["DL3021", "DS011", "DS-0011", "AVD-DS-0011"],
    resolution: "End the destination with /.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in df
        .instructions
        .iter()
        .filter(|i| matches!(i.keyword.as_str(), "COPY" | "ADD"))
    {
        if let Some((srcs, dest)) = copy_operands(df, ins)
            && srcs.len() > 1
            && !dest.ends_with('/')
            && !dest.contains('$')
        {
            out.push(hit(
                df,
                ins,
                format!(
                    "{} sources into {dest:?}, which does not end with /",
                    srcs.len()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn no_slash() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nCOPY a b /app\nADD [\"a\", \"b\", \"/c\"]\n"
            ),
            vec![2, 3]
        );
    }

    #[test]
    fn slash_or_single_source_is_fine() {
        assert!(
            lines(
                &RULE,
                "FROM a:1\nCOPY a b /app/\nCOPY a /app\nCOPY <<EOF /x\nhi\nEOF\n"
            )
            .is_empty()
        );
    }
}
