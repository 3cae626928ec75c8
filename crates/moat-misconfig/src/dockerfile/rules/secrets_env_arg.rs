//! MOAT-DF-008: a secret passed through ENV or ARG.
//!
//! **What**: an ENV or ARG whose name says it holds a secret (`PASSWORD`, `PASSWD`,
//! `SECRET`, `TOKEN`, `API_KEY`, `PRIVATE_KEY`, `ACCESS_KEY`, `CREDENTIALS`, ...). Names that
//! point at a secret rather than hold it (`*_FILE`, `*_PATH`, `*_DIR`, `*_URL`), public key
//! material (`GPG_KEY`, `PUBLIC_KEY`) and token-less words (`KEYRING`) are not.
//! **Why**: ENV values are stored in the image config; ARG values in the build history
//! (`docker history`) of every image built with them.
//! **Example**: `ARG NPM_TOKEN`, `ENV DB_PASSWORD=hunter2`.
//! **Fix**: use build secrets (`RUN --mount=type=secret,id=npm_token ...`) and runtime
//! secrets (mounted files, an orchestrator's secret store).
//! **Peers**: Trivy DS031 (DS-0031, AVD-DS-0031).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-008",
    title: "Secret passed via ENV or ARG",
    severity: Severity::Critical,
    aliases: &["DS031", "DS-0031", "AVD-DS-0031"],
    resolution: "Use RUN --mount=type=secret for build secrets and mounted files or a secret store at run time.",
    check,
};

/// Whether a variable name says it holds a secret.
pub(super) fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let parts: Vec<&str> = upper
        .split(['_', '-', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    let Some(last) = parts.last() else {
        return false;
    };
    if matches!(
        *last,
        "FILE"
            | "PATH"
            | "DIR"
            | "URL"
            | "URI"
            | "HOST"
            | "ID"
            | "NAME"
            | "USER"
            | "LENGTH"
            | "ENABLED"
    ) {
        return false;
    }
    parts.iter().enumerate().any(|(i, p)| {
        let prev = i.checked_sub(1).map(|j| parts[j]);
        match *p {
            "PASSWORD" | "PASSWD" | "SECRET" | "SECRETS" | "TOKEN" | "APIKEY" | "CREDENTIALS"
            | "PASSPHRASE" => true,
            "PASS" | "PWD" => prev.is_some(),
            "KEY" => matches!(
                prev,
                Some(
                    "API"
                        | "PRIVATE"
                        | "ACCESS"
                        | "SECRET"
                        | "ENCRYPTION"
                        | "SIGNING"
                        | "MASTER"
                        | "AUTH"
                )
            ),
            _ => false,
        }
    })
}

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in df
        .instructions
        .iter()
        .filter(|i| matches!(i.keyword.as_str(), "ENV" | "ARG"))
    {
        let legacy = ins.keyword == "ENV";
        for (k, _) in super::super::parse::key_values(&ins.args, df.escape, legacy) {
            if secret_name(&k) {
                out.push(hit(
                    df,
                    ins,
                    format!("{} {k} holds a secret in the image's metadata", ins.keyword),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn secret_names() {
        assert_eq!(
            lines(
                &RULE,
                "ARG NPM_TOKEN\nFROM a:1\nENV DB_PASSWORD=x OTHER=1\nENV AWS_SECRET_ACCESS_KEY abc\nARG github-api-key\n"
            ),
            vec![1, 3, 4, 5]
        );
    }

    #[test]
    fn pointers_and_public_keys_are_fine() {
        let src = "FROM a:1\nENV GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305\nENV POSTGRES_PASSWORD_FILE=/run/s\nARG TOKEN_URL\nENV PWD=/x KEYRING=/k PUBLIC_KEY=abc\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
