//! Binary sniffing: a file is binary when its first bytes hold a NUL, as git and ripgrep
//! decide. UTF-16 text has NULs too and is treated as binary (secrets in it are rare, and
//! `--secret-scan-binaries` scans every file anyway).

/// How many leading bytes [`is_binary`] needs to decide.
pub const SNIFF_BYTES: usize = 8 << 10;

/// Whether `head` (the first bytes of a file) says the file is binary.
pub fn is_binary(head: &[u8]) -> bool {
    let n = head.len().min(SNIFF_BYTES);
    head[..n].contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_bytes_mean_binary() {
        assert!(is_binary(b"\x7fELF\x02\x01\x01\x00"));
        assert!(!is_binary(b"#!/bin/sh\necho hi\n"));
        assert!(!is_binary("caf\u{e9}\n".as_bytes()));
        assert!(!is_binary(b""));
    }
}
