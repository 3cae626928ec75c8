//! MOAT-DF-022: an exposed port outside 0-65535.
//!
//! **What**: an EXPOSE port (or range end) over 65535.
//! **Why**: no such port exists; the instruction is a typo and the intended port is not
//! documented (BuildKit refuses it at build time).
//! **Example**: `EXPOSE 80800`.
//! **Fix**: expose the port meant.
//! **Peers**: hadolint DL3011; Trivy DS008 (DS-0008, AVD-DS-0008).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-022",
    title: "Exposed port out of range",
    severity: Severity::Critical,
    aliases: &["DL3011", "DS008", "DS-0008", "AVD-DS-0008"],
    resolution: "Expose a port between 0 and 65535.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in df.instructions.iter().filter(|i| i.keyword == "EXPOSE") {
        for w in ins.expanded.split_whitespace() {
            if let Some((lo, hi)) = super::expose_remote_login::port_range(w.trim_matches('"'))
                && (lo > 65535 || hi > 65535)
            {
                out.push(hit(df, ins, format!("port {w} is out of range")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn too_large() {
        assert_eq!(lines(&RULE, "FROM a:1\nEXPOSE 80 65536/udp\n"), vec![2]);
    }

    #[test]
    fn largest_port_is_fine() {
        assert!(lines(&RULE, "FROM a:1\nEXPOSE 65535 0 1000-2000\n").is_empty());
    }
}
