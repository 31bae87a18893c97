//! Checks for typed answers. They apply the same rules as the workspace file (`names`,
//! `quantity`), so that whatever the questionnaire accepts also validates, and they refuse a
//! bad answer the moment it is typed.

use crate::names::{self, CidrError};
use crate::quantity::Quantity;

/// A port number.
pub fn port(s: &str) -> Result<u16, String> {
    s.trim()
        .parse::<i64>()
        .ok()
        .and_then(names::port)
        .ok_or_else(|| "a port is a number from 1 to 65535".into())
}

/// Port numbers separated by commas, or `all` (an empty list) for every port.
pub fn port_list(s: &str) -> Result<Vec<u16>, String> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(Vec::new());
    }
    let mut ports: Vec<u16> = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(port)
        .collect::<Result<_, _>>()?;
    if ports.is_empty() {
        return Err("list ports such as 443, 5432, or write all".into());
    }
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

/// One CIDR, normalised.
pub fn cidr(s: &str) -> Result<String, String> {
    let c = s.trim();
    match names::cidr(c) {
        Ok(net) => Ok(net.to_string()),
        Err(CidrError::HostBits(net)) => Err(format!("{c} has host bits set; did you mean {net}?")),
        Err(CidrError::NotCidr) => Err(format!("{c} is not a CIDR such as 10.0.0.0/16")),
    }
}

/// CIDRs separated by commas; at least one.
pub fn cidr_list(s: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = s
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(cidr)
        .collect::<Result<_, _>>()?;
    if list.is_empty() {
        return Err("give at least one CIDR such as 10.0.0.0/8".into());
    }
    Ok(list)
}

/// Folders a service writes to, separated by commas, sorted and each once; empty or `none` for
/// none. Each is an absolute path as validation reads `writable`, and neither `/tmp` (always
/// writable) nor `storage` (the volume's mount path), which validation refuses there.
pub fn folders(s: &str, storage: Option<&str>) -> Result<Vec<String>, String> {
    if s.trim().is_empty() || s.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let mut list = Vec::new();
    for folder in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        crate::workspace::rules::container_path(folder).map_err(|e| format!("{folder}: {e}"))?;
        if folder == crate::workspace::rules::TMP {
            return Err("/tmp is always writable; leave it out".into());
        }
        if Some(folder) == storage {
            return Err(format!(
                "{folder} is the volume's mount path, writable already"
            ));
        }
        list.push(folder.to_string());
    }
    list.sort();
    list.dedup();
    Ok(list)
}

/// A volume size, as validation reads `storage`: positive, and not in millibytes.
pub fn storage_size(answer: &str) -> Result<(), String> {
    match answer.trim().parse::<Quantity>() {
        Ok(q) if q.nanos() > 0 && !q.is_milli() => Ok(()),
        Ok(_) => Err("a volume has a positive size in bytes, such as 10Gi or 500Mi".into()),
        Err(e) => Err(format!("{e}; write a size such as 10Gi or 500Mi")),
    }
}

/// Where egress goes: CIDRs, or a host name that a NetworkPolicy cannot match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Normalised CIDRs, at least one.
    Cidrs(Vec<String>),
    /// A DNS name, lowercase.
    Host(String),
}

/// An egress destination: CIDRs separated by commas, or one host name (`api.stripe.com`).
pub fn destination(s: &str) -> Result<Destination, String> {
    let t = s.trim();
    if let Ok(ip) = t.parse::<std::net::IpAddr>() {
        let bits = if ip.is_ipv4() { 32 } else { 128 };
        return Err(format!("{t} is one address; write it as {t}/{bits}"));
    }
    if t.contains(['/', ',', ':']) {
        return cidr_list(t).map(Destination::Cidrs);
    }
    let host = t.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let is_host = host.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| names::dns1123_label(l).is_ok())
        && labels
            .last()
            .is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()));
    if is_host {
        Ok(Destination::Host(host))
    } else {
        Err(format!(
            "{t} is neither a CIDR such as 203.0.113.0/24 nor a host name such as api.stripe.com"
        ))
    }
}

/// A label value (a team), or nothing.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        Ok(())
    } else {
        names::label_value(s)
    }
}

/// Free text (a description, a reason): the characters validation accepts in the file, no
/// more and no fewer, so that an answer taken here always validates. Control characters and
/// invisible separators are refused: they could rewrite the terminal or the files made from
/// the workspace. There is no length limit, as the file has none (import copies catalog
/// descriptions whole).
pub fn free_text(s: &str) -> Result<(), String> {
    match crate::text::unsafe_char_in(s) {
        Some(c) => Err(format!(
            "remove the invisible character U+{:04X}",
            u32::from(c)
        )),
        None => Ok(()),
    }
}

/// An image reference, or nothing (not known yet).
pub fn image(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    if names::is_placeholder_image(s) {
        return Err(
            "leave it empty while the image is not known; the placeholder is written for you"
                .into(),
        );
    }
    names::image(s)
}

/// A CPU or memory quantity; memory in millibytes is refused, since `256m` is a quarter byte.
pub fn quantity(s: &str, memory: bool) -> Result<Quantity, String> {
    let q: Quantity = s
        .trim()
        .parse()
        .map_err(|e| format!("{e}; write CPU as 250m or 1, memory as 256Mi or 1Gi"))?;
    if memory && q.is_milli() {
        return Err(format!(
            "{s} means thousandths of a byte; did you mean {}Mi?",
            s.trim().trim_end_matches('m')
        ));
    }
    Ok(q)
}

/// A limit at least as large as its request.
pub fn limit(s: &str, request: &str, memory: bool) -> Result<(), String> {
    let limit = quantity(s, memory)?;
    match quantity(request, memory) {
        Ok(request) if limit < request => Err(format!(
            "the limit must be at least the request ({})",
            request
        )),
        _ => Ok(()),
    }
}

/// The limit offered after a request was typed: the current limit, or the request itself when
/// that is larger, so that Enter never offers a limit below its request.
pub fn limit_default(current: &str, request: &str, memory: bool) -> String {
    match (quantity(current, memory), quantity(request, memory)) {
        (Ok(limit), Ok(req)) if limit < req => request.trim().to_string(),
        _ => current.to_string(),
    }
}

/// A replica count: 1 to 100 here; a larger fleet is written in the file by hand.
pub fn replicas(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=100).contains(n))
        .ok_or_else(|| "a number of replicas from 1 to 100".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_refused() {
        for hostile in ["a\u{2028}b", "esc \u{1b}[2J", "nul\0", "bidi \u{202e}"] {
            assert!(free_text(hostile).is_err(), "{hostile:?}");
        }
        assert!(free_text("Photo sharing, for everyone").is_ok());
    }

    /// The workspace text with `description` as the project's description.
    fn with_description(description: &str) -> String {
        format!(
            "version = 1\n[project]\nname = \"shop\"\ndescription = {}\n",
            toml::Value::String(description.to_string())
        )
    }

    fn validates(text: &str) -> bool {
        let policy = crate::policy::Policy::load(None).unwrap();
        let source = crate::diagnostic::Source::new(std::path::Path::new("k.toml"), text);
        crate::workspace::parse(&source, &policy.criterion_ids()).is_ok()
    }

    #[test]
    fn a_huge_answer_is_taken_as_the_file_would_take_it() {
        let huge = "a sentence that goes on ".repeat(10_000);
        assert!(free_text(&huge).is_ok());
        assert!(validates(&with_description(&huge)));
    }

    proptest::proptest! {
        /// An answer is taken exactly when the same text validates in the file.
        #[test]
        fn free_text_agrees_with_validation(
            text in "[a-z \t\r\n\u{1b}\u{7f}\u{85}\u{2028}\u{202e}\u{200b}\u{feff}\u{fffe}é]{0,8}"
        ) {
            proptest::prop_assert_eq!(
                free_text(&text).is_ok(),
                validates(&with_description(&text)),
                "{:?}", text
            );
        }

        /// A request and limit taken here validate. The reverse differs only where the
        /// questions are stricter on purpose: memory in millibytes (`memory-millibytes`).
        #[test]
        fn limit_agrees_with_validation(
            request in "[0-9]{1,3}(m|Mi|Gi|M|x|)",
            lim in "[0-9]{1,3}(m|Mi|Gi|M|x|)",
            memory in proptest::bool::ANY,
        ) {
            let kind = if memory { "memory" } else { "cpu" };
            let text = format!(
                "version = 1\n[project]\nname = \"shop\"\n[[services]]\nname = \"api\"\n\
                 resources = {{ requests = {{ {kind} = \"{request}\" }}, \
                 limits = {{ {kind} = \"{lim}\" }} }}\n"
            );
            let taken = quantity(&request, memory).is_ok() && limit(&lim, &request, memory).is_ok();
            let valid = validates(&text);
            proptest::prop_assert!(!taken || valid, "{} taken, refused by validation", text);
            let millibytes = memory && (request.ends_with('m') || lim.ends_with('m'));
            proptest::prop_assert!(taken || !valid || millibytes, "{} refused, valid", text);
        }
    }

    /// A service table with `keys`, for the agreement properties below.
    fn service_with(keys: &str) -> String {
        format!(
            "version = 1\n[project]\nname = \"shop\"\n[[services]]\nname = \"db\"\nport = 5432\n{keys}\n"
        )
    }

    proptest::proptest! {
        /// A folder is taken exactly when validation accepts it in `writable`.
        #[test]
        fn a_folder_agrees_with_validation(path in "[a-z/._-]{1,12}") {
            let taken = folders(&path, None).is_ok_and(|list| list.len() == 1);
            let text = service_with(&format!("writable = [{}]", toml::Value::String(path.clone())));
            proptest::prop_assert_eq!(taken, validates(&text), "{:?}", path);
        }

        /// A volume size is taken exactly when validation accepts it as `storage`.
        #[test]
        fn a_volume_size_agrees_with_validation(size in "[0-9]{0,3}(\\.[0-9])?(m|Mi|Gi|G|k|x|)") {
            let text = service_with(&format!(
                "kind = \"stateful\"\nstorage = {}",
                toml::Value::String(size.clone())
            ));
            proptest::prop_assert_eq!(storage_size(&size).is_ok(), validates(&text), "{:?}", size);
        }
    }

    #[test]
    fn destinations_are_cidrs_or_a_host_name() {
        assert_eq!(
            destination("api.stripe.com"),
            Ok(Destination::Host("api.stripe.com".into()))
        );
        assert_eq!(
            destination("API.Stripe.com "),
            Ok(Destination::Host("api.stripe.com".into()))
        );
        assert_eq!(
            destination("203.0.113.0/24, 198.51.100.0/24"),
            Ok(Destination::Cidrs(vec![
                "203.0.113.0/24".into(),
                "198.51.100.0/24".into()
            ]))
        );
        assert!(destination("1.2.3.4").unwrap_err().contains("1.2.3.4/32"));
        for bad in ["stripe", "", "-a.com", "a..com", "10.0.0.1/8", "1.2.3.4.5"] {
            assert!(destination(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn folders_are_sorted_and_checked() {
        assert_eq!(
            folders("/var/run, /var/cache/nginx, /var/run", None),
            Ok(vec!["/var/cache/nginx".into(), "/var/run".into()])
        );
        assert_eq!(folders("none", None), Ok(vec![]));
        assert_eq!(folders("", None), Ok(vec![]));
        assert!(folders("/tmp", None).is_err());
        assert!(folders("/data", Some("/data")).is_err());
        assert!(folders("relative", None).is_err());
    }

    #[test]
    fn ports_and_cidrs() {
        assert_eq!(port_list("443, 80,443"), Ok(vec![80, 443]));
        assert_eq!(port_list("all"), Ok(vec![]));
        assert!(port_list("0").is_err());
        assert!(port_list("").is_err());
        assert_eq!(cidr("10.0.0.0/8"), Ok("10.0.0.0/8".into()));
        assert!(cidr("10.0.0.1/8").unwrap_err().contains("10.0.0.0/8"));
        assert!(cidr_list(" , ").is_err());
    }

    #[test]
    fn quantities() {
        assert!(quantity("256m", true).is_err());
        assert!(quantity("256m", false).is_ok());
        assert!(quantity("256MB", true).is_err());
        assert!(limit("128Mi", "256Mi", true).is_err());
        assert!(limit("1Gi", "256Mi", true).is_ok());
        assert!(image("registry.example.invalid/replace-me/x:0.0.0").is_err());
        assert!(image("").is_ok());
    }
}
