//! The process's metrics: one [`Registry`] each part adds its own metrics to at start-up
//! (`register` methods), read at `/metrics` in the OpenMetrics text format.

use prometheus_client::{encoding::text, registry::Registry};

/// `registry` in the OpenMetrics text format, which Prometheus reads.
pub fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = text::encode(&mut out, registry);
    out
}

/// The content type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
