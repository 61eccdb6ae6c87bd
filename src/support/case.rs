//! One request's support case: what a code issued while serving it maps to, and the log line
//! that records the mapping.

use std::sync::OnceLock;

use super::{node_name, SupportCode};

/// The request a support code would map to: its id, and the device once one authenticated.
#[derive(Debug)]
pub struct SupportCase {
    request_id: String,
    device: OnceLock<String>,
    issued: OnceLock<SupportCode>,
}

/// What a support code maps to, as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportRecord {
    /// The code the viewer was shown.
    pub code: SupportCode,
    /// The request's `x-request-id`.
    pub request_id: String,
    /// The node that served it ([`node_name`]).
    pub node: String,
    /// The registration's device id (a pseudonym), when the request authenticated a device.
    pub device: Option<String>,
    /// The status answered, when known when the code was issued.
    pub status: Option<u16>,
    /// What the viewer was told: the TV API's error code, or the site's notice.
    pub what: String,
}

impl SupportCase {
    /// The case of the request with this id.
    pub fn new(request_id: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            device: OnceLock::new(),
            issued: OnceLock::new(),
        }
    }

    /// Notes the device the request authenticated: its registration's device id (a pseudonym,
    /// never its token).
    pub fn set_device(&self, device_id: &str) {
        let _ = self.device.set(device_id.to_owned());
    }

    /// This request's code for a notice the viewer sees: the same for every notice of the
    /// request, logged (once) with what the viewer saw first.
    pub fn issue(&self, what: &str) -> SupportCode {
        let mut fresh = false;
        let code = self.issued.get_or_init(|| {
            fresh = true;
            SupportCode::random()
        });
        if fresh {
            self.record(code, None, what);
        }
        code.clone()
    }

    /// Logs one line mapping `code` to this request, node and device, and returns it.
    pub fn record(&self, code: &SupportCode, status: Option<u16>, what: &str) -> SupportRecord {
        let record = SupportRecord {
            code: code.clone(),
            request_id: self.request_id.clone(),
            node: node_name().to_owned(),
            device: self.device.get().cloned(),
            status,
            what: what.to_owned(),
        };
        tracing::info!(
            target: "tve_activate::support",
            support_code = %record.code,
            request_id = %record.request_id,
            node = %record.node,
            device = record.device.as_deref().unwrap_or("-"),
            status = record.status,
            error = %record.what,
            "support code issued"
        );
        record
    }
}

impl app::support::SupportDesk for SupportCase {
    fn issue(&self, what: &str) -> String {
        SupportCase::issue(self, what).as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_has_one_code_whatever_it_shows() {
        let case = SupportCase::new("req-1");
        let first = case.issue("busy");
        assert_eq!(case.issue("code_gone"), first);
        assert_ne!(SupportCase::new("req-2").issue("busy"), first);
    }

    #[test]
    fn the_record_maps_the_code_to_request_node_and_device() {
        let case = SupportCase::new("req-7");
        case.set_device("dev-pseudonym");
        let code = SupportCode::random();
        let record = case.record(&code, Some(404), "not_found");
        assert_eq!(record.code, code);
        assert_eq!(record.request_id, "req-7");
        assert_eq!(record.node, node_name());
        assert_eq!(record.device.as_deref(), Some("dev-pseudonym"));
        assert_eq!(record.status, Some(404));
    }
}
