//! The deb822 paragraph syntax of dpkg's status files: `Field: value` lines, continuation
//! lines starting with a space or tab, paragraphs separated by blank lines, `#` comments.
//! Each [`Stanza`] remembers the line it starts at, for diagnostics.

/// One deb822 paragraph: fields in order (names as written), the number of lines that
/// were neither fields nor continuations, and the 1-based line it starts at. Its strings
/// are reused from one paragraph to the next (a database of a million paragraphs is read
/// without a million sets of allocations).
#[derive(Default)]
pub(crate) struct Stanza {
    /// Room for fields; the first `used` are this paragraph's.
    slots: Vec<(String, String)>,
    used: usize,
    pub(crate) bad_lines: usize,
    pub(crate) line: usize,
}

impl Stanza {
    /// The fields, in order.
    pub(crate) fn fields(&self) -> &[(String, String)] {
        &self.slots[..self.used]
    }

    fn is_empty(&self) -> bool {
        self.used == 0 && self.bad_lines == 0
    }

    fn clear(&mut self) {
        self.used = 0;
        self.bad_lines = 0;
        self.line = 0;
    }

    fn push(&mut self, k: &str, v: &str) {
        if self.used == self.slots.len() {
            self.slots.push((String::new(), String::new()));
        }
        let (key, value) = &mut self.slots[self.used];
        key.clear();
        key.push_str(k);
        value.clear();
        value.push_str(v);
        self.used += 1;
    }

    /// First field of that name (case-insensitive).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields()
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
pub(crate) fn stanzas(text: &str) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    each_stanza(text, |s| out.push((s.line, s.fields().len(), s.bad_lines)));
    out
}

/// Hands each paragraph of deb822 text to `f`, in order, one at a time (a database of a
/// million paragraphs is never held as paragraphs at once). Paragraphs with neither fields
/// nor malformed lines (comments only) are dropped.
pub(crate) fn each_stanza(text: &str, f: impl FnMut(&Stanza)) {
    let mut split = Splitter::new(f);
    for line in text.split('\n') {
        split.line(line);
    }
    split.end();
}

/// [`each_stanza`] for text read from `r` line by line (invalid UTF-8 replaced per line,
/// which is the same as replacing it in the whole text: a newline is never part of a
/// UTF-8 sequence): the text is never held whole.
pub(crate) fn read_stanzas(
    mut r: impl std::io::BufRead,
    f: impl FnMut(&Stanza),
) -> std::io::Result<()> {
    let mut split = Splitter::new(f);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        split.line(&String::from_utf8_lossy(line));
    }
    split.end();
    Ok(())
}

/// The paragraphs of lines given one by one.
struct Splitter<F> {
    cur: Stanza,
    /// Lines seen so far.
    n: usize,
    f: F,
}

impl<F: FnMut(&Stanza)> Splitter<F> {
    fn new(f: F) -> Self {
        Splitter {
            cur: Stanza::default(),
            n: 0,
            f,
        }
    }

    /// The next line, without its `\n`.
    fn line(&mut self, line: &str) {
        self.n += 1;
        let cur = &mut self.cur;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if !cur.is_empty() {
                (self.f)(cur);
                cur.clear();
            }
            return;
        }
        if line.starts_with('#') {
            return;
        }
        if cur.is_empty() {
            cur.line = self.n;
        }
        if line.starts_with([' ', '\t']) {
            match cur.used.checked_sub(1) {
                Some(last) => {
                    let v = &mut cur.slots[last].1;
                    v.push('\n');
                    v.push_str(line.trim());
                }
                None => cur.bad_lines += 1,
            }
            return;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains(char::is_whitespace) => {
                cur.push(k, v.trim());
            }
            _ => cur.bad_lines += 1,
        }
    }

    fn end(mut self) {
        if !self.cur.is_empty() {
            (self.f)(&self.cur);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_know_their_first_line() {
        let text = "\n# comment\nPackage: a\n continued\n\n\n  \nbogus line\nPackage: b\n\n#only\n";
        assert_eq!(stanzas(text), [(3, 1, 0), (8, 1, 1)]);
    }
}
