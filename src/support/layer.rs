//! The middleware that opens a [`SupportCase`] for every request and records the codes its
//! answer carries.

use std::sync::Arc;

use axum::{extract::Request, middleware::Next, response::Response};

use super::{SupportCase, SupportCode};

/// Put on an answer whose body carries a support code (the TV API's errors), for
/// [`support_cases`] to record with the request's case.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The code in the body.
    pub code: SupportCode,
    /// The TV API's error code.
    pub error: String,
}

/// Gives each request a [`SupportCase`] (and the site's pages their
/// [`app::support::SupportTicket`]), and logs the code of an answer marked [`Issued`]. Goes
/// inside the layer that sets `x-request-id`.
pub async fn support_cases(mut request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-");
    let case = Arc::new(SupportCase::new(request_id));
    request.extensions_mut().insert(case.clone());
    request
        .extensions_mut()
        .insert(app::support::SupportTicket(case.clone()));
    let mut response = next.run(request).await;
    if let Some(issued) = response.extensions_mut().remove::<Issued>() {
        case.record(
            &issued.code,
            Some(response.status().as_u16()),
            &issued.error,
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::{body::Body, http::Request, routing::get, Router};
    use tower::ServiceExt;
    use tracing_subscriber::fmt::MakeWriter;

    use super::support_cases;
    use crate::tv_api::error::ApiError;

    /// Collects what the log writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut buffer) = self.0.lock() {
                buffer.extend_from_slice(bytes);
            }
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// The code in the TV's error body is the code of the log line, with the request's id and
    /// this node's name.
    #[tokio::test]
    async fn the_log_line_maps_the_answered_code_to_the_request() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(captured.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route(
                "/fails",
                get(|| async { ApiError::not_found("activation") }),
            )
            .layer(axum::middleware::from_fn(support_cases));
        let request = Request::get("/fails")
            .header("x-request-id", "req-support-1")
            .body(Body::empty())
            .expect("request");
        let response = app.oneshot(request).await.expect("response");
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let code = body["error"]["supportCode"].as_str().expect("supportCode");

        let logged = String::from_utf8(captured.0.lock().expect("log").clone()).expect("utf-8");
        let lines: Vec<serde_json::Value> = logged
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .filter(|line: &serde_json::Value| line["support_code"] == code)
            .collect();
        assert_eq!(lines.len(), 1, "one line for the code: {logged}");
        let line = &lines[0];
        assert_eq!(line["request_id"], "req-support-1");
        assert_eq!(line["node"], super::super::node_name());
        assert_eq!(line["device"], "-");
        assert_eq!(line["status"], 404);
        assert_eq!(line["error"], "not_found");
    }
}
