//! MOAT-DF-020: `npm install` where `npm ci` or a pinned version belongs.
//!
//! **What**: `npm install`/`npm i`/`npm add` of a package without `@version` (scoped
//! packages need their second `@`), or `npm install` with no package at all (which resolves
//! `package.json` ranges afresh instead of installing the lockfile).
//! **Why**: the build gets whatever the registry serves that day; the lockfile is ignored.
//! **Example**: `RUN npm install express`, `RUN npm install`.
//! **Fix**: `npm ci` for the project's dependencies, `npm install express@4.19.2` for a tool.
//! **Peers**: hadolint DL3016 (the unpinned-package half).

use super::*;

pub const RULE: DfRule = DfRule {
    id: "MOAT-DF-020",
    title: "npm install without ci or version pins",
    severity: Severity::Low,
    aliases: &["DL3016"],
    resolution: "Use npm ci to install from the lockfile; pin tools as <package>@<version>.",
    check,
};

fn check(df: &Dockerfile, out: &mut Vec<Hit>) {
    for (ins, cmds) in runs(df) {
        for c in cmds
            .iter()
            .filter(|c| is(c, &["npm"], &["install", "i", "add"]))
        {
            let pkgs = packages(
                c,
                &["install", "i", "add"],
                &["--prefix", "--registry", "--cache"],
            );
            let unpinned: Vec<&str> = pkgs
                .iter()
                .copied()
                .filter(|p| {
                    let pinned = match p.strip_prefix('@') {
                        Some(scoped) => scoped.contains('@'),
                        None => p.contains('@'),
                    };
                    let local = p.starts_with(['.', '/'])
                        || p.contains(['$', ':'])
                        || p.ends_with(".tgz")
                        || (p.contains('/') && !p.starts_with('@'));
                    !pinned && !local
                })
                .collect();
            let msg = if pkgs.is_empty() {
                Some("npm install without a package resolves ranges anew: use npm ci".to_string())
            } else if !unpinned.is_empty() {
                Some(format!("unpinned: {}", unpinned.join(", ")))
            } else {
                None
            };
            if let Some(m) = msg {
                out.push(hit(df, ins, m));
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn unpinned_or_bare_install() {
        assert_eq!(
            lines(
                &RULE,
                "FROM a:1\nRUN npm install -g @angular/cli\nRUN npm install\n"
            ),
            vec![2, 3]
        );
    }

    #[test]
    fn ci_and_pins_are_fine() {
        let src = "FROM a:1\nRUN npm ci --omit=dev\nRUN npm install -g @angular/cli@17.3.0 express@4.19.2 ./local\n";
        assert!(lines(&RULE, src).is_empty());
    }
}
