//! The rpm manifest of CBL-Mariner / Azure Linux distroless images
//! (`/var/lib/rpmmanifest/container-manifest-2`), which keep it instead of an rpm database.
//!
//! One line a package, the output of `rpm --query --all --query-format` with ten
//! tab-separated fields: `NAME`, `VERSION-RELEASE`, `INSTALLTIME`, `BUILDTIME`, `VENDOR`,
//! `EPOCH` (`(none)` when unset), `SIZE`, `ARCH`, `EPOCHNUM`, `SOURCERPM` (CBL-Mariner's
//! toolkit documentation, "misc"). No file lists, dependencies or licenses: the manifest
//! does not hold them. A line that does not have the fields is a `parse-error` diagnostic
//! at its line; a file with no package line at all is not a manifest ([`Error::Format`]).

use super::RpmPackage;
use crate::{Error, Parsed, Warnings};

/// Where distroless CBL-Mariner and Azure Linux images keep it.
pub const PATH: &str = "var/lib/rpmmanifest/container-manifest-2";

/// Every package line of a manifest, in file order.
pub fn read(bytes: &[u8]) -> Result<Parsed<RpmPackage>, Error> {
    let text = String::from_utf8_lossy(bytes);
    let mut packages = Vec::new();
    let mut warnings = Warnings::default();
    let mut lines = 0usize;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        match package(line) {
            Ok(p) if p.name == "gpg-pubkey" => {}
            Ok(p) => packages.push(p),
            Err(why) => warnings.at_line(i + 1, why),
        }
    }
    if packages.is_empty() {
        return Err(Error::Format {
            format: "rpm manifest",
            reason: if lines == 0 {
                "no package lines".to_string()
            } else {
                "no line has the ten tab-separated fields of a package".to_string()
            },
        });
    }
    Ok(Parsed {
        packages,
        warnings: warnings.finish(),
    })
}

fn package(line: &str) -> Result<RpmPackage, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [
        name,
        version_release,
        _installed,
        _built,
        vendor,
        epoch,
        size,
        arch,
        _epochnum,
        srpm,
    ] = fields[..]
    else {
        return Err(format!(
            "{} tab-separated fields where a package has 10",
            fields.len()
        ));
    };
    let none = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s != "(none)").then(|| s.to_string())
    };
    let name = name.trim();
    if name.is_empty() {
        return Err("no package name".into());
    }
    let Some((version, release)) = version_release.trim().rsplit_once('-') else {
        return Err(format!("{version_release:?} is not VERSION-RELEASE"));
    };
    if version.is_empty() || release.is_empty() {
        return Err(format!("{version_release:?} is not VERSION-RELEASE"));
    }
    let epoch = match none(epoch) {
        None => None,
        Some(e) => Some(
            e.parse::<u32>()
                .map_err(|_| format!("epoch {e:?} is not a number"))?,
        ),
    };
    Ok(RpmPackage {
        name: name.to_string(),
        epoch,
        version: version.to_string(),
        release: release.to_string(),
        arch: none(arch),
        source_rpm: none(srpm),
        license: None,
        vendor: none(vendor),
        size: size.trim().parse().ok(),
        files: Vec::new(),
        requires: Vec::new(),
        provides: Vec::new(),
        modularity_label: None,
    })
}

#[cfg(test)]
mod tests {
    use super::read;

    #[test]
    fn lines_fields_and_damage() {
        let good = "vim\t9.0-1.cm2\t1653816591\t1653628924\tMicrosoft Corporation\t2\t3542\tx86_64\t2\tvim-9.0-1.cm2.src.rpm\n";
        let parsed = read(
            format!("{good}\nshort\tline\nbad\t9.0\t1\t2\tv\t(none)\t1\tx86_64\t0\tbad.src.rpm\n")
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(parsed.packages.len(), 1);
        let vim = &parsed.packages[0];
        assert_eq!(
            (
                vim.evr(),
                vim.arch.as_deref(),
                vim.source_rpm.as_deref(),
                vim.size
            ),
            (
                "2:9.0-1.cm2".to_string(),
                Some("x86_64"),
                Some("vim-9.0-1.cm2.src.rpm"),
                Some(3542)
            )
        );
        let said: Vec<(Option<u32>, String)> = parsed
            .warnings
            .iter()
            .map(|w| (w.line, w.message.clone()))
            .collect();
        assert_eq!(
            said,
            [
                (
                    Some(3),
                    "2 tab-separated fields where a package has 10".to_string()
                ),
                (Some(4), "\"9.0\" is not VERSION-RELEASE".to_string())
            ]
        );
        assert!(read(b"").is_err());
        assert!(read(b"not\ta\tmanifest\n").is_err());
        assert!(read(&[0xff, 0xfe, 0x00]).is_err());
    }
}
