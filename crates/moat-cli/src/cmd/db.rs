//! `moat db import | update | status`: the advisory database.

use crate::output::say;
use crate::settings::{DbArgs, Env};
use anyhow::bail;
use clap::Subcommand;
use moat_vuln::db::{Builder, Database, SourceMeta};
use moat_vuln::{import, update};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Import advisories from files, directories or OSV all.zip archives.
    Import {
        #[command(flatten)]
        db: DbArgs,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Download the OSV ecosystem archives and KEV that changed.
    Update {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print sources, record counts and age.
    Status {
        #[command(flatten)]
        db: DbArgs,
    },
}

pub fn run(cmd: DbCommand, env: &Env) -> anyhow::Result<()> {
    match cmd {
        DbCommand::Import { db: d, paths } => import(&d, &paths, env),
        DbCommand::Update { db: d } => {
            if d.offline {
                bail!(
                    "--offline is set: `moat db update` needs the network (use `moat db import` for air-gapped use)"
                );
            }
            let show = std::io::stderr().is_terminal();
            let mut progress = |msg: &str| {
                if show {
                    eprintln!("moat: {msg}");
                }
            };
            let summary = moat_pipeline::advisories::download(
                &d.path(env),
                &d.update_options(env),
                &mut progress,
            )?;
            for (source, outcome) in &summary.per_source {
                let what = match outcome {
                    update::SourceOutcome::Updated { records } => {
                        format!("updated, {records} records")
                    }
                    update::SourceOutcome::NotModified => "not modified".to_string(),
                    update::SourceOutcome::Failed { reason } => format!("failed: {reason}"),
                };
                say!("{source}: {what}");
            }
            Ok(())
        }
        DbCommand::Status { db: d } => status(&d, env),
    }
}

fn import(d: &DbArgs, paths: &[PathBuf], env: &Env) -> anyhow::Result<()> {
    let path = d.path(env);
    // A FIFO, socket or device would block the import for ever: refused before anything.
    crate::settings::refuse_special(&path, "advisory database")?;
    for p in paths {
        crate::settings::refuse_special(p, "import path")?;
    }
    d.create_dir(env)?;
    let mut b = Builder::from_existing(&path)?;
    // Every path is read before anything is written, and the records of one source from
    // several paths are replaced together: replacing per path would keep only the last
    // path's records of a source that two paths share.
    let mut merged: BTreeMap<String, (Vec<String>, import::ImportBatch)> = BTreeMap::new();
    for p in paths {
        let mut batch = import::import_path(p)?;
        if let Some((what, why)) = batch.malformed.first() {
            let example = format!("{what}: {why}");
            eprintln!(
                "moat: warning: {}: {} malformed record(s), e.g. {}",
                p.display(),
                batch.malformed.len(),
                crate::output::escape(&moat_model::limits::truncated(
                    &example,
                    moat_model::limits::MAX_MESSAGE
                ))
            );
        }
        for (source, part) in import::split_by_source(&mut batch) {
            say!(
                "{}: {} records as source {source}",
                p.display(),
                part.advisories.len() + part.kev.len()
            );
            let entry = merged.entry(source).or_default();
            entry.0.push(p.display().to_string());
            entry.1.extend(part);
        }
    }
    let mut total = 0;
    for (source, (from, part)) in merged {
        let meta = SourceMeta {
            url: Some(from.join(", ")),
            etag: None,
            last_modified: None,
        };
        total += b.replace_source(&source, &part, meta)?;
    }
    b.commit()?;
    say!("imported {total} records into {}", path.display());
    Ok(())
}

fn status(d: &DbArgs, env: &Env) -> anyhow::Result<()> {
    let path = d.path(env);
    crate::settings::refuse_special(&path, "advisory database")?;
    let db = Database::open_read_only(&path)?;
    let st = db.status()?;
    say!("database: {}", path.display());
    say!("schema:   {}", st.schema);
    match &st.built_at {
        Some(b) => say!(
            "built:    {b} ({} days ago)",
            moat_pipeline::advisories::age_days(b, env.now())
        ),
        None => say!("built:    unknown"),
    }
    say!("records:  {}", st.advisories);
    say!("KEV:      {} entries", st.kev);
    say!("\nSOURCE  RECORDS  IMPORTED  FROM");
    // A database from elsewhere (`--db`) could hold anything in these columns.
    use crate::output::escape;
    for s in &st.sources {
        say!(
            "{}  {}  {}  {}",
            escape(&s.name),
            s.records,
            escape(&s.imported_at),
            escape(s.meta.url.as_deref().unwrap_or("-"))
        );
    }
    say!("\nECOSYSTEM  RECORDS");
    for (eco, n) in &st.ecosystems {
        say!("{}  {n}", escape(eco));
    }
    Ok(())
}
