//! `k8s-advisor graph`: the dependency graph and its architecture review. Exits 0 whatever the
//! findings (they are advice); 2 for an unknown `--namespace`.

use super::{Context, Settings, print};
use crate::cli::{GraphArgs, GraphFormat};
use crate::diagnostic::{Error, closest};
use crate::graph::ServiceGraph;
use crate::report;

pub fn run(opts: &Settings, args: &GraphArgs) -> Result<u8, Error> {
    let ctx = Context::load(opts)?;
    let graph = ServiceGraph::build(&ctx.workspace);
    let focus = args.namespace.as_deref();
    if let Some(ns) = focus
        && !graph.has_namespace(ns)
    {
        let known: Vec<&str> = ctx
            .workspace
            .namespaces
            .keys()
            .map(String::as_str)
            .collect();
        let help = match closest(ns, known.iter().copied()) {
            Some(near) => format!("did you mean `{near}`? Namespaces: {}", known.join(", ")),
            None => format!("namespaces in this workspace: {}", known.join(", ")),
        };
        return Err(Error::usage(
            format!("namespace `{ns}` is not in the workspace"),
            help,
        ));
    }
    let text = match args.format {
        GraphFormat::Text => {
            let findings = graph.findings(&ctx.policy.graph);
            report::graph::text(&graph, &findings, focus, opts.paint())
        }
        GraphFormat::Mermaid => report::graph::mermaid(&graph, focus),
        GraphFormat::Dot => report::graph::dot(&graph, focus),
        GraphFormat::Json => report::graph::json(&graph, &graph.findings(&ctx.policy.graph), focus),
    };
    print(&text)?;
    Ok(0)
}
