//! Throttling (§12): a token bucket per device IP (`X-Forwarded-For`, else the connection),
//! 1 request per second with a "one-time initial burst" of 10; when empty, HTML 429 and a
//! 1-second lockout. Whether the burst comes back after idling is a setting: by default it
//! does not (the docs' words), so clients that count on it are caught.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Mutex, PoisonError},
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::StatusCode,
    middleware::Next,
    response::{Html, IntoResponse, Response},
};

use crate::emulator::{headers, state::EmulatorState};

/// Requests a fresh bucket allows at once.
pub const BURST: f64 = 10.0;
/// Tokens added per second.
pub const RATE_PER_SECOND: f64 = 1.0;
/// How long a throttled device is refused, from its first 429.
pub const LOCKOUT_MS: i64 = 1000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    /// What the bucket refills to: the burst, or, once some of a one-time burst is spent,
    /// what is left of it (at least one request).
    ceiling: f64,
    updated_at: i64,
    locked_until: Option<i64>,
}

/// Buckets by device IP.
#[derive(Debug, Default)]
pub struct Throttle {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    burst_refills: bool,
}

impl Throttle {
    /// Buckets whose burst comes back after idling when `burst_refills`, else once only.
    pub fn new(burst_refills: bool) -> Self {
        Self {
            buckets: Mutex::default(),
            burst_refills,
        }
    }

    /// Takes a token for `ip` at `now` (epoch ms); false means throttled.
    pub fn admit(&self, ip: IpAddr, now: i64) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(ip).or_insert(Bucket {
            tokens: BURST,
            ceiling: BURST,
            updated_at: now,
            locked_until: None,
        });
        let elapsed = (now - bucket.updated_at).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * RATE_PER_SECOND).min(bucket.ceiling);
        bucket.updated_at = now;
        match bucket.locked_until {
            Some(until) if now < until => return false,
            Some(_) => bucket.locked_until = None,
            None => {}
        }
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            if !self.burst_refills {
                bucket.ceiling = bucket.ceiling.min(bucket.tokens + 1.0).max(1.0);
            }
            true
        } else {
            bucket.locked_until = Some(now + LOCKOUT_MS);
            false
        }
    }
}

/// The HTML body Adobe's throttle answers with (an openresty-style page, no `Retry-After`).
const TOO_MANY_REQUESTS: &str = "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n\
<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>openresty</center>\r\n\
</body>\r\n</html>\r\n";

/// Adobe's 429: HTML, no `Retry-After`.
pub fn too_many_requests() -> Response {
    (StatusCode::TOO_MANY_REQUESTS, Html(TOO_MANY_REQUESTS)).into_response()
}

/// Middleware: answers 429 when the device's bucket is empty (only when throttling is on).
pub async fn limit(State(state): State<EmulatorState>, request: Request, next: Next) -> Response {
    if let Some(throttle) = state.throttle() {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let ip = headers::client_ip(request.headers(), peer);
        if let Some(ip) = ip {
            if !throttle.admit(ip, state.now_ms()) {
                return too_many_requests();
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §12: "1 request/second, plus a one-time initial burst of 10".
    #[test]
    fn the_burst_is_one_time_unless_set_to_refill() {
        let ip: IpAddr = "203.0.113.9".parse().expect("ip");
        for (refills, after_idle) in [(false, 1), (true, 10)] {
            let throttle = Throttle::new(refills);
            for i in 0..10 {
                assert!(throttle.admit(ip, 0), "request {i}");
            }
            let later = 60_000;
            let admitted = (0..10).take_while(|_| throttle.admit(ip, later)).count();
            assert_eq!(admitted, after_idle, "burst refills: {refills}");
        }
    }

    #[test]
    fn burst_of_ten_then_one_per_second_with_lockout() {
        let throttle = Throttle::default();
        let ip: IpAddr = "203.0.113.1".parse().expect("ip");
        for i in 0..10 {
            assert!(throttle.admit(ip, 0), "request {i}");
        }
        assert!(!throttle.admit(ip, 100));
        // locked for a second from the first 429, even though a token has refilled
        assert!(!throttle.admit(ip, 1050));
        assert!(throttle.admit(ip, 1100));
        let other: IpAddr = "203.0.113.2".parse().expect("ip");
        assert!(throttle.admit(other, 1100));
    }
}
