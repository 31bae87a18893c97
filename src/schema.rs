//! Render stage: the JSON Schema (draft 2020-12) of `k8s-advisor.toml`, derived from the raw
//! types the loader parses the file into (`workspace::raw`), so that the schema and the loader
//! cannot drift apart: a key, a type, an allowed keyword or range is stated once, on the type.
//! Editors use it to complete and check the file (see docs/reference/workspace.md); tests hold every workspace
//! the loader accepts to it, and the committed copy under `schema/` to this output. Pure.

use schemars::Schema;
use schemars::generate::SchemaSettings;
use schemars::transform::{Transform, transform_subschemas};
use serde_json::Value;

use crate::workspace::raw::RawWorkspace;

/// Where the schema is kept in the repository, for editors and SchemaStore.
pub const COMMITTED: &str = "schema/k8s-advisor.schema.json";

/// The copy `init` and `import` keep beside the workspace they write, which its first line
/// names (see [`directive`]).
pub const BESIDE: &str = "k8s-advisor.schema.json";

/// The schema's title, by which an older copy of ours is told from someone else's file.
const TITLE: &str = "k8s-advisor workspace (k8s-advisor.toml)";

/// The first line of a workspace that `init` or `import` writes: Taplo's (and Tombi's)
/// `#:schema` directive, a path relative to the workspace file, so editors validate it
/// against the copy beside it.
pub fn directive() -> String {
    format!("#:schema ./{BESIDE}\n")
}

/// True when `text` is a JSON Schema of the workspace written by some version of k8s-advisor
/// (its title), which a newer one may replace.
pub fn is_ours(text: &[u8]) -> bool {
    serde_json::from_slice::<Value>(text).is_ok_and(|v| v["title"] == TITLE)
}

/// The schema as pretty JSON with a final newline.
pub fn workspace_schema() -> String {
    let generator = SchemaSettings::draft2020_12()
        .with_transform(NoNull)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<RawWorkspace>();
    schema.insert("title".into(), TITLE.into());
    schema.insert(
        "description".into(),
        "A project's services, domains, calls and exposure, read by k8s-advisor. Keys are kebab-case; unknown keys are errors.".into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// TOML has no null: an optional key is left out, never written empty. schemars admits `null`
/// for every `Option`; this takes it out again.
#[derive(Clone)]
struct NoNull;

impl Transform for NoNull {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(Value::Array(types)) = schema.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types[0].clone();
                schema.insert("type".into(), only);
            }
        }
        if let Some(Value::Array(any)) = schema.get_mut("anyOf") {
            any.retain(|s| s.get("type").is_none_or(|t| t != "null"));
            if any.len() == 1 {
                let only = any[0].clone();
                schema.remove("anyOf");
                if let Value::Object(map) = only {
                    for (k, v) in map {
                        schema.insert(k, v);
                    }
                }
            }
        }
        transform_subschemas(self, schema);
    }
}
