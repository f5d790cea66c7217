//! Logging: pretty for people, JSON lines for machines (`LOG_FORMAT=json`).

use tracing_subscriber::{fmt, EnvFilter};

use crate::platform::settings::LogFormat;

/// Always added to the filter: qdrant-edge reads its feature flags and its multi-mmap check
/// before anyone can set them (both setters are private to the crate) and warns about each on
/// every start, though it then uses the defaults it ships with. Nothing for an operator to act
/// on (the only other warning of `mmap::ops` confirms `QDRANT_NO_MULTI_MMAP`, set on purpose).
const QUIET: &str = "qdrant_edge::common::flags=error,qdrant_edge::common::mmap::ops=error";

/// Installs the global subscriber. Safe to call twice (the second call is ignored).
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(format!("{filter},{QUIET}")).unwrap_or_else(|error| {
        eprintln!("warning: RUST_LOG `{filter}` is invalid ({error}); using `info`");
        EnvFilter::new(format!("info,{QUIET}"))
    });
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Pretty => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
}

pub mod metrics;
