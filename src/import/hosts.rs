//! Read stage of `import`: finds host names in configuration values (environment variables,
//! command arguments, ConfigMap data). Pure text analysis; it does not know which services
//! exist — the caller matches what is found against the services it has read.
//!
//! A value can name a host in several shapes: a URL (`http://orders:8080/api`,
//! `redis://:secret@cart-db:6379/0`, `mongodb://a:1,b:2/db`), `host:port`, a comma or space
//! separated list of those, a key=value DSN (`Server=db;Port=5432`, `host=db port=5432`), or a
//! bare name. A bare name counts only when the key says it holds a host (`ORDERS_HOST`,
//! `CART_ADDR`, `--redis-url`): otherwise `LOG_LEVEL=info` would be a call to a service named
//! `info`.

/// A host named in a value, with the port when the value names one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostRef {
    /// The host as written, lowercased, without a trailing dot.
    pub host: String,
    /// The port, when written beside the host.
    pub port: Option<u16>,
}

/// Key words that say a variable or flag holds an address.
/// `SERVICE` is not one: `OTEL_SERVICE_NAME=checkout` names the caller itself.
const HOST_KEYS: [&str; 10] = [
    "HOST", "HOSTNAME", "HOSTS", "ADDR", "ADDRESS", "SERVER", "SERVERS", "URL", "URI", "ENDPOINT",
];

/// True when a key such as `ORDERS_HOST`, `cartAddr` or `--redis-url` names an address.
pub fn key_names_host(key: &str) -> bool {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        // camelCase splits before an upper-case letter that follows a lower-case one.
        if c.is_ascii_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_uppercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words.iter().any(|w| HOST_KEYS.contains(&w.as_str()))
}

/// Every host a value names. `key` is the variable, flag or data key the value belongs to, if
/// any; it decides whether bare names count.
pub fn find(key: Option<&str>, value: &str) -> Vec<HostRef> {
    let bare_ok = key.is_some_and(key_names_host);
    let mut out = Vec::new();
    // A value longer than any sensible address list is not searched: it is a certificate, a
    // script or a document, and scanning it would only produce noise.
    if value.len() > 4096 {
        return out;
    }
    if looks_like_dsn(value) {
        dsn(value, &mut out);
        out.sort();
        out.dedup();
        return out;
    }
    let tokens: Vec<&str> = value
        .split(|c: char| c.is_whitespace() || c == ';')
        .filter(|t| !t.is_empty())
        .collect();
    // Bare names count only when the whole value is a list of names: `X_HOST=not a host!`
    // is prose, not three hosts.
    let all_names = tokens.iter().all(|t| {
        t.split(',')
            .filter(|p| !p.is_empty())
            .all(|p| p.contains("://") || host_port(p).is_some())
    });
    for token in tokens {
        if token.contains("://") {
            token_hosts(token, false, &mut out);
        } else {
            for part in token.split(',') {
                token_hosts(part, bare_ok && all_names, &mut out);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every host named in command-line words: `--flag value` and `-h value` judge the value by
/// the flag, `--flag=value` by its own key; URLs and `host:port` anywhere. Local addresses (a
/// health check's `localhost`, a server's own listen address) are left out.
pub fn in_words(words: &[String]) -> Vec<HostRef> {
    let mut out = Vec::new();
    for (k, word) in words.iter().enumerate() {
        let key = k
            .checked_sub(1)
            .map(|p| words[p].as_str())
            .filter(|p| p.starts_with('-') && !p.contains('='));
        // `-h HOST` is the host option of most clients and load generators.
        let key = key.map(|k| if k == "-h" { "--host" } else { k });
        out.extend(find(key, word).into_iter().filter(|h| !is_local(&h.host)));
    }
    out
}

/// `Server=db;Port=5432;...` or `host=db port=5432 dbname=x` (libpq).
fn looks_like_dsn(value: &str) -> bool {
    !value.contains("://") && dsn_pairs(value).iter().any(|(k, _)| dsn_host_key(k))
}

/// The key=value pairs of a DSN: `;`-separated (ADO.NET, JDBC-like) when there is a `;`,
/// else space-separated (libpq).
fn dsn_pairs(value: &str) -> Vec<(String, &str)> {
    let sep = if value.contains(';') { ';' } else { ' ' };
    value
        .split(sep)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim()))
        .collect()
}

fn dsn_host_key(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "server" | "host" | "hostname" | "data source" | "address" | "addr"
    )
}

fn dsn(value: &str, out: &mut Vec<HostRef>) {
    let pairs = dsn_pairs(value);
    let port = pairs
        .iter()
        .find(|(k, _)| k == "port")
        .and_then(|(_, v)| v.parse::<u16>().ok())
        .filter(|p| *p > 0);
    for (k, v) in &pairs {
        if dsn_host_key(k) {
            // ADO.NET writes `Server=db,5432` or `tcp:db,5432`.
            let v = v.strip_prefix("tcp:").unwrap_or(v);
            let (host, inline_port) = match v.split_once(',') {
                Some((h, p)) => (h, p.trim().parse::<u16>().ok()),
                None => (v, None),
            };
            for part in host.split(',') {
                if let Some(h) = clean_host(part) {
                    out.push(HostRef {
                        host: h,
                        port: inline_port.or(port),
                    });
                }
            }
        }
    }
}

/// One whitespace/comma separated token: a URL, `host:port`, or a bare name.
fn token_hosts(token: &str, bare_ok: bool, out: &mut Vec<HostRef>) {
    let token = token.trim_matches(|c: char| c == '"' || c == '\'' || c == '(' || c == ')');
    if token.is_empty() {
        return;
    }
    // `--flag=value` and `KEY=value` inside arguments: judge the value by its own key.
    if let Some((k, v)) = token.split_once('=')
        && !k.contains("://")
        && !k.is_empty()
    {
        let bare = key_names_host(k);
        token_hosts(v, bare, out);
        return;
    }
    if let Some((_, rest)) = token.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        for part in authority.split(',') {
            if let Some(h) = host_port(part) {
                out.push(h);
            }
        }
        return;
    }
    if token.contains(':') {
        if let Some(h) = host_port(token)
            && h.port.is_some()
        {
            out.push(h);
        }
        return;
    }
    if bare_ok && let Some(h) = clean_host(token) {
        out.push(HostRef {
            host: h,
            port: None,
        });
    }
}

/// `host`, `host:port` or `[v6]:port`.
fn host_port(text: &str) -> Option<HostRef> {
    if text.starts_with('[') {
        return None; // an IPv6 literal is never a service name
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) => {
            let port = p.parse::<u16>().ok().filter(|p| *p > 0);
            // `host:` or `host:abc` is not an address.
            port?;
            (h, port)
        }
        None => (text, None),
    };
    clean_host(host).map(|host| HostRef { host, port })
}

/// A DNS name or IPv4 address as a lowercase host, or `None` when the text cannot be one.
fn clean_host(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('.');
    if text.is_empty() || text.len() > 253 {
        return None;
    }
    let ok = text.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    if !ok || !text.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    // Pure numbers (`8080`, `1.5`) are values, not hosts.
    if text.chars().all(|c| c.is_ascii_digit() || c == '.') && !is_ipv4(text) {
        return None;
    }
    Some(text.to_ascii_lowercase())
}

/// True for a dotted IPv4 address.
pub fn is_ipv4(text: &str) -> bool {
    text.parse::<std::net::Ipv4Addr>().is_ok()
}

/// True for names that point at the caller itself or at no one.
pub fn is_local(host: &str) -> bool {
    host == "localhost"
        || host == "0.0.0.0"
        || host.starts_with("127.")
        || host == "host.docker.internal"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(key: Option<&str>, value: &str) -> Vec<(String, Option<u16>)> {
        find(key, value)
            .into_iter()
            .map(|h| (h.host, h.port))
            .collect()
    }

    fn one(host: &str, port: Option<u16>) -> Vec<(String, Option<u16>)> {
        vec![(host.to_string(), port)]
    }

    #[test]
    fn urls_with_and_without_ports() {
        assert_eq!(
            hosts(Some("ORDERS_URL"), "http://orders:8080/api"),
            one("orders", Some(8080))
        );
        assert_eq!(hosts(None, "https://orders/api?x=1"), one("orders", None));
        assert_eq!(
            hosts(None, "redis://:secret@cart-db:6379/0"),
            one("cart-db", Some(6379))
        );
        assert_eq!(
            hosts(
                None,
                "postgres://user:p%40ss@db.shop.svc.cluster.local:5432/app"
            ),
            one("db.shop.svc.cluster.local", Some(5432))
        );
    }

    #[test]
    fn host_port_pairs_and_lists() {
        assert_eq!(
            hosts(
                Some("PRODUCT_CATALOG_SERVICE_ADDR"),
                "productcatalogservice:3550"
            ),
            one("productcatalogservice", Some(3550))
        );
        assert_eq!(
            hosts(None, "kafka-1:9092,kafka-2:9092"),
            vec![
                ("kafka-1".to_string(), Some(9092)),
                ("kafka-2".to_string(), Some(9092))
            ]
        );
        assert_eq!(
            hosts(None, "mongodb://a:27017,b:27018/db?replicaSet=rs"),
            vec![
                ("a".to_string(), Some(27017)),
                ("b".to_string(), Some(27018))
            ]
        );
    }

    #[test]
    fn dsns() {
        assert_eq!(
            hosts(
                Some("ConnectionString"),
                "Server=db;Port=5432;Username=x;Password=y"
            ),
            one("db", Some(5432))
        );
        assert_eq!(
            hosts(None, "host=pg port=6432 dbname=app"),
            one("pg", Some(6432))
        );
        assert_eq!(
            hosts(None, "Data Source=sql,1433;Initial Catalog=x"),
            one("sql", Some(1433))
        );
    }

    #[test]
    fn bare_names_only_under_host_keys() {
        assert_eq!(hosts(Some("ORDERS_HOST"), "orders"), one("orders", None));
        assert_eq!(hosts(Some("cartAddr"), "cart"), one("cart", None));
        assert_eq!(
            hosts(Some("REDIS_HOSTS"), "r1, r2"),
            vec![("r1".to_string(), None), ("r2".to_string(), None)]
        );
        assert!(hosts(Some("LOG_LEVEL"), "info").is_empty());
        assert!(hosts(Some("ENABLE_PROFILER"), "0").is_empty());
        assert!(hosts(Some("MODE"), "production").is_empty());
        assert!(hosts(None, "orders").is_empty());
    }

    #[test]
    fn arguments_carry_their_own_keys() {
        assert_eq!(
            hosts(None, "--cart-addr=cart:7070 --log-level=debug"),
            one("cart", Some(7070))
        );
        assert!(hosts(None, "--log-level=debug").is_empty());
    }

    #[test]
    fn false_positives_are_refused() {
        assert!(hosts(None, "12:30").is_empty());
        assert!(hosts(None, "1.5").is_empty());
        assert!(hosts(None, "a:b").is_empty());
        assert!(hosts(None, "[::1]:80").is_empty());
        assert!(hosts(Some("JAVA_OPTS"), "-Xmx512m -Dfoo=bar").is_empty());
        assert!(hosts(Some("URL"), "http://").is_empty());
        assert!(hosts(Some("X_HOST"), "not a host!").is_empty());
        assert!(hosts(None, &"a:1 ".repeat(2000)).is_empty());
    }

    #[test]
    fn keys() {
        assert!(key_names_host("ORDERS_HOST"));
        assert!(key_names_host("--redis-url"));
        assert!(key_names_host("shippingServiceAddr"));
        assert!(!key_names_host("LOG_LEVEL"));
        assert!(!key_names_host("HOSTILE"));
        assert!(!key_names_host("OTEL_SERVICE_NAME"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(key in "\\PC{0,20}", value in "\\PC{0,200}") {
            let _ = find(Some(&key), &value);
        }
    }
}
