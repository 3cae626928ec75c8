//! MOAT-DF-037: both wget and curl used.
//!
//! **What**: the Dockerfile downloads with both `wget` and `curl`; the first RUN using the
//! second tool is reported.
//! **Why**: two tools for one job: both end up installed, a larger image and twice the
//! attack surface.
//! **Example**: `RUN wget -q https://a` ... `RUN curl -fsSLO https://b`.
//! **Fix**: pick one.
//! **Peers**: hadolint DL4001; Trivy DS014 (DS-0014, AVD-DS-0014).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-037",
    title: "Both wget and curl used",
    severity: Severity::Low,
    aliases: &["DL4001", "DS014", "DS-0014", "AVD-DS-0014"],
    resolution: "Use either wget or curl throughout.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    let mut first: Option<&str> = None;
    for (ins, cmds) in runs(df) {
        for c in cmds {
            let p = c.program();
            if p != "wget" && p != "curl" {
                continue;
            }
            match first {
                None => first = Some(if p == "wget" { "wget" } else { "curl" }),
                Some(f) if f != p => {
                    out.push(hit(df, ins, format!("{p} is used besides {f}")));
                    return;
                }
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn both() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nRUN wget -q https://a\nRUN true\nRUN curl -O https://b && curl x\n"
            ),
            vec![4]
        );
    }

    #[test]
    fn one_tool_is_fine() {
        assert!(
            lines(
                &RULE,
                "FROM a:1\nRUN curl -O https://a\nRUN curl https://b && echo wget\n"
            )
            .is_empty()
        );
    }
}
