//! MOAT-DF-005: a downloaded script piped straight into a shell.
//!
//! **What**: `curl ... | sh`, `wget -O- ... | bash` (also into python, perl, ruby, node).
//! **Why**: whatever the server (or anyone between) sends runs during the build, with no
//! checksum or signature checked, and the build cannot be reproduced.
//! **Example**: `RUN curl -fsSL https://get.example.com | sh`.
//! **Fix**: download to a file, verify its checksum (`sha256sum -c`) or signature, then run it.
//! **Peers**: none in hadolint, Trivy or checkov (moat's own; hadolint DL4006 is only about
//! `pipefail`).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-005",
    title: "Remote script piped into a shell",
    severity: Severity::High,
    aliases: &[],
    resolution: "Download the script to a file, verify its checksum or signature, then run it.",
    check,
};

const INTERPRETERS: &[&str] = &[
    "sh", "bash", "ash", "dash", "zsh", "ksh", "python", "python3", "perl", "ruby", "node",
];

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (ins, cmds) in runs(df) {
        let piped = cmds.windows(2).any(|w| {
            matches!(w[0].program(), "curl" | "wget") && w[1].piped && {
                let p = if w[1].program() == "sudo" {
                    w[1].args()
                        .iter()
                        .find(|a| !a.starts_with('-'))
                        .map_or("", String::as_str)
                } else {
                    w[1].program()
                };
                INTERPRETERS.contains(&p)
            }
        });
        if piped {
            out.push(hit(
                df,
                ins,
                "a downloaded script is piped into an interpreter unverified",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn curl_into_sh() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nRUN curl -fsSL https://x.io/i.sh | sh -s -- -y\nRUN wget -qO- https://y | sudo bash\n"
            ),
            vec![2, 3]
        );
    }

    #[test]
    fn piping_into_tar_or_running_a_checked_file_is_fine() {
        let src = "FROM a:1\nRUN curl -fsSL https://x/a.tgz | tar xz\nRUN curl -o i.sh https://x && sha256sum -c s && sh i.sh\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
