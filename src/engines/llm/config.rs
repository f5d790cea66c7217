//! LLM upstreams from settings. `LLM_BASE_URL` (+ `LLM_API_KEY`, `LLM_MODELS`,
//! `LLM_TIMEOUT_SECS`) is the provider named `default`; `LLM_PROVIDERS=a,b` adds more, each
//! with `LLM_<NAME>_BASE_URL`, `_API_KEY`, `_MODELS`, `_TIMEOUT_SECS`.

use std::time::Duration;

use crate::platform::settings::{Secret, SettingsError};

#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub name: String,
    /// Up to and including `/v1`, without a trailing slash.
    pub base_url: String,
    pub api_key: Option<Secret<String>>,
    /// Models routed to this provider. Empty: any model not claimed by another provider.
    pub models: Vec<String>,
    pub timeout: Duration,
}

fn invalid(key: String, reason: &str) -> SettingsError {
    // SettingsError keys are static; a provider's key is built at run time, so this one-off
    // error-path string is leaked.
    SettingsError { key: Box::leak(key.into_boxed_str()), reason: reason.to_owned() }
}

fn provider(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    prefix: &str,
) -> Result<Option<ProviderConfig>, SettingsError> {
    let Some(base_url) = var(&format!("{prefix}BASE_URL")) else { return Ok(None) };
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(invalid(format!("{prefix}BASE_URL"), "must start with http:// or https://"));
    }
    let timeout =
        match var(&format!("{prefix}TIMEOUT_SECS")) {
            None => 120,
            Some(v) => v.parse::<u64>().ok().filter(|n| (1..=3600).contains(n)).ok_or_else(|| {
                invalid(format!("{prefix}TIMEOUT_SECS"), "must be a number of seconds from 1 to 3600")
            })?,
        };
    let models = var(&format!("{prefix}MODELS"))
        .map(|list| list.split(',').map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()).collect())
        .unwrap_or_default();
    Ok(Some(ProviderConfig {
        name: name.to_owned(),
        base_url: base_url.trim_end_matches('/').to_owned(),
        api_key: var(&format!("{prefix}API_KEY")).map(Secret::new),
        models,
        timeout: Duration::from_secs(timeout),
    }))
}

pub fn providers(var: &impl Fn(&str) -> Option<String>) -> Result<Vec<ProviderConfig>, SettingsError> {
    let mut all: Vec<ProviderConfig> = provider(var, "default", "LLM_")?.into_iter().collect();
    for name in var("LLM_PROVIDERS").unwrap_or_default().split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let upper = name.to_ascii_uppercase();
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid("LLM_PROVIDERS".to_owned(), "names may use letters, digits and _ only"));
        }
        let prefix = format!("LLM_{upper}_");
        let config = provider(var, &name.to_ascii_lowercase(), &prefix)?
            .ok_or_else(|| invalid(format!("{prefix}BASE_URL"), "is required for each provider in LLM_PROVIDERS"))?;
        all.push(config);
    }
    if all.iter().filter(|p| p.models.is_empty()).count() > 1 {
        return Err(invalid(
            "LLM_MODELS".to_owned(),
            "with several providers, at most one may leave its model list empty (it takes every other model)",
        ));
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Vec<ProviderConfig>, SettingsError> {
        let vars: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        providers(&|k: &str| vars.get(k).cloned())
    }

    #[test]
    fn the_default_and_named_providers_are_read_with_their_models() {
        assert!(parse(&[]).unwrap().is_empty());
        let all = parse(&[
            ("LLM_BASE_URL", "http://127.0.0.1:11434/v1/"),
            ("LLM_PROVIDERS", "openai"),
            ("LLM_OPENAI_BASE_URL", "https://api.openai.com/v1"),
            ("LLM_OPENAI_API_KEY", "sk-x"),
            ("LLM_OPENAI_MODELS", "gpt-4o-mini, gpt-4o"),
            ("LLM_OPENAI_TIMEOUT_SECS", "30"),
        ])
        .unwrap();
        assert_eq!(all[0].base_url, "http://127.0.0.1:11434/v1");
        assert!(all[0].models.is_empty() && all[0].api_key.is_none());
        assert_eq!((all[1].name.as_str(), all[1].models.len(), all[1].timeout.as_secs()), ("openai", 2, 30));
    }

    #[test]
    fn bad_provider_settings_name_their_key() {
        assert_eq!(parse(&[("LLM_BASE_URL", "localhost:8000")]).unwrap_err().key, "LLM_BASE_URL");
        assert_eq!(parse(&[("LLM_PROVIDERS", "vllm")]).unwrap_err().key, "LLM_VLLM_BASE_URL");
        let err = parse(&[("LLM_BASE_URL", "http://a"), ("LLM_TIMEOUT_SECS", "0")]).unwrap_err();
        assert_eq!(err.key, "LLM_TIMEOUT_SECS");
        let two_open = [("LLM_BASE_URL", "http://a"), ("LLM_PROVIDERS", "b"), ("LLM_B_BASE_URL", "http://b")];
        assert_eq!(parse(&two_open).unwrap_err().key, "LLM_MODELS");
    }
}
