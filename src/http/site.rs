//! The activation site's server side: the [`ActivationPort`] the pages call (backed by the
//! service), the per-IP limit on code lookups, the viewer's IP for each request, sessions, the
//! language switcher, and the built site's files with their cache headers.

use std::{
    future::Future,
    net::{IpAddr, SocketAddr},
    path::{Path as FsPath, PathBuf},
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use app::{
    pages::activate::api::ssr::ViewerIp,
    port::{
        masked, ActivationPort, CodeDetails, Completion, Lookup, PortError, PortFuture,
        ProviderChoice, ProviderView,
    },
};
use axum::{
    body::Body,
    extract::{ConnectInfo, Path, Query, Request, State},
    http::{header, HeaderValue, StatusCode},
    http::{Method, Uri},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use leptos::config::LeptosOptions;
use tower::ServiceExt;
use tower_http::services::ServeDir;
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};
use url::Url;

use crate::{
    backoff,
    config::Config,
    service::{Caller, Provider, Service, ServiceError},
    store::ActivationStatus,
    support::{SupportCase, SupportCode},
    tv_api::client_addr::client_addr,
};
use crate::{shared::SiteSessions, state::AppState};

/// How long a browser session lives without activity.
const SESSION_IDLE: tower_sessions::cookie::time::Duration =
    tower_sessions::cookie::time::Duration::hours(2);

/// The service behind the pages' port.
pub struct SitePort {
    service: Service,
    adobe_origin: url::Origin,
    own_origin: url::Origin,
}

impl SitePort {
    /// Admits one step that makes the service call Adobe for the viewer's phone: valid codes
    /// cost the code guard nothing, so the phone's address prefix is metered here.
    async fn metered(&self, viewer: IpAddr) -> Result<(), PortError> {
        self.service
            .admit_adobe_step(Caller::Phone(viewer))
            .await
            .map_err(port_error)
    }

    /// A port over `service`; sign-in redirects are only allowed to Adobe's origin, or to the
    /// site's own (the completion page, when Adobe answers that the TV can watch already).
    pub fn new(service: Service) -> Result<Self, ServiceError> {
        let adobe_origin = service.adobe().authenticate_url("CODE")?.origin();
        let own_origin = service.settings().public_url.origin();
        Ok(Self {
            service,
            adobe_origin,
            own_origin,
        })
    }
}

fn provider_view(provider: &Provider) -> ProviderView {
    ProviderView {
        id: provider.id.clone(),
        name: provider.display_name.clone(),
        logo_url: provider.logo_url.clone(),
        notice: provider.notice.clone(),
    }
}

fn port_error(error: ServiceError) -> PortError {
    match error.retry_after() {
        Some(wait) => PortError::Busy(backoff::retry_after_seconds(wait)),
        None => PortError::Unavailable(format!("{}: {}", error.code(), error.message())),
    }
}

impl SitePort {
    async fn provider(&self, code: &str, viewer: IpAddr, id: &str) -> ProviderView {
        let found = self.service.provider_for_code(code, id, viewer).await;
        found
            .ok()
            .flatten()
            .map(|provider| provider_view(&provider))
            .unwrap_or_else(|| ProviderView {
                id: id.to_owned(),
                name: id.to_owned(),
                logo_url: None,
                notice: None,
            })
    }

    /// No profile yet: the viewer may try again while Adobe's session lives; once the
    /// provider's Cancel has ended it, the activation ends too, so the TV offers a new code.
    async fn not_signed_in(&self, code: &str, viewer: IpAddr) -> Result<Completion, PortError> {
        if self
            .service
            .sign_in_still_possible(code, viewer)
            .await
            .map_err(port_error)?
        {
            return Ok(Completion::NotFinished);
        }
        tracing::info!(code = %masked(code), "the provider sign-in was cancelled");
        match self.service.cancel_activation(code).await {
            Ok(_) | Err(ServiceError::NotFound(_)) => Ok(Completion::Gone),
            Err(error) => Err(port_error(error)),
        }
    }
}

impl ActivationPort for SitePort {
    fn look_up<'a>(&'a self, code: &'a str, viewer: IpAddr) -> PortFuture<'a, Lookup> {
        Box::pin(async move {
            self.metered(viewer).await?;
            let Some(pending) = self
                .service
                .look_up_code(code, viewer)
                .await
                .map_err(port_error)?
            else {
                return Ok(Lookup::Gone);
            };
            let provider = match &pending.mvpd {
                Some(id) => Some(self.provider(code, viewer, id).await),
                None => None,
            };
            Ok(Lookup::Pending(CodeDetails {
                code: pending.code,
                device: pending.device,
                provider,
                expires_at: Some(pending.expires_at),
                same_network: pending.same_network,
            }))
        })
    }

    fn providers<'a>(&'a self, code: &'a str, viewer: IpAddr) -> PortFuture<'a, ProviderChoice> {
        Box::pin(async move {
            self.metered(viewer).await?;
            let list = self
                .service
                .providers_for_code(code, viewer)
                .await
                .map_err(port_error)?;
            Ok(ProviderChoice {
                featured: list.featured.iter().map(provider_view).collect(),
                all: list.all.iter().map(provider_view).collect(),
            })
        })
    }

    fn start_sign_in<'a>(
        &'a self,
        code: &'a str,
        mvpd: &'a str,
        viewer: IpAddr,
    ) -> PortFuture<'a, Option<String>> {
        Box::pin(async move {
            self.metered(viewer).await?;
            let url = self
                .service
                .start_sign_in(code, mvpd, viewer)
                .await
                .map_err(port_error)?;
            match url {
                Some(url)
                    if url.origin() == self.adobe_origin || url.origin() == self.own_origin =>
                {
                    Ok(Some(url.to_string()))
                }
                Some(_) => Err(PortError::Unavailable(
                    "the sign-in address is not on the configured Adobe Pass origin".to_owned(),
                )),
                None => Ok(None),
            }
        })
    }

    fn complete<'a>(&'a self, code: &'a str, viewer: IpAddr) -> PortFuture<'a, Completion> {
        Box::pin(async move {
            self.metered(viewer).await?;
            let view = match self.service.confirm_activation(code, viewer).await {
                Ok(view) => view,
                Err(ServiceError::NotFound(_)) => return Ok(Completion::Gone),
                Err(error) => return Err(port_error(error)),
            };
            Ok(match (view.status, view.provider) {
                (ActivationStatus::Authenticated, Some(id)) => {
                    Completion::SignedIn(self.provider(code, viewer, &id).await)
                }
                (ActivationStatus::Pending, _) => self.not_signed_in(code, viewer).await?,
                _ => Completion::Gone,
            })
        })
    }

    fn cancel<'a>(&'a self, code: &'a str) -> PortFuture<'a, ()> {
        Box::pin(async move {
            tracing::info!(code = %masked(code), "viewer cancelled an activation");
            self.service
                .cancel_activation(code)
                .await
                .map(|_| ())
                .map_err(port_error)
        })
    }

    fn signed_in_device<'a>(&'a self, code: &'a str) -> PortFuture<'a, Option<String>> {
        Box::pin(async move {
            self.service
                .signed_in_device(code)
                .await
                .map_err(port_error)
        })
    }

    fn disown<'a>(&'a self, code: &'a str, viewer: IpAddr) -> PortFuture<'a, ()> {
        Box::pin(async move {
            self.service
                .disown_sign_in(code, viewer)
                .await
                .map_err(port_error)
        })
    }
}

/// Puts the viewer's IP in the request for the pages' server functions: the connection's
/// peer, or the client `X-Forwarded-For` names when the peer is a configured trusted proxy
/// (`--trusted-proxies`), as for the TV API.
pub async fn with_viewer_ip(
    State(config): State<Arc<Config>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let ip = client_addr(&config, peer, request.headers()).ip();
    request.extensions_mut().insert(ViewerIp(ip));
    next.run(request).await
}

/// Answers 404 for the TV simulator (`/tv`) when it is off (`--tv-simulator false`).
pub async fn without_tv_simulator(request: Request, next: Next) -> Response {
    if request.uri().path() == "/tv" {
        return plain_not_found(&request, "not found");
    }
    next.run(request).await
}

/// Turns a bare 500 (no body type: the session layer could not save the session, because its
/// store, Redis, is down) into a 503 page that asks to try again, with `Retry-After`. Handlers
/// never answer a bare 500 themselves.
pub async fn bare_failures_as_try_again(request: Request, next: Next) -> Response {
    let case = request.extensions().get::<Arc<SupportCase>>().cloned();
    let response = next.run(request).await;
    let bare = response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response.headers().contains_key(header::CONTENT_TYPE);
    if !bare {
        return response;
    }
    tracing::warn!("a layer failed (the session store?): asking to try again");
    let code = case.map(|case| case.issue("try_again"));
    let wait = backoff::retry_after_seconds(Duration::from_secs(1));
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, HeaderValue::from(wait)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        axum::response::Html(try_again_page(code.as_ref())),
    )
        .into_response()
}

/// A plain-text 404 saying `what`, with the request's support code.
fn plain_not_found(request: &Request, what: &str) -> Response {
    let support = request
        .extensions()
        .get::<Arc<SupportCase>>()
        .map(|case| format!("\nSupport code: {}\n", case.issue(what)))
        .unwrap_or_default();
    (StatusCode::NOT_FOUND, format!("{what}{support}")).into_response()
}

/// The page a viewer sees when the service cannot keep their session for a moment, with the
/// support code (in both languages: the page cannot know the viewer's).
fn try_again_page(code: Option<&SupportCode>) -> String {
    let support = code
        .map(|code| {
            format!(
                "<p>Support code: <strong>{code}</strong></p>\
                 <p lang=\"es\">Código de soporte: <strong>{code}</strong></p>"
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Please try again</title>\
</head><body><main><h1>Please try again</h1><p>The service is briefly unavailable. Please try \
again in a moment.</p>{support}<p><a href=\"/activate\">Try again</a></p></main></body></html>"
    )
}

/// Browser sessions: `HttpOnly`, `SameSite=Lax`, `Secure` on https, kept in `store`.
pub fn session_layer(https: bool, store: SiteSessions) -> SessionManagerLayer<SiteSessions> {
    // On https the cookie is host-only (`__Host-`: Secure, Path=/, no Domain), so a sibling
    // subdomain cannot plant one (security review, finding 16).
    SessionManagerLayer::new(store)
        .with_name(if https {
            "__Host-tve_session"
        } else {
            "tve_session"
        })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(https)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE))
}

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

/// `GET /language/{tag}?back=/path`: remembers the language for a year and goes back, only to a
/// page of this site.
async fn switch_language(
    State(config): State<Arc<Config>>,
    Path(tag): Path<String>,
    Query(back): Query<Back>,
    request: Request,
) -> Response {
    let Some(lang) = app::i18n::Lang::from_tag(&tag) else {
        return plain_not_found(&request, "unknown language");
    };
    let back = back
        .back
        .and_then(|back| same_site_path(&config.public_url, &back))
        .unwrap_or_else(|| "/".to_owned());
    let cookie = format!(
        "lang={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
        lang.tag()
    );
    let mut response = Redirect::to(&back).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `back` resolved against the public URL the way a browser would resolve it, as a path with
/// its query, when it stays on the public URL's origin; `None` otherwise (`//evil`, `/\\evil`,
/// `/%09/evil`, `https://evil`, …).
fn same_site_path(public_url: &Url, back: &str) -> Option<String> {
    // Browsers drop tabs and newlines anywhere in a URL and read `\\` as `/`; so does `Url`.
    let resolved = public_url.join(back).ok()?;
    if resolved.origin() != public_url.origin() {
        return None;
    }
    let mut path = resolved.path().to_owned();
    // A path starting with `//` would be read as another host once written to `Location`.
    if path.starts_with("//") {
        return None;
    }
    if let Some(query) = resolved.query() {
        path.push('?');
        path.push_str(query);
    }
    Some(path)
}

/// The site's own routes besides the Leptos pages.
pub fn router() -> Router<AppState> {
    Router::new().route("/language/{tag}", get(switch_language))
}

/// The origin of Adobe Pass (or the emulator), where sign-in redirects go.
pub fn adobe_origin(service: &Service) -> Option<String> {
    service
        .adobe()
        .authenticate_url("CODE")
        .ok()
        .map(|url: Url| url.origin().ascii_serialization())
}

/// The Leptos settings for this configuration: where the built site is and, when the build gave
/// the site's files hashed names (`hash-files` in Cargo.toml), the file that lists them, so that
/// pages link `/pkg/tve-activate.<hash>.wasm` and the like.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(FsPath::to_path_buf));
    let hash_file = hash_file(&config.site_root, beside_binary.as_deref());
    LeptosOptions::builder()
        .output_name(app::OUTPUT_NAME)
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_addr(config.listen)
        .hash_files(hash_file.is_some())
        // Leptos reads the file at this path joined to the binary's folder: an absolute path
        // stands for itself.
        .hash_file(Arc::from(
            hash_file
                .map(|file| file.to_string_lossy().into_owned())
                .unwrap_or_else(|| HASH_FILE.to_owned()),
        ))
        .build()
}

/// The file cargo-leptos writes beside the server binary it builds, naming the hashes it put in
/// the site's file names (`js: …`, `wasm: …`, `css: …`).
const HASH_FILE: &str = "hash.txt";

/// The hash file that goes with the site in `site_root`: beside the binary (where cargo-leptos
/// writes it), else in the site's folder, as long as it names the site's wasm. Otherwise (the
/// binary of one build serving the site of another, say a debug server on the release site) the
/// hashes are read from the site's own file names and written to a hash file of the server's.
fn hash_file(site_root: &FsPath, beside_binary: Option<&FsPath>) -> Option<PathBuf> {
    let candidates = beside_binary
        .map(|dir| dir.join(HASH_FILE))
        .into_iter()
        .chain([site_root.join(HASH_FILE)]);
    for candidate in candidates {
        let Ok(text) = std::fs::read_to_string(&candidate) else {
            continue;
        };
        let wasm = text.lines().find_map(|line| {
            let (kind, hash) = line.split_once(':')?;
            (kind.trim() == "wasm").then(|| hash.trim().to_owned())
        });
        let named = wasm.map(|hash| {
            site_root
                .join("pkg")
                .join(format!("{}.{hash}.wasm", app::OUTPUT_NAME))
        });
        if named.as_deref().is_some_and(FsPath::is_file) {
            return Some(std::fs::canonicalize(&candidate).unwrap_or(candidate));
        }
    }
    let hashes = hashes_in_names(&site_root.join("pkg"))?;
    // A new file of a random name, created exclusively: no link planted in the temporary
    // folder can make the service write elsewhere (security review, finding 17).
    let written = tempfile::Builder::new()
        .prefix("tve-activate-")
        .suffix(&format!("-{HASH_FILE}"))
        .tempfile()
        .and_then(|mut file| {
            std::io::Write::write_all(&mut file, hashes.as_bytes())?;
            file.keep().map_err(|error| error.error)
        });
    match written {
        Ok((_, file)) => {
            tracing::info!(
                site_root = %site_root.display(),
                "no hash file of this build names the site's files: read from their names"
            );
            Some(file)
        }
        Err(error) => {
            tracing::warn!(
                %error,
                "cannot write the site's hash file: pages link unhashed names"
            );
            None
        }
    }
}

/// The hash file cargo-leptos would have written for the files in `pkg`, read from their names
/// (`tve-activate.<hash>.js`, `.wasm` and `.css`, and the wasm splitter's loader and manifest
/// when there are chunks); `None` when the names carry no hash, or more than one of a kind.
fn hashes_in_names(pkg: &FsPath) -> Option<String> {
    let names: Vec<String> = std::fs::read_dir(pkg)
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    let output = format!("{}.", app::OUTPUT_NAME);
    let mut lines = Vec::new();
    for (kind, prefix, suffix, needed) in [
        ("js", output.as_str(), ".js", true),
        ("wasm", output.as_str(), ".wasm", true),
        ("css", output.as_str(), ".css", true),
        ("manifest", "__wasm_split_manifest.", ".json", false),
        ("split", "__wasm_split.", ".js", false),
    ] {
        let hashes: Vec<&str> = names
            .iter()
            .filter_map(|name| name.strip_prefix(prefix)?.strip_suffix(suffix))
            .filter(|hash| is_hash(hash))
            .collect();
        match hashes[..] {
            [hash] => lines.push(format!("{kind}: {hash}\n")),
            [] if !needed => {}
            _ => return None,
        }
    }
    Some(lines.concat())
}

/// A content hash as cargo-leptos writes it in names: 22 base64url characters (an MD5), not
/// its placeholder of underscores.
fn is_hash(part: &str) -> bool {
    part.len() == 22
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && part.bytes().any(|b| b.is_ascii_alphanumeric())
}

/// `Cache-Control` of the site's files whose names carry a hash of their content: a browser
/// keeps them a year without asking again, since a new build gives new names.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of the other files (unhashed names, public assets): kept, but checked with
/// the server (`If-Modified-Since`, answered 304) before each use.
pub const REVALIDATE: &str = "no-cache";

/// Whether `path` is one of the built site's files with a content hash in its name:
/// `/pkg/tve-activate.<22 base64url characters>.wasm` and the like (cargo-leptos's MD5).
pub fn is_hashed_asset(path: &str) -> bool {
    let Some(file) = path
        .strip_prefix("/pkg/")
        .and_then(|rest| rest.rsplit('/').next())
    else {
        return false;
    };
    let mut parts = file.split('.');
    // The name before the first dot, and the extension after the last, are not the hash.
    parts.next();
    let parts: Vec<&str> = parts.collect();
    parts.len() >= 2 && parts[..parts.len() - 1].iter().any(|part| is_hash(part))
}

/// The future of a fallback handler.
type Answer = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;

/// The fallback route: the built site's files, served here with cache headers ([`IMMUTABLE`]
/// for hashed names, [`REVALIDATE`] for the rest), their `.br` or `.gz` twin when the build
/// precompressed them (`cargo leptos build --release --precompress`) and the browser takes it,
/// and conditional requests answered 304; any other request goes to `not_found` (Leptos's
/// handler, which renders the app's "not found" page).
pub fn with_cache_headers<H>(
    not_found: H,
) -> impl Fn(Uri, State<AppState>, Request) -> Answer + Clone + Send + Sync + 'static
where
    H: Fn(Uri, State<AppState>, Request) -> Answer + Clone + Send + Sync + 'static,
{
    move |uri: Uri, state: State<AppState>, request: Request| {
        let not_found = not_found.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            if parts.method == Method::GET || parts.method == Method::HEAD {
                let files = ServeDir::new(state.leptos.site_root.as_ref())
                    .precompressed_br()
                    .precompressed_gzip();
                let probe = Request::from_parts(parts.clone(), Body::empty());
                let Ok(response) = files.oneshot(probe).await;
                let status = response.status();
                // A folder's redirect, or nothing there: the "not found" page, as before.
                if status.is_success() || status == StatusCode::NOT_MODIFIED {
                    return with_file_headers(uri.path(), response.map(Body::new));
                }
            }
            not_found(uri, state, Request::from_parts(parts, body)).await
        })
    }
}

/// Adds the cache headers of the file at `path` to its response.
fn with_file_headers(path: &str, mut response: Response) -> Response {
    let headers = response.headers_mut();
    let cache = if is_hashed_asset(path) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // One address answers brotli, gzip or plain bytes: shared caches must keep them apart.
    // (The compression layer says so only for what it compresses itself.)
    if !headers.contains_key(header::VARY) {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_try_again_page_shows_the_support_code_in_both_languages() {
        let code = SupportCode::random();
        let page = try_again_page(Some(&code));
        assert!(
            page.contains(&format!("Support code: <strong>{code}</strong>")),
            "{page}"
        );
        assert!(
            page.contains(&format!("Código de soporte: <strong>{code}</strong>")),
            "{page}"
        );
        assert!(!try_again_page(None).contains("Support code"));
    }

    #[test]
    fn back_links_stay_on_this_site() {
        let public = Url::parse("https://activate.example.com").expect("url");
        for (back, expected) in [
            ("/activate?code=AB12CD", Some("/activate?code=AB12CD")),
            ("/", Some("/")),
            ("https://activate.example.com/activate", Some("/activate")),
            ("//evil.example", None),
            ("/%09/evil.example", Some("/%09/evil.example")),
            ("/\t/evil.example", None),
            ("/\\evil.example", None),
            ("\\\\evil.example", None),
            ("https://evil.example/", None),
            ("http://activate.example.com/", None),
            ("javascript:alert(1)", None),
            ("/\n/evil.example", None),
        ] {
            assert_eq!(
                same_site_path(&public, back).as_deref(),
                expected,
                "{back:?}"
            );
        }
    }

    #[test]
    fn hashed_names_are_recognised() {
        for (path, hashed) in [
            ("/pkg/tve-activate.lkVhAr1x3CAsEmzZEHD_Rg.wasm", true),
            ("/pkg/tve-activate.lkVhAr1x3CAsEmzZEHD_Rg.wasm.br", true),
            ("/pkg/tve-activate.a-Z09_a-Z09_a-Z09_a-Z0.js", true),
            ("/pkg/__wasm_split.lkVhAr1x3CAsEmzZEHD_Rg.js", true),
            ("/pkg/tve-activate.wasm", false),
            ("/pkg/tve-activate.css", false),
            ("/pkg/__wasm_split.______________________.js", false),
            ("/pkg/lkVhAr1x3CAsEmzZEHD_Rg.wasm", false),
            ("/favicon.lkVhAr1x3CAsEmzZEHD_Rg.svg", false),
            ("/pkg/tve-activate.tooShort.wasm", false),
        ] {
            assert_eq!(is_hashed_asset(path), hashed, "{path}");
        }
    }

    #[test]
    fn the_hash_file_counts_only_with_the_files_it_names() {
        let site = tempfile::tempdir().expect("temporary folder");
        let binary = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir(site.path().join("pkg")).expect("pkg");
        let names = "js: Jjjjjjjjjjjjjjjjjjjjjj\nwasm: Wwwwwwwwwwwwwwwwwwwwww\ncss: Cccccccccccccccccccccc\n";
        std::fs::write(binary.path().join(HASH_FILE), names).expect("hash file");
        assert_eq!(
            hash_file(site.path(), Some(binary.path())),
            None,
            "no such wasm"
        );

        let wasm = format!("{}.Wwwwwwwwwwwwwwwwwwwwww.wasm", app::OUTPUT_NAME);
        std::fs::write(site.path().join("pkg").join(wasm), b"\0asm").expect("wasm");
        let found = hash_file(site.path(), Some(binary.path())).expect("beside the binary");
        assert!(
            found.ends_with(HASH_FILE) && found.is_absolute(),
            "{found:?}"
        );
        assert!(found.starts_with(std::fs::canonicalize(binary.path()).expect("path")));

        std::fs::write(site.path().join(HASH_FILE), names).expect("hash file in the site");
        let found = hash_file(site.path(), None).expect("in the site's folder");
        assert!(found.starts_with(std::fs::canonicalize(site.path()).expect("path")));
    }

    #[test]
    fn a_site_from_another_build_is_named_by_its_own_files() {
        let site = tempfile::tempdir().expect("temporary folder");
        let binary = tempfile::tempdir().expect("temporary folder");
        let pkg = site.path().join("pkg");
        std::fs::create_dir(&pkg).expect("pkg");
        std::fs::write(
            binary.path().join(HASH_FILE),
            "js: Jjjjjjjjjjjjjjjjjjjjjj\nwasm: Wwwwwwwwwwwwwwwwwwwwww\ncss: Cccccccccccccccccccccc\n",
        )
        .expect("another build's hash file");
        for name in [
            "tve-activate.lkVhAr1x3CAsEmzZEHD_Rg.js",
            "tve-activate.xPJaR3_pdUH-PV6PZxJvvA.wasm",
            "tve-activate.hVjTb7xLpSDHXarIoXWnzw.css",
            "tve-activate.d.yt8SBs6wcSB7zmaINP8IOA.ts",
            "__wasm_split.v72bcu_e99xbLxB_gDI1BA.js",
            "__wasm_split_manifest.FEklWyaFMmyCfJ9mNMYbIA.json",
            "split___tv_route_view_1.-KwQYgieht-3L5XenLIFVQ.wasm",
        ] {
            std::fs::write(pkg.join(name), b"").expect("file");
        }
        let found = hash_file(site.path(), Some(binary.path())).expect("from the names");
        // Security review, finding 17: each start writes a new file of a random name, never
        // a name anyone could plant a link at.
        let again = hash_file(site.path(), Some(binary.path())).expect("again");
        assert_ne!(found, again);
        for file in [&found, &again] {
            assert!(!file.is_symlink(), "{}", file.display());
        }
        std::fs::remove_file(&again).expect("tidy");
        assert_eq!(
            std::fs::read_to_string(&found).expect("written"),
            "js: lkVhAr1x3CAsEmzZEHD_Rg\nwasm: xPJaR3_pdUH-PV6PZxJvvA\n\
             css: hVjTb7xLpSDHXarIoXWnzw\nmanifest: FEklWyaFMmyCfJ9mNMYbIA\n\
             split: v72bcu_e99xbLxB_gDI1BA\n"
        );

        // Unhashed names (a build without hash-files): nothing to name.
        let plain = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir(plain.path().join("pkg")).expect("pkg");
        std::fs::write(plain.path().join("pkg/tve-activate.wasm"), b"").expect("file");
        assert_eq!(hash_file(plain.path(), Some(binary.path())), None);
    }
}
