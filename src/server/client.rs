//! Who the client is, as far as the network says: its address and whether it reached the
//! app over https. Worked out once per request, by the outermost middleware, so every
//! later step (security headers, cookies, throttles) reads the same answer.
//!
//! Behind a proxy, the proxy's `X-Forwarded-For` and `X-Forwarded-Proto` say what it saw;
//! they are believed only from the addresses in `CONTACTS_TRUSTED_PROXIES`, since any
//! client can send them.

use crate::server::config::{Config, CookieSecurity};
use crate::server::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The client of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    /// Its address: the connection's, or the one a trusted proxy forwarded.
    pub ip: IpAddr,
    /// Whether the browser reached the app over https.
    pub https: bool,
}

impl Client {
    /// Reads the client of a request that arrived from `peer` with `headers`.
    pub fn of(config: &Config, peer: IpAddr, headers: &HeaderMap) -> Client {
        let forwarded_https = config.trusts_proxy(peer)
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
        // `CONTACTS_SECURE_COOKIE=always` says the app is reachable over https only.
        let https = forwarded_https
            || config.cookie_security == CookieSecurity::Always
            || config
                .public_origin
                .as_deref()
                .is_some_and(|origin| origin.starts_with("https://"));
        Client {
            ip: client_address(config, peer, headers),
            https,
        }
    }

    /// Whether this client's session cookie is `Secure` (and so named `__Host-…`).
    pub fn secure_cookie(&self, config: &Config) -> bool {
        self.https && config.cookie_security != CookieSecurity::Never
    }

    /// The client of a request that passed [`identify`]; a request that did not (a
    /// server function run during a page render in a test) is an unknown local one.
    pub fn from_extensions(extensions: &http::Extensions) -> Client {
        extensions.get::<Client>().copied().unwrap_or(Client {
            ip: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            https: false,
        })
    }
}

/// The client's address: the connection's, or behind a trusted proxy the last address in
/// `X-Forwarded-For` that is not itself a trusted proxy (proxies append the address they
/// received from, so anything left of that could have been written by the client).
pub fn client_address(config: &Config, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    if !config.trusts_proxy(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|a| !config.trusts_proxy(**a))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
}

/// Puts the request's [`Client`] into its extensions. Without connect info (requests
/// driven in-process, as in tests) the peer is the unspecified address.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |info| info.0.ip());
    let client = Client::of(&state.config, peer, request.headers());
    request.extensions_mut().insert(client);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use std::net::Ipv4Addr;

    const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7, 10.0.0.2"),
        );
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let direct = config(&[]);
        assert_eq!(client_address(&direct, proxy, &headers), proxy);
        let behind = config(&[("CONTACTS_TRUSTED_PROXIES", "10.0.0.0/8")]);
        // The client may have written 203.0.113.9 itself; 198.51.100.7 is what the proxy saw.
        assert_eq!(
            client_address(&behind, proxy, &headers),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(&behind, proxy, &HeaderMap::new()), proxy);
        // A client connecting directly cannot claim another address.
        assert_eq!(client_address(&behind, IP, &headers), IP);
    }

    #[test]
    fn https_is_believed_from_trusted_proxies_and_the_settings_only() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let behind = config(&[("CONTACTS_TRUSTED_PROXIES", "10.0.0.0/8")]);
        assert!(Client::of(&behind, proxy, &headers).https);
        // The same header straight from a client says nothing.
        assert!(!Client::of(&behind, IP, &headers).https);
        assert!(!Client::of(&config(&[]), proxy, &headers).https);
        // An https public origin, or the cookie setting, decides without any header.
        let public = config(&[("CONTACTS_PUBLIC_ORIGIN", "https://contacts.example.com")]);
        assert!(Client::of(&public, IP, &HeaderMap::new()).https);
        let always = config(&[("CONTACTS_SECURE_COOKIE", "always")]);
        assert!(Client::of(&always, IP, &HeaderMap::new()).https);
        assert!(Client::of(&always, IP, &HeaderMap::new()).secure_cookie(&always));
        let never = config(&[
            ("CONTACTS_SECURE_COOKIE", "never"),
            ("CONTACTS_TRUSTED_PROXIES", "10.0.0.0/8"),
        ]);
        assert!(!Client::of(&never, proxy, &headers).secure_cookie(&never));
    }
}
