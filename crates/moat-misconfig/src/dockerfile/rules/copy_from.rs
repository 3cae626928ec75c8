//! MOAT-DF-031: COPY --from a stage that is not there.
//!
//! **What**: `COPY --from=X` where X is the current stage (by name or index), a stage index
//! not defined before the current one, or a bare name (no `:`, `/`, `@`, `.`) that no
//! earlier stage has — BuildKit then pulls an image called X from Docker Hub.
//! **Why**: copying from itself fails; a misspelt stage name silently pulls someone
//! else's image.
//! **Example**: `FROM golang:1.22 AS build` ... `COPY --from=buidl /app /app`.
//! **Fix**: name an earlier stage (`COPY --from=build ...`), or a full image reference.
//! **Peers**: hadolint DL3022 and DL3023; Trivy DS006 (DS-0006, AVD-DS-0006; the
//! self-reference).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-031",
    title: "COPY --from an undefined or the current stage",
    severity: Severity::Critical,
    aliases: &["DL3022", "DL3023", "DS006", "DS-0006", "AVD-DS-0006"],
    resolution: "Refer to an earlier stage by its AS name, or to an image by its full reference.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for ins in df
        .instructions
        .iter()
        .filter(|i| i.keyword == "COPY" && !i.onbuild)
    {
        let (Some(cur), Some(from)) =
            (ins.stage, ins.flag("from").and_then(|f| f.value.as_deref()))
        else {
            continue;
        };
        if from.contains('$') {
            continue;
        }
        let lower = from.to_ascii_lowercase();
        let own =
            df.stages[cur].name.as_deref() == Some(lower.as_str()) || lower == cur.to_string();
        if own {
            out.push(hit(
                df,
                ins,
                format!("COPY --from={from} refers to its own stage"),
            ));
            continue;
        }
        let earlier = df.stages[..cur]
            .iter()
            .any(|s| s.name.as_deref() == Some(lower.as_str()));
        let msg = if let Ok(n) = lower.parse::<usize>() {
            (n >= cur).then(|| format!("COPY --from={from}: no stage {n} before this one"))
        } else if !earlier && !lower.contains([':', '/', '@', '.']) {
            Some(format!(
                "COPY --from={from}: no earlier stage is named {from:?} (an image of that name would be pulled)"
            ))
        } else {
            None
        };
        if let Some(m) = msg {
            out.push(hit(df, ins, m));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn self_missing_and_forward() {
        let src = "FROM a:1 AS build\nCOPY --from=build /a /a\nCOPY --from=buidl /b /b\nCOPY --from=1 /c /c\nFROM b:1\n";
        assert_eq!(lines(&RULE, src), vec![2, 3, 4]);
    }

    #[test]
    fn earlier_stages_and_images_are_fine() {
        let src = "FROM a:1 AS Build\nFROM b:1\nCOPY --from=build /a /a\nCOPY --from=0 /b /b\nCOPY --from=nginx:1.27 /c /c\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
