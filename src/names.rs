//! Validate stage: the Kubernetes naming rules that workspace names must follow.
//!
//! Pure functions only. Each check returns which rule a name breaks, in words a user can act on.

/// The longest name a DNS label may have.
pub const MAX_LABEL: usize = 63;

/// The longest name a container or Service port may have (IANA service name).
pub const MAX_PORT_NAME: usize = 15;

/// Checks an RFC 1123 DNS label: project and namespace names.
pub fn dns1123_label(name: &str) -> Result<(), String> {
    label(name, false)
}

/// Checks an RFC 1035 DNS label: Service names must also start with a letter.
pub fn dns1035_label(name: &str) -> Result<(), String> {
    label(name, true)
}

fn label(name: &str, letter_first: bool) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name cannot be empty".into());
    }
    // The alphabet first: once a name is ASCII, its length in bytes (what Kubernetes limits)
    // is its length in characters (what the message says).
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "only lowercase letters, digits and '-' are allowed, not {bad:?}"
        ));
    }
    if name.len() > MAX_LABEL {
        return Err(format!(
            "a name has at most {MAX_LABEL} characters, this one has {}",
            name.len()
        ));
    }
    if letter_first && !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("a service name must start with a lowercase letter".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("a name must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Checks a port name (IANA_SVC_NAME): at most 15 characters of `[a-z0-9-]`, at least one
/// letter, no leading, trailing or doubled '-'.
pub fn port_name(name: &str) -> Result<(), String> {
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "a port name has only lowercase letters, digits and '-', not {bad:?}"
        ));
    }
    if name.is_empty() || name.len() > MAX_PORT_NAME {
        return Err(format!(
            "a port name has 1 to {MAX_PORT_NAME} characters, this one has {}",
            name.len()
        ));
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        return Err("a port name must contain at least one letter".into());
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Err("a port name cannot start or end with '-' or contain '--'".into());
    }
    Ok(())
}

/// Namespaces that belong to the cluster itself and must never hold workloads of ours.
pub fn reserved_namespace(name: &str) -> bool {
    name == "default" || name.starts_with("kube-")
}

/// Turns free text into a DNS-1123 label: lowercase ASCII words joined by '-', with other
/// scripts transliterated first.
/// Returns `None` when nothing usable is left.
pub fn slugify(text: &str, max: usize) -> Option<String> {
    let mut slug = String::new();
    for c in deunicode::deunicode(text).chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= max {
            break;
        }
    }
    let slug = slug.trim_matches('-').to_string();
    (!slug.is_empty()).then_some(slug)
}

/// The kinds of names the workspace gives, each with its Kubernetes rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// The project: a DNS-1123 label (it may become a namespace).
    Project,
    /// A namespace: a DNS-1123 label.
    Namespace,
    /// A service: a DNS-1035 label (it names a Kubernetes Service).
    Service,
}

impl NameKind {
    /// The word used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Project => "project",
            NameKind::Namespace => "namespace",
            NameKind::Service => "service",
        }
    }

    /// The rule the name must follow, by name.
    pub fn rule_name(self) -> &'static str {
        match self {
            NameKind::Service => "a DNS-1035 label",
            NameKind::Project | NameKind::Namespace => "a DNS-1123 label",
        }
    }

    /// Checks `name` against the rule.
    pub fn check(self, name: &str) -> Result<(), String> {
        match self {
            NameKind::Service => dns1035_label(name),
            NameKind::Project | NameKind::Namespace => dns1123_label(name),
        }
    }
}

/// A port number from 1 to 65535.
pub fn port(n: i64) -> Option<u16> {
    u16::try_from(n).ok().filter(|p| *p >= 1)
}

/// Why a CIDR was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CidrError {
    /// A valid address with host bits set: the network meant is given.
    HostBits(ipnet::IpNet),
    /// Not an address range at all.
    NotCidr,
}

/// A CIDR in canonical form: an address range whose host bits are zero.
pub fn cidr(text: &str) -> Result<ipnet::IpNet, CidrError> {
    match text.parse::<ipnet::IpNet>() {
        Ok(net) if net.trunc() == net => Ok(net),
        Ok(net) => Err(CidrError::HostBits(net.trunc())),
        Err(_) => Err(CidrError::NotCidr),
    }
}

/// A Kubernetes label value (teams become labels): at most 63 of letters, digits, '-', '_'
/// and '.', starting and ending with a letter or digit.
pub fn label_value(text: &str) -> Result<(), String> {
    let ok = text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err("use 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit".into())
    }
}

/// An image reference in the grammar of the distribution project's `reference` package, which
/// registries and container runtimes follow: `[domain[:port]/]path[:tag][@algorithm:hex]`.
/// Anything else would not pull, and could smuggle text into YAML.
///
/// Checked part by part so that the message names the part that is wrong. Five choices differ
/// from the `oci-spec` crate this replaced (kept as a test oracle, see the tests): the registry
/// host may be an IPv6 address in brackets (`[fd00::1]:5000/app`), which the reference grammar
/// has allowed since distribution v3 and oci-spec does not; a registry port must be in 1..65535
/// (the grammar takes any digits, which no registry can listen on); a tag is
/// ASCII only, as in the reference grammar (Go's `\w`; oci-spec's Rust `\w` also takes any
/// Unicode letter, which no registry accepts), and the 255-character limit applies to the whole
/// name, domain included, as in the reference package; and a digest's hex digits are lower
/// case, as the digest format requires. The reason for the replacement: oci-spec
/// compiles a Unicode regex for this on first use, which cost 40 ms of CPU on every run of
/// every command.
pub fn image(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("the reference is empty".into());
    }
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (text, None),
    };
    // A ':' after the last '/' starts the tag; one before it belongs to the domain's port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].find(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    image_name(name)?;
    if let Some(tag) = tag {
        image_tag(tag)?;
    }
    if let Some(digest) = digest {
        image_digest(digest)?;
    }
    Ok(())
}

/// The longest image name (domain and path), as the reference package limits it.
const IMAGE_NAME_MAX: usize = 255;

fn image_name(name: &str) -> Result<(), String> {
    if name.len() > IMAGE_NAME_MAX {
        return Err(format!(
            "the name is {} characters long; at most {IMAGE_NAME_MAX} are allowed",
            name.len()
        ));
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // The first part is a domain when more follow and it reads as one; otherwise it is the
    // start of the path (the grammar allows both readings, so either must succeed).
    if parts.len() > 1 && image_domain(parts[0])? && !image_path_component(parts[0]) {
        parts.remove(0);
    }
    match parts.iter().find(|p| !image_path_component(p)) {
        None => Ok(()),
        Some(&"") => Err("the name has an empty path component".into()),
        Some(bad) => Err(format!(
            "path component {bad:?} must be lower-case letters and digits, separated by one \
             '.', one or two '_', or dashes"
        )),
    }
}

/// Whether `domain` reads as `host[:port]`: the host is dot-separated components of letters,
/// digits and inner dashes, or an IPv6 address in brackets; the port is digits. An error when
/// it is a domain in form but names no address a registry can listen on: a port outside
/// 1..65535, or brackets around something that is not an IPv6 address.
fn image_domain(domain: &str) -> Result<bool, String> {
    let (host, port) = match domain.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((address, "")) => (Host::V6(address), None),
            Some((address, rest)) => match rest.strip_prefix(':') {
                Some(port) => (Host::V6(address), Some(port)),
                None => return Ok(false),
            },
            None => return Ok(false),
        },
        None => match domain.split_once(':') {
            Some((host, port)) => (Host::Name(host), Some(port)),
            None => (Host::Name(domain), None),
        },
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Ok(false);
    }
    match host {
        Host::Name(name) => {
            let component = |c: &str| {
                !c.is_empty()
                    && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !c.starts_with('-')
                    && !c.ends_with('-')
            };
            if !name.split('.').all(component) {
                return Ok(false);
            }
        }
        Host::V6(address) => {
            // The grammar takes any run of hex digits and ':' (no zone, no dotted IPv4 tail);
            // it must also be an address, or nothing could be pulled from it.
            let grammar =
                !address.is_empty() && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
            if !grammar || address.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(format!(
                    "registry host {:?} is not an IPv6 address in brackets; write one such as \
                     [fd00::1], without a zone or a dotted IPv4 part",
                    format!("[{address}]")
                ));
            }
        }
    }
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|p| p != 0)
    {
        return Err(format!(
            "registry port {port} is not a TCP port: use a number from 1 to 65535"
        ));
    }
    Ok(true)
}

/// The host of an image's registry, as written.
enum Host<'a> {
    /// A DNS name or an IPv4 address.
    Name(&'a str),
    /// The address between the brackets.
    V6(&'a str),
}

/// Lower-case letters and digits, separated by `.`, `_`, `__` or a run of dashes; starting
/// and ending with a letter or digit.
fn image_path_component(part: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = part.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    // Between two alphanumeric runs: exactly one of the separators.
    bytes
        .split(|&b| alnum(b))
        .filter(|sep| !sep.is_empty())
        .all(|sep| matches!(sep, b"." | b"_" | b"__") || sep.iter().all(|&b| b == b'-'))
}

fn image_tag(tag: &str) -> Result<(), String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = (1..=128).contains(&tag.len())
        && tag.bytes().next().is_some_and(word)
        && tag.bytes().all(|b| word(b) || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag {tag:?} must be 1 to 128 ASCII letters, digits, '_', '.' or '-', not starting \
             with '.' or '-'"
        ))
    }
}

fn image_digest(digest: &str) -> Result<(), String> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(format!(
            "digest {digest:?} must be algorithm:hex, such as sha256:..."
        ));
    };
    let length = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(format!(
                "digest algorithm {algorithm:?} is not supported: use sha256, sha384 or sha512"
            ));
        }
    };
    // Lower case only: the digest format (opencontainers/go-digest) refuses A-F.
    if hex.len() == length && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(format!(
            "a {algorithm} digest is {length} lower-case hexadecimal digits; {hex:?} is not"
        ))
    }
}

/// The image written for a service whose image is not known yet. Its registry is under
/// `.invalid`, a top-level domain reserved never to resolve (RFC 2606, section 2), so a
/// forgotten placeholder fails to pull instead of fetching someone else's image.
pub fn placeholder_image(service: &str) -> String {
    format!("{PLACEHOLDER_REGISTRY}/replace-me/{service}:0.0.0")
}

/// The registry of [`placeholder_image`].
pub const PLACEHOLDER_REGISTRY: &str = "registry.example.invalid";

/// Whether an image can never be pulled because its registry is under `.invalid`: the
/// placeholder, or anything written in its style. `check` treats it as no image at all.
pub fn is_placeholder_image(image: &str) -> bool {
    image
        .split_once('/')
        .map(|(host, _)| host.split(':').next().unwrap_or(host))
        .is_some_and(|host| {
            host.to_ascii_lowercase()
                .trim_end_matches('.')
                .ends_with(".invalid")
        })
}

/// Names of the per-namespace files that a service stub must not take.
pub const RESERVED_STEMS: [&str; 3] = ["kustomization", "namespace", "network-policies"];

/// The file name of a service's stub: `<service>.yaml`, or `<service>.workload.yaml` for the
/// few names that would clash with the per-namespace files (a service name has no dot, so this
/// cannot clash with another service).
pub fn stub_file_name(service: &str) -> String {
    if RESERVED_STEMS.contains(&service) {
        format!("{service}.workload.yaml")
    } else {
        format!("{service}.yaml")
    }
}

/// The longest DNS subdomain (most object names).
pub const MAX_SUBDOMAIN: usize = 253;

/// Checks an RFC 1123 DNS subdomain: the names of most Kubernetes objects (a Deployment, a
/// NetworkPolicy, a Pod) and the prefix of a label key. Dot-separated labels of lowercase
/// letters, digits and '-', each starting and ending with a letter or digit; 253 at most.
pub fn dns1123_subdomain(name: &str) -> Result<(), String> {
    if name.len() > MAX_SUBDOMAIN {
        return Err(format!(
            "a name has at most {MAX_SUBDOMAIN} characters, this one has {}",
            name.len()
        ));
    }
    if name.is_empty() {
        return Err("a name cannot be empty".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.')))
    {
        return Err(format!(
            "only lowercase letters, digits, '-' and '.' are allowed, not {bad:?}"
        ));
    }
    let edge = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    if !name.split('.').all(edge) {
        return Err("each part between dots must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Checks a label key (a qualified name): an optional DNS subdomain prefix and `/`, then a name
/// of at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit.
pub fn label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        dns1123_subdomain(prefix).map_err(|e| format!("the prefix before '/': {e}"))?;
    }
    if name.is_empty() || name.len() > MAX_LABEL {
        return Err(format!(
            "the name part has 1 to {MAX_LABEL} characters, this one has {}",
            name.len()
        ));
    }
    qualified_chars(name)
}

/// Checks a label value as Kubernetes does: empty, or as [`label_value`].
pub fn label_value_or_empty(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    if text.len() > MAX_LABEL {
        return Err(format!(
            "a label value has at most {MAX_LABEL} characters, this one has {}",
            text.len()
        ));
    }
    qualified_chars(text)
}

/// Letters, digits, '-', '_' and '.', starting and ending with a letter or digit.
fn qualified_chars(text: &str) -> Result<(), String> {
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "only letters, digits, '-', '_' and '.' are allowed, not {bad:?}"
        ));
    }
    if !(text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric()))
    {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn subdomains_label_keys_and_values() {
        for ok in ["a", "a.b-c", "0x", "web-1.prod"] {
            assert!(dns1123_subdomain(ok).is_ok(), "{ok}");
        }
        for bad in ["", "A", "a..b", "-a", "a.", "a_b", &"a".repeat(254)] {
            assert!(dns1123_subdomain(bad).is_err(), "{bad}");
        }
        for ok in ["app", "app.kubernetes.io/name", "A_b.c", "x/Y"] {
            assert!(label_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/a",
            "a/",
            "a b",
            "-a",
            "UPPER/x",
            &"k".repeat(64),
            "a/b/c",
        ] {
            assert!(label_key(bad).is_err(), "{bad}");
        }
        for ok in ["", "v1.2", "A-b_c"] {
            assert!(label_value_or_empty(ok).is_ok(), "{ok}");
        }
        for bad in ["-a", "a b", "a/b", &"v".repeat(64)] {
            assert!(label_value_or_empty(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn image_references() {
        for ok in [
            "nginx",
            "library/nginx:1.27.0",
            "registry.example.com/team/app:1.2.3",
            "localhost:5000/a__b/c.d/e---f:v1_2-3.4",
            "Registry.Example.COM/x",
            "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "host:5000",
            &format!("x:{}", "t".repeat(128)),
            "[::1]:5000/app:1",
            "[fd00::1]/x",
            "[FD00:0:0:0:0:0:0:1]:443/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "registry:1/app",
            "registry:65535/app",
            "registry:05000/app",
        ] {
            assert_eq!(image(ok), Ok(()), "{ok}");
        }
        for (bad, says) in [
            ("", "empty"),
            ("Nginx", "path component \"Nginx\""),
            ("a//b", "empty path component"),
            ("a/b:c/d", "path component \"b:c\""),
            ("a___b", "path component"),
            ("app:", "tag \"\""),
            ("app:.1", "tag"),
            ("app:été", "tag"),
            ("app@sha256:abc", "64 lower-case hexadecimal digits"),
            (&format!("app@sha256:{}", "A".repeat(64)), "lower-case"),
            ("app@md5:0123456789abcdef0123456789abcdef", "not supported"),
            ("app@sha256", "algorithm:hex"),
            ("reg.example.com/x:1\"#injected:{true}", "tag"),
            ("{{ registry }}/api:1", "path component"),
            (
                "registry:99999/app",
                "registry port 99999 is not a TCP port",
            ),
            ("registry:0/app", "registry port 0"),
            ("registry:65536/app:1", "registry port 65536"),
            (&format!("registry:{}/app", "9".repeat(40)), "registry port"),
            ("[::1]:0/app", "registry port 0"),
            ("[]/app", "registry host \"[]\" is not an IPv6 address"),
            ("[:::]/app", "not an IPv6 address"),
            ("[1]/app", "not an IPv6 address"),
            ("[fe80::1%eth0]/app", "not an IPv6 address"),
            ("[::ffff:192.0.2.1]/app", "not an IPv6 address"),
            ("[fd00::\u{1b}[2J]/app", "\\u{1b}"),
            ("[fd00::1\u{2028}]/app", "\\u{2028}"),
            ("[::1]x/app", "path component \"[::1]x\""),
            ("[::1/app", "path component \"[::1\""),
            ("[::1]:/app", "path component"),
            ("[::1]:5000", "path component"),
        ] {
            let err = image(bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
        let long = format!("r.example/{}", "a".repeat(250));
        assert!(image(&long).unwrap_err().contains("at most 255"));
    }

    fn reference_like() -> impl Strategy<Value = String> {
        // Mostly pieces of real references, with the characters that separate their parts, so
        // that both valid and almost-valid strings come up often.
        let piece = prop_oneof![
            Just("a".to_string()),
            Just("b0".to_string()),
            Just("Reg".to_string()),
            Just("example.com".to_string()),
            Just("5000".to_string()),
            Just("0123456789abcdef".to_string()),
            Just("sha256".to_string()),
            Just("sha512".to_string()),
            "[./:@_-]{1,3}",
            "[a-zA-Z0-9._:/@-]{1,4}",
        ];
        proptest::collection::vec(piece, 1..12).prop_map(|p| p.concat())
    }

    /// True when a reference oci-spec accepts names a registry port that is no TCP port: the
    /// part before the first '/' ends in ':' and digits whose value is 0 or above 65535.
    fn registry_port_out_of_range(text: &str) -> bool {
        let name = text.split('@').next().unwrap_or(text);
        let Some((domain, _)) = name.split_once('/') else {
            return false;
        };
        domain.rsplit_once(':').is_some_and(|(_, port)| {
            !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && !port.parse::<u16>().is_ok_and(|p| p != 0)
        })
    }

    proptest! {
        /// oci-spec, which this check replaced, is the oracle: on ASCII references shorter than
        /// any length limit, both accept exactly the same strings, except that a registry port
        /// must be a TCP port (oci-spec takes any digits). The strings have no brackets, so
        /// IPv6 hosts, which oci-spec does not know, have their own cases above.
        #[test]
        fn image_agrees_with_oci_spec(text in reference_like()) {
            let oracle = text.parse::<oci_spec::distribution::Reference>().is_ok()
                && !registry_port_out_of_range(&text);
            prop_assert_eq!(image(&text).is_ok(), oracle, "{:?}: {:?}", text, image(&text));
        }
    }

    #[test]
    fn labels() {
        assert!(dns1123_label("pictures").is_ok());
        assert!(dns1123_label("1st-domain").is_ok());
        assert!(dns1035_label("1st-service").is_err());
        assert!(dns1123_label("Pictures").is_err());
        assert!(dns1123_label("-x").is_err());
        assert!(dns1123_label("x-").is_err());
        assert!(dns1123_label(&"a".repeat(63)).is_ok());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(dns1123_label("").is_err());
        assert!(dns1123_label("a_b").is_err());
    }

    #[test]
    fn port_names() {
        assert!(port_name("http").is_ok());
        assert!(port_name("grpc-web").is_ok());
        assert!(port_name("8080").is_err());
        assert!(port_name("a--b").is_err());
        assert!(port_name("very-long-port-name").is_err());
        assert!(port_name("HTTP").is_err());
    }

    #[test]
    fn lengths_are_reported_in_the_unit_they_are_measured_in() {
        // 32 characters, 64 bytes: not "at most 63 characters, this one has 32".
        let why = dns1123_label(&"é".repeat(32)).unwrap_err();
        assert!(why.contains("not 'é'"), "{why}");
        let why = dns1123_label(&"a".repeat(64)).unwrap_err();
        assert!(why.contains("this one has 64"), "{why}");
    }

    #[test]
    fn reserved() {
        assert!(reserved_namespace("default"));
        assert!(reserved_namespace("kube-system"));
        assert!(!reserved_namespace("kubeflow"));
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slugify("Run Picturesocial on EKS!", 60).unwrap(),
            "run-picturesocial-on-eks"
        );
        assert_eq!(slugify("Ünïcode — ok", 60).unwrap(), "unicode-ok");
        assert_eq!(slugify("!!!", 60), None);
    }

    #[test]
    fn placeholder_images() {
        let placeholder = placeholder_image("web");
        assert_eq!(placeholder, "registry.example.invalid/replace-me/web:0.0.0");
        assert!(image(&placeholder).is_ok());
        assert!(is_placeholder_image(&placeholder));
        assert!(is_placeholder_image("Mirror.Invalid:5000/team/app:1.0.0"));
        assert!(!is_placeholder_image("registry.example.com/team/app:1.0.0"));
        // A path segment called "invalid" is not a registry.
        assert!(!is_placeholder_image("ghcr.io/x.invalid/app:1.0.0"));
        assert!(!is_placeholder_image("app.invalid"));
    }
}
