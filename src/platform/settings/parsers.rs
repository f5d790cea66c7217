//! Parsers for the settings with structure (lists, products, limits).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{invalid, Secret, SettingsError};
use crate::platform::rate_limits::{Limits, Overrides};

/// `LECTERN_IMAGE_SIZES`: comma-separated pixel sizes, each 1–8192.
pub(super) fn image_sizes(raw: Option<String>) -> Result<Vec<u32>, SettingsError> {
    let raw = raw.unwrap_or_else(|| "64,128,256,320,480,640,768,1024,1280,1536,1920,2560".to_owned());
    let mut sizes = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<u32>() {
            Ok(n) if (1..=8192).contains(&n) => sizes.push(n),
            _ => return Err(invalid("LECTERN_IMAGE_SIZES", format!("`{part}` is not a size from 1 to 8192"))),
        }
    }
    sizes.sort_unstable();
    sizes.dedup();
    Ok(sizes)
}

/// A credit pack or plan sold through Stripe: `name:price_id:credits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeProduct {
    pub name: String,
    pub price_id: String,
    /// Micro-credits granted per purchase (packs) or per paid invoice (plans).
    pub credits: i64,
}

#[derive(Clone)]
pub struct StripeSettings {
    pub secret_key: Secret<String>,
    pub webhook_secret: Option<Secret<String>>,
    /// `STRIPE_API_BASE`: Stripe's API (tests point it at a local server).
    pub api_base: String,
    /// `STRIPE_CREDIT_PACKS`: one-off purchases.
    pub packs: Vec<StripeProduct>,
    /// `STRIPE_PLANS`: subscriptions granting credits on every paid invoice.
    pub plans: Vec<StripeProduct>,
    /// `STRIPE_WEBHOOK_TOLERANCE_SECS`: how old a signed webhook may be.
    pub tolerance_secs: i64,
}

impl fmt::Debug for StripeSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeSettings").field("api_base", &self.api_base).finish_non_exhaustive()
    }
}

fn stripe_products(key: &'static str, raw: Option<String>) -> Result<Vec<StripeProduct>, SettingsError> {
    let mut out = Vec::new();
    for item in raw.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = item.split(':').collect();
        let credits = parts.get(2).and_then(|c| crate::services::billing::money::parse(key, c).ok()).filter(|c| *c > 0);
        match (parts.as_slice(), credits) {
            ([name, price, _], Some(credits)) if !name.is_empty() && !price.is_empty() => {
                out.push(StripeProduct { name: (*name).to_owned(), price_id: (*price).to_owned(), credits })
            }
            _ => return Err(invalid(key, format!("`{item}` is not name:price_id:credits"))),
        }
    }
    Ok(out)
}

pub(super) fn stripe_settings(var: &impl Fn(&str) -> Option<String>) -> Result<Option<StripeSettings>, SettingsError> {
    let Some(secret_key) = var("STRIPE_SECRET_KEY") else { return Ok(None) };
    let api_base = var("STRIPE_API_BASE").unwrap_or_else(|| "https://api.stripe.com/".to_owned());
    if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
        return Err(invalid("STRIPE_API_BASE", "must start with https:// or http://"));
    }
    Ok(Some(StripeSettings {
        secret_key: Secret::new(secret_key),
        webhook_secret: var("STRIPE_WEBHOOK_SECRET").map(Secret::new),
        api_base: format!("{}/", api_base.trim_end_matches('/')),
        packs: stripe_products("STRIPE_CREDIT_PACKS", var("STRIPE_CREDIT_PACKS"))?,
        plans: stripe_products("STRIPE_PLANS", var("STRIPE_PLANS"))?,
        tolerance_secs: number(var, "STRIPE_WEBHOOK_TOLERANCE_SECS", 300, 1..=86_400)?,
    }))
}

/// `LECTERN_TRUSTED_PROXIES`: comma-separated addresses or networks (`10.0.0.0/8, ::1`).
pub(super) fn trusted_proxies(raw: Option<String>) -> Result<Vec<ipnet::IpNet>, SettingsError> {
    let raw = raw.unwrap_or_default();
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>().or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from)).map_err(
                |_| {
                    invalid("LECTERN_TRUSTED_PROXIES", format!("`{item}` is not an address or network like 10.0.0.0/8"))
                },
            )
        })
        .collect()
}

/// `LECTERN_CORS_ORIGINS`: comma-separated `scheme://host[:port]` origins, or `*`.
pub(super) fn cors_origins(raw: Option<String>) -> Result<Vec<String>, SettingsError> {
    let mut out = Vec::new();
    for origin in raw.unwrap_or_default().split(',').map(|o| o.trim().trim_end_matches('/').to_lowercase()) {
        if origin.is_empty() {
            continue;
        }
        let valid = origin == "*"
            || ((origin.starts_with("https://") || origin.starts_with("http://"))
                && origin.splitn(4, '/').nth(3).is_none_or(|path| path.is_empty()));
        if !valid {
            return Err(invalid(
                "LECTERN_CORS_ORIGINS",
                format!("`{origin}` is not an origin like https://app.example.com"),
            ));
        }
        out.push(origin);
    }
    Ok(out)
}

/// `LECTERN_RATE_LIMITS`: `class=rate` pairs over the built-in defaults.
pub(super) fn rate_limits(raw: Option<String>) -> Result<Limits, SettingsError> {
    let mut limits = Limits::default();
    if let Some(raw) = raw {
        limits.apply(&Overrides::parse_list(&raw).map_err(|e| invalid("LECTERN_RATE_LIMITS", e))?);
    }
    Ok(limits)
}

/// `LECTERN_PLAN_RATE_LIMITS`: `plan: class=rate, …; plan: …` (plans as in `STRIPE_PLANS`).
pub(super) fn plan_rate_limits(raw: Option<String>) -> Result<HashMap<String, Overrides>, SettingsError> {
    let mut plans = HashMap::new();
    for part in raw.unwrap_or_default().split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (plan, list) = part
            .split_once(':')
            .ok_or_else(|| invalid("LECTERN_PLAN_RATE_LIMITS", format!("`{part}` is not plan: class=rate, …")))?;
        let overrides = Overrides::parse_list(list).map_err(|e| invalid("LECTERN_PLAN_RATE_LIMITS", e))?;
        plans.insert(plan.trim().to_owned(), overrides);
    }
    Ok(plans)
}

/// `~/.cache/lectern/models`, shared by every data dir.
pub(super) fn default_models_dir(vars: &HashMap<String, String>) -> PathBuf {
    match vars.get("HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("lectern").join("models"),
        None => PathBuf::from("models"),
    }
}

pub(super) fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("lectern.db").display())
}

/// A whole number in `range`, or `default` when unset.
pub(super) fn number<T>(
    var: &impl Fn(&str) -> Option<String>,
    key: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, SettingsError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(text) = var(key) else { return Ok(default) };
    let value: T = text.parse().map_err(|_| invalid(key, format!("`{text}` is not a whole number")))?;
    if !range.contains(&value) {
        return Err(invalid(key, format!("{value} is outside {}..={}", range.start(), range.end())));
    }
    Ok(value)
}

/// `true`/`1`/`yes` or `false`/`0`/`no`; unset is false.
pub(super) fn flag(var: &impl Fn(&str) -> Option<String>, key: &'static str) -> Result<bool, SettingsError> {
    switch(var, key, false)
}

/// A true/false setting with its default.
pub(super) fn switch(
    var: &impl Fn(&str) -> Option<String>,
    key: &'static str,
    default: bool,
) -> Result<bool, SettingsError> {
    match var(key).as_deref() {
        None => Ok(default),
        Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(invalid(key, format!("`{other}` is not true or false"))),
    }
}
