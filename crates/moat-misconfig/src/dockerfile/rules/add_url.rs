//! MOAT-DF-007: ADD fetches a URL with nothing to verify it.
//!
//! **What**: ADD of an `http(s)://` or git source without `--checksum` (a git URL that
//! pins a commit, `...repo.git#<40-hex commit>`, is fine).
//! **Why**: the build trusts whatever the server returns; the layer cannot be reproduced.
//! **Example**: `ADD https://example.com/tool.tgz /opt/`.
//! **Fix**: `ADD --checksum=sha256:... https://...`, or `RUN curl -fsSLo f URL && echo
//! "SUM  f" | sha256sum -c`.
//! **Peers**: checkov CKV_DOCKER_4 (every ADD); no hadolint or Trivy check of its own.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-007",
    title: "ADD fetches a remote URL without a checksum",
    severity: Severity::Medium,
    aliases: &["CKV_DOCKER_4"],
    resolution: "Add --checksum=sha256:<digest> to the ADD, or download with curl and verify the checksum.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in df.instructions.iter().filter(|i| i.keyword == "ADD") {
        if ins.flag("checksum").is_some() {
            continue;
        }
        let Some((srcs, _)) = copy_operands(df, ins) else {
            continue;
        };
        if let Some(s) = srcs
            .iter()
            .find(|s| is_remote(s) && !(s.contains(".git#") && s.len() > 40))
        {
            out.push(hit(df, ins, format!("ADD fetches {s:?} unverified")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn remote_add_without_checksum() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nADD http://example.com/package.zip /temp\n"
            ),
            vec![2]
        );
    }

    #[test]
    fn checksum_or_local_is_fine() {
        let src = "FROM a:1\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://x/y.tgz /\nADD local.tgz /\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
