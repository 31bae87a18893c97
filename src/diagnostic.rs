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
        NamedSource::new(self.path.display().to_string(), Arc::clone(&self.text))
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
        self.named.as_ref().map(|n| n as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.file.as_ref()?;
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

fn to_source_span(span: &Range<usize>) -> SourceSpan {
    SourceSpan::new(span.start.into(), span.end.saturating_sub(span.start))
}

/// Everything that can go wrong, by stage.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    /// The workspace file was not found.
    #[error("no k8s-advisor.toml in {dir} or any folder above it")]
    #[diagnostic(
        code("k8s-advisor::no-workspace"),
        help("run `k8s-advisor init` to create one, or point at it with -w FILE")
    )]
    NoWorkspace {
        /// Where the search started.
        dir: PathBuf,
    },
    /// A file could not be read or written.
    #[error("cannot {action} {}", path.display())]
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
    #[error("cannot write {}; {} change{} had been made:{}", path.display(), done.len(), if done.len() == 1 { "" } else { "s" }, done.iter().map(|d| format!("\n  {d}")).collect::<String>())]
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

    #[test]
    fn suggestions() {
        assert_eq!(closest("replica", ["replicas", "name"]), Some("replicas"));
        assert_eq!(closest("zzz", ["replicas", "name"]), None);
    }
}
