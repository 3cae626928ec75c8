//! The inventory table: a header line, then PACKAGE, VERSION, TYPE, LAYER, then the number
//! of warnings. Widths and escaping come from [`crate::term`], so a package name from the
//! image cannot drive the terminal or break the alignment.

use crate::RenderOptions;
use crate::term::{Columns, Paint, clean, plural};
use moat_model::{Inventory, Package};

/// The artifact's name for a table title (`unknown` when it has none).
pub(crate) fn artifact_name(inv: &Inventory) -> &str {
    if inv.artifact.name.trim().is_empty() {
        "unknown"
    } else {
        inv.artifact.name.as_str()
    }
}

/// The OS for a table title: its pretty name, else `id version`, else `unknown`.
pub(crate) fn os_name(inv: &Inventory) -> String {
    match &inv.artifact.os {
        Some(os) if !os.name.trim().is_empty() => os.name.clone(),
        Some(os) if !os.id.trim().is_empty() => match &os.version {
            Some(v) => format!("{} {v}", os.id),
            None => os.id.clone(),
        },
        _ => "unknown".to_string(),
    }
}

pub(crate) fn render(inv: &Inventory, o: &RenderOptions) -> String {
    let art = &inv.artifact;
    let (name, os) = (artifact_name(inv), os_name(inv));
    let paint = Paint { color: o.color };

    let mut out = String::new();
    let title = clean(&format!(
        "{}  OS: {os}  {}  {}",
        name,
        plural(art.layers.len(), "layer", "layers"),
        plural(inv.packages.len(), "package", "packages"),
    ));
    out.push_str(&paint.bold(&title));
    out.push_str("\n\n");

    let mut packages: Vec<&Package> = inv.packages.iter().collect();
    packages.sort_by(|a, b| {
        (&a.kind, &a.name, &a.version, &a.id).cmp(&(&b.kind, &b.name, &b.version, &b.id))
    });
    if packages.is_empty() {
        out.push_str("No packages found.\n");
    } else {
        let header = ["PACKAGE", "VERSION", "TYPE", "LAYER"];
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
        let columns = Columns::fit("", &header, rows.iter().map(|r| r.as_slice()));
        let plain = Paint { color: false };
        let header = header.map(str::to_string);
        out.push_str(&paint.bold(&columns.line(&header, None, plain)));
        out.push('\n');
        for row in &rows {
            out.push_str(&columns.line(row, None, plain));
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(&plural(inv.diagnostics.len(), "warning", "warnings"));
    out.push('\n');
    out
}
