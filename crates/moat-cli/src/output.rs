//! Everything the CLI writes: reports to stdout or a file, command output lines, and
//! diagnostics on stderr.

use anyhow::Context;
use moat_model::diagnostic::Level;
use moat_model::{Code, Diagnostic};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::PathBuf;

/// Writes a report to `output`, or to stdout; a closed pipe (`moat ... | head`) ends the
/// output quietly.
pub fn write_out(output: Option<&PathBuf>, bytes: &[u8]) -> anyhow::Result<()> {
    match output {
        Some(p) => std::fs::write(p, bytes).with_context(|| format!("writing {}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r.context("writing to stdout"),
            }
        }
    }
}

/// `println!` for command output, with [`write_out`]'s handling of a closed pipe.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::write_out(None, format!("{}\n", format_args!($($arg)*)).as_bytes())?
    };
}
pub(crate) use say;

/// Text from a target made safe for a terminal: control characters shown as `\x1b`
/// (see [`moat_report::escape_terminal`]). Everything written to stderr goes through it.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    moat_report::escape_terminal(s)
}

/// Warnings printed one by one before the rest are only counted.
const SHOWN: usize = 20;

/// Prints the warnings among `diags` on stderr: each distinct one once, at most [`SHOWN`],
/// then a count per code of the rest. Notes (skipped advisory ranges) are only in the report.
pub fn print_diagnostics(diags: &[Diagnostic]) {
    let mut seen = HashSet::new();
    let warnings: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.code.level() == Level::Warning)
        .filter(|d| seen.insert(*d))
        .collect();
    let mut err = std::io::stderr().lock();
    for d in warnings.iter().take(SHOWN) {
        let _ = writeln!(err, "moat: warning: {}", escape(&d.to_string()));
    }
    if warnings.len() > SHOWN {
        let mut per_code: BTreeMap<Code, usize> = BTreeMap::new();
        for d in &warnings[SHOWN..] {
            *per_code.entry(d.code).or_default() += 1;
        }
        let counts: Vec<String> = per_code
            .iter()
            .map(|(code, n)| format!("{n} {code}"))
            .collect();
        let _ = writeln!(
            err,
            "moat: warning: {} more warnings ({}); the JSON report lists them all",
            warnings.len() - SHOWN,
            counts.join(", ")
        );
    }
}
