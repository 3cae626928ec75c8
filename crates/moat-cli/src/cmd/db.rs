//! `moat db import | update | status | push`: the advisory database.

use crate::output::say;
use crate::settings::{DbArgs, Env, RegistryAccessArgs};
use anyhow::bail;
use clap::Subcommand;
use moat_vuln::db::{Builder, Database, DbError, Mode, Prepared, SourceMeta, file};
use moat_vuln::import::{self, Item, Stop};
use moat_vuln::update;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Import advisories from files, directories or OSV all.zip archives. Records are added or
    /// replaced by id; the other records of their source stay.
    Import {
        #[command(flatten)]
        db: DbArgs,
        /// Replace every source the import reads records of: its stored records that the
        /// import does not have are dropped.
        #[arg(long)]
        replace_source: bool,
        #[command(flatten)]
        write: WriteArgs,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Refresh the advisories the database holds (and KEV) where they changed; a missing
    /// database gets every ecosystem and distro moat knows.
    Update {
        #[command(flatten)]
        db: DbArgs,
        /// Download only these (comma-separated OSV ecosystem names such as `Go,Ubuntu,Red
        /// Hat`; `Amazon Linux`, `Oracle Linux`); default: the sources the database holds.
        #[arg(long, value_delimiter = ',', value_name = "LIST")]
        ecosystems: Vec<String>,
        /// Download every ecosystem and distro moat knows, not only those the database holds.
        #[arg(long, conflicts_with = "ecosystems")]
        all: bool,
        #[command(flatten)]
        access: RegistryAccessArgs,
        /// With --db-repository: the artifact must carry a cosign signature by this public
        /// key (checked before anything is downloaded).
        #[arg(long, value_name = "PUB")]
        key: Option<PathBuf>,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Publish the database as an OCI artifact (zstd-compressed, its build time, schema and
    /// sources in the annotations), for `moat db update --db-repository`.
    Push {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        access: RegistryAccessArgs,
        /// Where to publish it: REGISTRY/REPO:TAG.
        #[arg(value_name = "REF")]
        reference: String,
    },
    /// Print sources, record counts, coverage and age.
    Status {
        #[command(flatten)]
        db: DbArgs,
    },
}

/// How a writer treats the file at `--db` and another writer.
#[derive(clap::Args)]
pub struct WriteArgs {
    /// Replace the file at --db even if it is not a moat database (another program's file),
    /// and let `import` rebuild a damaged or other-schema database.
    #[arg(long)]
    force: bool,
    /// Seconds to wait for another import or update of the same database to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    lock_timeout: u64,
}

/// What `--db` may do to the file it names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Writer {
    Import,
    Update,
}

/// Takes the writer's lock of the database at `path` (saying that it waits), then checks what
/// is there: another program's SQLite database is refused without `--force`; a damaged or
/// other-schema moat database, or a file that is no SQLite database at all, is rebuilt by
/// `update` (saying so: it downloads everything again, and that is how it has always
/// repaired a corrupt database) and by `import` only with `--force`.
fn lock_and_check(
    path: &std::path::Path,
    w: &WriteArgs,
    who: Writer,
) -> anyhow::Result<file::WriteLock> {
    let shown = crate::output::escape(&path.display().to_string()).into_owned();
    let lock = file::WriteLock::acquire(
        path,
        std::time::Duration::from_secs(w.lock_timeout),
        &mut |lock| {
            eprintln!(
                "moat: waiting up to {} s for another import or update of {shown} to finish (lock {})",
                w.lock_timeout,
                crate::output::escape(&lock.display().to_string())
            );
        },
    )?;
    match file::inspect(path)? {
        file::Target::Missing | file::Target::Moat => {}
        file::Target::Unknown(why) if who == Writer::Import && !w.force => bail!(
            "{shown} is not a moat advisory database ({why}): refusing to replace it (choose another --db, or pass --force to overwrite it)"
        ),
        file::Target::Foreign(why) if !w.force => bail!(
            "{shown} is not a moat advisory database ({why}): refusing to replace it (choose another --db, or pass --force to overwrite it)"
        ),
        file::Target::Foreign(why) => {
            eprintln!("moat: warning: replacing {shown}, which is not a moat database ({why})");
        }
        file::Target::Damaged(why) if who == Writer::Import && !w.force => bail!(
            "{}; `moat db import` does not rebuild it (its records would be lost): run `moat db update`, or pass --force to start it afresh",
            crate::output::escape(&why)
        ),
        file::Target::Unknown(why) => {
            eprintln!("moat: warning: replacing {shown}, which is not a moat database ({why})");
        }
        file::Target::Damaged(why) => {
            eprintln!(
                "moat: warning: rebuilding {shown} from scratch: {}",
                crate::output::escape(&why)
            );
        }
    }
    Ok(lock)
}

pub fn run(cmd: DbCommand, env: &Env) -> anyhow::Result<()> {
    match cmd {
        DbCommand::Import {
            db: d,
            replace_source,
            write,
            paths,
        } => import(&d, &paths, replace_source, &write, env),
        DbCommand::Update {
            db: d,
            ecosystems,
            all,
            access,
            key,
            write,
        } => match d.repository(env)? {
            Some(reference) => {
                if !ecosystems.is_empty() || all {
                    bail!(
                        "--ecosystems and --all choose feeds; a database from --db-repository (or the configuration's db.repository) holds what it was built with"
                    );
                }
                pull(&d, &reference, &access, key.as_deref(), &write, env)
            }
            None if key.is_some() => {
                bail!(
                    "--key verifies a database pulled with --db-repository; the feeds are not signed"
                )
            }
            None => update(&d, &ecosystems, all, &write, env),
        },
        DbCommand::Status { db: d } => status(&d, env),
        DbCommand::Push {
            db: d,
            access,
            reference,
        } => push(&d, &reference, &access, env),
    }
}

/// The names of the downloaded sources a database holds (none when it is missing, unusable
/// or made by local imports only).
fn present_names(path: &std::path::Path) -> Vec<String> {
    let Ok(st) = Database::open_read_only(path).and_then(|db| db.status()) else {
        return Vec::new();
    };
    update::names_of_sources(
        st.sources
            .iter()
            .filter(|s| s.meta.url.is_some())
            .map(|s| s.name.as_str()),
    )
}

fn update(
    d: &DbArgs,
    ecosystems: &[String],
    all: bool,
    w: &WriteArgs,
    env: &Env,
) -> anyhow::Result<()> {
    if d.offline {
        bail!(
            "--offline is set: `moat db update` needs the network (use `moat db import` for air-gapped use)"
        );
    }
    let mut opts = d.update_options(env);
    let picked: Vec<String> = ecosystems
        .iter()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect();
    if !ecosystems.is_empty() {
        if picked.is_empty() {
            bail!("--ecosystems: no ecosystem named");
        }
        opts.ecosystems = picked;
    } else if !all {
        // What the database holds; a new database gets everything.
        let present = present_names(&d.path(env));
        if !present.is_empty() {
            opts.ecosystems = present;
        }
    }
    let show = std::io::stderr().is_terminal();
    let mut progress = |msg: &str| {
        // A rebuild was announced by `lock_and_check` already (a warning, terminal or not).
        if show && !msg.starts_with("rebuilding the database from scratch") {
            eprintln!("moat: {msg}");
        }
    };
    let path = d.path(env);
    crate::settings::refuse_special(&path, "advisory database")?;
    let _lock = lock_and_check(&path, w, Writer::Update)?;
    let summary = moat_pipeline::advisories::download(&path, &opts, &mut progress)?;
    for (source, outcome) in &summary.per_source {
        let what = match outcome {
            update::SourceOutcome::Updated { records } => {
                format!("updated, {records} records")
            }
            update::SourceOutcome::NotModified => "not modified".to_string(),
            update::SourceOutcome::Failed { kept, .. } => {
                format!("failed, kept {kept} previous records")
            }
        };
        say!("{source}: {what}");
    }
    for (source, reason, kept) in summary.failures() {
        eprintln!(
            "moat: warning: {source} was not updated ({reason}); its {kept} previous records are kept"
        );
    }
    Ok(())
}

/// `moat db push`: the database file, as it is, to a registry.
fn push(d: &DbArgs, text: &str, access: &RegistryAccessArgs, env: &Env) -> anyhow::Result<()> {
    if d.db_repository.is_some() {
        bail!(
            "--db-repository names where `db update` pulls from: `moat db push` takes the reference as its argument"
        );
    }
    let reference =
        moat_registry::Reference::parse(text.strip_prefix("registry:").unwrap_or(text))?;
    let path = d.path(env);
    crate::settings::refuse_special(&path, "advisory database")?;
    if d.offline {
        bail!("--offline is set: `moat db push` needs the network");
    }
    let ro = access.options(env)?;
    let pushed = moat_pipeline::db_artifact::push(&path, &reference, &ro)?;
    say!(
        "pushed {} ({} records, {} bytes compressed) to {reference}@{}",
        path.display(),
        pushed.records,
        pushed.layer_bytes,
        pushed.digest
    );
    Ok(())
}

/// `moat db update --db-repository`: the database replaced by a published one.
fn pull(
    d: &DbArgs,
    reference: &moat_registry::Reference,
    access: &RegistryAccessArgs,
    key: Option<&std::path::Path>,
    w: &WriteArgs,
    env: &Env,
) -> anyhow::Result<()> {
    let key = key.map(crate::cmd::sign::public_key).transpose()?;
    if d.offline {
        bail!("--offline is set: `moat db update --db-repository` needs the network");
    }
    let ro = access.options(env)?;
    let path = d.path(env);
    crate::settings::refuse_special(&path, "advisory database")?;
    d.create_dir(env)?;
    let _lock = lock_and_check(&path, w, Writer::Update)?;
    let pulled = moat_pipeline::db_artifact::pull(reference, &ro, &path, &mut |client, digest| {
        let Some(key) = &key else {
            return Ok(());
        };
        let store = crate::cmd::sign::registry_store(client.clone(), reference.clone(), &ro)
            .map_err(|e| format!("{e:#}"))?;
        let v = moat_sign::image::verify_image(&store, key, &digest.to_string())
            .map_err(|e| format!("signature not verified: {e}"))?;
        if v.verified {
            return Ok(());
        }
        let reasons: Vec<String> = v
            .signatures
            .iter()
            .filter_map(|s| s.reason.clone())
            .collect();
        Err(format!(
            "not signed by the key {}: {}",
            v.key,
            if reasons.is_empty() {
                "no signature".into()
            } else {
                reasons.join("; ")
            }
        ))
    })?;
    say!(
        "replaced {} with {reference}@{} (built {}, {} bytes)",
        path.display(),
        pulled.digest,
        pulled.built_at.as_deref().unwrap_or("at an unknown time"),
        pulled.bytes
    );
    Ok(())
}

/// How many records each source got from one path.
type PerSource = BTreeMap<String, usize>;

/// Writes one prepared record, counting it under its source.
fn write_advisory(
    w: &mut moat_vuln::db::Writer<'_>,
    per_source: &mut PerSource,
    a: &Prepared,
) -> Result<(), DbError> {
    match per_source.get_mut(a.source()) {
        Some(n) => *n += 1,
        None => {
            per_source.insert(a.source().to_string(), 1);
        }
    }
    w.prepared(a)
}

fn import(
    d: &DbArgs,
    paths: &[PathBuf],
    replace: bool,
    w: &WriteArgs,
    env: &Env,
) -> anyhow::Result<()> {
    let path = d.path(env);
    // A FIFO, socket or device would block the import for ever: refused before anything.
    crate::settings::refuse_special(&path, "advisory database")?;
    // Every path is checked before anything is written: a missing one writes nothing.
    for p in paths {
        crate::settings::refuse_special(p, "import path")?;
        if let Err(source) = std::fs::metadata(p) {
            return Err(import::ImportError::Io {
                path: p.clone(),
                source,
            }
            .into());
        }
    }
    d.create_dir(env)?;
    let _lock = lock_and_check(&path, w, Writer::Import)?;
    let mut b = Builder::from_existing(&path)?;
    // One transaction for every path: the records of one source from several paths are
    // written together (with --replace-source, a source shared by two paths keeps both
    // paths' records).
    let mut w = b.writer(if replace { Mode::Replace } else { Mode::Merge })?;
    let mut from: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut total = 0usize;
    for p in paths {
        let mut per_source = PerSource::new();
        let mut malformed: Vec<(String, String)> = Vec::new();
        let mut malformed_count = 0usize;
        let mut files = 0usize;
        let mut skipped: Vec<String> = Vec::new();
        let mut skipped_count = 0usize;
        let mut failed: Option<DbError> = None;
        // Records are serialised and keyed on the reading threads; this one only writes. The
        // batch is borrowed: what it holds is freed on the thread that made it.
        let read = import::stream_path_prepared(p, 256, &mut |items| {
            for item in items.iter() {
                let r = match item {
                    import::Ready::Advisory(a) => write_advisory(&mut w, &mut per_source, a),
                    // stream_path_prepared hands every advisory on prepared; the type allows
                    // one that is not.
                    import::Ready::Other(Item::Advisory(a)) => {
                        write_advisory(&mut w, &mut per_source, &import::prepared(a))
                    }
                    import::Ready::Other(Item::Kev(k)) => {
                        *per_source.entry("kev".into()).or_default() += 1;
                        w.kev("kev", k)
                    }
                    import::Ready::Other(Item::Malformed(what, why)) => {
                        malformed_count += 1;
                        if malformed.is_empty() {
                            malformed.push((what.clone(), why.clone()));
                        }
                        Ok(())
                    }
                    import::Ready::Other(Item::File) => {
                        files += 1;
                        Ok(())
                    }
                    import::Ready::Other(Item::Skipped(what)) => {
                        skipped_count += 1;
                        if skipped.len() < 3 {
                            skipped.push(what.clone());
                        }
                        Ok(())
                    }
                };
                if let Err(e) = r {
                    failed = Some(e);
                    return Err(Stop);
                }
            }
            Ok(())
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        read?;
        if files == 0 && per_source.is_empty() {
            // Nothing in a format moat reads: an error, not `imported 0 records`.
            let mut found = Vec::new();
            if skipped_count > 0 {
                found.push(format!(
                    "{skipped_count} file(s) in no advisory format moat reads, e.g. {}",
                    skipped.join(", ")
                ));
            }
            if let Some((what, why)) = malformed.first() {
                found.push(format!("{malformed_count} unreadable, e.g. {what}: {why}"));
            }
            if found.is_empty() {
                found.push("no files".into());
            }
            bail!(
                "{}: nothing to import: {} (expected OSV JSON, an OSV all.zip, OVAL XML, ALAS or KEV files); the database is unchanged",
                p.display(),
                moat_model::limits::truncated(&found.join("; "), moat_model::limits::MAX_MESSAGE)
            );
        }
        if let Some((what, why)) = malformed.first() {
            let example = format!("{what}: {why}");
            eprintln!(
                "moat: warning: {}: {malformed_count} malformed record(s), e.g. {}",
                p.display(),
                crate::output::escape(&moat_model::limits::truncated(
                    &example,
                    moat_model::limits::MAX_MESSAGE
                ))
            );
        }
        for (source, n) in per_source {
            say!("{}: {n} records as source {source}", p.display());
            total += n;
            from.entry(source)
                .or_default()
                .push(p.display().to_string());
        }
    }
    for (source, paths) in from {
        w.set_meta(
            &source,
            SourceMeta {
                url: Some(paths.join(", ")),
                etag: None,
                last_modified: None,
            },
        );
    }
    w.finish()?;
    b.commit()?;
    say!("imported {total} records into {}", path.display());
    Ok(())
}

/// Lines of columns, each padded to its widest cell (two spaces between columns, the last
/// one not padded).
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let cells: Vec<&str> = cells.collect();
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(&mut header.iter().copied());
    for r in rows {
        out.push('\n');
        out.push_str(&line(&mut r.iter().map(String::as_str)));
    }
    out
}

fn status(d: &DbArgs, env: &Env) -> anyhow::Result<()> {
    let path = d.path(env);
    crate::settings::refuse_special(&path, "advisory database")?;
    let db = Database::open_read_only(&path)?;
    let st = db.status()?;
    let now = env.now();
    let age = |t: &str| moat_pipeline::advisories::age_days(t, now);
    say!("database: {}", path.display());
    say!("schema:   {}", st.schema);
    match &st.built_at {
        Some(b) => say!("built:    {b} ({} days ago)", age(b)),
        None => say!("built:    unknown"),
    }
    say!("records:  {}", st.advisories);
    say!("KEV:      {} entries", st.kev);
    // A database from elsewhere (`--db`) could hold anything in these columns.
    use crate::output::escape;

    let rows: Vec<Vec<String>> = st
        .sources
        .iter()
        .map(|s| {
            vec![
                escape(&s.name).into_owned(),
                s.records.to_string(),
                escape(&s.imported_at).into_owned(),
                format!("{} days", age(&s.imported_at)),
                escape(s.meta.url.as_deref().unwrap_or("-")).into_owned(),
            ]
        })
        .collect();
    say!(
        "\n{}",
        table(&["SOURCE", "RECORDS", "IMPORTED", "AGE", "FROM"], &rows)
    );

    let mut sources_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in &st.coverage {
        sources_of
            .entry(c.ecosystem.as_str())
            .or_default()
            .push(c.source.as_str());
    }
    let rows: Vec<Vec<String>> = st
        .ecosystems
        .iter()
        .map(|(eco, n)| {
            vec![
                escape(eco).into_owned(),
                n.to_string(),
                sources_of
                    .get(eco.as_str())
                    .map(|s| s.join(", "))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    say!("\n{}", table(&["ECOSYSTEM", "RECORDS", "SOURCES"], &rows));

    // Distro coverage: the releases each distro has advisories for.
    let mut distros: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (eco, n) in &st.ecosystems {
        if let Some((distro, release)) = moat_vuln::distro::split_release(eco) {
            distros
                .entry(distro)
                .or_default()
                .push(format!("{release} ({n})"));
        }
    }
    if !distros.is_empty() {
        let rows: Vec<Vec<String>> = distros
            .into_iter()
            .map(|(d, releases)| {
                vec![
                    escape(d).into_owned(),
                    escape(&releases.join(", ")).into_owned(),
                ]
            })
            .collect();
        say!("\n{}", table(&["DISTRO", "RELEASES (RECORDS)"], &rows));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::table;

    #[test]
    fn columns_are_aligned() {
        let t = table(
            &["SOURCE", "RECORDS", "FROM"],
            &[
                vec!["osv:Rocky Linux".into(), "0".into(), "http://x".into()],
                vec!["kev".into(), "1404".into(), "-".into()],
            ],
        );
        assert_eq!(
            t,
            "SOURCE           RECORDS  FROM\n\
             osv:Rocky Linux  0        http://x\n\
             kev              1404     -"
        );
    }
}
