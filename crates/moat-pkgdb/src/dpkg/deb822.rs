//! The deb822 paragraph syntax of dpkg's status files: `Field: value` lines, continuation
//! lines starting with a space or tab, paragraphs separated by blank lines, `#` comments.
//! Each [`Stanza`] remembers the line it starts at, for diagnostics.

/// One deb822 paragraph: fields in order (names as written), the number of lines that
/// were neither fields nor continuations, and the 1-based line it starts at.
pub(crate) struct Stanza<'a> {
    pub(crate) fields: Vec<(&'a str, String)>,
    pub(crate) bad_lines: usize,
    pub(crate) line: usize,
}

impl Stanza<'_> {
    fn empty() -> Self {
        Stanza {
            fields: Vec::new(),
            bad_lines: 0,
            line: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.bad_lines == 0
    }

    /// First field of that name (case-insensitive).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The trimmed value of a field, `None` when absent or empty.
    pub(crate) fn get_nonempty(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Splits deb822 text into paragraphs. Paragraphs with neither fields nor
/// malformed lines (comments only) are dropped.
#[cfg(test)]
pub(crate) fn stanzas(text: &str) -> Vec<Stanza<'_>> {
    let mut out = Vec::new();
    each_stanza(text, |s| out.push(s));
    out
}

/// Hands each paragraph of deb822 text to `f`, in order, one at a time (a database of a
/// million paragraphs is never held as paragraphs at once). Paragraphs with neither fields
/// nor malformed lines (comments only) are dropped.
pub(crate) fn each_stanza<'a>(text: &'a str, mut f: impl FnMut(Stanza<'a>)) {
    let mut cur = Stanza::empty();
    for (n, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if !cur.is_empty() {
                f(std::mem::replace(&mut cur, Stanza::empty()));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if cur.is_empty() {
            cur.line = n + 1;
        }
        if line.starts_with([' ', '\t']) {
            match cur.fields.last_mut() {
                Some((_, v)) => {
                    v.push('\n');
                    v.push_str(line.trim());
                }
                None => cur.bad_lines += 1,
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains(char::is_whitespace) => {
                cur.fields.push((k, v.trim().to_string()));
            }
            _ => cur.bad_lines += 1,
        }
    }
    if !cur.is_empty() {
        f(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_know_their_first_line() {
        let text = "\n# comment\nPackage: a\n continued\n\n\n  \nbogus line\nPackage: b\n\n#only\n";
        let got: Vec<(usize, usize, usize)> = stanzas(text)
            .iter()
            .map(|s| (s.line, s.fields.len(), s.bad_lines))
            .collect();
        assert_eq!(got, [(3, 1, 0), (8, 1, 1)]);
    }
}
