//! MOAT-DF-021: a remote-login port exposed.
//!
//! **What**: EXPOSE of 22 (SSH), 23 (telnet), 3389 (RDP) or 5900 (VNC), alone, with a
//! protocol (`22/tcp`) or inside a range.
//! **Why**: a container is not a machine to log into; a login daemon is attack surface with
//! credentials to steal, and bypasses the orchestrator's access control and audit
//! (`kubectl exec`/`docker exec` exist for debugging).
//! **Example**: `EXPOSE 8080 22`.
//! **Fix**: remove the port and the daemon; debug with `docker exec`.
//! **Peers**: Trivy DS004 (DS-0004, AVD-DS-0004; port 22 only); checkov CKV_DOCKER_1.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-021",
    title: "Remote-login port exposed",
    severity: Severity::Medium,
    aliases: &["DS004", "DS-0004", "AVD-DS-0004", "CKV_DOCKER_1"],
    resolution: "Do not run SSH, telnet, RDP or VNC in the container; use docker exec / kubectl exec.",
    check,
};

/// The ports of an EXPOSE word: `80`, `80/tcp`, `8000-8010/udp` (a range as its ends).
pub(super) fn port_range(word: &str) -> Option<(u64, u64)> {
    let p = word.split('/').next().unwrap_or(word);
    let (a, b) = p.split_once('-').unwrap_or((p, p));
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in df.instructions.iter().filter(|i| i.keyword == "EXPOSE") {
        for w in ins.expanded.split_whitespace() {
            let Some((lo, hi)) = port_range(w.trim_matches('"')) else {
                continue;
            };
            if let Some((p, name)) = crate::rule::LOGIN_PORTS
                .iter()
                .find(|(p, _)| lo <= u64::from(*p) && u64::from(*p) <= hi)
            {
                out.push(hit(df, ins, format!("port {p} ({name}) is exposed")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn ssh_port() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nEXPOSE 8080 22\nEXPOSE 22/tcp\nARG P=3389\nEXPOSE $P\n"
            ),
            vec![2, 3, 5]
        );
    }

    #[test]
    fn other_ports_are_fine() {
        assert!(lines(&RULE, "FROM a:1\nEXPOSE 8080 2222 220/udp 443\n").is_empty());
    }
}
