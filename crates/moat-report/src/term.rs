//! Text for a terminal: cell widths, escaping, cutting, colour. Both tables (the
//! inventory's and the scan report's) go through these functions.
//!
//! Column widths are terminal cells, not bytes or chars: CJK and emoji count two,
//! combining marks zero (a small hand-kept table, enough for package names and file
//! paths). Control characters and bidirectional overrides in text from the image or an
//! advisory are shown as `?`, so a package name, a file name or a matched line cannot move
//! the cursor, recolour or reorder the user's terminal.
//!
//! Rejected: the `unicode-width` crate (the full Unicode tables for a few columns of
//! mostly ASCII text), and a table crate (each table here is a few columns of `pad`).

use moat_model::Severity;

pub(crate) const BOLD: &str = "\x1b[1m";
pub(crate) const RESET: &str = "\x1b[0m";
/// Between two columns.
pub(crate) const GAP: &str = "  ";

/// Zero-width ranges: combining marks and zero-width formatting characters.
const ZERO: &[(u32, u32)] = &[
    (0x0300, 0x036F),
    (0x0483, 0x0489),
    (0x0591, 0x05BD),
    (0x0610, 0x061A),
    (0x064B, 0x065F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x200B, 0x200F),
    (0x20D0, 0x20FF),
    (0xFE00, 0xFE0F),
    (0xFE20, 0xFE2F),
    (0xFEFF, 0xFEFF),
];

/// Double-width ranges: East Asian wide and fullwidth characters, emoji.
const WIDE: &[(u32, u32)] = &[
    (0x1100, 0x115F),
    (0x2E80, 0x303E),
    (0x3041, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA000, 0xA4CF),
    (0xAC00, 0xD7A3),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFF60),
    (0xFFE0, 0xFFE6),
    (0x1F300, 0x1F64F),
    (0x1F900, 0x1F9FF),
    (0x20000, 0x2FFFD),
    (0x30000, 0x3FFFD),
];

fn in_ranges(c: char, ranges: &[(u32, u32)]) -> bool {
    let c = c as u32;
    ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

fn char_width(c: char) -> usize {
    if in_ranges(c, ZERO) {
        0
    } else if in_ranges(c, WIDE) {
        2
    } else {
        1
    }
}

/// Terminal cells a (cleaned) string takes.
pub(crate) fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// A character a terminal would obey rather than show: a control character (C0, DEL, C1;
/// newlines and tabs too) or a bidirectional embedding, override or isolate.
fn obeyed(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x202A..=0x202E | 0x2066..=0x2069)
}

/// Replaces control characters and bidi embedding/override/isolate characters with `?`.
pub(crate) fn clean(s: &str) -> String {
    s.chars().map(|c| if obeyed(c) { '?' } else { c }).collect()
}

/// Text from a target for a terminal line (a warning, an error): every control character
/// (C0, DEL, C1; newlines and tabs too) is written as `\x1b`, and every bidirectional
/// embedding, override or isolate as `\u{202e}`, so the text is shown, never obeyed.
/// Borrows `s` when there is nothing to escape. Unlike [`clean`] (for table cells, where
/// width matters) the escape keeps which character it was.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(obeyed) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if !obeyed(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `s` followed by spaces up to `to` cells.
pub(crate) fn pad(s: &str, to: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', to.saturating_sub(width(s))));
    out
}

/// Cuts a (cleaned) string to at most `max` cells, ending in `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Text on one line, cleaned: whitespace runs (newlines included) become one space.
pub(crate) fn one_line(s: &str) -> String {
    clean(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `1 layer`, `2 layers`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The colour of a severity, if it has one.
pub(crate) fn severity_colour(s: Severity) -> Option<&'static str> {
    match s {
        Severity::Critical => Some("\x1b[1;31m"),
        Severity::High => Some("\x1b[31m"),
        Severity::Medium => Some("\x1b[33m"),
        Severity::Low => Some("\x1b[34m"),
        Severity::Unknown => None,
    }
}

/// Wraps text in escape sequences, or not.
#[derive(Clone, Copy)]
pub(crate) struct Paint {
    pub color: bool,
}

impl Paint {
    pub fn bold(self, s: &str) -> String {
        self.with(Some(BOLD), s)
    }

    /// `s` in the colour of `severity` (unchanged for UNKNOWN).
    pub fn severity(self, severity: Severity, s: &str) -> String {
        self.with(severity_colour(severity), s)
    }

    fn with(self, code: Option<&str>, s: &str) -> String {
        match code {
            Some(c) if self.color => format!("{c}{s}{RESET}"),
            _ => s.to_string(),
        }
    }
}

/// The columns of a table: every column but the last is padded to its widest cell (header
/// included); the last takes what is left of the line.
pub(crate) struct Columns {
    indent: &'static str,
    widths: Vec<usize>,
}

impl Columns {
    /// Fits the columns to the header and every row (cells already cleaned).
    pub fn fit<'a>(
        indent: &'static str,
        header: &[&str],
        rows: impl IntoIterator<Item = &'a [String]>,
    ) -> Columns {
        let fixed = header.len().saturating_sub(1);
        let mut widths: Vec<usize> = header.iter().take(fixed).map(|h| width(h)).collect();
        for row in rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        Columns { indent, widths }
    }

    /// Cells left for the last column in a line `total` cells wide, at least `min`.
    pub fn rest(&self, total: usize, min: usize) -> usize {
        let used = width(self.indent) + self.widths.iter().map(|w| w + GAP.len()).sum::<usize>();
        total.saturating_sub(used).max(min)
    }

    /// One line: the indent, each fixed cell padded (the one at `coloured.0` painted in the
    /// severity's colour), then the last cell; no trailing spaces.
    pub fn line(
        &self,
        cells: &[String],
        coloured: Option<(usize, Severity)>,
        paint: Paint,
    ) -> String {
        let mut l = String::from(self.indent);
        for (i, cell) in cells.iter().enumerate() {
            match self.widths.get(i) {
                Some(&w) => {
                    let padded = pad(cell, w);
                    match coloured {
                        Some((at, sev)) if at == i => {
                            l.push_str(&paint.severity(sev, cell));
                            l.push_str(&padded[cell.len()..]);
                        }
                        _ => l.push_str(&padded),
                    }
                    l.push_str(GAP);
                }
                None => l.push_str(cell),
            }
        }
        l.truncate(l.trim_end().len());
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_shows_control_characters() {
        assert_eq!(
            escape("a\u{1b}]0;pwned\u{7}\u{1b}[2J\0b\n\u{9b}\u{202e}c"),
            "a\\x1b]0;pwned\\x07\\x1b[2J\\x00b\\x0a\\x9b\\u{202e}c"
        );
        assert!(matches!(
            escape("plain é 漢"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn widths() {
        assert_eq!(width("libc6"), 5);
        assert_eq!(width("日本"), 4);
        assert_eq!(width("e\u{301}"), 1);
        assert_eq!(pad("日本", 5), "日本 ");
    }

    #[test]
    fn hostile_names_cannot_reach_the_terminal() {
        assert_eq!(clean("a\x1b[31mb\nc\u{202E}d"), "a?[31mb?c?d");
        assert_eq!(one_line(" a\r\n b\u{1b} "), "a b?");
    }

    #[test]
    fn truncation_counts_cells() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abcde…");
        assert_eq!(truncate("日本語日本語", 5), "日本…");
    }

    #[test]
    fn paint_only_when_asked() {
        let on = Paint { color: true };
        assert_eq!(on.bold("x"), "\x1b[1mx\x1b[0m");
        assert_eq!(on.severity(Severity::High, "HIGH"), "\x1b[31mHIGH\x1b[0m");
        assert_eq!(on.severity(Severity::Unknown, "UNKNOWN"), "UNKNOWN");
        assert_eq!(Paint { color: false }.bold("x"), "x");
    }

    #[test]
    fn columns_pad_all_but_the_last() {
        let rows = [
            vec!["a".to_string(), "HIGH".into(), "title".into()],
            vec!["日本".to_string(), "LOW".into(), String::new()],
        ];
        let c = Columns::fit(
            "  ",
            &["ID", "SEV", "TITLE"],
            rows.iter().map(|r| r.as_slice()),
        );
        assert_eq!(c.rest(20, 3), 20 - (2 + 6 + 6));
        assert_eq!(c.rest(5, 3), 3);
        let paint = Paint { color: true };
        assert_eq!(
            c.line(&rows[0], Some((1, Severity::High)), paint),
            "  a     \x1b[31mHIGH\x1b[0m  title"
        );
        assert_eq!(c.line(&rows[1], None, paint), "  日本  LOW");
    }
}
