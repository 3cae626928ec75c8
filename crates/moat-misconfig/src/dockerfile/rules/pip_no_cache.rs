//! MOAT-DF-018: `pip install` without `--no-cache-dir`.
//!
//! **What**: `pip`/`pip3`/`python -m pip install` keeping its download cache, unless the
//! stage sets `PIP_NO_CACHE_DIR` or the RUN mounts a cache on `/root/.cache`.
//! **Why**: the wheel cache stays in the layer (often tens of MB).
//! **Example**: `RUN pip install flask==3.0.0`.
//! **Fix**: `pip install --no-cache-dir ...`.
//! **Peers**: hadolint DL3042.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-018",
    title: "pip install without --no-cache-dir",
    severity: Severity::Low,
    aliases: &["DL3042"],
    resolution: "Use pip install --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1).",
    check,
};

/// The pip install commands of a RUN (`pip install`, `python3 -m pip install`), as the
/// words from `install` on.
pub(super) fn pip_installs(cmds: &[Command]) -> Vec<&[String]> {
    cmds.iter()
        .filter_map(|c| {
            let w = &c.words;
            let start = if c.program().starts_with("pip") {
                1
            } else if c.program().starts_with("python") {
                w.iter().position(|x| x == "pip")? + 1
            } else {
                return None;
            };
            let rest = w.get(start..)?;
            let i = rest.iter().position(|x| x == "install")?;
            Some(&rest[i..])
        })
        .collect()
}

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    // Per stage, the line of the first ENV that turns pip's cache off.
    let mut off: Vec<Option<u32>> = vec![None; df.stages.len()];
    for i in df
        .instructions
        .iter()
        .filter(|i| i.keyword == "ENV" && i.args.contains("PIP_NO_CACHE_DIR"))
    {
        if let Some(slot) = i.stage.and_then(|s| off.get_mut(s)) {
            slot.get_or_insert(i.line);
        }
    }
    for (ins, cmds) in runs(df) {
        let env_off = ins
            .stage
            .and_then(|s| off.get(s).copied().flatten())
            .is_some_and(|line| line < ins.line);
        if env_off || cache_mount(ins, &["/root/.cache"]) {
            continue;
        }
        if pip_installs(cmds)
            .iter()
            .any(|w| !w.iter().any(|a| a == "--no-cache-dir"))
        {
            out.push(hit(df, ins, "pip install keeps its cache in the layer"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn cache_kept() {
        assert_eq!(
            lines(&RULE, "FROM a:1\nRUN python3 -m pip install -U pip\n"),
            vec![2]
        );
    }

    #[test]
    fn no_cache_dir_or_env_is_fine() {
        let src = "FROM a:1\nRUN pip --trusted-host h install --no-cache-dir x==1\nENV PIP_NO_CACHE_DIR=1\nRUN pip3 install y==2\nRUN pip list\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
