//! MOAT-DF-033: world-writable permissions.
//!
//! **What**: `chmod` with a mode giving others write permission (`777`, `0666`, `o+w`,
//! `a+w`, `+w` is left alone as umask-dependent), or COPY/ADD `--chmod` doing so.
//! **Why**: any user or process in the container can change the files: a compromised
//! unprivileged process can replace binaries or scripts that root later runs.
//! **Example**: `RUN chmod -R 777 /app`.
//! **Fix**: give ownership to the user that needs it (`--chown`, `chown`) and use `755`/`644`.
//! **Peers**: none in hadolint, Trivy or checkov (moat's own).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-033",
    title: "World-writable permissions set",
    severity: Severity::Medium,
    aliases: &[],
    resolution: "Grant write access to the owning user only (chown the files, chmod 755/644).",
    check,
};

/// Whether a chmod mode gives others write access.
fn world_writable(mode: &str) -> bool {
    if !mode.is_empty() && mode.len() <= 5 && mode.chars().all(|c| c.is_digit(8)) {
        return mode
            .chars()
            .last()
            .and_then(|c| c.to_digit(8))
            .is_some_and(|d| d & 2 != 0);
    }
    mode.split(',').any(|clause| {
        clause.split_once(['+', '=']).is_some_and(|(who, perms)| {
            (who.contains('o') || who.contains('a')) && perms.contains('w')
        })
    })
}

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in &df.instructions {
        let bad = match ins.keyword.as_str() {
            "RUN" => ins.commands.iter().any(|c| {
                c.program() == "chmod"
                    && c.args()
                        .iter()
                        .any(|a| !a.starts_with('-') && world_writable(a))
            }),
            "COPY" | "ADD" => ins
                .flag("chmod")
                .and_then(|f| f.value.as_deref())
                .is_some_and(world_writable),
            _ => false,
        };
        if bad {
            out.push(hit(df, ins, "files are made world-writable"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn world_writable_modes() {
        let src =
            "FROM a:1\nRUN chmod -R 777 /app\nCOPY --chmod=0666 a /a\nRUN chmod a+rwx,g-w /x\n";
        assert_eq!(lines(&RULE, src), vec![2, 3, 4]);
    }

    #[test]
    fn owner_only_modes_are_fine() {
        let src = "FROM a:1\nRUN chmod 755 /app && chmod u+w,go-w /x && chmod 1775 /y\nCOPY --chmod=644 a /a\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
