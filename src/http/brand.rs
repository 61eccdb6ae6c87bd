//! The brand's own files: `/brand.css` (its colours) and its logo, from the brand file read at
//! start-up.

use axum::{
    http::{header, HeaderValue},
    response::IntoResponse,
    routing::get,
    Router,
};

use crate::{brand::SiteBrand, state::AppState};

/// Brand files change only with a restart; a day is short enough for a new brand to show.
const CACHE: &str = "public, max-age=86400";
/// An SVG opened on its own is a document: it may not run or fetch anything.
const SVG_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// `GET /brand.css`, and `GET /brand/logo.svg` or `/brand/logo.png` when the brand has a logo.
pub fn router(brand: &SiteBrand) -> Router<AppState> {
    let stylesheet = brand.stylesheet();
    let mut router = Router::new().route(
        "/brand.css",
        get(move || async move {
            (
                [
                    (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                    (header::CACHE_CONTROL, CACHE),
                ],
                stylesheet,
            )
        }),
    );
    if let Some(logo) = brand.logo.clone() {
        router = router.route(
            logo.path(),
            get(move || async move {
                let mut response = (
                    [
                        (header::CONTENT_TYPE, logo.content_type),
                        (header::CACHE_CONTROL, CACHE),
                    ],
                    logo.bytes.to_vec(),
                )
                    .into_response();
                response.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(SVG_POLICY),
                );
                response
            }),
        );
    }
    router
}
