//! MOAT-DF-026: ENTRYPOINT or CMD in shell form.
//!
//! **What**: `CMD app --flag` / `ENTRYPOINT app` instead of the JSON (exec) form.
//! **Why**: the shell form runs `/bin/sh -c`, which becomes PID 1: signals (SIGTERM on
//! `docker stop`) do not reach the application, which is killed after the timeout; an
//! ENTRYPOINT in shell form also ignores CMD and `docker run` arguments.
//! **Example**: `CMD node server.js`.
//! **Fix**: `CMD ["node", "server.js"]`.
//! **Peers**: hadolint DL3025.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-026",
    title: "ENTRYPOINT/CMD in shell form",
    severity: Severity::Low,
    aliases: &["DL3025"],
    resolution: "Use the JSON form: CMD [\"executable\", \"arg\"].",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in df
        .instructions
        .iter()
        .filter(|i| matches!(i.keyword.as_str(), "CMD" | "ENTRYPOINT") && !i.onbuild)
    {
        if ins.json.is_none() && !ins.args.is_empty() {
            out.push(hit(
                df,
                ins,
                format!(
                    "{} in shell form: signals do not reach the process",
                    ins.keyword
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
    fn shell_form() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nENTRYPOINT /app\nCMD [\"a\", 'b']\n"),
            vec![2, 3]
        );
    }

    #[test]
    fn json_form_is_fine() {
        assert!(lines(&RULE, "FROM a:1\nENTRYPOINT [\"/app\"]\nCMD [ \"--x\" ]\n").is_empty());
    }
}
