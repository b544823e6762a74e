//! Webhook URLs are typed by customers, and the server sends requests to them: without
//! a guard an admin could make it call its own network (a database's HTTP port, the
//! cloud's metadata service). A URL whose host is, or resolves to, a loopback, private,
//! link-local, shared, multicast or otherwise non-public address is refused when added,
//! and the delivery's own DNS lookup drops such addresses again (a name may resolve
//! elsewhere by then), unless `CONTACTS_WEBHOOK_ALLOW_PRIVATE=true`.

use crate::error::AppError;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};

/// Ranges that are not the public internet, beyond what `std` classifies.
static INTERNAL: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    [
        "0.0.0.0/8",      // "this network"
        "100.64.0.0/10",  // carrier-grade NAT
        "192.0.0.0/24",   // protocol assignments
        "198.18.0.0/15",  // benchmarking
        "240.0.0.0/4",    // reserved
        "::/96",          // IPv4-compatible (embeds an IPv4)
        "64:ff9b::/96",   // NAT64 (may map to an internal IPv4)
        "64:ff9b:1::/48", // local NAT64
        "100::/64",       // discard-only
        "2001::/32",      // Teredo (embeds an IPv4)
        "2002::/16",      // 6to4 (embeds an IPv4)
        "fec0::/10",      // site-local
    ]
    .iter()
    .map(|net| net.parse().expect("a valid range"))
    .collect()
});

/// Whether `ip` is an address a webhook must not reach: anything but the public
/// internet (IPv4 inside IPv6 is judged as IPv4).
pub fn is_internal(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let std_says = match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
        }
    };
    std_says || INTERNAL.iter().any(|net| net.contains(&ip))
}

/// Why an URL is refused, for the person who typed it.
const INSIDE: &str = "That address is inside a private network (loopback, private, link-local \
                      or metadata): webhooks go to public addresses only.";

/// Checks a new endpoint's host: refused if it is an internal address or a name that
/// resolves to one. A name that does not resolve (yet) is accepted: deliveries retry.
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), AppError> {
    let parsed = url::Url::parse(url).map_err(|_| {
        AppError::invalid(
            "url",
            "That is not a URL: write it as https://example.com/hooks.",
        )
    })?;
    if allow_private {
        return Ok(());
    }
    let refused = || AppError::invalid("url", INSIDE);
    let port = parsed.port_or_known_default().unwrap_or(443);
    match parsed.host() {
        Some(url::Host::Ipv4(ip)) if is_internal(ip.into()) => Err(refused()),
        Some(url::Host::Ipv6(ip)) if is_internal(ip.into()) => Err(refused()),
        Some(url::Host::Domain(name)) => match tokio::time::timeout(
            std::time::Duration::from_secs(5),
            tokio::net::lookup_host((name, port)),
        )
        .await
        {
            Ok(Ok(addrs)) => {
                let mut addrs = addrs;
                if addrs.any(|a| is_internal(a.ip())) {
                    Err(refused())
                } else {
                    Ok(())
                }
            }
            Ok(Err(_)) | Err(_) => Ok(()),
        },
        Some(_) => Ok(()),
        None => Err(AppError::invalid("url", "A webhook URL needs a host.")),
    }
}

/// The host of a URL about to be called, if it is an internal address written as is
/// (the resolver below never sees those).
pub fn literal_internal(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => is_internal(ip.into()),
        Some(url::Host::Ipv6(ip)) => is_internal(ip.into()),
        _ => false,
    }
}

/// A lookup whose every address was inside the network.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to addresses inside the network")]
pub struct OnlyInside(String);

/// The deliveries' DNS: the system's, without internal addresses (all of them internal
/// fails the lookup, and so the attempt, which is retried).
#[derive(Clone, Copy, Debug)]
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_internal(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(OnlyInside(host).into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The resolver deliveries use: [`PublicOnly`], or the system's when private addresses
/// are allowed.
pub fn resolver(allow_private: bool) -> Option<Arc<PublicOnly>> {
    (!allow_private).then(|| Arc::new(PublicOnly))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_named() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "224.0.0.1",
            "::127.0.0.1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn urls_inside_the_network_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/",
            "http://10.0.0.1/",
            "http://localhost:3000/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            let error = check_url(url, false).await.unwrap_err();
            assert!(error.field_message("url").is_some(), "{url}");
            check_url(url, true).await.unwrap();
        }
        check_url("https://93.184.216.34/hook", false)
            .await
            .unwrap();
    }
}
