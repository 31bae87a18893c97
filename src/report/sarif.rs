//! Render stage: SARIF 2.1.0 logs for code scanning, the one writer of `check --format sarif`
//! and `verify --format sarif`. Typed: each command lists its rules and its results in the
//! shapes below, and serde writes the log in the order the standard lists its properties.

use serde::Serialize;

use crate::severity::Severity;

/// The schema a log declares.
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// A rule a run may report: `tool.driver.rules[]`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule<'a> {
    pub id: &'a str,
    pub short_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_description: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<Help>,
    pub default_configuration: Configuration,
    pub properties: Properties,
}

impl<'a> Rule<'a> {
    /// A rule with its id, one-line description, default severity and tags.
    pub fn new(id: &'a str, short: &str, severity: Severity, tags: &[&str]) -> Self {
        Rule {
            id,
            short_description: Text::new(short),
            full_description: None,
            help: None,
            default_configuration: Configuration {
                enabled: None,
                level: level(severity),
            },
            properties: Properties {
                tags: tags.iter().map(|t| t.to_string()).collect(),
            },
        }
    }
}

/// A plain-text message.
#[derive(Debug, Serialize)]
pub struct Text {
    pub text: String,
}

impl Text {
    pub fn new(text: &str) -> Self {
        Text {
            text: text.to_string(),
        }
    }
}

/// A rule's help, as plain text and as Markdown.
#[derive(Debug, Serialize)]
pub struct Help {
    pub text: String,
    pub markdown: String,
}

#[derive(Debug, Serialize)]
pub struct Configuration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    pub level: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Properties {
    pub tags: Vec<String>,
}

/// One finding: `runs[0].results[]`, located in one file.
#[derive(Debug)]
pub struct Finding<'a> {
    pub rule: &'a str,
    pub severity: Severity,
    pub message: &'a str,
    /// The file, as [`crate::report::check::artifact_uri`] makes it.
    pub uri: String,
    pub region: Region,
}

/// Where in the file: 1-based lines and columns (Unicode code points).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<usize>,
}

impl Region {
    /// A whole line.
    pub fn line(line: usize) -> Self {
        Region {
            start_line: line.max(1),
            start_column: None,
            end_line: None,
            end_column: None,
        }
    }
}

/// The SARIF level of a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    column_kind: &'static str,
    results: Vec<ResultItem<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    semantic_version: &'static str,
    rules: &'a [Rule<'a>],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultItem<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: Artifact,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    uri: String,
    /// Relative URIs are relative to the repository root, which code scanning calls
    /// `%SRCROOT%`; absolute ones (`file:///...`) have no base.
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

/// A SARIF 2.1.0 log with one run of k8s-advisor: `rules` in `tool.driver.rules`, and each
/// finding as a result that points at its rule by id and index.
pub fn log(rules: &[Rule<'_>], findings: &[Finding<'_>]) -> String {
    let results = findings
        .iter()
        .map(|f| ResultItem {
            rule_id: f.rule,
            rule_index: rules.iter().position(|r| r.id == f.rule).unwrap_or(0),
            level: level(f.severity),
            message: Text::new(f.message),
            locations: [Location {
                physical_location: PhysicalLocation {
                    artifact_location: Artifact {
                        uri_base_id: (!f.uri.contains(':')).then_some("%SRCROOT%"),
                        uri: f.uri.clone(),
                    },
                    region: f.region,
                },
            }],
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "k8s-advisor",
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    let mut text = serde_json::to_string_pretty(&log).expect("a SARIF log always serializes");
    text.push('\n');
    text
}
