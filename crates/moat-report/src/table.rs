//! The human table: a header line, then PACKAGE, VERSION, TYPE, LAYER, then the number of
//! warnings.
//!
//! Column widths are terminal cells, not bytes or chars: CJK and emoji count two,
//! combining marks zero (a small hand-kept table, enough for package names). Control
//! characters and bidirectional overrides in names from the image are shown as `?`, so a
//! package cannot move the cursor, recolour or reorder the user's terminal.

use crate::RenderOptions;
use moat_model::{Inventory, Package};

const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";
const GAP: &str = "  ";

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

/// Terminal cells a (cleaned) string takes.
pub(crate) fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if in_ranges(c, ZERO) {
                0
            } else if in_ranges(c, WIDE) {
                2
            } else {
                1
            }
        })
        .sum()
}

/// Replaces control characters and bidi embedding/override/isolate characters with `?`.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            let bidi = matches!(c as u32, 0x202A..=0x202E | 0x2066..=0x2069);
            if c.is_control() || bidi { '?' } else { c }
        })
        .collect()
}

pub(crate) fn pad(s: &str, to: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', to.saturating_sub(width(s))));
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn render(inv: &Inventory, o: &RenderOptions) -> String {
    let art = &inv.artifact;
    let os = match &art.os {
        Some(os) if !os.name.trim().is_empty() => os.name.clone(),
        Some(os) if !os.id.trim().is_empty() => match &os.version {
            Some(v) => format!("{} {v}", os.id),
            None => os.id.clone(),
        },
        _ => "unknown".to_string(),
    };
    let name = if art.name.trim().is_empty() {
        "unknown"
    } else {
        art.name.as_str()
    };
    let bold = |s: &str| {
        if o.color {
            format!("{BOLD}{s}{RESET}")
        } else {
            s.to_string()
        }
    };

    let mut out = String::new();
    let title = clean(&format!(
        "{}  OS: {os}  {}  {}",
        name,
        plural(art.layers.len(), "layer", "layers"),
        plural(inv.packages.len(), "package", "packages"),
    ));
    out.push_str(&bold(&title));
    out.push_str("\n\n");

    let mut packages: Vec<&Package> = inv.packages.iter().collect();
    packages.sort_by(|a, b| {
        (&a.kind, &a.name, &a.version, &a.id).cmp(&(&b.kind, &b.name, &b.version, &b.id))
    });
    if packages.is_empty() {
        out.push_str("No packages found.\n");
    } else {
        let header = ["PACKAGE", "VERSION", "TYPE", "LAYER"].map(str::to_string);
        let rows: Vec<[String; 4]> = packages
            .iter()
            .map(|p| {
                [
                    clean(&p.name),
                    clean(&p.version),
                    clean(&p.kind),
                    p.layer.map_or("-".to_string(), |l| l.to_string()),
                ]
            })
            .collect();
        let mut widths = [0usize; 4];
        for row in std::iter::once(&header).chain(rows.iter()) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let line = |row: &[String; 4]| {
            let mut l = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 < row.len() {
                    l.push_str(&pad(cell, widths[i]));
                    l.push_str(GAP);
                } else {
                    l.push_str(cell);
                }
            }
            l
        };
        out.push_str(&bold(&line(&header)));
        out.push('\n');
        for row in &rows {
            out.push_str(&line(row));
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(&plural(inv.diagnostics.len(), "warning", "warnings"));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
