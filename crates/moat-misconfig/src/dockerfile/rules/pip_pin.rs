//! MOAT-DF-019: `pip install` of unpinned packages.
//!
//! **What**: a requirement named without a version specifier (`==`, `>=`, `~=`, `<`, ...)
//! on the command line; requirement and constraint files (`-r`, `-c`), editable and local
//! paths, archives, VCS URLs and variables are not judged.
//! **Why**: the build installs whatever PyPI has that day.
//! **Example**: `RUN pip install flask`.
//! **Fix**: `pip install flask==3.0.3`, or a pinned requirements file with hashes.
//! **Peers**: hadolint DL3013.

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-019",
    title: "pip install without version pins",
    severity: Severity::Low,
    aliases: &["DL3013"],
    resolution: "Pin versions (pip install <package>==<version>) or install from a pinned requirements file.",
    check,
};

const WITH_VALUE: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--platform",
    "--python-version",
    "--src",
    "--trusted-host",
    "--progress-bar",
];

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (ins, cmds) in runs(df) {
        let mut unpinned = Vec::new();
        for words in super::pip_no_cache::pip_installs(cmds) {
            let mut skip = false;
            for a in &words[1..] {
                if skip {
                    skip = false;
                    continue;
                }
                if a.starts_with('-') {
                    skip = WITH_VALUE.contains(&a.as_str());
                    continue;
                }
                let local = a.contains('/')
                    || a.starts_with('.')
                    || a.contains('$')
                    || a.contains("://")
                    || [".whl", ".tar.gz", ".zip"].iter().any(|e| a.ends_with(e));
                let pinned = a.contains(['=', '<', '>', '~', '@']);
                if !local && !pinned {
                    unpinned.push(a.clone());
                }
            }
        }
        if !unpinned.is_empty() {
            out.push(hit(df, ins, format!("unpinned: {}", unpinned.join(", "))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn unpinned_requirement() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nRUN pip install --no-cache-dir flask requests==2.32.3\nRUN pip install -U pip\n"
            ),
            vec![2, 3]
        );
    }

    #[test]
    fn pinned_files_and_paths_are_fine() {
        let src = "FROM a:1\nRUN pip install -r requirements.txt -c c.txt 'x>=1,<2' . ./dist/a.whl git+https://g/x.git -U pip==24.0\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
