//! Just enough of the POSIX shell to see the commands a RUN runs: words (quotes removed,
//! `$(...)` and backquotes kept inside their word), and the operators between commands
//! (`&&`, `||`, `;`, `|`, `&`, newlines, parentheses and braces as separators). Leading
//! `VAR=value` assignments and shell keywords (`then`, `do`, `!`) are dropped, and a program named by path (`/usr/bin/apt-get`) is
//! known by its file name. `sudo CMD` is followed by CMD as a command of its own. Nothing is
//! expanded or run; `sh -c '...'` bodies are parsed as
//! commands too (one level: a body's own `sh -c` is not opened again).

/// A simple command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Command {
    /// The words, assignments dropped; `words[0]` is the program (its file name).
    pub words: Vec<String>,
    /// The command reads the previous command's output (`a | b`: true for `b`).
    pub piped: bool,
}

impl Command {
    /// The program's name.
    pub fn program(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }

    /// The words after the program.
    pub fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// Whether a word is `flag` exactly, or a short-option cluster containing `short`
    /// (`-qy` holds `-y`).
    pub fn has_flag(&self, long: &[&str], short: Option<char>) -> bool {
        self.args().iter().any(|w| {
            long.iter()
                .any(|l| w == l || w.starts_with(&format!("{l}=")))
                || short.is_some_and(|s| {
                    w.starts_with('-') && !w.starts_with("--") && w[1..].contains(s)
                })
        })
    }

    /// The program's sub-command: the first word after it that is not an option.
    pub fn subcommand(&self) -> Option<&str> {
        self.args()
            .iter()
            .map(String::as_str)
            .find(|w| !w.starts_with('-'))
    }
}

/// The most commands taken from one RUN.
const MAX_COMMANDS: usize = 10_000;

/// The simple commands of a script, in order.
pub fn commands(script: &str) -> Vec<Command> {
    let mut out = Vec::new();
    split(script, &mut out, true);
    out
}

fn split(script: &str, out: &mut Vec<Command>, open_sh_c: bool) {
    let mut cur = Command::default();
    let mut word = String::new();
    let mut has = false;
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    let mut piped_next = false;
    let finish = |cur: &mut Command, out: &mut Vec<Command>, piped: bool| {
        let mut c = std::mem::take(cur);
        // Drop leading shell keywords (`then`, `do`, `!`) and assignments (`A=b cmd`), in
        // any order (`then A=b cmd`), and a path before the program.
        let skip = c
            .words
            .iter()
            .take_while(|w| {
                matches!(
                    w.as_str(),
                    "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "time"
                ) || w.split_once('=').is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|x| x.is_ascii_alphanumeric() || x == '_')
                })
            })
            .count();
        c.words.drain(..skip);
        if let Some(p) = c.words.first_mut()
            && let Some((_, base)) = p.rsplit_once('/')
            && !base.is_empty()
        {
            *p = base.to_string();
        }
        c.piped = piped;
        // `sudo [-u user] cmd ...`: the command sudo runs follows, as a command of its own.
        let inner = (c.program() == "sudo").then(|| {
            let mut k = 1;
            while let Some(w) = c.words.get(k).filter(|w| w.starts_with('-')) {
                k += if matches!(w.as_str(), "-u" | "-g" | "-C" | "-h" | "-p") {
                    2
                } else {
                    1
                };
            }
            Command {
                words: c.words.get(k..).unwrap_or(&[]).to_vec(),
                piped,
            }
        });
        for c in std::iter::once(c).chain(inner) {
            if !c.words.is_empty() && out.len() < MAX_COMMANDS {
                out.push(c);
            }
        }
    };
    let mut this_piped = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => {
                has = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
            }
            '"' => {
                has = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
            }
            '\\' => {
                if let Some(&n) = chars.get(i + 1) {
                    if n != '\n' {
                        word.push(n);
                        has = true;
                    }
                    i += 1;
                }
            }
            '`' => {
                has = true;
                word.push(c);
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    word.push(chars[i]);
                    i += 1;
                }
                word.push('`');
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                // Keep `$(...)` inside the word, balanced.
                has = true;
                let mut depth = 0usize;
                while i < chars.len() {
                    let x = chars[i];
                    word.push(x);
                    if x == '(' {
                        depth += 1;
                    } else if x == ')' {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            '#' if !has => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            ' ' | '\t' => {
                if has {
                    cur.words.push(std::mem::take(&mut word));
                    has = false;
                }
            }
            '&' | '|' | ';' | '\n' | '(' | ')' => {
                if has {
                    cur.words.push(std::mem::take(&mut word));
                    has = false;
                }
                let pipe = c == '|' && chars.get(i + 1) != Some(&'|');
                if (c == '&' || c == '|') && chars.get(i + 1) == Some(&c) {
                    i += 1;
                }
                if c == '|' && chars.get(i + 1) == Some(&'&') {
                    i += 1;
                }
                if open_sh_c {
                    open_body(&cur, out);
                }
                finish(&mut cur, out, this_piped);
                this_piped = pipe;
                piped_next = pipe;
            }
            '{' | '}' if !has => {}
            _ => {
                word.push(c);
                has = true;
            }
        }
        i += 1;
    }
    let _ = piped_next;
    if has {
        cur.words.push(word);
    }
    if open_sh_c {
        open_body(&cur, out);
    }
    finish(&mut cur, out, this_piped);
}

/// `sh -c 'BODY'`, `bash -c BODY`: BODY's commands come first.
fn open_body(cur: &Command, out: &mut Vec<Command>) {
    let w = &cur.words;
    let Some(p) = w.first() else { return };
    let base = p.rsplit('/').next().unwrap_or(p);
    if matches!(base, "sh" | "bash" | "ash" | "dash" | "zsh")
        && let Some(pos) = w
            .iter()
            .position(|x| x == "-c" || x == "-ec" || x == "-ex" || x == "-eux")
        && let Some(body) = w.get(pos + 1)
    {
        split(body, out, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progs(s: &str) -> Vec<(String, bool)> {
        commands(s)
            .into_iter()
            .map(|c| (c.words.join(" "), c.piped))
            .collect()
    }

    #[test]
    fn splits_on_operators_and_keeps_quotes_inside_words() {
        assert_eq!(
            progs(
                "apt-get update && DEBIAN_FRONTEND=x /usr/bin/apt-get install -y 'a b' ; echo \"$(id -u)\" | tee f"
            ),
            vec![
                ("apt-get update".to_string(), false),
                ("apt-get install -y a b".to_string(), false),
                ("echo $(id -u)".to_string(), false),
                ("tee f".to_string(), true),
            ]
        );
    }

    #[test]
    fn opens_sh_c_bodies_and_skips_comments() {
        assert_eq!(
            progs("sh -c 'cd /x && make' # cd here\nls"),
            vec![
                ("cd /x".to_string(), false),
                ("make".to_string(), false),
                ("sh -c cd /x && make".to_string(), false),
                ("ls".to_string(), false),
            ]
        );
    }

    #[test]
    fn keywords_are_not_programs() {
        assert_eq!(
            progs("if [ -n \"$A\" ]; then A=1 apt-get install -y x; fi"),
            vec![
                ("[ -n $A ]".to_string(), false),
                ("apt-get install -y x".to_string(), false),
                ("fi".to_string(), false),
            ]
        );
    }

    #[test]
    fn sudo_runs_a_command_of_its_own() {
        assert_eq!(
            progs("sudo -u root apt-get install x"),
            vec![
                ("sudo -u root apt-get install x".to_string(), false),
                ("apt-get install x".to_string(), false),
            ]
        );
    }

    #[test]
    fn short_option_clusters() {
        let c = &commands("apt-get -qy install x")[0];
        assert!(c.has_flag(&["--yes"], Some('y')));
        assert_eq!(c.subcommand(), Some("install"));
    }
}
