//! # dpkg (and opkg) databases
//!
//! Readers for the files dpkg leaves in an image:
//!
//! * [`parse_status`]: `var/lib/dpkg/status`, each file of the distroless
//!   `var/lib/dpkg/status.d/` directory, and opkg's `usr/lib/opkg/status` /
//!   `var/lib/opkg/status` (same deb822 format, fewer fields);
//! * [`parse_list`] / [`parse_md5sums`]: `var/lib/dpkg/info/<pkg>[:arch].list` and
//!   `.md5sums` (also `status.d/<pkg>.md5sums`), the files a package owns;
//! * [`info_file_package`]: which package an `info/` (or `status.d/`) file belongs to;
//! * [`copyright_licenses`]: the licences named by `usr/share/doc/<pkg>/copyright`.
//!
//! One file per format: `status.rs` (the package database), `deb822.rs` (the stanza
//! syntax it is written in), `info.rs` (per-package file lists) and `copyright.rs`
//! (licences).
//!
//! Only the status file reports problems: an installed stanza that cannot be read is a
//! `parse-error` at the line the stanza starts (see [`parse_status`]); the other files are
//! lists whose unreadable lines are skipped.

mod copyright;
mod deb822;
mod info;
mod status;

pub use crate::MAX_WARNINGS;
pub use copyright::{copyright_licenses, normalize_license};
pub use info::{info_file_package, parse_list, parse_md5sums};
pub use status::{DpkgPackage, parse_status, read_status};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_panics_on_odd_bytes() {
        for input in [
            &b"\xff\xfe:\n \n:"[..],
            b"Package:\xc3",
            b"\n\n\n",
            b": :",
            b"Source: (",
        ] {
            let _ = parse_status(input);
            let _ = parse_list(input);
            let _ = copyright_licenses(input);
        }
    }
}
