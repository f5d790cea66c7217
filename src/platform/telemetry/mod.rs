//! Logging: pretty for people, JSON lines for machines (`LOG_FORMAT=json`).

use tracing_subscriber::{fmt, EnvFilter};

use crate::platform::settings::LogFormat;

/// Installs the global subscriber. Safe to call twice (the second call is ignored).
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|error| {
        eprintln!("warning: RUST_LOG `{filter}` is invalid ({error}); using `info`");
        EnvFilter::new("info")
    });
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Pretty => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
}

pub mod metrics;
