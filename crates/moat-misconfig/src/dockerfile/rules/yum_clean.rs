//! MOAT-DF-015: `yum install` without `yum clean all`.
//!
//! **What**: a RUN installs with yum but neither runs `yum clean all` nor removes
//! `/var/cache/yum` in the same RUN.
//! **Why**: the package cache stays in the layer.
//! **Example**: `RUN yum install -y httpd`.
//! **Fix**: `RUN yum install -y httpd && yum clean all`.
//! **Peers**: hadolint DL3032; Trivy DS015 (DS-0015, AVD-DS-0015).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-015",
    title: "yum install without yum clean all",
    severity: Severity::High,
    aliases: &["DL3032", "DS015", "DS-0015", "AVD-DS-0015"],
    resolution: "Finish the RUN with && yum clean all.",
    check,
};

/// A package-manager install in a RUN without its clean-up in the same RUN.
pub(super) fn uncleaned(
    df: &Dockerfile,
    out: &mut Vec<Hit>,
    progs: &[&str],
    installs: &[&str],
    cleans: &[&str],
    need_all: bool,
    caches: &[&str],
) {
    for (ins, cmds) in runs(df) {
        let Some(prog) = cmds
            .iter()
            .find(|c| is(c, progs, installs))
            .map(|c| c.program().to_string())
        else {
            continue;
        };
        let cleaned = cmds
            .iter()
            .any(|c| is(c, progs, cleans) && (!need_all || c.args().iter().any(|a| a == "all")))
            || removes(cmds, caches)
            || cache_mount(ins, caches);
        if !cleaned {
            out.push(hit(
                df,
                ins,
                format!("{prog} install without cleaning its cache"),
            ));
        }
    }
}

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    uncleaned(
        df,
        out,
        &["yum"],
        &["install", "groupinstall", "localinstall"],
        &["clean"],
        true,
        &["/var/cache/yum"],
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn no_clean() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nRUN yum install -y httpd\nRUN yum clean all\n"
            ),
            vec![2]
        );
    }

    #[test]
    fn clean_all_or_rm_cache_is_fine() {
        let src = "FROM a:1\nRUN yum install -y a && yum clean all\nRUN yum -y install b && rm -rf /var/cache/yum\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
