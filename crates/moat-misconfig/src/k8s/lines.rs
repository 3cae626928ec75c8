//! The line of a field in a manifest's text, so that a finding points at
//! `securityContext.privileged` (line 23), not at the document's first line.
//!
//! The YAML reader gives values without positions (serde_saphyr's `Spanned` would need a
//! typed tree of spans beside the JSON values every check reads, for every document, where
//! only the few with findings need a line). So the line is found when a finding is made, by
//! walking the block-style text of its document from the line the document starts at: a
//! key is a line `KEY:` at the indentation of its mapping, the N-th item of a sequence is the
//! N-th `- ` line at the sequence's indentation (which may equal its key's, as
//! `containers:\n- name:` writes it). A value written inline (`securityContext:
//! {privileged: true}`, a scalar) stops the walk at its key's line, which is where it is. A
//! path that is not found gives the line of its deepest ancestor that is (a field that is
//! missing points at the container that misses it); a JSON document gives its first line
//! (JSON's nesting is not its indentation). The walk reads each line at most once per step
//! of the path and allocates nothing.

/// One step of a path into a document: a mapping key or a sequence index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// The line (1-based) of the node at `path` in the document of `text` that starts at line
/// `start`, or of its deepest ancestor found; `start` for JSON.
pub fn locate(text: &str, start: u32, path: &[Seg]) -> u32 {
    let lines: Vec<&str> = text
        .lines()
        .skip(start.saturating_sub(1) as usize)
        .enumerate()
        .take_while(|(i, l)| *i == 0 || !(l.starts_with("---") || *l == "..."))
        .map(|(_, l)| l)
        .collect();
    let first = lines
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    if first.is_none_or(|l| l.starts_with('{') || l.starts_with('[')) {
        return start;
    }
    let mut best = start;
    let mut from = 0usize;
    let mut parent: isize = -1;
    // The line of the sequence item entered last, and the column its content starts at.
    let mut item: Option<(usize, usize)> = None;
    let content = |j: usize, item: Option<(usize, usize)>| -> (usize, &str) {
        let l = lines[j];
        match item {
            Some((at, col)) if at == j => (col, l.get(col..).unwrap_or("").trim()),
            _ => (l.len() - l.trim_start_matches(' ').len(), l.trim()),
        }
    };
    for seg in path {
        match *seg {
            Seg::Key(key) => {
                let mut indent = None;
                let mut found = None;
                for j in from..lines.len() {
                    let (ind, body) = content(j, item);
                    if body.is_empty() || body.starts_with('#') {
                        continue;
                    }
                    if ind as isize <= parent || indent.is_some_and(|i| ind < i) {
                        break;
                    }
                    let at = *indent.get_or_insert(ind);
                    if ind == at
                        && let Some(rest) = after_key(body, key)
                    {
                        found = Some((j, at, rest));
                        break;
                    }
                }
                let Some((j, at, rest)) = found else {
                    return best;
                };
                best = start + j as u32;
                let rest = rest.trim();
                // Nothing, a comment, a block scalar's indicator or a lone anchor: the
                // value is on the lines below.
                let below = rest.is_empty()
                    || rest.starts_with(['#', '|', '>'])
                    || (rest.starts_with('&') && !rest.contains(' '));
                let inline = !below;
                if inline {
                    return best;
                }
                from = j + 1;
                parent = at as isize;
                item = None;
            }
            Seg::Index(n) => {
                let mut dash = None;
                let mut count = 0usize;
                let mut found = None;
                for j in from..lines.len() {
                    let (ind, body) = content(j, item);
                    if body.is_empty() || body.starts_with('#') {
                        continue;
                    }
                    let is_item = body == "-" || body.starts_with("- ");
                    if (ind as isize) < parent || (ind as isize == parent && !is_item) {
                        break;
                    }
                    let at = *dash.get_or_insert(ind);
                    if ind < at {
                        break;
                    }
                    if ind == at && is_item {
                        if count == n {
                            found = Some((j, at, body));
                            break;
                        }
                        count += 1;
                    }
                }
                let Some((j, at, body)) = found else {
                    return best;
                };
                best = start + j as u32;
                let after = body[1..].trim_start();
                if after.starts_with('{') || after.starts_with('[') {
                    return best;
                }
                // Where the item's content starts on its dash line.
                let col = lines[j].trim_end().len() - after.len();
                item = (!after.is_empty()).then_some((j, col));
                from = j + usize::from(after.is_empty());
                parent = at as isize;
            }
        }
    }
    best
}

/// What follows `key:` at the start of `body` (the key bare or quoted), or `None`.
fn after_key<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    let rest = if let Some(r) = body.strip_prefix(key) {
        r
    } else {
        let q = body.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        body[1..].strip_prefix(key)?.strip_prefix(q)?
    };
    let rest = rest.strip_prefix(':')?;
    (rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::Seg::{Index as I, Key as K};
    use super::*;

    const DOC: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: busybox
      containers:
      - name: a
        image: nginx
      - name: b
        # a comment
        securityContext:
          privileged: true
          capabilities: {add: [SYS_ADMIN]}
        env:
        - {name: X, value: y}
        args: |
          privileged: false
      volumes: []
";

    #[test]
    fn fields_items_and_their_ancestors() {
        let spec = [K("spec"), K("template"), K("spec")];
        let at = |rest: &[Seg]| {
            let p: Vec<Seg> = spec.iter().chain(rest).copied().collect();
            locate(DOC, 1, &p)
        };
        assert_eq!(at(&[]), 7);
        assert_eq!(at(&[K("initContainers"), I(0), K("image")]), 10);
        assert_eq!(at(&[K("containers"), I(0)]), 12);
        assert_eq!(at(&[K("containers"), I(0), K("name")]), 12);
        assert_eq!(
            at(&[K("containers"), I(1), K("securityContext"), K("privileged")]),
            17
        );
        // inline values stop at their key; a missing field gives its deepest ancestor
        assert_eq!(
            at(&[
                K("containers"),
                I(1),
                K("securityContext"),
                K("capabilities"),
                K("add")
            ]),
            18
        );
        assert_eq!(
            at(&[K("containers"), I(0), K("securityContext"), K("privileged")]),
            12
        );
        assert_eq!(at(&[K("containers"), I(1), K("env"), I(0), K("name")]), 20);
        assert_eq!(at(&[K("containers"), I(2)]), 11);
        assert_eq!(at(&[K("volumes")]), 23);
        assert_eq!(at(&[K("hostPID")]), 7);
        // a document later in the file, and JSON
        let two = format!("kind: A\n---\n{DOC}");
        assert_eq!(locate(&two, 3, &[K("spec"), K("template")]), 8);
        assert_eq!(locate("{\"spec\": {}}", 1, &[K("spec")]), 1);
        assert_eq!(locate("\"spec\":\n  x: 1\n", 1, &[K("spec"), K("x")]), 2);
    }
}
