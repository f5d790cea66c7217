//! The caller's address behind reverse proxies. `X-Forwarded-For` is believed only when the
//! connection comes from a proxy named in `LECTERN_TRUSTED_PROXIES`, and then only as far as the
//! chain of trusted proxies goes: the first hop from the right that is not one is the caller.
//! Anything left of it could have been written by the caller and is ignored.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// The caller's address, given the connection's peer, the request's headers and the trusted proxies.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Several headers form one list, in order (RFC 9110 §5.3).
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A hop that is not an address ends what can be believed.
        let Some(ip) = parse_hop(hop) else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// `203.0.113.7`, `2001:db8::1`, or with a port as some proxies write it (`203.0.113.7:4711`,
/// `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(HeaderName::from_static("x-forwarded-for"), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn parse_trusted(nets: &str) -> Result<Vec<IpNet>, ()> {
        Ok(nets.split(',').map(|net| net.trim().parse().unwrap_or_else(|_| IpNet::from(ip(net.trim())))).collect())
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted = parse_trusted("10.0.0.0/8, 127.0.0.1").unwrap();
        let spoofed = headers(&["1.1.1.1"]);
        assert_eq!(client_address(ip("203.0.113.9"), &spoofed, &trusted), ip("203.0.113.9"), "a direct caller");
        assert_eq!(client_address(ip("127.0.0.1"), &headers(&[]), &trusted), ip("127.0.0.1"));
        assert_eq!(client_address(ip("127.0.0.1"), &spoofed, &[]), ip("127.0.0.1"), "nothing trusted");
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_caller() {
        let trusted = parse_trusted("10.0.0.0/8,127.0.0.1").unwrap();
        // The caller wrote 6.6.6.6 itself; the edge proxy appended the real address, an inner one its own.
        let chain = headers(&["6.6.6.6, 198.51.100.4", "10.1.2.3"]);
        assert_eq!(client_address(ip("127.0.0.1"), &chain, &trusted), ip("198.51.100.4"));
        assert_eq!(client_address(ip("10.0.0.1"), &headers(&["[2001:db8::7]:4711"]), &trusted), ip("2001:db8::7"));
        assert_eq!(client_address(ip("10.0.0.1"), &headers(&["198.51.100.4:80"]), &trusted), ip("198.51.100.4"));
        // Only trusted hops: the left-most is as far as anything is known.
        assert_eq!(client_address(ip("10.0.0.1"), &headers(&["10.9.9.9, 10.0.0.2"]), &trusted), ip("10.9.9.9"));
        // Garbage stops the walk at the last believable address.
        assert_eq!(client_address(ip("10.0.0.1"), &headers(&["198.51.100.4, unknown"]), &trusted), ip("10.0.0.1"));
    }
}
