//! MOAT-DF-006: ADD where COPY would do.
//!
//! **What**: ADD of local files or directories that are not archives.
//! **Why**: ADD also fetches URLs and extracts archives; using it for plain files hides
//! which behaviour was meant, and an archive added later is silently unpacked.
//! **Example**: `ADD app/ /app/`.
//! **Fix**: `COPY app/ /app/`; keep ADD for a local tar archive that should be extracted.
//! **Peers**: hadolint DL3020; Trivy DS005 (DS-0005, AVD-DS-0005); checkov CKV_DOCKER_4
//! (which flags every ADD; a remote ADD is [MOAT-DF-007](super::add_url) here).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-006",
    title: "ADD used where COPY fits",
    severity: Severity::Low,
    aliases: &["DL3020", "DS005", "DS-0005", "AVD-DS-0005", "CKV_DOCKER_4"],
    resolution: "Use COPY for local files; keep ADD for local archives meant to be extracted.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in df.instructions.iter().filter(|i| i.keyword == "ADD") {
        let Some((srcs, _)) = copy_operands(df, ins) else {
            continue;
        };
        if let Some(s) = srcs.iter().find(|s| !is_remote(s) && !is_archive(s)) {
            out.push(hit(
                df,
                ins,
                format!("ADD of {s:?}, which is neither a URL nor an archive: use COPY"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn add_of_plain_files() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nADD --chown=1:1 app.py conf/ /app/\n"),
            vec![2]
        );
    }

    #[test]
    fn archives_and_urls_are_not_this_rule() {
        let src = "FROM a:1\nADD rootfs.tar.xz /\nADD [\"https://x/y.bin\", \"/y\"]\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
