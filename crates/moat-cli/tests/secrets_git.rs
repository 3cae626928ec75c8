//! `moat scan git:PATH` end to end, on repositories built with Debian's `git` in a
//! temporary directory (fixed authors and dates, no user or system configuration):
//! - a secret added then removed in a later commit is found with the commit that added
//!   it, its author and date, and its path;
//! - the same blob in several commits and paths is reported once, and so is the same
//!   secret in later versions of a file;
//! - `--since REV` reads only the commits after REV (a name or an id, with `~N` / `^N` steps),
//!   or made since a date or time;
//! - a bare repository, branches and tags;
//! - a missing path, a directory that is not a repository, a bad `--since`: exit 2.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const PAT: &str = "ghp_JC6RQuFlBnDomtQhA14VqnPa5lwOo0OpGcSD";
const PAT2: &str = "ghp_Vb8n2Lq0Zr4Tx6Wc1Ys3Ud5Fg7Hj9Kk0Mm2N";
const AWS: &str = "AKIAKTAIPPAT6CVJJEEV";

/// `git ARGS` in `dir` with a fixed identity and clock (`when` seconds after 2024-01-01),
/// and no configuration but the repository's.
fn git(dir: &Path, when: u64, args: &[&str]) -> String {
    let date = format!("{} +0000", 1_704_067_200 + when);
    let o = Command::new("git")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.org")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.org")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .output()
        .expect("git runs (Debian's git package; .ci/run installs it)");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Writes the files, commits everything as commit number `n`, returns the commit id.
fn commit(dir: &Path, n: u64, files: &[(&str, &str)], remove: &[&str]) -> String {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    for path in remove {
        std::fs::remove_file(dir.join(path)).unwrap();
    }
    git(dir, n * 3600, &["add", "-A"]);
    git(
        dir,
        n * 3600,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            &format!("commit {n}"),
        ],
    );
    git(dir, n * 3600, &["rev-parse", "HEAD"])
}

/// A temporary home with an empty repository `repo` in it.
fn new_repo() -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let repo = home.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, 0, &["init", "-q"]);
    (home, repo)
}

fn code_of(o: &std::process::Output) -> i32 {
    code(o)
}

/// `moat scan --format json --quiet ARGS` from `home`; the exit code and the document.
fn scan(home: &Path, args: &[&str]) -> (i32, Value, String) {
    let o = run(isolated(home)
        .args(["scan", "--format", "json", "--quiet"])
        .args(args));
    let doc = if o.status.success() {
        serde_json::from_slice(&o.stdout).expect("JSON report")
    } else {
        Value::Null
    };
    (code(&o), doc, stderr(&o))
}

/// (rule, path, line, commit) of each secret finding, in the report's order.
fn found(doc: &Value) -> Vec<(String, String, u64, String)> {
    let mut out: Vec<_> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            assert_eq!(f["kind"], "secret");
            (
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["path"].as_str().unwrap().to_string(),
                f["location"]["span"]["start_line"].as_u64().unwrap(),
                f["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn want(items: &[(&str, &str, u64, &str)]) -> Vec<(String, String, u64, String)> {
    let mut out: Vec<_> = items
        .iter()
        .map(|(r, p, l, c)| (r.to_string(), p.to_string(), *l, c.to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn a_removed_secret_is_found_with_the_commit_that_added_it() {
    let (home, repo) = new_repo();
    commit(&repo, 1, &[("README.md", "# app\n")], &[]);
    let added = commit(
        &repo,
        2,
        &[("config/.env", &format!("DEBUG=1\nGITHUB_TOKEN={PAT}\n"))],
        &[],
    );
    let removed = commit(&repo, 3, &[], &["config/.env"]);
    assert_ne!(added, removed);

    // The default scanners of a git: target are the secret scanner alone (no database
    // is needed): the secret is found though the file is gone from every branch head.
    let (code, doc, err) = scan(home.path(), &[&format!("git:{}", repo.display())]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc["artifact"]["kind"], "git");
    assert_eq!(
        found(&doc),
        want(&[("github-pat", "config/.env", 2, &added)])
    );
    let f = &doc["findings"][0];
    assert_eq!(f["author"], "Ada Lovelace <ada@example.org>");
    // 2024-01-01T00:00:00Z + 2 hours.
    assert_eq!(f["date"], "2024-01-01T02:00:00Z");
    assert_eq!(f["redacted"], "ghp_***(40)");
    assert!(f.get("value").is_none(), "redacted unless --show-secrets");

    // The work tree or its .git, same answer; the table names the commit.
    let (_, doc_git, _) = scan(
        home.path(),
        &[&format!("git:{}", repo.join(".git").display())],
    );
    assert_eq!(found(&doc_git), found(&doc));
    let o =
        run(isolated(home.path()).args(["scan", "--quiet", &format!("git:{}", repo.display())]));
    assert_eq!(code_of(&o), 0);
    assert!(stdout(&o).contains("config/.env"), "{}", stdout(&o));
}

#[test]
fn one_blob_in_many_commits_and_paths_is_reported_once() {
    let (home, repo) = new_repo();
    let text = format!("aws_access_key_id = {AWS}\n");
    let first = commit(&repo, 1, &[("a/creds.ini", &text)], &[]);
    // Later commits keep the blob, copy it to a second path, touch other files.
    commit(
        &repo,
        2,
        &[("a/copy.ini", &text), ("notes.txt", "x\n")],
        &[],
    );
    commit(&repo, 3, &[("notes.txt", "y\n")], &[]);
    // A different blob with the same secret on another line is a second finding.
    let other = commit(
        &repo,
        4,
        &[("b/creds.ini", &format!("# keys\n{text}"))],
        &[],
    );
    // A later version of a file that keeps the secret is not reported again.
    commit(
        &repo,
        5,
        &[("a/creds.ini", &format!("{text}region = eu\n"))],
        &[],
    );

    let (code, doc, err) = scan(
        home.path(),
        &["--scanners", "secret", &format!("git:{}", repo.display())],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        found(&doc),
        want(&[
            ("aws-access-key-id", "a/creds.ini", 1, &first),
            ("aws-access-key-id", "b/creds.ini", 2, &other),
        ])
    );
}

#[test]
fn since_reads_only_later_commits_on_every_branch() {
    let (home, repo) = new_repo();
    let old = commit(&repo, 1, &[("old.env", &format!("TOKEN={PAT}\n"))], &[]);
    let base = commit(&repo, 2, &[("README.md", "hi\n")], &[]);
    git(&repo, 3 * 3600, &["tag", "v1"]);
    // A branch that is not checked out holds a newer secret.
    git(&repo, 3 * 3600, &["checkout", "-q", "-b", "feature"]);
    let feature = commit(&repo, 4, &[("new.env", &format!("TOKEN={PAT2}\n"))], &[]);
    git(&repo, 5 * 3600, &["checkout", "-q", "main"]);

    let target = format!("git:{}", repo.display());
    let (code, doc, err) = scan(home.path(), &[&target]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        found(&doc),
        want(&[
            ("github-pat", "new.env", 1, &feature),
            ("github-pat", "old.env", 1, &old),
        ])
    );
    // By tag, by branch, by full and abbreviated id: the same cut.
    for rev in ["v1", "main", base.as_str(), &base[..10]] {
        let (code, doc, err) = scan(home.path(), &["--since", rev, &target]);
        assert_eq!(code, 0, "--since {rev}: {err}");
        assert_eq!(
            found(&doc),
            want(&[("github-pat", "new.env", 1, &feature)]),
            "--since {rev}"
        );
    }
    let (code, doc, _) = scan(home.path(), &["--since", "feature", &target]);
    assert_eq!(code, 0);
    assert_eq!(found(&doc), want(&[]));
    // git's ancestry steps after a name or an id: `feature~2`, `feature^^`, `feature~1^` and
    // `<id>~2` are `base`; `feature~0` is `feature`; `main~` and `main^1^0` the first commit
    // (whose `old.env` is then not new); `v1^{commit}` the tag's commit.
    let first_only = want(&[("github-pat", "new.env", 1, &feature)]);
    let feature_10 = format!("{}~2", &feature[..10]);
    for (rev, expected) in [
        ("feature~2", &first_only),
        ("feature^^", &first_only),
        ("feature~1^", &first_only),
        (feature_10.as_str(), &first_only),
        ("v1^{commit}", &first_only),
        ("feature~0", &want(&[])),
        ("main~", &first_only),
        ("main^1^0", &first_only),
    ] {
        let (code, doc, err) = scan(home.path(), &["--since", rev, &target]);
        assert_eq!(code, 0, "--since {rev}: {err}");
        assert_eq!(&found(&doc), expected, "--since {rev}");
    }
    // A date or time: the commits made since (commit n is n hours after 2024-01-01), what
    // the commits before it held not new (so `old.env`, from commit 1, is not reported
    // after 01:30 though commit 2 still has it).
    let both = want(&[
        ("github-pat", "new.env", 1, &feature),
        ("github-pat", "old.env", 1, &old),
    ]);
    for (when, expected) in [
        ("2023-12-31", &both),
        ("2024-01-01", &both),
        ("2024-01-01T01:30:00Z", &first_only),
        ("2024-01-01T03:00:00Z", &first_only),
        ("2024-01-01T04:00:01Z", &want(&[])),
        ("2024-01-02", &want(&[])),
    ] {
        let (code, doc, err) = scan(home.path(), &["--since", when, &target]);
        assert_eq!(code, 0, "--since {when}: {err}");
        assert_eq!(&found(&doc), expected, "--since {when}");
    }
    // Past the root, a second parent that is not there, a step that is not one: usage errors
    // naming the revision and where it went wrong.
    for (rev, says) in [
        ("main~2", "main~1 has no parent 1"),
        ("feature^2", "feature has no parent 2"),
        ("main~1x", "\"x\" after \"main~1\": expected ~N or ^N"),
        ("main~99999999999999999999999", "not a number of steps"),
    ] {
        let (code, _, err) = scan(home.path(), &["--since", rev, &target]);
        assert_eq!(code, 2, "--since {rev}: {err}");
        assert!(
            err.contains(rev) && err.contains(says),
            "--since {rev}: {err}"
        );
    }

    // Findings go through the policy like any other: the exit code.
    let o = run(isolated(home.path()).args(["scan", "--quiet", "--exit-code", "1", &target]));
    assert_eq!(code_of(&o), 1);
}

#[test]
fn a_bare_repository_is_read() {
    let (home, repo) = new_repo();
    let added = commit(
        &repo,
        1,
        &[("deploy/key.txt", &format!("token: {PAT}\n"))],
        &[],
    );
    commit(&repo, 2, &[], &["deploy/key.txt"]);
    git(
        home.path(),
        0,
        &["clone", "-q", "--bare", repo.to_str().unwrap(), "bare.git"],
    );
    // Packed: the objects are read from a pack file.
    git(&home.path().join("bare.git"), 0, &["gc", "-q"]);
    let (code, doc, err) = scan(
        home.path(),
        &[&format!("git:{}", home.path().join("bare.git").display())],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        found(&doc),
        want(&[("github-pat", "deploy/key.txt", 1, &added)])
    );
    // --show-secrets puts the value in.
    let (_, doc, _) = scan(
        home.path(),
        &[
            "--show-secrets",
            &format!("git:{}", home.path().join("bare.git").display()),
        ],
    );
    assert_eq!(doc["findings"][0]["value"], PAT);
}

#[test]
fn an_empty_repository_has_no_findings() {
    let (home, repo) = new_repo();
    let (code, doc, err) = scan(home.path(), &[&format!("git:{}", repo.display())]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(found(&doc), want(&[]));
}

#[test]
fn unreadable_targets_and_bad_revisions_are_errors() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("missing");
    let (code, _, err) = scan(home.path(), &[&format!("git:{}", missing.display())]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no such file or directory"), "{err}");

    let plain = home.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    std::fs::write(plain.join("a.txt"), "x").unwrap();
    let (code, _, err) = scan(home.path(), &[&format!("git:{}", plain.display())]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a git repository"), "{err}");

    let repo = home.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, 0, &["init", "-q"]);
    commit(&repo, 1, &[("a.txt", "x\n")], &[]);
    let target = format!("git:{}", repo.display());
    let (code, _, err) = scan(home.path(), &["--since", "no-such-branch", &target]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no-such-branch"), "{err}");
    // --since without a git target, and a git target without the secret scanner.
    let (code, _, err) = scan(home.path(), &["--since", "main", "dir:."]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--since"), "{err}");
    let o = run(isolated(home.path()).args(["inventory", "--quiet", &target]));
    assert_eq!(code_of(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("git repository"), "{}", stderr(&o));
}
