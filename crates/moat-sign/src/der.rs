//! Just enough DER to read and write the key structures (SPKI, PKCS#8, SEC1): bounded
//! tag-length-value reading, definite lengths only, single-byte tags.

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;

pub(crate) const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
pub(crate) const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
pub(crate) const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
pub(crate) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// A reader over DER bytes.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { rest: data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element: (tag, contents).
    pub(crate) fn read(&mut self) -> Result<(u8, &'a [u8]), &'static str> {
        let (&tag, after) = self.rest.split_first().ok_or("truncated DER")?;
        if tag & 0x1f == 0x1f {
            return Err("multi-byte DER tag");
        }
        let (&first, mut after) = after.split_first().ok_or("truncated DER length")?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err("unsupported DER length");
            }
            if after.len() < n {
                return Err("truncated DER length");
            }
            let mut len = 0usize;
            for &b in &after[..n] {
                len = (len << 8) | usize::from(b);
            }
            after = &after[n..];
            len
        };
        if after.len() < len {
            return Err("DER element longer than its input");
        }
        let (contents, rest) = after.split_at(len);
        self.rest = rest;
        Ok((tag, contents))
    }

    /// The next element, which must have this tag.
    pub(crate) fn expect(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], &'static str> {
        let (t, c) = self.read()?;
        if t != tag { Err(what) } else { Ok(c) }
    }
}

/// One DER element.
pub(crate) fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
    out
}

/// The contents of a BIT STRING with no unused bits.
pub(crate) fn bit_string_bytes(contents: &[u8]) -> Result<&[u8], &'static str> {
    match contents.split_first() {
        Some((0, bits)) => Ok(bits),
        _ => Err("BIT STRING with unused bits"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lengths_round_trip() {
        let body = vec![7u8; 300];
        let enc = tlv(OCTET_STRING, &body);
        assert_eq!(&enc[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let mut r = Reader::new(&enc);
        assert_eq!(r.expect(OCTET_STRING, "x").unwrap(), &body[..]);
        assert!(r.is_empty());
    }

    #[test]
    fn truncated_is_an_error() {
        assert!(Reader::new(&[0x30, 0x05, 0x01]).read().is_err());
        assert!(Reader::new(&[0x30, 0x85, 1, 1, 1, 1, 1]).read().is_err());
        assert!(Reader::new(&[0x30]).read().is_err());
    }
}
