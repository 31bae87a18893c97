//! Errors of every stage, as one typed enum the binary renders with miette.
//!
//! Input problems carry the file they are about and the byte span of the offending text, so the
//! report shows file, line, column, the source line with a marker and a hint. This module only
//! describes problems; it never prints them.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// A source file that problems point into. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Source {
    path: PathBuf,
    text: Arc<String>,
    /// Byte offsets of every newline, so that line numbers take O(log n): generating thousands
    /// of commented rules asks for one per rule.
    newlines: Arc<Vec<usize>>,
}

impl Source {
    /// Keeps the text of `path` for later diagnostics.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text: String = text.into();
        let newlines = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Source {
            path: path.into(),
            text: Arc::new(text),
            newlines: Arc::new(newlines),
        }
    }

    /// The path as given by the user.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self.newlines.partition_point(|&n| n < offset);
        let line_start = if line == 0 {
            0
        } else {
            self.newlines[line - 1] + 1
        };
        let column = self.text[line_start..offset].chars().count() + 1;
        (line + 1, column)
    }

    fn named(&self) -> NamedSource<Arc<String>> {
        let text = if self.text.chars().any(hidden) {
            Arc::new(visible(&self.text))
        } else {
            Arc::clone(&self.text)
        };
        NamedSource::new(self.path.display().to_string(), text)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Stable identifiers of input problems. They appear in reports as `k8s-advisor::<code>` and
/// are part of the interface: never renumber or reuse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The file is not valid UTF-8.
    Encoding,
    /// TOML syntax error.
    Syntax,
    /// A key the schema does not know.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong type.
    WrongType,
    /// An unsupported schema version.
    Version,
    /// A name that breaks a Kubernetes naming rule.
    InvalidName,
    /// A namespace that belongs to Kubernetes itself.
    ReservedNamespace,
    /// Two things with the same name where names must be unique.
    Duplicate,
    /// A call to a service that does not exist.
    UnknownService,
    /// A bare call reference that matches services in several namespaces.
    AmbiguousReference,
    /// A call restricted to a port name the callee does not have.
    UnknownPort,
    /// A CPU or memory quantity that does not parse.
    InvalidQuantity,
    /// A limit below its request.
    LimitBelowRequest,
    /// A port number outside 1..=65535.
    InvalidPort,
    /// A CIDR that does not parse or has host bits set.
    InvalidCidr,
    /// A value outside its allowed set (platform, expose, protocol, ...).
    InvalidValue,
    /// A reference in a policy file that does not resolve.
    InvalidPolicy,
}

impl Code {
    /// Every code, for documentation and uniqueness tests.
    pub const ALL: [Code; 18] = [
        Code::Encoding,
        Code::Syntax,
        Code::UnknownKey,
        Code::MissingKey,
        Code::WrongType,
        Code::Version,
        Code::InvalidName,
        Code::ReservedNamespace,
        Code::Duplicate,
        Code::UnknownService,
        Code::AmbiguousReference,
        Code::UnknownPort,
        Code::InvalidQuantity,
        Code::LimitBelowRequest,
        Code::InvalidPort,
        Code::InvalidCidr,
        Code::InvalidValue,
        Code::InvalidPolicy,
    ];

    /// The code as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Encoding => "encoding",
            Code::Syntax => "syntax",
            Code::UnknownKey => "unknown-key",
            Code::MissingKey => "missing-key",
            Code::WrongType => "wrong-type",
            Code::Version => "version",
            Code::InvalidName => "invalid-name",
            Code::ReservedNamespace => "reserved-namespace",
            Code::Duplicate => "duplicate",
            Code::UnknownService => "unknown-service",
            Code::AmbiguousReference => "ambiguous-reference",
            Code::UnknownPort => "unknown-port",
            Code::InvalidQuantity => "invalid-quantity",
            Code::LimitBelowRequest => "limit-below-request",
            Code::InvalidPort => "invalid-port",
            Code::InvalidCidr => "invalid-cidr",
            Code::InvalidValue => "invalid-value",
            Code::InvalidPolicy => "invalid-policy",
        }
    }
}

/// One problem in one input file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    /// What kind of problem.
    pub code: Code,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where, in bytes.
    pub span: Range<usize>,
    /// A short label under the marker.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// A second place that matters (the first of two duplicates).
    pub related: Option<(Range<usize>, String)>,
    file: Option<Source>,
    named: Option<NamedSource<Arc<String>>>,
    /// What is shown instead of the whole file when the problem is on a very long line.
    window: Option<Arc<Window>>,
}

impl Problem {
    /// A problem at `span`.
    pub fn new(code: Code, span: impl Into<Range<usize>>, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
            span: span.into(),
            label: "here".into(),
            help: None,
            related: None,
            file: None,
            named: None,
            window: None,
        }
    }

    /// Sets the label under the marker.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Sets the hint.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a second marked place.
    pub fn also(mut self, span: impl Into<Range<usize>>, label: impl Into<String>) -> Self {
        self.related = Some((span.into(), label.into()));
        self
    }

    /// Attaches the file the span points into.
    pub fn in_source(mut self, source: &Source) -> Self {
        self.file = Some(source.clone());
        self.named = Some(source.named());
        self.window = Window::around(source, &self.span, self.related.as_ref()).map(Arc::new);
        self
    }

    /// 1-based line and column of the problem, when its file is known.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        self.file.as_ref().map(|s| s.line_col(self.span.start))
    }
}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(format!("k8s-advisor::{}", self.code.as_str())))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if let Some(window) = &self.window {
            return Some(window.as_ref() as &dyn miette::SourceCode);
        }
        self.named.as_ref().map(|n| n as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let file = self.file.as_ref()?;
        if let Some(window) = &self.window {
            return Some(Box::new(window.labels(file, self).into_iter()));
        }
        let mut labels = vec![miette::LabeledSpan::new_primary_with_span(
            Some(self.label.clone()),
            to_source_span(&self.span),
        )];
        if let Some((span, label)) = &self.related {
            labels.push(miette::LabeledSpan::new_with_span(
                Some(label.clone()),
                to_source_span(span),
            ));
        }
        Some(Box::new(labels.into_iter()))
    }
}

/// Lines longer than this (in bytes) are not shown whole: only a window around the problem.
/// miette cannot draw a marker beyond column 65,535 (it panics), and nobody reads such a line.
const LONG_LINE: usize = 400;

/// How much of a long line is shown before and after the marked text, and of the marked text.
const WINDOW_CONTEXT: usize = 60;
const WINDOW_MARKED: usize = 120;

/// A window of one long line, shown in place of the file: the text around the problem, with
/// `…` where the line goes on. It reports the line and column of the real file, so the header
/// `[file:line:column]` stays exact.
/// Characters a snippet must not send to the terminal as they are: escape sequences, bells,
/// line separators, direction overrides (see [`crate::text::unsafe_char`]). Line breaks and
/// tabs are the file's layout.
fn hidden(c: char) -> bool {
    !matches!(c, '\n' | '\r' | '\t') && crate::text::unsafe_char(c)
}

/// `text` with every [`hidden`] character replaced by as many `?` as it has bytes, so that
/// every span still points at the same place.
fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if hidden(c) {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Debug)]
struct Window {
    name: String,
    /// The shown text: one line, no line breaks.
    text: String,
    /// 0-based line of the window in the file.
    line: usize,
    /// 0-based column (in characters) of the first character of `text` in the file's line.
    column: usize,
    /// Byte offset in the file of the first shown byte of the line.
    start: usize,
    /// Byte offset in the file after the last shown byte.
    end: usize,
    /// Bytes of the leading `…` (0 or 3).
    prefix: usize,
}

impl Window {
    /// A window when `span` or `related` is on a line longer than [`LONG_LINE`].
    fn around(
        source: &Source,
        span: &Range<usize>,
        related: Option<&(Range<usize>, String)>,
    ) -> Option<Window> {
        let text = source.text();
        let line_of = |offset: usize| {
            let offset = floor_char_boundary(text, offset.min(text.len()));
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let mut end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
            if text[start..end].ends_with('\r') {
                end -= 1;
            }
            (start, end)
        };
        let long = |offset: usize| {
            let (start, end) = line_of(offset);
            end - start > LONG_LINE
        };
        // miette shows the line before and after too: one of them may be the long one.
        let (line_start, line_end) = line_of(span.start);
        let neighbours_long = (line_start > 0 && long(line_start - 1))
            || text[line_end..]
                .find('\n')
                .is_some_and(|i| long(line_end + i + 1));
        if !long(span.start) && !neighbours_long && !related.is_some_and(|(r, _)| long(r.start)) {
            return None;
        }
        let at = floor_char_boundary(text, span.start.clamp(line_start, line_end));
        let start = floor_char_boundary(text, at.saturating_sub(WINDOW_CONTEXT).max(line_start));
        let marked_end = span.end.clamp(at, line_end).min(at + WINDOW_MARKED);
        let end = ceil_char_boundary(text, (marked_end + WINDOW_CONTEXT).min(line_end));
        let prefix = if start > line_start { "…" } else { "" };
        let suffix = if end < line_end { "…" } else { "" };
        // A lone CR would start a new line for miette; a space keeps every offset.
        let shown = visible(&text[start..end]).replace('\r', " ");
        let (line, _) = source.line_col(start);
        Some(Window {
            name: source.path().display().to_string(),
            text: format!("{prefix}{shown}{suffix}"),
            line: line - 1,
            column: text[line_start..start].chars().count() - usize::from(!prefix.is_empty()),
            start,
            end,
            prefix: prefix.len(),
        })
    }

    /// `offset` of the file, in the shown text (clamped to the window).
    fn map(&self, offset: usize) -> usize {
        self.prefix + offset.clamp(self.start, self.end) - self.start
    }

    fn contains(&self, span: &Range<usize>) -> bool {
        self.start <= span.start && span.start <= self.end
    }

    /// The problem's labels, moved into the window. A related place outside the window is
    /// named in the primary label instead.
    fn labels(&self, file: &Source, problem: &Problem) -> Vec<miette::LabeledSpan> {
        let shown = |span: &Range<usize>| {
            let start = self.map(span.start);
            SourceSpan::new(start.into(), self.map(span.end.max(span.start)) - start)
        };
        let mut label = problem.label.clone();
        let mut labels = Vec::new();
        if let Some((span, text)) = &problem.related {
            if self.contains(span) {
                labels.push(miette::LabeledSpan::new_with_span(
                    Some(text.clone()),
                    shown(span),
                ));
            } else {
                let (line, column) = file.line_col(span.start);
                label.push_str(&format!(" ({text}: line {line}, column {column})"));
            }
        }
        labels.insert(
            0,
            miette::LabeledSpan::new_primary_with_span(Some(label), shown(&problem.span)),
        );
        labels
    }
}

impl miette::SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.as_bytes().read_span(span, before, after)?;
        let offset = inner.span().offset();
        let column = self.column
            + self
                .text
                .get(..offset)
                .map_or(offset, |t| t.chars().count());
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            self.line + inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

fn ceil_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset += 1;
    }
    offset
}

fn to_source_span(span: &Range<usize>) -> SourceSpan {
    SourceSpan::new(span.start.into(), span.end.saturating_sub(span.start))
}

/// Everything that can go wrong, by stage.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    /// The workspace file was not found.
    #[error(
        "no k8s-advisor.toml in {} or a folder above it in the same repository",
        crate::text::shown(dir)
    )]
    #[diagnostic(
        code("k8s-advisor::no-workspace"),
        help("run `k8s-advisor init` to create one, or point at it with -w FILE")
    )]
    NoWorkspace {
        /// Where the search started.
        dir: PathBuf,
    },
    /// A file could not be read or written.
    #[error("cannot {action} {}", crate::text::shown(path))]
    #[diagnostic(code("k8s-advisor::io"))]
    Io {
        /// "read", "write", ...
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// One or more problems in an input file.
    #[error("{} has {} problem{}", path.display(), problems.len(), if problems.len() == 1 { "" } else { "s" })]
    #[diagnostic(code("k8s-advisor::invalid-input"))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found, in file order.
        #[related]
        problems: Vec<Problem>,
    },
    /// A request the command cannot carry out as asked (exit 2).
    #[error("{message}")]
    #[diagnostic(code("k8s-advisor::usage"))]
    Usage {
        /// What is wrong.
        message: String,
        /// How to proceed.
        #[help]
        help: Option<String>,
    },
    /// A write refused to protect something: a person's edits, a symbolic link, a file of
    /// someone else (exit 2, nothing written).
    #[error("{message}")]
    #[diagnostic(code("k8s-advisor::refused"))]
    Refused {
        /// What was refused and why.
        message: String,
        /// How to proceed.
        #[help]
        help: String,
    },
    /// Writing failed after some files were written: the disk filled up, a file was locked.
    #[error("cannot write {}; {} change{} had been made:{}", crate::text::shown(path), done.len(), if done.len() == 1 { "" } else { "s" }, done.iter().map(|d| format!("\n  {d}")).collect::<String>())]
    #[diagnostic(
        code("k8s-advisor::incomplete"),
        help("fix the cause below, then run the command again: it finishes what is missing")
    )]
    Incomplete {
        /// The file that could not be written or removed.
        path: PathBuf,
        /// What had been done before, one line each (`wrote PATH`, `removed PATH`).
        done: Vec<String>,
        /// The cause.
        #[source]
        source: Box<Error>,
    },
    /// A state the program should never reach: a bug in k8s-advisor, not in the input.
    #[error("internal error: {message}")]
    #[diagnostic(
        code("k8s-advisor::internal"),
        help(
            "this is a bug in k8s-advisor; please report it with the command and the workspace file"
        )
    )]
    Internal {
        /// What went wrong.
        message: String,
    },
    /// One of the two workspaces `diff` compares cannot be read: says which.
    #[error("the {side} side of the diff ({name}) cannot be used")]
    #[diagnostic(code("k8s-advisor::diff-side"))]
    Side {
        /// `old` or `new`.
        side: &'static str,
        /// The file, or `REF:path` for a committed one.
        name: String,
        /// What is wrong with it: one error, rendered in full below the line that names the side.
        #[related]
        cause: Vec<Error>,
    },
    /// The user interrupted an interactive session.
    #[error("interrupted; nothing was written")]
    #[diagnostic(code("k8s-advisor::interrupted"))]
    Interrupted,
}

impl Error {
    /// Collects problems found in `source` into one error, in file order.
    pub fn invalid(source: &Source, mut problems: Vec<Problem>) -> Self {
        problems.sort_by_key(|p| (p.span.start, p.span.end));
        Error::Invalid {
            path: source.path().to_path_buf(),
            problems: problems.into_iter().map(|p| p.in_source(source)).collect(),
        }
    }

    /// Shorthand for a usage error with a hint.
    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            help: Some(help.into()),
        }
    }
}

/// The closest candidate to `word`, when one is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut names: Vec<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
    }

    #[test]
    fn line_and_column() {
        let s = Source::new("x.toml", "a = 1\nbé = 2\n");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(6), (2, 1));
        assert_eq!(s.line_col(9), (2, 3));
        assert_eq!(s.line_col(1000), (3, 1));
    }

    proptest::proptest! {
        #[test]
        fn line_index_agrees_with_counting(text in "(a|é|\n|\r\n| ){0,60}", offset in 0usize..80) {
            let source = Source::new("x", text.clone());
            let at = floor_char_boundary(&text, offset.min(text.len()));
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            proptest::prop_assert_eq!(source.line_col(offset), (line, column));
        }
    }

    /// The report of a problem on `line` of a file whose line 2 is `long`.
    fn report_on_long_line(long: &str, span: Range<usize>) -> String {
        let text = format!("a = 1\n{long}\nb = 2\n");
        let source = Source::new("x.toml", text);
        let err = Error::invalid(
            &source,
            vec![Problem::new(Code::Syntax, span, "bad").label("here")],
        );
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .render_report(&mut out, &err)
            .unwrap();
        out
    }

    #[test]
    fn a_problem_far_along_a_long_line_shows_a_window_and_its_exact_place() {
        let long = format!("k = \"{}\", x = 1", "é".repeat(70_000));
        let at = 6 + long.find(", x").unwrap();
        let out = report_on_long_line(&long, at..at + 1);
        assert!(out.contains("[x.toml:2:70007]"), "{out}");
        assert!(out.contains("│ …éééé"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() < 300), "{out}");

        // The marked text itself is clipped too, and a line above it that is long.
        let out = report_on_long_line(&long, 10..at);
        assert!(out.contains("[x.toml:2:5]"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() < 300), "{out}");
        let out = report_on_long_line(&long, long.len() + 7..long.len() + 8);
        assert!(out.contains("[x.toml:3:1]"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() < 300), "{out}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(closest("replica", ["replicas", "name"]), Some("replicas"));
        assert_eq!(closest("zzz", ["replicas", "name"]), None);
    }
}
