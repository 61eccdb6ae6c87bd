//! MVPD logos: simple SVG monograms built into the binary and served at the emulator's own
//! origin, as Adobe's CDN would serve real ones.

use axum::{
    extract::Path,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};

/// Path prefix the logos are served under.
pub const LOGO_PATH: &str = "/mvpd-logos";

macro_rules! logo {
    ($id:literal) => {
        (
            $id,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/public/mvpd-logos/",
                $id,
                ".svg"
            )),
        )
    };
}

/// The built-in logos, by MVPD id.
const LOGOS: [(&str, &str); 15] = [
    logo!("Cablevision"),
    logo!("Spectrum"),
    logo!("Comcast_SSO"),
    logo!("DTV"),
    logo!("Dish"),
    logo!("Cox"),
    logo!("Verizon"),
    logo!("Frontier"),
    logo!("Mediacom"),
    logo!("Sling"),
    logo!("HarborFiber"),
    logo!("PrairieWave"),
    logo!("Emulator_TEST"),
    logo!("TempPass_TEST40"),
    logo!("flexibleTempPass"),
];

/// The SVG for an MVPD id, if one is built in.
pub fn logo(id: &str) -> Option<&'static str> {
    LOGOS
        .iter()
        .find(|(logo_id, _)| *logo_id == id)
        .map(|(_, svg)| *svg)
}

/// `GET /mvpd-logos/{id}.svg`.
pub async fn serve(Path(file): Path<String>) -> Response {
    match file.strip_suffix(".svg").and_then(logo) {
        Some(svg) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            svg,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::dataset::DEFAULT_MVPD_IDS;

    #[test]
    fn every_default_mvpd_has_a_logo() {
        for id in DEFAULT_MVPD_IDS {
            assert!(logo(id).is_some_and(|svg| svg.contains("<svg")), "{id}");
        }
    }
}
