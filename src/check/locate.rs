//! Analyse-stage helper: where in the workspace file a service's keys are written, so findings
//! point at `image = ...` or `replicas = 1` rather than at the start of the service.
//!
//! The model keeps spans only for what validation resolves (services, calls, egress); the
//! finer spans come from the raw parse of the same text. Nothing here judges the workspace.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;

use crate::model::{Service, Workspace};
use crate::workspace::raw::{RawResourcePair, RawWorkspace};

/// The spans of one service's keys.
#[derive(Debug, Default, Clone)]
pub struct ServiceSpans {
    /// `image = ...`
    pub image: Option<Range<usize>>,
    /// `replicas = ...`
    pub replicas: Option<Range<usize>>,
    /// `port = ...` or `ports = [...]`.
    pub ports: Option<Range<usize>>,
    /// `expose = ...`
    pub expose: Option<Range<usize>>,
    /// `requests.cpu`, `requests.memory`, `limits.cpu`, `limits.memory`.
    pub requests_cpu: Option<Range<usize>>,
    /// See `requests_cpu`.
    pub requests_memory: Option<Range<usize>>,
    /// See `requests_cpu`.
    pub limits_cpu: Option<Range<usize>>,
    /// See `requests_cpu`.
    pub limits_memory: Option<Range<usize>>,
}

/// Key spans of every service, found by the start of the service's table.
pub struct Locator {
    by_start: HashMap<usize, ServiceSpans>,
}

impl Locator {
    /// Indexes the workspace text. A text that no longer parses (it always does after
    /// validation) only costs precision: findings then point at the services.
    pub fn new(workspace: &Workspace) -> Self {
        let raw: Option<RawWorkspace> = toml::from_str(workspace.source.text()).ok();
        let by_start = raw
            .map(|raw| {
                raw.services
                    .iter()
                    .map(|entry| {
                        let s = entry.get_ref();
                        let (req_cpu, req_mem) = pair(s.resources.requests.as_ref());
                        let (lim_cpu, lim_mem) = pair(s.resources.limits.as_ref());
                        let spans = ServiceSpans {
                            image: s.image.as_ref().map(Spanned::span),
                            replicas: s.replicas.as_ref().map(Spanned::span),
                            ports: s
                                .ports
                                .as_ref()
                                .map(Spanned::span)
                                .or_else(|| s.port.as_ref().map(Spanned::span)),
                            expose: s.expose.as_ref().map(Spanned::span),
                            requests_cpu: req_cpu,
                            requests_memory: req_mem,
                            limits_cpu: lim_cpu,
                            limits_memory: lim_mem,
                        };
                        (entry.span().start, spans)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Locator { by_start }
    }

    /// The key spans of a service; empty when unknown.
    pub fn service(&self, service: &Service) -> ServiceSpans {
        self.by_start
            .get(&service.span.start)
            .cloned()
            .unwrap_or_default()
    }
}

fn pair(pair: Option<&RawResourcePair>) -> (Option<Range<usize>>, Option<Range<usize>>) {
    pair.map_or((None, None), |p| {
        (
            p.cpu.as_ref().map(Spanned::span),
            p.memory.as_ref().map(Spanned::span),
        )
    })
}
