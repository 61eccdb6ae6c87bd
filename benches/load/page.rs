//! Page weight: what a phone downloads to open `/activate` the first time, and again later.
//!
//! First load: the page and every stylesheet, script and wasm it links (`href`/`src`, the
//! `<link rel="preload">` of the wasm and of any wasm chunk the page needs), plus the modules
//! those scripts import statically, each compressed as served (brotli when offered). Repeat
//! load: the same, through a browser cache that already holds every file: a file whose
//! `Cache-Control` says `immutable` (or a `max-age` not yet over) is not asked for again, another
//! is revalidated with `If-Modified-Since` (a 304 carries no body), and one marked `no-store`
//! comes again in full.

use crate::Row;

/// One file of the first load.
struct Asset {
    path: String,
    /// Bytes on the wire (compressed as served).
    bytes: usize,
    cache_control: String,
    last_modified: Option<String>,
}

impl Asset {
    fn kind(&self) -> &'static str {
        let path = self.path.split('?').next().unwrap_or_default();
        match path.rsplit('.').next() {
            Some("wasm") => "wasm",
            Some("js") => "JS",
            Some("css") => "CSS",
            _ => "HTML",
        }
    }
}

/// The two rows: first load, then a returning phone's.
pub async fn run(base: &str) -> Vec<Row> {
    let http = reqwest::Client::new();
    let mut assets = Vec::new();
    let page = fetch(&http, base, "/activate").await;
    // The HTML is compressed; its links are read from an uncompressed copy.
    let plain = plain_text(&http, base, "/activate")
        .await
        .unwrap_or_default();
    let mut links = linked_assets(&plain);
    let mut at = 0;
    while at < links.len() {
        let link = links[at].clone();
        at += 1;
        if let Some(asset) = fetch(&http, base, &link).await {
            if asset.kind() == "JS" {
                let text = plain_text(&http, base, &link).await.unwrap_or_default();
                for import in static_imports(&text, &link) {
                    if !links.contains(&import) {
                        links.push(import);
                    }
                }
            }
            assets.push(asset);
        }
    }
    let page_bytes = page.as_ref().map_or(0, |page| page.bytes);
    let failed = page.is_none() || assets.is_empty();
    vec![
        first_load(page_bytes, &assets, failed),
        repeat_load(&http, base, page_bytes, &assets, failed).await,
    ]
}

fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}

fn first_load(page_bytes: usize, assets: &[Asset], failed: bool) -> Row {
    let total = page_bytes + assets.iter().map(|asset| asset.bytes).sum::<usize>();
    let mut parts = vec![format!("HTML {:.1}", kb(page_bytes))];
    for kind in ["CSS", "JS", "wasm"] {
        let (count, bytes) = assets
            .iter()
            .filter(|asset| asset.kind() == kind)
            .fold((0, 0), |(count, bytes), asset| {
                (count + 1, bytes + asset.bytes)
            });
        if count > 0 {
            parts.push(format!("{kind} {:.1}", kb(bytes)));
        }
    }
    Row {
        scenario: "first load of /activate (HTML, CSS, JS, wasm; as served)",
        figure: format!(
            "{:.0} KB in {} files ({} KB)",
            kb(total),
            assets.len() + 1,
            parts.join(", ")
        ),
        ceiling: "–".to_owned(),
        goal: "≤ 120 KB",
        met: kb(total) <= 120.0,
        errors: u64::from(failed),
    }
}

async fn repeat_load(
    http: &reqwest::Client,
    base: &str,
    page_bytes: usize,
    assets: &[Asset],
    failed: bool,
) -> Row {
    let (mut immutable, mut fresh, mut revalidated, mut again, mut bytes) = (0, 0, 0, 0, 0);
    for asset in assets {
        let cache = asset.cache_control.to_ascii_lowercase();
        let max_age = cache
            .split(',')
            .find_map(|directive| directive.trim().strip_prefix("max-age="))
            .and_then(|seconds| seconds.parse::<u64>().ok())
            .unwrap_or(0);
        let stored = !cache.contains("no-store") && !cache.contains("no-cache");
        if stored && max_age > 0 {
            // Not asked for again while fresh: an immutable file never, another for max-age.
            if cache.contains("immutable") {
                immutable += 1;
            } else {
                fresh += 1;
            }
            continue;
        }
        let mut request = http
            .get(format!("{base}{}", asset.path))
            .header("Accept-Encoding", "br, gzip");
        match &asset.last_modified {
            Some(date) if !cache.contains("no-store") => {
                revalidated += 1;
                request = request.header("If-Modified-Since", date);
            }
            _ => again += 1,
        }
        if let Ok(answer) = request.send().await {
            bytes += answer.bytes().await.map_or(0, |body| body.len());
        }
    }
    Row {
        scenario: "repeat load of /activate, files in the browser's cache (besides the page)",
        figure: format!(
            "{bytes} bytes: {immutable} files kept (immutable), {fresh} still fresh (max-age), \
             {revalidated} revalidated, {again} fetched again; the page itself {:.1} KB (no-store)",
            kb(page_bytes)
        ),
        ceiling: "–".to_owned(),
        goal: "0 bytes",
        met: bytes == 0 && again == 0 && !failed,
        errors: u64::from(failed),
    }
}

/// `path` as a phone gets it: brotli or gzip when the server has it so.
async fn fetch(http: &reqwest::Client, base: &str, path: &str) -> Option<Asset> {
    let answer = http
        .get(format!("{base}{path}"))
        .header("Accept", "text/html,*/*")
        .header("Accept-Encoding", "br, gzip")
        .send()
        .await
        .ok()?;
    answer.status().is_success().then_some(())?;
    let header = |name: &str| {
        answer
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let cache_control = header("cache-control").unwrap_or_default();
    let last_modified = header("last-modified");
    let bytes = answer.bytes().await.ok()?.len();
    Some(Asset {
        path: path.to_owned(),
        bytes,
        cache_control,
        last_modified,
    })
}

/// `path` uncompressed, as text (to read its links).
async fn plain_text(http: &reqwest::Client, base: &str, path: &str) -> Option<String> {
    let answer = http.get(format!("{base}{path}")).send().await.ok()?;
    answer.status().is_success().then_some(())?;
    answer.text().await.ok()
}

/// Same-origin stylesheets, scripts and wasm the page links (`href`/`src` values under `/`).
fn linked_assets(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        for piece in html.split(attribute).skip(1) {
            let Some(link) = piece.split('"').next() else {
                continue;
            };
            let asset = [".css", ".js", ".wasm"].iter().any(|ext| {
                link.split('?')
                    .next()
                    .is_some_and(|path| path.ends_with(ext))
            });
            if link.starts_with('/')
                && !link.starts_with("//")
                && asset
                && !links.iter().any(|l| l == link)
            {
                links.push(link.to_owned());
            }
        }
    }
    // The wasm is fetched by the JS (beside it, same name) when not preloaded.
    let wasm: Vec<String> = links
        .iter()
        .filter_map(|link| link.strip_suffix(".js"))
        .map(|stem| format!("{stem}.wasm"))
        .filter(|wasm| !links.contains(wasm))
        .collect();
    links.extend(wasm);
    links
}

/// The relative modules a script imports statically (`import … from "./x.js"`, `import "./x.js"`),
/// as paths resolved against `from`; dynamic `import("…")` loads later, when needed, and is left
/// out.
fn static_imports(script: &str, from: &str) -> Vec<String> {
    let dir = from.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut found = Vec::new();
    for keyword in ["from", "import"] {
        for (at, _) in script.match_indices(keyword) {
            let rest = script[at + keyword.len()..].trim_start();
            let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let Some(specifier) = rest[1..].split(quote).next() else {
                continue;
            };
            let resolved = if let Some(relative) = specifier.strip_prefix("./") {
                format!("{dir}/{relative}")
            } else if specifier.starts_with('/') && !specifier.starts_with("//") {
                specifier.to_owned()
            } else {
                continue;
            };
            if resolved.ends_with(".js") && !found.contains(&resolved) {
                found.push(resolved);
            }
        }
    }
    found
}
