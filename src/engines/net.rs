//! Fetching a web page for ingestion, guarded against SSRF: only http(s); every address the
//! host resolves to must be public (no loopback, private, link-local, CGNAT, multicast or
//! unique-local ranges) unless `LECTERN_ALLOW_PRIVATE_URLS` is set; the connection is pinned
//! to the checked address (no DNS rebinding); redirects are followed by hand, at most five,
//! each hop checked again; time and size are bounded.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Url;

use crate::engines::upload::{too_large, Upload};
use crate::error::{ApiError, ApiResult, ErrorCode};

const MAX_REDIRECTS: usize = 5;
const TIMEOUT: Duration = Duration::from_secs(20);

/// True for addresses a server on the public internet may be asked to fetch.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..=127).contains(&b)) // CGNAT 100.64.0.0/10
                || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

fn refuse(message: impl Into<String>) -> ApiError {
    ApiError::invalid_field("url", message)
}

pub(crate) async fn checked_address(url: &Url, allow_private: bool) -> ApiResult<SocketAddr> {
    let host = url.host_str().ok_or_else(|| refuse("has no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| refuse(format!("the host {host} cannot be resolved")))?
        .collect();
    let first = *addresses.first().ok_or_else(|| refuse(format!("the host {host} has no address")))?;
    if !allow_private && addresses.iter().any(|a| !is_public(a.ip())) {
        return Err(refuse(format!("{host} points to a private or local address; fetching it is not allowed")));
    }
    Ok(first)
}

/// Downloads `url` (following checked redirects) into an [`Upload`].
pub async fn fetch(raw: &str, max_bytes: usize, allow_private: bool) -> ApiResult<Upload> {
    let mut url = Url::parse(raw.trim()).map_err(|e| refuse(format!("is not a URL ({e})")))?;
    for _ in 0..=MAX_REDIRECTS {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refuse("must be an http:// or https:// URL"));
        }
        let address = checked_address(&url, allow_private).await?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent(concat!("lectern/", env!("CARGO_PKG_VERSION"), " (document fetcher)"))
            .resolve(&host, address)
            .build()
            .map_err(|e| ApiError::from(anyhow::anyhow!(e)))?;
        let response = client.get(url.clone()).send().await.map_err(|e| {
            ApiError::new(ErrorCode::UnprocessableEntity, format!("the page could not be fetched: {e}"))
                .with_details(serde_json::json!({ "field": "url" }))
        })?;
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| refuse("redirects without a location"))?;
            url = url.join(location).map_err(|_| refuse("redirects to an invalid URL"))?;
            continue;
        }
        if !response.status().is_success() {
            return Err(ApiError::new(
                ErrorCode::UnprocessableEntity,
                format!("the page answered {}", response.status()),
            )
            .with_details(serde_json::json!({ "field": "url", "status": response.status().as_u16() })));
        }
        if response.content_length().is_some_and(|n| n > max_bytes as u64) {
            return Err(too_large(max_bytes));
        }
        let declared_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
        let mut bytes = Vec::new();
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::new(ErrorCode::UnprocessableEntity, format!("the download broke off: {e}")))?;
            if bytes.len() + chunk.len() > max_bytes {
                return Err(too_large(max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(Upload { name: Some(url.to_string()), declared_type, bytes, over_limit: false });
    }
    Err(refuse(format!("redirects more than {MAX_REDIRECTS} times")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
