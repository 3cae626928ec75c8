//! MOAT-DF-039: WORKDIR in a system directory.
//!
//! **What**: WORKDIR at or under `/proc`, `/sys`, `/dev`, `/boot`, `/initrd` or
//! `/lost+found`.
//! **Why**: these are kernel or host-managed file systems at run time; working (and writing)
//! there is at best lost, at worst a step towards a container breakout.
//! **Example**: `WORKDIR /proc/self/fd`.
//! **Fix**: use an application directory (`/app`, `/srv/app`).
//! **Peers**: Trivy DS030 (DS-0030, AVD-DS-0030).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-039",
    title: "WORKDIR in a system directory",
    severity: Severity::High,
    aliases: &["DS030", "DS-0030", "AVD-DS-0030"],
    resolution: "Use an application directory such as /app.",
    check,
};

const SYSTEM: &[&str] = &["/proc", "/sys", "/dev", "/boot", "/initrd", "/lost+found"];

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in df.instructions.iter().filter(|i| i.keyword == "WORKDIR") {
        let p = super::workdir_relative::workdir(ins).trim_end_matches('/');
        if SYSTEM
            .iter()
            .any(|s| p == *s || p.starts_with(&format!("{s}/")))
        {
            out.push(hit(df, ins, format!("WORKDIR {p} is a system directory")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn system_dir() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nWORKDIR /proc/self\nWORKDIR /dev/\n"),
            vec![2, 3]
        );
    }

    #[test]
    fn similar_names_are_fine() {
        assert!(lines(&RULE, "FROM a:1\nWORKDIR /devel\nWORKDIR /app/proc\n").is_empty());
    }
}
