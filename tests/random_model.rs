//! A deterministic, seeded generator of valid workspaces for the property and conformance
//! tests. Every failure prints its seed; `random_model::workspace(seed)` replays it.
//!
//! The generator writes TOML text (not model values), so the tests exercise the whole read →
//! validate → generate pipeline, and it can write the same model with its entries in another
//! order to prove that order does not matter.

use std::fmt::Write;

/// SplitMix64: tiny, good enough for test data, and stable forever.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x005e_ed0f_c0ff_ee00)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// Shuffles in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// One generated port.
#[derive(Debug, Clone)]
pub struct PortSpec {
    pub name: String,
    pub port: u16,
    pub target: u16,
    pub protocol: &'static str,
}

/// One generated call.
#[derive(Debug, Clone)]
pub struct CallSpec {
    pub to: usize,
    pub ports: Option<Vec<String>>,
}

/// One generated egress entry.
#[derive(Debug, Clone)]
pub struct EgressSpec {
    pub cidr: String,
    pub ports: Vec<u16>,
    pub protocol: &'static str,
}

/// One generated service.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub name: String,
    pub namespace: String,
    pub image: Option<String>,
    pub replicas: u32,
    pub ports: Vec<PortSpec>,
    pub expose: &'static str,
    pub calls: Vec<CallSpec>,
    pub egress: Vec<EgressSpec>,
    pub resources: Option<(&'static str, &'static str)>,
    /// `storage` of a stateful service.
    pub storage: Option<&'static str>,
    /// The `health` table, as TOML.
    pub health: Option<String>,
    /// `writable` paths.
    pub writable: Vec<&'static str>,
}

/// A whole generated workspace.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub project: String,
    pub platform: &'static str,
    pub internal_cidrs: Vec<String>,
    pub namespaces: Vec<(String, Option<String>, Option<&'static str>)>,
    pub services: Vec<ServiceSpec>,
    /// `cluster-domain`, when not the default.
    pub cluster_domain: Option<&'static str>,
}

fn cidr(rng: &mut Rng) -> String {
    if rng.chance(20) {
        let prefix = [0, 16, 32, 48, 64][rng.below(5)];
        if prefix == 0 {
            return "::/0".to_string();
        }
        let groups: Vec<String> = (0..prefix / 16)
            .map(|i| {
                if i == 0 {
                    format!("{:x}", 0x2001 + rng.below(0xd000))
                } else {
                    format!("{:x}", rng.below(0x10000))
                }
            })
            .collect();
        if groups.len() == 8 {
            format!("{}/{prefix}", groups.join(":"))
        } else {
            format!("{}::/{prefix}", groups.join(":"))
        }
    } else {
        let prefix = [0, 8, 12, 16, 24, 28, 32][rng.below(7)];
        if prefix == 0 {
            return "0.0.0.0/0".to_string();
        }
        let raw = (rng.next() as u32) | 0x0100_0000;
        let mask = if prefix == 32 {
            u32::MAX
        } else {
            !(u32::MAX >> prefix)
        };
        let addr = std::net::Ipv4Addr::from(raw & mask);
        format!("{addr}/{prefix}")
    }
}

/// The model of `seed`: 1 to `max_services` services in 1 to 6 namespaces.
pub fn model(seed: u64, max_services: usize) -> ModelSpec {
    let mut rng = Rng::new(seed);
    let platform = ["eks", "gke", "aks", "generic"][rng.below(4)];
    // At least one: an internal service needs somewhere to be reached from.
    let internal_cidrs = (0..1 + rng.below(2)).map(|_| cidr(&mut rng)).collect();
    let namespace_count = 1 + rng.below(6);
    let namespaces: Vec<(String, Option<String>, Option<&'static str>)> = (0..namespace_count)
        .map(|i| {
            let team = rng.chance(60).then(|| format!("team-{}", rng.below(4)));
            let level = rng
                .chance(20)
                .then(|| ["restricted", "baseline", "privileged"][rng.below(3)]);
            (format!("domain-{i}"), team, level)
        })
        .collect();
    let count = 1 + rng.below(max_services);
    let mut services: Vec<ServiceSpec> = (0..count)
        .map(|i| {
            let namespace = namespaces[rng.below(namespace_count)].0.clone();
            // A few names that collide with the per-namespace file names.
            let name = match (i, rng.below(12)) {
                (0, 0) => "namespace".to_string(),
                (1, 0) => "kustomization".to_string(),
                (2, 0) => "network-policies".to_string(),
                _ => format!("svc-{i}"),
            };
            let mut ports: Vec<PortSpec> = Vec::new();
            for p in 0..rng.below(4) {
                let protocol = match rng.below(10) {
                    0 | 1 => "UDP",
                    2 => "SCTP",
                    _ => "TCP",
                };
                let port = [80, 443, 8080, 9090, 53, 5000, 3000][rng.below(7)];
                let target = if rng.chance(50) {
                    port
                } else {
                    1024 + rng.below(60000) as u16
                };
                if ports
                    .iter()
                    .any(|q| q.protocol == protocol && (q.port == port || q.target == target))
                {
                    continue;
                }
                ports.push(PortSpec {
                    name: format!("p{p}-{}", protocol.to_ascii_lowercase()),
                    port,
                    target,
                    protocol,
                });
            }
            let expose = if ports.is_empty() {
                "cluster"
            } else {
                match ["cluster", "cluster", "cluster", "internal", "public"][rng.below(5)] {
                    // A generic cluster has no standard private load balancer.
                    "internal" if platform == "generic" => "cluster",
                    expose => expose,
                }
            };
            let egress = (0..if rng.chance(30) { 1 + rng.below(2) } else { 0 })
                .map(|_| EgressSpec {
                    cidr: cidr(&mut rng),
                    ports: if rng.chance(30) {
                        Vec::new()
                    } else {
                        (0..1 + rng.below(3))
                            .map(|_| [443, 587, 5432, 53, 8443][rng.below(5)])
                            .collect()
                    },
                    protocol: ["TCP", "TCP", "UDP"][rng.below(3)],
                })
                .collect();
            ServiceSpec {
                name,
                namespace,
                image: rng
                    .chance(80)
                    .then(|| format!("registry.example.com/app/svc-{i}:1.{}.0", rng.below(9))),
                // At least one: nca models the pods of a workload, and zero replicas have none.
                replicas: 1 + rng.below(4) as u32,
                ports,
                expose,
                calls: Vec::new(),
                egress,
                resources: rng
                    .chance(70)
                    .then(|| [("100m", "128Mi"), ("0.5", "1Gi"), ("250m", "256M")][rng.below(3)]),
                storage: None,
                health: None,
                writable: Vec::new(),
            }
        })
        .collect();
    // Service names must be unique within a namespace.
    services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    services.dedup_by(|a, b| a.namespace == b.namespace && a.name == b.name);
    let callable: Vec<usize> = (0..services.len())
        .filter(|i| !services[*i].ports.is_empty())
        .collect();
    for i in 0..services.len() {
        if callable.is_empty() {
            break;
        }
        let mut targets: Vec<usize> = Vec::new();
        for _ in 0..rng.below(5) {
            let to = callable[rng.below(callable.len())];
            if !targets.contains(&to) {
                targets.push(to);
            }
        }
        services[i].calls = targets
            .into_iter()
            .map(|to| {
                let names: Vec<String> =
                    services[to].ports.iter().map(|p| p.name.clone()).collect();
                let ports = (names.len() > 1 && rng.chance(40)).then(|| {
                    let keep = 1 + rng.below(names.len() - 1);
                    names[..keep].to_vec()
                });
                CallSpec { to, ports }
            })
            .collect();
    }
    let mut model = ModelSpec {
        project: format!("random-{}", seed % 1000),
        platform,
        internal_cidrs,
        namespaces,
        services,
        cluster_domain: None,
    };
    stub_keys(&mut model, seed);
    model
}

/// The keys of running stubs — a second Service port on a shared container port, stateful
/// services, probes, writable paths, a cluster domain — drawn from their own generator, so that
/// the models of the other keys stay what they were for every seed.
fn stub_keys(model: &mut ModelSpec, seed: u64) {
    let mut rng = Rng::new(seed ^ 0x0057_0b5e_ed00_0000);
    model.cluster_domain = rng.chance(20).then_some("corp.example.internal");
    for s in &mut model.services {
        if let Some(p) = s.ports.iter().find(|p| p.protocol == "TCP").cloned()
            && rng.chance(25)
            && !s
                .ports
                .iter()
                .any(|q| q.port == 8181 && q.protocol == "TCP")
        {
            s.ports.push(PortSpec {
                name: "alt-tcp".to_string(),
                port: 8181,
                target: p.target,
                protocol: "TCP",
            });
        }
        if rng.chance(20) {
            s.storage = Some(["1Gi", "10Gi", "500Mi"][rng.below(3)]);
        }
        if let Some(p) = s.ports.iter().find(|p| p.protocol == "TCP")
            && rng.chance(50)
        {
            s.health = Some(match rng.below(3) {
                0 => format!("{{ path = \"/healthz\", port = {:?} }}", p.name),
                1 => format!("{{ type = \"tcp\", port = {:?} }}", p.name),
                _ => format!("{{ type = \"grpc\", port = {:?} }}", p.name),
            });
        }
        if rng.chance(30) {
            s.writable =
                ["/var/run", "/var/cache/app", "/home/app/.cache"][..1 + rng.below(3)].to_vec();
        }
    }
}

fn quoted(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", q.join(", "))
}

/// The TOML text of a model. With `shuffle`, namespaces, services, calls and egress entries are
/// written in an order drawn from that seed instead of the model's order.
pub fn toml(model: &ModelSpec, shuffle: Option<u64>) -> String {
    let mut rng = shuffle.map(Rng::new);
    let mut order = |n: usize| {
        let mut idx: Vec<usize> = (0..n).collect();
        if let Some(rng) = rng.as_mut() {
            rng.shuffle(&mut idx);
        }
        idx
    };
    let mut out = String::new();
    let _ = writeln!(out, "version = 1\n\n[project]");
    let _ = writeln!(out, "name = {:?}", model.project);
    let _ = writeln!(
        out,
        "description = \"A generated \\\"model\\\": # not a comment\""
    );
    let _ = writeln!(out, "platform = {:?}", model.platform);
    let _ = writeln!(out, "internal-cidrs = {}", quoted(&model.internal_cidrs));
    if let Some(domain) = model.cluster_domain {
        let _ = writeln!(out, "cluster-domain = {domain:?}");
    }
    for i in order(model.namespaces.len()) {
        let (name, team, level) = &model.namespaces[i];
        let _ = writeln!(out, "\n[[namespaces]]\nname = {name:?}");
        if let Some(team) = team {
            let _ = writeln!(out, "team = {team:?}");
        }
        if let Some(level) = level {
            let _ = writeln!(out, "pod-security = {level:?}");
        }
    }
    for i in order(model.services.len()) {
        let s = &model.services[i];
        let _ = writeln!(out, "\n[[services]]\nname = {:?}", s.name);
        let _ = writeln!(out, "namespace = {:?}", s.namespace);
        let _ = writeln!(
            out,
            "description = \"line one\\nline two: {{ not: yaml }}\""
        );
        if let Some(image) = &s.image {
            let _ = writeln!(out, "image = {image:?}");
        }
        let _ = writeln!(out, "replicas = {}", s.replicas);
        if !s.ports.is_empty() {
            let ports: Vec<String> = order(s.ports.len())
                .into_iter()
                .map(|j| {
                    let p = &s.ports[j];
                    format!(
                        "{{ name = {:?}, port = {}, target = {}, protocol = {:?} }}",
                        p.name, p.port, p.target, p.protocol
                    )
                })
                .collect();
            let _ = writeln!(out, "ports = [{}]", ports.join(", "));
        }
        let _ = writeln!(out, "expose = {:?}", s.expose);
        let calls: Vec<String> = order(s.calls.len())
            .into_iter()
            .map(|j| {
                let c = &s.calls[j];
                let callee = &model.services[c.to];
                let to = format!("{}/{}", callee.namespace, callee.name);
                match &c.ports {
                    None => format!("{to:?}"),
                    Some(ports) => format!("{{ to = {to:?}, ports = {} }}", quoted(ports)),
                }
            })
            .collect();
        let _ = writeln!(out, "calls = [{}]", calls.join(", "));
        let egress: Vec<String> = order(s.egress.len())
            .into_iter()
            .map(|j| {
                let e = &s.egress[j];
                let ports: Vec<String> = e.ports.iter().map(u16::to_string).collect();
                // Every port is written by leaving `ports` out (an empty list is refused), and a
                // protocol only goes with ports: without them the rule allows everything.
                let ports = if ports.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", ports = [{}], protocol = {:?}",
                        ports.join(", "),
                        e.protocol
                    )
                };
                format!(
                    "{{ cidr = {:?}{ports}, reason = \"why: \\\"{j}\\\"\" }}",
                    e.cidr,
                )
            })
            .collect();
        let _ = writeln!(out, "egress = [{}]", egress.join(", "));
        if let Some(storage) = s.storage {
            let _ = writeln!(out, "kind = \"stateful\"\nstorage = {storage:?}");
        }
        if let Some(health) = &s.health {
            let _ = writeln!(out, "health = {health}");
        }
        if !s.writable.is_empty() {
            let paths: Vec<String> = s.writable.iter().map(|p| p.to_string()).collect();
            let _ = writeln!(out, "writable = {}", quoted(&paths));
        }
        if let Some((cpu, memory)) = s.resources {
            let _ = writeln!(
                out,
                "resources = {{ requests = {{ cpu = {cpu:?}, memory = {memory:?} }}, limits = {{ cpu = {cpu:?}, memory = {memory:?} }} }}"
            );
        }
    }
    out
}
