//! `META-INF/MANIFEST.MF`, `pom.properties` and archive file names: the evidence an
//! archive gives about its own identity.

/// The main section of a JAR manifest: `Name: value` attributes, continuation lines (a line
/// starting with one space) joined, names compared case-insensitively as the JAR
/// specification says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    attrs: Vec<(String, String)>,
}

impl Manifest {
    /// Parses the main section (everything up to the first blank line after an attribute).
    /// Lines that are not `Name: value` are skipped.
    pub fn parse(bytes: &[u8]) -> Manifest {
        let text = String::from_utf8_lossy(bytes);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let text = text.replace("\r\n", "\n");
        let mut attrs: Vec<(String, String)> = Vec::new();
        // The attribute being built: a continuation line extends it.
        let mut current: Option<(String, String)> = None;
        for line in text.split(['\n', '\r']) {
            if let Some(rest) = line.strip_prefix(' ') {
                if let Some((_, v)) = current.as_mut() {
                    v.push_str(rest);
                }
                continue;
            }
            if let Some(done) = current.take() {
                attrs.push(done);
            }
            if line.is_empty() {
                // A blank line ends the main section (leading blank lines are skipped).
                if attrs.is_empty() {
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                let k = k.trim();
                if !k.is_empty() && !k.contains(char::is_whitespace) {
                    let v = v.strip_prefix(' ').unwrap_or(v);
                    current = Some((k.to_string(), v.to_string()));
                }
            }
        }
        if let Some(done) = current.take() {
            attrs.push(done);
        }
        Manifest { attrs }
    }

    /// The value of an attribute of the main section, trimmed; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Parses a Java `.properties` file (`key=value`, `key: value` or `key value`; `#` and `!`
/// comments; trailing-backslash continuations; the common escapes). Later keys win.
pub fn parse_properties(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut out: Vec<(String, String)> = Vec::new();
    let mut logical = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut line = line.trim_start();
        if logical.is_empty() && (line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        loop {
            let trailing = line.len() - line.trim_end_matches('\\').len();
            if trailing % 2 == 1 {
                logical.push_str(&line[..line.len() - 1]);
                match lines.next() {
                    Some(next) => line = next.trim_start(),
                    None => break,
                }
            } else {
                logical.push_str(line);
                break;
            }
        }
        let entry = std::mem::take(&mut logical);
        if entry.is_empty() {
            continue;
        }
        // The key ends at the first unescaped `=`, `:` or whitespace.
        let mut key = String::new();
        let mut chars = entry.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        key.push(unescape(n));
                    }
                }
                '=' | ':' => break,
                c if c.is_whitespace() => {
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                    if chars.peek().is_some_and(|c| *c == '=' || *c == ':') {
                        chars.next();
                    }
                    break;
                }
                c => key.push(c),
            }
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    value.push(unescape(n));
                }
            } else {
                value.push(c);
            }
        }
        let value = value.trim_end().to_string();
        out.retain(|(k, _)| *k != key);
        out.push((key, value));
    }
    out
}

fn unescape(c: char) -> char {
    match c {
        't' => '\t',
        'n' => '\n',
        'r' => '\r',
        'f' => '\u{c}',
        c => c,
    }
}

/// Splits an archive's file name into artifact and version at the first `-` followed by a
/// digit: `spring-core-4.3.30.RELEASE.jar` → (`spring-core`, `4.3.30.RELEASE`). The version
/// is `None` when the name has none.
pub(crate) fn split_file_name(file_name: &str) -> (String, Option<String>) {
    let stem = match file_name.rfind('.') {
        Some(dot) if dot > 0 => &file_name[..dot],
        _ => file_name,
    };
    let bytes = stem.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) && i > 0 {
            return (stem[..i].to_string(), Some(stem[i + 1..].to_string()));
        }
    }
    (stem.to_string(), None)
}

/// An identity found in a manifest or a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub group: String,
    pub artifact: String,
    pub version: String,
    /// The group is a guess (no attribute named it).
    pub group_guessed: bool,
}

/// A token that can be a Maven coordinate part: non-empty, no whitespace, no `${`.
fn coordinate_like(s: &str) -> bool {
    !s.is_empty() && !s.contains(char::is_whitespace) && !s.contains("${") && !s.contains(':')
}

/// `org.apache.commons.text` → `org.apache.commons`, only for names of three or more
/// segments (a two-segment module name such as `spring.core` says nothing about the group).
fn dotted_prefix(s: &str) -> Option<&str> {
    if s.split('.').count() < 3 {
        return None;
    }
    s.rsplit_once('.').map(|(p, _)| p)
}

/// `com.newrelic.instrumentation.spring-4.3.0` → (`com.newrelic.instrumentation`,
/// `spring-4.3.0`): split at the last dot followed by a letter, when what precedes has two
/// segments or more.
fn split_dotted_title(s: &str) -> Option<(&str, &str)> {
    let pos = s
        .char_indices()
        .rev()
        .find(|(i, c)| *c == '.' && s[i + 1..].starts_with(|n: char| n.is_ascii_alphabetic()))
        .map(|(i, _)| i)?;
    let (group, artifact) = (&s[..pos], &s[pos + 1..]);
    group.contains('.').then_some((group, artifact))
}

fn last_segment(s: &str) -> &str {
    s.rsplit_once('.').map_or(s, |(_, l)| l)
}

/// Letters and digits only, lower case: `micronaut_aop` and `micronaut-aop` compare equal.
fn loose(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Well-known families whose manifests name the artifact but not the group.
fn known_group(artifact: &str) -> Option<&'static str> {
    if artifact.starts_with("spring-") {
        Some("org.springframework")
    } else {
        None
    }
}

/// Identifies an archive from its manifest; `file_name` (the archive's base name) only
/// chooses between spellings the manifest offers. `None` when the manifest names no version
/// or no artifact.
pub(crate) fn identify_manifest(m: &Manifest, file_name: &str) -> Option<Identity> {
    let version = m
        .get("Implementation-Version")
        .or_else(|| m.get("Bundle-Version"))
        .or_else(|| m.get("Plugin-Version"))?;
    // "1.3 2244 October 5 2005": the version is the first word.
    let version = version.split_whitespace().next()?.to_string();
    let bsn = m
        .get("Bundle-SymbolicName")
        .map(|s| s.split(';').next().unwrap_or(s).trim())
        .filter(|s| coordinate_like(s));
    let amn = m
        .get("Automatic-Module-Name")
        .filter(|s| coordinate_like(s));
    let title = m.get("Implementation-Title").filter(|s| coordinate_like(s));

    let explicit_group = m
        .get("Group-Id")
        .or_else(|| m.get("Implementation-Vendor-Id"))
        .filter(|s| coordinate_like(s));
    let mut group = explicit_group
        .or_else(|| bsn.and_then(dotted_prefix))
        .or_else(|| amn.and_then(dotted_prefix))
        .or_else(|| title.and_then(split_dotted_title).map(|(g, _)| g))
        .map(str::to_string);

    let mut candidates: Vec<String> = Vec::new();
    if let Some(s) = m.get("Short-Name").or_else(|| m.get("Extension-Name"))
        && coordinate_like(s)
    {
        candidates.push(s.to_string());
    }
    if let (Some(b), Some(g)) = (bsn, group.as_deref())
        && let Some(rest) = b.strip_prefix(g).and_then(|r| r.strip_prefix('.'))
    {
        candidates.push(rest.to_string());
    }
    if let Some(t) = title {
        match (split_dotted_title(t), group.as_deref()) {
            (Some((g, a)), Some(group)) if g == group => candidates.push(a.to_string()),
            _ => candidates.push(t.to_string()),
        }
    }
    if let Some(b) = bsn {
        candidates.push(last_segment(b).to_string());
    }
    if let Some(a) = amn {
        candidates.push(last_segment(a).to_string());
    }
    let (file_artifact, _) = split_file_name(file_name);
    // Prefer the file name's spelling when it is one of the manifest's names.
    let artifact = if !file_artifact.is_empty()
        && candidates.iter().any(|c| loose(c) == loose(&file_artifact))
    {
        file_artifact
    } else {
        candidates.into_iter().next()?
    };
    let mut group_guessed = false;
    if group.is_none() {
        group_guessed = true;
        group = Some(known_group(&artifact).unwrap_or(&artifact).to_string());
    }
    Some(Identity {
        group: group.unwrap_or_default(),
        artifact,
        version,
        group_guessed,
    })
}

/// Identifies an archive from its file name alone; `None` without a version in the name.
pub(crate) fn identify_file_name(file_name: &str) -> Option<Identity> {
    let (artifact, version) = split_file_name(file_name);
    let version = version.filter(|v| !v.is_empty())?;
    if artifact.is_empty() {
        return None;
    }
    Some(Identity {
        group: known_group(&artifact).unwrap_or(&artifact).to_string(),
        artifact,
        version,
        group_guessed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_and_sections() {
        let m = Manifest::parse(
            b"Manifest-Version: 1.0\r\nImplementation-Title: spring-\r\n core\r\nImplementation-Version: 4.3.30.RELEASE\r\n\r\nName: x\r\nImplementation-Version: 9\r\n",
        );
        assert_eq!(m.get("implementation-title"), Some("spring-core"));
        assert_eq!(m.get("Implementation-Version"), Some("4.3.30.RELEASE"));
    }

    #[test]
    fn properties_forms() {
        let p =
            parse_properties(b"#c\n! c\nversion=1.0\ngroupId : g\\\n  .x\nartifactId a\nempty=\n");
        assert_eq!(
            p,
            vec![
                ("version".into(), "1.0".into()),
                ("groupId".into(), "g.x".into()),
                ("artifactId".into(), "a".into()),
                ("empty".into(), "".into()),
            ]
        );
    }

    #[test]
    fn file_names() {
        assert_eq!(
            split_file_name("spring-core-4.3.30.RELEASE.jar"),
            ("spring-core".into(), Some("4.3.30.RELEASE".into()))
        );
        assert_eq!(
            split_file_name("log4j-core.jar"),
            ("log4j-core".into(), None)
        );
    }
}
