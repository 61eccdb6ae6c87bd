//! The request being served, for the events it leads to: its `x-request-id`, kept for the
//! handler's task (work it spawns, such as a code's watcher, runs without one).

use axum::{extract::Request, middleware::Next, response::Response};

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Serves the request with its `x-request-id` known to [`current_request_id`]. Goes inside the
/// layer that sets `x-request-id`.
pub async fn request_scope(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    match id {
        Some(id) => REQUEST_ID.scope(id, next.run(request)).await,
        None => next.run(request).await,
    }
}

/// The `x-request-id` of the request this task serves, if it serves one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_id_is_known_within_the_request_only() {
        assert_eq!(current_request_id(), None);
        let seen = REQUEST_ID
            .scope("req-7".to_owned(), async { current_request_id() })
            .await;
        assert_eq!(seen.as_deref(), Some("req-7"));
    }
}
