//! Read stage of `import` for Compose projects: variable interpolation as the Compose
//! specification defines it (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:?error}`, `${VAR?error}`, `${VAR:+alternative}`, `${VAR+alternative}`, nested values,
//! `$$` for a literal dollar), and the `.env` file format Compose reads its variables from.
//! Pure: the caller supplies the variables (process environment, `.env`, `--env-file`).
//!
//! No crate reads Compose's dialect: `dotenvy` substitutes from the process environment only and
//! knows no `:-` defaults, so both are written here, following the specification's rules.

use std::collections::BTreeMap;

/// Nested `${...}` deeper than this is refused: the recursion must stay bounded whatever the
/// input.
const MAX_NESTING: usize = 32;

/// Why a value cannot be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `${VAR:?message}` or `${VAR?message}` with the variable missing, as Compose refuses it.
    Required {
        /// The variable.
        name: String,
        /// The message written after `?`, interpolated.
        message: String,
    },
    /// A `${` that is not a variable reference Compose understands.
    Invalid {
        /// The text from the `${`.
        template: String,
    },
}

/// The variables interpolation reads, and the names it found unset.
pub struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    /// Variables that were read but are not set, in order of first use.
    pub unset: Vec<String>,
}

impl<'a> Vars<'a> {
    /// Interpolation reading `lookup`.
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Vars {
            lookup,
            unset: Vec::new(),
        }
    }

    fn get(&mut self, name: &str) -> Option<String> {
        let value = (self.lookup)(name);
        if value.is_none() && !self.unset.iter().any(|u| u == name) {
            self.unset.push(name.to_string());
        }
        value
    }

    /// Interpolates one value. An unset variable without a default becomes the empty string
    /// (and is recorded in `unset`), as Compose does after its warning.
    pub fn substitute(&mut self, text: &str) -> Result<String, Failure> {
        self.substitute_at(text, 0)
    }

    fn substitute_at(&mut self, text: &str, depth: usize) -> Result<String, Failure> {
        if !text.contains('$') {
            return Ok(text.to_string());
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
            } else if let Some(body) = after.strip_prefix('{') {
                let Some(end) = closing_brace(body) else {
                    return Err(Failure::Invalid {
                        template: rest[i..].to_string(),
                    });
                };
                if depth >= MAX_NESTING {
                    return Err(Failure::Invalid {
                        template: rest[i..i + 2 + end + 1].to_string(),
                    });
                }
                out.push_str(&self.braced(&body[..end], &rest[i..i + 3 + end], depth)?);
                rest = &body[end + 1..];
            } else {
                let n = name_len(after);
                if n == 0 {
                    // Not a variable: Compose keeps the dollar as it is.
                    out.push('$');
                    rest = after;
                } else {
                    out.push_str(&self.get(&after[..n]).unwrap_or_default());
                    rest = &after[n..];
                }
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The inside of `${...}`: a name and an optional operator with its word.
    fn braced(&mut self, inner: &str, whole: &str, depth: usize) -> Result<String, Failure> {
        let n = name_len(inner);
        let invalid = || Failure::Invalid {
            template: whole.to_string(),
        };
        if n == 0 {
            return Err(invalid());
        }
        let (name, op) = inner.split_at(n);
        if op.is_empty() {
            return Ok(self.get(name).unwrap_or_default());
        }
        let (colon, op) = match op.strip_prefix(':') {
            Some(o) => (true, o),
            None => (false, op),
        };
        let mut chars = op.chars();
        let Some(sign) = chars.next().filter(|c| matches!(c, '-' | '?' | '+')) else {
            return Err(invalid());
        };
        let word = chars.as_str();
        let value = (self.lookup)(name);
        // With the colon, an empty value counts as missing.
        let present = value.as_deref().is_some_and(|v| !colon || !v.is_empty());
        match sign {
            '-' if present => Ok(value.unwrap_or_default()),
            '-' => self.substitute_at(word, depth + 1),
            '+' if present => self.substitute_at(word, depth + 1),
            '+' => Ok(value.unwrap_or_default()),
            _ if present => Ok(value.unwrap_or_default()),
            _ => Err(Failure::Required {
                name: name.to_string(),
                message: self.substitute_at(word, depth + 1)?,
            }),
        }
    }
}

/// Length of the variable name at the start of `text`: `[_A-Za-z][_A-Za-z0-9]*`.
fn name_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    if !bytes
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        return 0;
    }
    bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count()
}

/// Index in `body` (the text after `${`) of the `}` that closes it: braces nest, as in
/// `${A:-${B}}`.
fn closing_brace(body: &str) -> Option<usize> {
    let mut open = 1usize;
    for (i, b) in body.bytes().enumerate() {
        match b {
            b'{' => open += 1,
            b'}' => {
                open -= 1;
                if open == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A problem in a `.env` file, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileError {
    /// Where.
    pub line: usize,
    /// What.
    pub message: String,
}

/// One variable of a `.env` file: its name, its value, and its 1-based line.
pub type EnvVar = (String, String, usize);

/// Parses a `.env` file: `KEY=value` lines, `export KEY=value`, `#` comments (also after an
/// unquoted value, preceded by a space), single quotes (literal), double quotes (escapes and
/// interpolation, may span lines), and a bare `KEY` that takes its value from `lookup`. Values
/// are interpolated with the variables defined above them in the file, then `lookup`.
pub fn env_file(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<EnvVar>, EnvFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<EnvVar> = Vec::new();
    let mut defined: BTreeMap<String, String> = BTreeMap::new();
    let mut lines = text.split('\n').enumerate().peekable();
    while let Some((i, raw)) = lines.next() {
        let line_no = i + 1;
        let line = raw.trim_end_matches('\r').trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export")
            .filter(|r| r.starts_with([' ', '\t']))
            .map_or(line, str::trim_start);
        let key_end = line.find(['=', ':']).unwrap_or(line.len());
        let key = line[..key_end].trim_end();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']'))
        {
            return Err(EnvFileError {
                line: line_no,
                message: format!(
                    "{:?} is not a variable definition (KEY=value)",
                    crate::import::render::comment(line)
                ),
            });
        }
        let lookup_defined = |name: &str| lookup(name).or_else(|| defined.get(name).cloned());
        if key_end == line.len() {
            // `KEY` alone: the value of the environment, if any.
            if let Some(v) = lookup(key) {
                defined.insert(key.to_string(), v.clone());
                out.push((key.to_string(), v, line_no));
            }
            continue;
        }
        let value = line[key_end + 1..].trim_start();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let mut body = value[1..].to_string();
                let closed = loop {
                    if let Some(end) = closing_quote(&body, q) {
                        body.truncate(end);
                        break true;
                    }
                    match lines.next() {
                        Some((_, more)) => {
                            body.push('\n');
                            body.push_str(more.trim_end_matches('\r'));
                        }
                        None => break false,
                    }
                };
                if !closed {
                    return Err(EnvFileError {
                        line: line_no,
                        message: format!("the quoted value of {key} is not closed"),
                    });
                }
                if q == '\'' {
                    body
                } else {
                    Vars::new(&lookup_defined)
                        .substitute(&unescape(&body))
                        .map_err(|f| env_failure(line_no, &f))?
                }
            }
            _ => {
                let bare = value.split(" #").next().unwrap_or(value).trim_end();
                Vars::new(&lookup_defined)
                    .substitute(bare)
                    .map_err(|f| env_failure(line_no, &f))?
            }
        };
        defined.insert(key.to_string(), value.clone());
        out.push((key.to_string(), value, line_no));
    }
    Ok(out)
}

fn env_failure(line: usize, f: &Failure) -> EnvFileError {
    EnvFileError {
        line,
        message: failure_text(f),
    }
}

/// The message for a failure, as Compose words it; input text escaped.
pub fn failure_text(f: &Failure) -> String {
    use crate::import::render::comment;
    match f {
        Failure::Required { name, message } if message.is_empty() => {
            format!("required variable {} is missing a value", comment(name))
        }
        Failure::Required { name, message } => format!(
            "required variable {} is missing a value: {}",
            comment(name),
            comment(message)
        ),
        Failure::Invalid { template } => {
            format!("invalid interpolation {:?}", comment(template))
        }
    }
}

/// Index of the closing quote `q` in `body`, skipping backslash-escaped ones.
fn closing_quote(body: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == q {
            return Some(i);
        }
    }
    None
}

/// The escapes of a double-quoted value: `\n`, `\t`, `\"`, `\\`, and `\$` for a literal dollar.
fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('$') => out.push_str("$$"),
            Some(other @ ('"' | '\\' | '\'')) => out.push(other),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Result<String, Failure>, Vec<String>) {
        let env = |name: &str| match name {
            "HOST" => Some("api".to_string()),
            "EMPTY" => Some(String::new()),
            "PORT" => Some("8080".to_string()),
            _ => None,
        };
        let mut vars = Vars::new(&env);
        let out = vars.substitute(text);
        (out, vars.unset)
    }

    fn ok(text: &str) -> String {
        run(text).0.unwrap()
    }

    #[test]
    fn plain_and_braced_variables() {
        assert_eq!(ok("http://$HOST:${PORT}/v1"), "http://api:8080/v1");
        assert_eq!(ok("${HOST}-x"), "api-x");
        let (out, unset) = run("${IMAGE_NAME}:${TAG}-ad");
        assert_eq!(out.unwrap(), ":-ad");
        assert_eq!(unset, ["IMAGE_NAME", "TAG"]);
    }

    #[test]
    fn defaults_with_and_without_colon() {
        assert_eq!(ok("${MISSING:-db}"), "db");
        assert_eq!(ok("${MISSING-db}"), "db");
        assert_eq!(ok("${EMPTY:-db}"), "db");
        assert_eq!(ok("${EMPTY-db}"), "");
        assert_eq!(ok("${HOST:-db}"), "api");
        // A default is not an unset variable: nothing to report.
        assert!(run("${MISSING:-db}").1.is_empty());
    }

    #[test]
    fn alternatives_replace_set_values_only() {
        assert_eq!(ok("${HOST:+proxy}"), "proxy");
        assert_eq!(ok("${HOST+proxy}"), "proxy");
        assert_eq!(ok("${EMPTY:+proxy}"), "");
        assert_eq!(ok("${EMPTY+proxy}"), "proxy");
        assert_eq!(ok("${MISSING:+proxy}"), "");
        assert_eq!(ok("${MISSING+proxy}"), "");
    }

    #[test]
    fn required_variables_fail_with_their_message() {
        assert_eq!(ok("${HOST:?set HOST}"), "api");
        assert_eq!(
            run("${MISSING:?set it in .env}").0,
            Err(Failure::Required {
                name: "MISSING".into(),
                message: "set it in .env".into()
            })
        );
        assert!(run("${EMPTY:?no}").0.is_err());
        assert_eq!(ok("${EMPTY?no}"), "");
        assert!(run("${MISSING?no}").0.is_err());
    }

    #[test]
    fn nesting_and_escapes() {
        assert_eq!(ok("${MISSING:-${HOST}}"), "api");
        assert_eq!(ok("${MISSING:-${ALSO:-x}}:${PORT}"), "x:8080");
        assert_eq!(ok("$${HOST} $$HOST"), "${HOST} $HOST");
        assert_eq!(ok("cost: 5$ or $1"), "cost: 5$ or $1");
        assert!(run("${HOST").0.is_err());
        assert!(run("${1X}").0.is_err());
        assert!(run("${HOST/a/b}").0.is_err());
        let deep = format!("{}x{}", "${A:-".repeat(100), "}".repeat(100));
        assert!(run(&deep).0.is_err());
    }

    #[test]
    fn env_files() {
        let env = |name: &str| (name == "SHELL_VAR").then(|| "from-shell".to_string());
        let text = "# comment\nA=1\nexport B = two # note\nC='lit ${A}'\nD=\"x\\ny ${A}\"\nE=${A}-${B}\nSHELL_VAR\nF=\"multi\nline\"\nG=${NOPE:-dflt}\n";
        let vars = env_file(text, &env).unwrap();
        let get = |k: &str| vars.iter().find(|v| v.0 == k).map(|v| v.1.clone());
        assert_eq!(get("A").as_deref(), Some("1"));
        assert_eq!(get("B").as_deref(), Some("two"));
        assert_eq!(get("C").as_deref(), Some("lit ${A}"));
        assert_eq!(get("D").as_deref(), Some("x\ny 1"));
        assert_eq!(get("E").as_deref(), Some("1-two"));
        assert_eq!(get("SHELL_VAR").as_deref(), Some("from-shell"));
        assert_eq!(get("F").as_deref(), Some("multi\nline"));
        assert_eq!(get("G").as_deref(), Some("dflt"));
        assert_eq!(vars.iter().find(|v| v.0 == "E").unwrap().2, 6);
        assert!(env_file("A B=1\n", &env).is_err());
        assert!(env_file("A=\"open\n", &env).is_err());
        assert_eq!(env_file("X=${REQ:?needed}\n", &env).unwrap_err().line, 1);
    }
}
