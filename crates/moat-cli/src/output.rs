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

/// An error and its causes on one line, `outer: cause: cause`, each cause said once: a
/// cause whose text the message so far already holds (an error type that writes its source
/// into its own message, `{path}: {source}`) is not repeated (`/x: No such file or
/// directory (os error 2): No such file or directory (os error 2)` was printed before).
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Warnings printed one by one before the rest are only counted.
const SHOWN: usize = 20;
/// Notes printed one by one before the rest are only counted.
const NOTES_SHOWN: usize = 10;

/// Prints `diags` on stderr: each distinct warning once, at most [`SHOWN`], then a count per
/// code of the rest; then each distinct note (skipped advisory ranges, which the matcher
/// already counts per ecosystem and reason) as `moat: note: ...`, at most [`NOTES_SHOWN`],
/// then how many more.
pub fn print_diagnostics(diags: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    let _ = write_diagnostics(&mut err, diags);
}

/// [`print_diagnostics`] into any writer.
fn write_diagnostics(err: &mut impl Write, diags: &[Diagnostic]) -> std::io::Result<()> {
    let mut seen = HashSet::new();
    let (warnings, notes): (Vec<&Diagnostic>, Vec<&Diagnostic>) = diags
        .iter()
        .filter(|d| seen.insert(*d))
        .partition(|d| d.code.level() == Level::Warning);
    for d in warnings.iter().take(SHOWN) {
        writeln!(err, "moat: warning: {}", escape(&d.to_string()))?;
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
        writeln!(
            err,
            "moat: warning: {} more warnings ({}); the JSON report lists them all",
            warnings.len() - SHOWN,
            counts.join(", ")
        )?;
    }
    for d in notes.iter().take(NOTES_SHOWN) {
        writeln!(err, "moat: note: {}", escape(&d.to_string()))?;
    }
    if notes.len() > NOTES_SHOWN {
        writeln!(
            err,
            "moat: note: {} more notes; the JSON report lists them all",
            notes.len() - NOTES_SHOWN
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(diags: &[Diagnostic]) -> String {
        let mut out = Vec::new();
        write_diagnostics(&mut out, diags).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_cause_is_said_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("{path}: {source}")]
        struct Repeats {
            path: String,
            source: std::io::Error,
        }
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = anyhow::Error::new(Repeats {
            path: "/x".into(),
            source: io(),
        })
        .context("reading the target");
        assert_eq!(error_chain(&e), "reading the target: /x: gone");
        let e = anyhow::Error::new(io()).context("/x");
        assert_eq!(error_chain(&e), "/x: gone");
    }

    #[test]
    fn notes_are_printed_after_warnings_and_bounded() {
        let warn = Diagnostic::parse("bad line");
        let note = |i: usize| {
            Diagnostic::new(
                Code::RangeSkipped,
                format!("{i} GIT ranges skipped (Go): commit ranges cannot be compared"),
            )
        };
        let mut diags = vec![note(1), warn.clone(), note(1)];
        assert_eq!(
            text(&diags),
            "moat: warning: bad line\n\
             moat: note: 1 GIT ranges skipped (Go): commit ranges cannot be compared\n"
        );
        diags.extend((2..=12).map(note));
        let out = text(&diags);
        assert_eq!(out.lines().count(), 1 + NOTES_SHOWN + 1, "{out}");
        assert!(out.ends_with("moat: note: 2 more notes; the JSON report lists them all\n"));
    }
}
