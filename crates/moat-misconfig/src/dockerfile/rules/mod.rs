//! The Dockerfile rules, one file each, and [`ALL`], the order they run and report in.
//!
//! Each file opens with what the rule checks, why, an example, the fix and the ids of the
//! same check in hadolint, Trivy (`DSnnn`, `DS-0nnn`, `AVD-DS-0nnn`) and checkov. Severities
//! are Trivy's where Trivy has the check; otherwise hadolint's level mapped (error: HIGH,
//! warning: MEDIUM, info: LOW) or moat's judgement, said in the file.
//!
//! Scope: rules about the image that is shipped (the last USER, HEALTHCHECK, caches left in
//! layers) look at the final stage and the stages it is built `FROM`
//! ([`final_chain`]); rules about a single instruction look at every stage, ONBUILD
//! triggers included.

use super::parse::{Dockerfile, Instruction};
use super::shell::Command;
use crate::rule::{Hit, Rule};
use moat_model::Severity;

pub type DfRule = Rule<Dockerfile>;

mod add_instead_of_copy;
mod add_url;
mod apk_no_cache;
mod apk_pin;
mod apt_lists;
mod apt_no_recommends;
mod apt_pin;
mod apt_upgrade;
mod apt_used;
mod apt_yes;
mod chmod_world_writable;
mod copy_dest_slash;
mod copy_from;
mod dnf_clean;
mod duplicate_alias;
mod expose_range;
mod expose_remote_login;
mod from_latest;
mod from_platform;
mod healthcheck_missing;
mod maintainer;
mod multiple_cmd;
mod multiple_entrypoint;
mod multiple_healthcheck;
mod npm_pin;
mod pip_no_cache;
mod pip_pin;
mod pipe_to_shell;
mod run_cd;
mod secrets_env_arg;
mod shell_form_cmd;
mod sudo;
mod update_alone;
mod user_missing;
mod user_root;
mod wget_and_curl;
mod workdir_relative;
mod workdir_system;
mod yum_clean;
mod zypper_clean;

/// Every rule, by id.
pub const ALL: &[&DfRule] = &[
    &user_root::RULE,
    &user_missing::RULE,
    &from_latest::RULE,
    &sudo::RULE,
    &pipe_to_shell::RULE,
    &add_instead_of_copy::RULE,
    &add_url::RULE,
    &secrets_env_arg::RULE,
    &apt_yes::RULE,
    &apt_no_recommends::RULE,
    &apt_pin::RULE,
    &apt_lists::RULE,
    &apk_no_cache::RULE,
    &apk_pin::RULE,
    &yum_clean::RULE,
    &dnf_clean::RULE,
    &zypper_clean::RULE,
    &pip_no_cache::RULE,
    &pip_pin::RULE,
    &npm_pin::RULE,
    &expose_remote_login::RULE,
    &expose_range::RULE,
    &healthcheck_missing::RULE,
    &workdir_relative::RULE,
    &run_cd::RULE,
    &shell_form_cmd::RULE,
    &multiple_entrypoint::RULE,
    &multiple_cmd::RULE,
    &multiple_healthcheck::RULE,
    &apt_upgrade::RULE,
    &copy_from::RULE,
    &maintainer::RULE,
    &chmod_world_writable::RULE,
    &from_platform::RULE,
    &duplicate_alias::RULE,
    &update_alone::RULE,
    &wget_and_curl::RULE,
    &copy_dest_slash::RULE,
    &workdir_system::RULE,
    &apt_used::RULE,
];

/// The rule with id `id`.
pub fn by_id(id: &str) -> Option<&'static DfRule> {
    ALL.iter().copied().find(|r| r.id == id)
}

/// A hit on a whole instruction.
fn hit(df: &Dockerfile, ins: &Instruction, message: impl Into<String>) -> Hit {
    Hit {
        start_line: ins.line,
        end_line: ins.end_line,
        message: message.into(),
        cause: Some(ins.cause()),
        resource: ins
            .stage
            .and_then(|s| df.stages.get(s).map(|st| st.resource(s))),
        file: None,
    }
}

/// Every RUN (ONBUILD ones too) with its commands.
fn runs(df: &Dockerfile) -> impl Iterator<Item = (&Instruction, &[Command])> {
    df.instructions
        .iter()
        .filter(|i| i.keyword == "RUN")
        .map(|i| (i, i.commands.as_slice()))
}

/// The final stage and the stages it is built on (`FROM earlier-stage`), final first.
fn final_chain(df: &Dockerfile) -> Vec<usize> {
    let mut chain = Vec::new();
    let mut cur = df.stages.len().checked_sub(1);
    while let Some(i) = cur {
        if chain.contains(&i) {
            break;
        }
        chain.push(i);
        let image = df.stages[i].image_expanded.to_ascii_lowercase();
        cur = df.stages[..i]
            .iter()
            .rposition(|s| s.name.as_deref() == Some(image.as_str()));
    }
    chain
}

/// The instructions of the stages in `chain`, ONBUILD triggers left out, in file order of
/// the chain's stages (final stage last).
fn chain_instructions<'a>(df: &'a Dockerfile, chain: &[usize]) -> Vec<&'a Instruction> {
    let mut out = Vec::new();
    for &s in chain.iter().rev() {
        out.extend(df.stage_instructions(s).iter().filter(|i| !i.onbuild));
    }
    out
}

/// Whether a RUN mounts a cache at one of `dirs` (`--mount=type=cache,target=/var/cache/apt`).
fn cache_mount(ins: &Instruction, dirs: &[&str]) -> bool {
    ins.flags.iter().any(|f| {
        f.name == "mount"
            && f.value.as_deref().is_some_and(|v| {
                v.contains("type=cache")
                    && dirs.iter().any(|d| {
                        v.split(',').any(|kv| {
                            kv.split_once('=').is_some_and(|(k, val)| {
                                matches!(k, "target" | "dst" | "destination")
                                    && val.trim_end_matches('/').starts_with(d)
                            })
                        })
                    })
            })
    })
}

/// Whether a command removes a path under one of `dirs` (`rm -rf /var/lib/apt/lists/*`).
fn removes(cmds: &[Command], dirs: &[&str]) -> bool {
    cmds.iter().any(|c| {
        c.program() == "rm"
            && c.args()
                .iter()
                .any(|a| dirs.iter().any(|d| a.starts_with(d)))
    })
}

/// The package arguments of an install command: the words after `sub` that are not options,
/// skipping the values of the options in `with_value`.
fn packages<'a>(c: &'a Command, subs: &[&str], with_value: &[&str]) -> Vec<&'a str> {
    let args = c.args();
    let Some(pos) = args.iter().position(|a| subs.contains(&a.as_str())) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut skip = false;
    for a in &args[pos + 1..] {
        if skip {
            skip = false;
            continue;
        }
        if a.starts_with('-') {
            if with_value.contains(&a.as_str()) {
                skip = true;
            }
            continue;
        }
        out.push(a.as_str());
    }
    out
}

/// One hit per RUN that installs, with `prog SUB` (`subs`), packages `pinned` rejects.
fn unpinned(
    df: &Dockerfile,
    out: &mut Vec<Hit>,
    prog: &str,
    subs: &[&str],
    with_value: &[&str],
    pinned: fn(&str) -> bool,
) {
    for (ins, cmds) in runs(df) {
        let list: Vec<&str> = cmds
            .iter()
            .filter(|c| c.program() == prog)
            .flat_map(|c| packages(c, subs, with_value))
            .filter(|p| !p.contains('$') && !pinned(p))
            .collect();
        if !list.is_empty() {
            out.push(hit(df, ins, format!("unpinned: {}", list.join(", "))));
        }
    }
}

/// Whether `c` is `prog SUB ...` for one of `progs` and one of `subs`.
fn is(c: &Command, progs: &[&str], subs: &[&str]) -> bool {
    progs.contains(&c.program()) && c.subcommand().is_some_and(|s| subs.contains(&s))
}

#[cfg(test)]
pub(crate) mod testing {
    use super::DfRule;
    use crate::dockerfile::parse;

    /// The first lines of `rule`'s hits on `src`.
    pub fn lines(rule: &DfRule, src: &str) -> Vec<u32> {
        let df = parse(src.as_bytes()).unwrap();
        let mut hits = Vec::new();
        (rule.check)(&df, &mut hits);
        hits.iter().map(|h| h.start_line).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_sequential_and_documented() {
        for (n, r) in ALL.iter().enumerate() {
            assert_eq!(r.id, format!("MOAT-DF-{:03}", n + 1));
            assert!(!r.title.is_empty() && !r.resolution.is_empty());
        }
        assert!(ALL.len() >= 25);
        assert!(by_id("MOAT-DF-004").is_some());
    }

    #[test]
    fn trivy_aliases_come_in_all_three_spellings() {
        for r in ALL {
            for a in r
                .aliases
                .iter()
                .filter(|a| a.starts_with("DS") && !a.contains('-'))
            {
                let n: u32 = a[2..].parse().unwrap();
                assert!(
                    r.aliases.contains(&format!("DS-{n:04}").as_str()),
                    "{}",
                    r.id
                );
                assert!(
                    r.aliases.contains(&format!("AVD-DS-{n:04}").as_str()),
                    "{}",
                    r.id
                );
            }
        }
    }

    #[test]
    fn final_chain_follows_stage_bases() {
        let df =
            crate::dockerfile::parse(b"FROM a:1 AS base\nFROM b:1 AS other\nFROM base\n").unwrap();
        assert_eq!(final_chain(&df), vec![2, 0]);
    }
}

/// The sources and destination of COPY/ADD (JSON or shell form); none for heredoc forms.
fn copy_operands(df: &Dockerfile, ins: &Instruction) -> Option<(Vec<String>, String)> {
    if !ins.heredocs.is_empty() {
        return None;
    }
    let mut words = match &ins.json {
        Some(w) => w.clone(),
        None => super::parse::words(&ins.args, df.escape),
    };
    let dest = words.pop()?;
    if words.is_empty() {
        return None;
    }
    Some((words, dest))
}

/// Whether an ADD source is fetched (http(s), git).
fn is_remote(src: &str) -> bool {
    let l = src.to_ascii_lowercase();
    l.starts_with("http://")
        || l.starts_with("https://")
        || l.starts_with("git@")
        || l.starts_with("git://")
}

/// Whether a local ADD source is an archive ADD extracts.
fn is_archive(src: &str) -> bool {
    let l = src.to_ascii_lowercase();
    [
        ".tar",
        ".tar.gz",
        ".tgz",
        ".tar.bz2",
        ".tbz2",
        ".tbz",
        ".tar.xz",
        ".txz",
        ".tar.zst",
        ".tzst",
        ".tar.lz",
        ".tar.lzma",
        ".tlz",
    ]
    .iter()
    .any(|e| l.ends_with(e))
}
