//! MOAT-DF-036: a package index update not followed by an install in the same RUN.
//!
//! **What**: `apt-get update`, `apt update`, `apk update`, `yum`/`dnf` `makecache`,
//! `zypper refresh` with no install (or upgrade) by the same package manager later in the
//! same RUN.
//! **Why**: layers are cached: a later `RUN apt-get install` reuses the old cached index
//! layer and installs stale (or no longer available) versions.
//! **Example**: `RUN apt-get update` then `RUN apt-get install -y curl`.
//! **Fix**: `RUN apt-get update && apt-get install -y curl`.
//! **Peers**: Trivy DS017 (DS-0017, AVD-DS-0017); checkov CKV_DOCKER_5.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-036",
    title: "Package index update alone",
    severity: Severity::High,
    aliases: &["DS017", "DS-0017", "AVD-DS-0017", "CKV_DOCKER_5"],
    resolution: "Update and install in the same RUN: apt-get update && apt-get install -y ...",
    check,
};

/// (managers that share an index, update sub-commands, install-like sub-commands)
const MANAGERS: &[(&[&str], &[&str], &[&str])] = &[
    (
        &["apt-get", "apt"],
        &["update"],
        &[
            "install",
            "upgrade",
            "dist-upgrade",
            "full-upgrade",
            "build-dep",
        ],
    ),
    (&["apk"], &["update"], &["add", "upgrade"]),
    (
        &["yum", "dnf", "microdnf"],
        &["makecache"],
        &["install", "upgrade", "update", "groupinstall"],
    ),
    (
        &["zypper"],
        &["refresh", "ref"],
        &["install", "in", "update", "up", "dist-upgrade", "dup"],
    ),
];

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (ins, cmds) in runs(df) {
        let alone = cmds.iter().enumerate().any(|(k, c)| {
            MANAGERS.iter().any(|(progs, updates, installs)| {
                is(c, progs, updates) && !cmds[k + 1..].iter().any(|n| is(n, progs, installs))
            })
        });
        if alone {
            out.push(hit(
                df,
                ins,
                "the package index is updated without installing in the same RUN",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn update_alone_or_after_install() {
        let src = "FROM a:1\nRUN apt install x \\\n&& apt update\nRUN apk update\n";
        assert_eq!(lines(&RULE, src), vec![2, 4]);
    }

    #[test]
    fn update_then_install_is_fine() {
        let src = "FROM a:1\nRUN apt-get update && apt-get install -y x\nRUN apk update --no-cache && apk upgrade --no-cache\nRUN apk --update add moo\nRUN update-locale LANG=C\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
