//! # moat-git: secrets in a git repository's history
//!
//! A secret committed once stays in the repository for everyone who clones it, even after a
//! later commit deletes it. [`scan`] reads the object store of a repository (a work tree's
//! `.git`, or a bare repository) with `gix` and hands every blob of every commit reachable
//! from the references (branches, tags, remote-tracking branches, the stash, `HEAD`) to
//! `moat-secrets`, each blob once however many commits and paths hold it.
//!
//! ## The walk
//! 1. The tips: every reference peeled to its commit, and `HEAD`. With
//!    [`Options::since`], the commit that revision names and all its ancestors are hidden
//!    (`git log REV..--all`): only commits after it are read, and the blobs of REV's own
//!    tree count as seen (a file that a later commit leaves unchanged is not new).
//! 2. The commits in topological order, parents before children (the walk's
//!    children-first order, reversed), so that the first commit to hold a blob is the
//!    oldest one that introduced it: that commit, its author and its author date are what a
//!    finding reports, with the blob's path in that commit.
//! 3. Each commit's tree, depth first; a tree already read (by id) is skipped whole, since
//!    every blob under it was seen with it; most commits change a few files, so a commit
//!    costs the trees on the paths it changed.
//! 4. Each new blob: the path allowlist, then the size cap (from the object header, before
//!    reading the blob), the binary sniff (unless binaries are scanned), then the rules;
//!    findings keep the order of the walk. A secret already reported at the same path (a
//!    later version of the file that kept the line) is not reported again: each secret is
//!    reported once per path, with the oldest commit that holds it there. One thread: gix built without its `parallel`
//!    feature (fewer crates to build) has a repository handle that cannot cross threads,
//!    and inflating objects, not the rules, is most of the cost.
//!
//! Limits: at most [`MAX_COMMITS`] commits (the newest are kept, a diagnostic says so),
//! [`MAX_DEPTH`] nested trees, [`MAX_OBJECTS`] distinct trees and blobs remembered;
//! memory is the sets of ids seen plus one batch of blobs in flight.
//!
//! Submodules (tree entries that are commits) and symbolic links are not followed; a
//! shallow clone is read down to its boundary.
//!
//! Rejected alternatives: shelling out to `git log -p` (a dependency on the `git` binary
//! and its version, and a text diff to parse back; gitleaks does this); scanning the diff of
//! each commit instead of its new blobs (a blob moved or copied is then read again, and
//! lines are reported against hunks, not files); `git2` (a C library to build).

use gix::ObjectId;
use gix::bstr::ByteSlice;
use moat_model::{Code, Detail, Diagnostic, Finding, FindingLocation};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// Most commits read; the newest are kept.
pub const MAX_COMMITS: usize = 2_000_000;
/// Deepest tree nesting followed.
pub const MAX_DEPTH: usize = 256;
/// Most distinct trees and blobs remembered as seen (each costs its id).
pub const MAX_OBJECTS: usize = 20_000_000;
/// New blobs gathered before they are scanned.
const BATCH: usize = 2048;

/// What to scan.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only commits after this revision: a full or abbreviated commit id, a branch, a tag,
    /// or any reference name, with git's `~N` / `^N` ancestry steps after it (`HEAD~3`); or
    /// only commits made since a date or time (`2024-06-01`, `2024-06-01T12:00:00Z`).
    pub since: Option<String>,
    /// Rules, size cap, binaries, whether secrets are shown.
    pub secrets: moat_secrets::Settings,
}

/// What a scan found.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// One finding per secret per distinct blob, in the order of the walk.
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    pub stats: Stats,
}

/// Counters of a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Commits walked.
    pub commits: usize,
    /// Distinct blobs met.
    pub blobs: usize,
    /// Blobs handed to the rules.
    pub scanned: usize,
    /// Bytes handed to the rules.
    pub bytes: u64,
}

/// A repository that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{}: no such file or directory", .0.display())]
    NotFound(PathBuf),
    #[error("{}: not a git repository ({reason})", path.display())]
    NotARepository { path: PathBuf, reason: String },
    #[error("--since {rev:?}: {reason}")]
    Revision { rev: String, reason: String },
    #[error("{}: {what}: {reason}", path.display())]
    Read {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },
}

/// Reads every blob of every commit reachable from the references of the repository at
/// `path` (a work tree, its `.git`, or a bare repository) and returns the secrets in them.
pub fn scan(path: &Path, opts: &Options) -> Result<History, GitError> {
    if !path.exists() {
        return Err(GitError::NotFound(path.to_path_buf()));
    }
    let read = |what: &'static str| {
        move |e: gix::Error| GitError::Read {
            path: path.to_path_buf(),
            what,
            reason: e.to_string(),
        }
    };
    let repo = gix::open_opts(path, gix::open::Options::isolated()).map_err(|e| {
        GitError::NotARepository {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    })?;
    let mut out = History::default();
    let Some(rules) = opts.secrets.rules() else {
        return Ok(out);
    };
    let tips = tips(&repo).map_err(read("reading references"))?;
    let since = match &opts.since {
        Some(rev) => Some(since(&repo, rev)?),
        None => None,
    };
    let mut hidden = match since {
        Some(Since::Commit(id)) => vec![id],
        _ => Vec::new(),
    };
    let mut commits = Vec::new();
    // with a date: the commits before it, which are not read, and the parents of those read
    let mut before: HashSet<ObjectId> = HashSet::new();
    let mut parents: Vec<ObjectId> = Vec::new();
    if !tips.is_empty() {
        let walk = repo
            .rev_walk(tips)
            .sorting(gix::revision::walk::Sorting::TopoOrder)
            .with_hidden(hidden.iter().copied())
            .all()
            .map_err(read("walking commits"))?;
        for info in walk {
            let info = info.map_err(read("walking commits"))?;
            if let Some(Since::Time(cutoff)) = since {
                let commit = repo
                    .find_commit(info.id)
                    .map_err(read("reading a commit"))?;
                let time = commit.time().map_err(read("reading a commit"))?;
                if time.seconds < cutoff {
                    before.insert(info.id);
                    continue;
                }
            }
            if commits.len() == MAX_COMMITS {
                out.diagnostics.push(Diagnostic::new(
                    Code::TooLarge,
                    format!("more than {MAX_COMMITS} commits: the older ones were not read"),
                ));
                break;
            }
            commits.push(info.id);
            if matches!(since, Some(Since::Time(_))) {
                parents.extend(info.parent_ids.iter().copied());
            }
        }
    }
    commits.reverse();
    out.stats.commits = commits.len();
    // With a date, the commits before it that the ones after it descend from stand for REV:
    // what their trees hold is not new.
    parents.retain(|p| before.contains(p));
    parents.sort_unstable();
    parents.dedup();
    hidden.extend(parents);

    let mut walker = Walker {
        repo: &repo,
        seen_trees: HashSet::new(),
        seen_blobs: HashSet::new(),
        full: false,
        pending: Vec::new(),
    };
    let mut scanner = BlobScanner {
        reported: HashSet::new(),
        repo: &repo,
        rules: &rules,
        settings: &opts.secrets,
    };
    // What REV's tree holds is not new after it: seen, not scanned.
    for &id in &hidden {
        let tree = repo
            .find_commit(id)
            .and_then(|c| c.tree_id())
            .map_err(read("reading a commit"))?;
        walker.tree(tree.detach(), &mut out.diagnostics);
        walker.pending.clear();
    }
    let mut origins: Vec<Origin> = Vec::new();
    for id in commits {
        let commit = repo.find_commit(id).map_err(read("reading a commit"))?;
        let tree = commit.tree_id().map_err(read("reading a commit"))?.detach();
        let before = walker.pending.len();
        walker.tree(tree, &mut out.diagnostics);
        if walker.pending.len() > before {
            origins.push(Origin::of(&commit));
            let at = origins.len() - 1;
            for p in &mut walker.pending[before..] {
                p.origin = at;
            }
        }
        if walker.pending.len() >= BATCH {
            scanner.batch(&mut walker.pending, &origins, &mut out);
        }
    }
    scanner.batch(&mut walker.pending, &origins, &mut out);
    out.stats.blobs = walker.seen_blobs.len();
    if walker.full {
        out.diagnostics.push(Diagnostic::new(
            Code::TooLarge,
            format!(
                "more than {MAX_OBJECTS} distinct trees or blobs: the rest of the history was not read"
            ),
        ));
    }
    Ok(out)
}

/// Every reference peeled to a commit, and `HEAD` (a detached one too), each once.
fn tips(repo: &gix::Repository) -> Result<Vec<ObjectId>, gix::Error> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |id: ObjectId| {
        let is_commit = repo
            .find_header(id)
            .is_ok_and(|h| h.kind() == gix::object::Kind::Commit);
        if is_commit && seen.insert(id) {
            out.push(id);
        }
    };
    if let Ok(id) = repo.head_id() {
        add(id.detach());
    }
    let platform = repo.references()?;
    for r in platform.all()? {
        let Ok(mut r) = r else { continue };
        if let Ok(id) = r.peel_to_id() {
            add(id.detach());
        }
    }
    Ok(out)
}

/// Where `--since` cuts the history.
#[derive(Debug, Clone, Copy)]
enum Since {
    /// A commit: it and its ancestors are not read.
    Commit(ObjectId),
    /// A time (seconds since the epoch): commits made before it (by their committer time,
    /// as `git log --since`) are not read.
    Time(i64),
}

/// `--since`: a revision ([`resolve`]); else a date (`2024-06-01`, midnight UTC) or an RFC
/// 3339 time (`2024-06-01T12:00:00Z`). A reference named like a date is the reference.
fn since(repo: &gix::Repository, rev: &str) -> Result<Since, GitError> {
    match resolve(repo, rev) {
        Ok(id) => Ok(Since::Commit(id)),
        Err(e) => match date_cutoff(rev) {
            Some(t) => Ok(Since::Time(t)),
            None => Err(e),
        },
    }
}

/// A date at midnight UTC or an RFC 3339 time, as seconds since the epoch.
fn date_cutoff(text: &str) -> Option<i64> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t.as_second());
    }
    // a date alone (a time without its offset is not read as midnight of its date)
    if text.len() != "2024-06-01".len() {
        return None;
    }
    let date: jiff::civil::Date = text.parse().ok()?;
    let t: jiff::Timestamp = format!("{date}T00:00:00Z").parse().ok()?;
    Some(t.as_second())
}

/// `--since REV`: a full or abbreviated commit id, or a reference name (`main`, `v1.0`,
/// `origin/main`, `refs/tags/v1.0`), peeled to a commit, then git's ancestry steps after it
/// in any number: `~N` the Nth first-parent ancestor (`~` is `~1`), `^N` the Nth parent
/// (`^` is `^1`, `^0` the commit itself), as in `HEAD~3`, `main^2`, `v1.0~2^`. (A reference
/// name cannot hold `~` or `^`, so the steps start at the first of them.)
fn resolve(repo: &gix::Repository, rev: &str) -> Result<ObjectId, GitError> {
    let fail = |reason: String| GitError::Revision {
        rev: rev.to_string(),
        reason,
    };
    let (base, mut steps) = rev.split_at(rev.find(['~', '^']).unwrap_or(rev.len()));
    let by_name = repo
        .try_find_reference(base)
        .ok()
        .flatten()
        .and_then(|mut r| r.peel_to_id().ok())
        .map(|id| id.detach());
    let id = match by_name {
        Some(id) => id,
        None if base.len() >= 4 && base.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let prefix = gix::hash::Prefix::from_hex(base).map_err(|e| fail(e.to_string()))?;
            match repo.objects.lookup_prefix(prefix, None) {
                Ok(Some(Ok(id))) => id,
                Ok(Some(Err(()))) => return Err(fail("ambiguous abbreviated id".into())),
                Ok(None) => return Err(fail("no such object".into())),
                Err(e) => return Err(fail(e.to_string())),
            }
        }
        None => {
            return Err(fail(
                "no such reference or commit id (nor a date: 2024-06-01, 2024-06-01T12:00:00Z)"
                    .into(),
            ));
        }
    };
    let commit_of = |id: ObjectId| {
        repo.find_object(id)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| fail(format!("not a commit: {e}")))
    };
    let mut commit = commit_of(id)?;
    let mut walked = String::from(base);
    while let Some(op) = steps.chars().next() {
        if op != '~' && op != '^' {
            return Err(fail(format!(
                "{steps:?} after {walked:?}: expected ~N or ^N"
            )));
        }
        // `^{commit}` and `^{}`: peeled to a commit, which it is already
        if let Some(rest) = ["^{commit}", "^{}"]
            .iter()
            .find_map(|p| steps.strip_prefix(p))
        {
            walked.push_str(&steps[..steps.len() - rest.len()]);
            steps = rest;
            continue;
        }
        // `op` is one byte
        let digits = steps[1..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(steps.len() - 1);
        let (step, rest) = steps.split_at(1 + digits);
        steps = rest;
        let n: usize = match &step[1..] {
            "" => 1,
            d => d
                .parse()
                .map_err(|_| fail(format!("{step:?}: not a number of steps")))?,
        };
        let (first_parents, parent) = if op == '~' {
            (n, None)
        } else {
            (0, n.checked_sub(1))
        };
        let parents = std::iter::repeat_n(0, first_parents).chain(parent);
        for (k, which) in parents.enumerate() {
            let Some(next) = commit.parent_ids().nth(which) else {
                let at = if op == '~' {
                    format!("{walked}~{k}")
                } else {
                    walked.clone()
                };
                return Err(fail(format!("{at} has no parent {}", which + 1)));
            };
            commit = commit_of(next.detach())?;
        }
        walked.push_str(step);
    }
    Ok(commit.id)
}

/// The commit that first held a blob, as a finding reports it.
struct Origin {
    commit: String,
    author: Option<String>,
    date: Option<String>,
}

impl Origin {
    fn of(commit: &gix::Commit<'_>) -> Origin {
        let author = commit.author().ok();
        Origin {
            commit: commit.id.to_string(),
            author: author.map(|a| {
                let a = a.trim();
                format!("{} <{}>", a.name.to_str_lossy(), a.email.to_str_lossy())
            }),
            date: author
                .and_then(|a| a.time().ok())
                .and_then(|t| jiff::Timestamp::from_second(t.seconds).ok())
                .map(|t| t.to_string()),
        }
    }
}

/// A blob met for the first time, waiting to be scanned.
struct Pending {
    id: ObjectId,
    path: String,
    /// Index into the origins.
    origin: usize,
}

/// The tree walk: what was seen, what waits.
struct Walker<'r> {
    repo: &'r gix::Repository,
    seen_trees: HashSet<ObjectId>,
    seen_blobs: HashSet<ObjectId>,
    /// [`MAX_OBJECTS`] reached: nothing more is remembered, so nothing more is walked.
    full: bool,
    pending: Vec<Pending>,
}

impl Walker<'_> {
    /// Queues the blobs under `root` not seen before, skipping trees seen before.
    fn tree(&mut self, root: ObjectId, diagnostics: &mut Vec<Diagnostic>) {
        let mut stack = vec![(root, String::new(), 0usize)];
        while let Some((id, prefix, depth)) = stack.pop() {
            if self.full || !self.remember_tree(id) {
                continue;
            }
            let tree = match self.repo.find_tree(id) {
                Ok(t) => t,
                Err(e) => {
                    diagnostics.push(
                        Diagnostic::new(Code::Unreadable, format!("tree {id}: {e}"))
                            .at(prefix.clone(), None),
                    );
                    continue;
                }
            };
            for entry in tree.iter() {
                let Ok(entry) = entry else {
                    diagnostics.push(
                        Diagnostic::parse(format!("tree {id}: malformed entry"))
                            .at(prefix.clone(), None),
                    );
                    break;
                };
                let path = if prefix.is_empty() {
                    entry.filename().to_str_lossy().into_owned()
                } else {
                    format!("{prefix}/{}", entry.filename().to_str_lossy())
                };
                let mode = entry.mode();
                let oid = entry.object_id();
                if mode.is_tree() {
                    if depth + 1 >= MAX_DEPTH {
                        diagnostics.push(
                            Diagnostic::new(
                                Code::TooLarge,
                                format!("trees nested deeper than {MAX_DEPTH}: not read"),
                            )
                            .at(path, None),
                        );
                    } else if !self.seen_trees.contains(&oid) {
                        stack.push((oid, path, depth + 1));
                    }
                } else if mode.is_blob() && self.remember_blob(oid) {
                    self.pending.push(Pending {
                        id: oid,
                        path,
                        origin: 0,
                    });
                }
            }
        }
    }

    fn room(&mut self) -> bool {
        if self.seen_trees.len() + self.seen_blobs.len() >= MAX_OBJECTS {
            self.full = true;
        }
        !self.full
    }

    fn remember_tree(&mut self, id: ObjectId) -> bool {
        self.room() && self.seen_trees.insert(id)
    }

    fn remember_blob(&mut self, id: ObjectId) -> bool {
        self.room() && self.seen_blobs.insert(id)
    }
}

/// Scans the new blobs.
struct BlobScanner<'a> {
    repo: &'a gix::Repository,
    rules: &'a moat_secrets::Rules,
    settings: &'a moat_secrets::Settings,
    /// The findings reported so far, by rule, path and secret (hashed).
    reported: HashSet<u64>,
}

/// What one blob gave.
#[derive(Default)]
struct Scanned {
    /// Each with its key: the rule, the path and the secret, hashed.
    findings: Vec<(u64, Finding)>,
    diagnostic: Option<Diagnostic>,
    bytes: Option<u64>,
}

impl BlobScanner<'_> {
    fn batch(&mut self, pending: &mut Vec<Pending>, origins: &[Origin], out: &mut History) {
        for p in pending.drain(..) {
            let r = self.one(&p);
            if let Some(n) = r.bytes {
                out.stats.scanned += 1;
                out.stats.bytes += n;
            }
            out.diagnostics.extend(r.diagnostic);
            let origin = origins.get(p.origin);
            for (key, mut f) in r.findings {
                // the same secret at the same path in a later version of the file
                if !self.reported.insert(key) {
                    continue;
                }
                if let (Detail::Secret(d), Some(o)) = (&mut f.detail, origin) {
                    d.commit = Some(o.commit.clone());
                    d.author.clone_from(&o.author);
                    d.date.clone_from(&o.date);
                }
                out.findings.push(f);
            }
        }
    }

    fn one(&self, p: &Pending) -> Scanned {
        let repo = self.repo;
        let mut out = Scanned::default();
        if self.rules.skips_path(&p.path) {
            return out;
        }
        match repo.find_header(p.id) {
            Ok(h) if h.size() == 0 || h.size() > self.settings.max_file_size => return out,
            Ok(_) => {}
            Err(e) => {
                out.diagnostic = Some(
                    Diagnostic::new(Code::Unreadable, format!("blob {}: {e}", p.id))
                        .at(p.path.clone(), None),
                );
                return out;
            }
        }
        let blob = match repo.find_blob(p.id) {
            Ok(b) => b,
            Err(e) => {
                out.diagnostic = Some(
                    Diagnostic::new(Code::Unreadable, format!("blob {}: {e}", p.id))
                        .at(p.path.clone(), None),
                );
                return out;
            }
        };
        let data = &blob.data;
        let head = &data[..data.len().min(moat_secrets::sniff::SNIFF_BYTES)];
        if !self.settings.scan_binaries && moat_secrets::sniff::is_binary(head) {
            return out;
        }
        out.bytes = Some(data.len() as u64);
        for hit in self.rules.scan(&p.path, data) {
            let mut key = std::hash::DefaultHasher::new();
            (&hit.rule.id, &p.path, &hit.secret).hash(&mut key);
            let mut f = hit.finding(self.settings.show_secrets);
            if let Some(loc) = &mut f.location {
                loc.path = Some(p.path.clone());
            } else {
                f.location = Some(FindingLocation::file(p.path.clone(), None));
            }
            out.findings.push((key.finish(), f));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::date_cutoff;

    #[test]
    fn dates_and_times_for_since() {
        assert_eq!(date_cutoff("2024-01-01"), Some(1_704_067_200));
        assert_eq!(date_cutoff("2024-01-01T01:30:00Z"), Some(1_704_072_600));
        assert_eq!(
            date_cutoff("2024-01-01T03:30:00+02:00"),
            Some(1_704_072_600)
        );
        for not in ["yesterday", "2024-13-01", "2024-01-01T01:30:00", "main", ""] {
            assert_eq!(date_cutoff(not), None, "{not}");
        }
    }
}
