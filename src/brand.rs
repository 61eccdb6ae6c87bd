//! The network's brand, from the operator's `--brand-file` (TOML): name, tagline, logo, accent
//! colour and links, with per-language texts where they differ. Everything is checked at
//! start-up, and each mistake is one line naming the file and the key: an accent colour whose
//! contrast with its button text is under WCAG AA (4.5:1), a logo that is not an SVG or PNG (or
//! an SVG that carries script), a link that is not http(s), a language the site does not speak.
//!
//! ```toml
//! name = "Northwind Sports"
//! tagline = "Every game, live, on your TV."
//! logo = "northwind.svg"          # SVG or PNG, beside this file
//! accent = "#0b5d3b"              # primary buttons and the header's band
//! accent_text = "#ffffff"         # text on the accent (default white)
//! support_url = "https://help.northwind.example/tv"
//! privacy_url = "https://northwind.example/privacy"
//! terms_url = "https://northwind.example/terms"
//!
//! [texts.es]
//! name = "Northwind Deportes"
//! tagline = "Todos los partidos, en directo, en tu TV."
//! ```

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
};

use app::{
    brand::{Brand, BrandTexts},
    i18n::Lang,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// WCAG AA's least contrast for normal text.
const MIN_CONTRAST: f64 = 4.5;
/// The largest logo accepted.
const MAX_LOGO_BYTES: usize = 256 * 1024;
/// The longest name and tagline.
const MAX_NAME_CHARS: usize = 60;
const MAX_TAGLINE_CHARS: usize = 140;

/// The brand file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BrandFile {
    name: String,
    tagline: Option<String>,
    logo: Option<PathBuf>,
    accent: Option<String>,
    accent_text: Option<String>,
    support_url: Option<String>,
    privacy_url: Option<String>,
    terms_url: Option<String>,
    #[serde(default)]
    texts: BTreeMap<String, TextsFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextsFile {
    name: Option<String>,
    tagline: Option<String>,
}

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(u8, u8, u8);

impl Rgb {
    /// Parses `#rrggbb`.
    fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix('#').filter(|hex| hex.len() == 6)?;
        let channel = |at: usize| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok();
        Some(Rgb(channel(0)?, channel(2)?, channel(4)?))
    }

    /// Relative luminance (WCAG 2.x).
    fn luminance(self) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }

    /// The contrast ratio between two colours, 1 to 21.
    pub fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// A logo the site serves at [`Logo::path`].
#[derive(Clone)]
pub struct Logo {
    /// `image/svg+xml` or `image/png`.
    pub content_type: &'static str,
    /// The file's bytes.
    pub bytes: Arc<[u8]>,
}

impl fmt::Debug for Logo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logo")
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl Logo {
    /// Where the site serves it.
    pub fn path(&self) -> &'static str {
        match self.content_type {
            "image/png" => "/brand/logo.png",
            _ => "/brand/logo.svg",
        }
    }
}

/// The brand the site runs with.
#[derive(Clone, Debug)]
pub struct SiteBrand {
    /// What the pages show.
    pub page: Arc<Brand>,
    /// The operator's logo, when the brand file names one.
    pub logo: Option<Logo>,
    /// The colour of primary buttons and the header's band.
    pub accent: Rgb,
    /// Text on the accent.
    pub accent_text: Rgb,
}

impl Default for SiteBrand {
    /// The neutral demo brand.
    fn default() -> Self {
        Self {
            page: Arc::new(Brand::default()),
            logo: None,
            accent: Rgb(0x1f, 0x4f, 0xd1),
            accent_text: Rgb(0xff, 0xff, 0xff),
        }
    }
}

impl SiteBrand {
    /// Reads and checks a brand file; the error is one line naming the file and the key.
    pub fn load(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let file: BrandFile = toml::from_str(&text).map_err(|e| {
            let message = e.message().trim().replace('\n', " ");
            match e.span() {
                Some(span) => {
                    let line = text[..span.start].matches('\n').count() + 1;
                    format!("{shown}, line {line}: {message}")
                }
                None => format!("{shown}: {message}"),
            }
        })?;
        let folder = path.parent().unwrap_or_else(|| Path::new("."));
        Self::from_file(file, folder).map_err(|e| format!("{shown}: {e}"))
    }

    fn from_file(file: BrandFile, folder: &Path) -> Result<Self, String> {
        let defaults = Self::default();
        let accent = colour("accent", file.accent.as_deref())?.unwrap_or(defaults.accent);
        let accent_text =
            colour("accent_text", file.accent_text.as_deref())?.unwrap_or(defaults.accent_text);
        let contrast = accent.contrast(accent_text);
        if contrast < MIN_CONTRAST {
            return Err(format!(
                "accent {accent} under text {accent_text} has a contrast of {contrast:.2}:1; \
                 WCAG AA needs {MIN_CONTRAST}:1 (darken the accent or set accent_text)"
            ));
        }
        let logo = file
            .logo
            .map(|logo| read_logo(&folder.join(&logo)).map_err(|e| format!("logo: {e}")))
            .transpose()?;
        let mut texts = BTreeMap::new();
        for (tag, given) in file.texts {
            if Lang::from_tag(&tag).map(Lang::tag) != Some(tag.as_str()) {
                let spoken: Vec<&str> = Lang::ALL.iter().map(|lang| lang.tag()).collect();
                return Err(format!(
                    "texts.{tag}: the site speaks {}",
                    spoken.join(", ")
                ));
            }
            let key = |field: &str| format!("texts.{tag}.{field}");
            texts.insert(
                tag.clone(),
                BrandTexts {
                    name: checked_text(&key("name"), given.name, MAX_NAME_CHARS)?,
                    tagline: checked_text(&key("tagline"), given.tagline, MAX_TAGLINE_CHARS)?,
                },
            );
        }
        let page = Brand {
            name: checked_text("name", Some(file.name), MAX_NAME_CHARS)?.unwrap_or_default(),
            tagline: checked_text("tagline", file.tagline, MAX_TAGLINE_CHARS)?,
            logo_url: logo
                .as_ref()
                .map(|logo| format!("{}?v={}", logo.path(), version(&logo.bytes))),
            support_url: link("support_url", file.support_url)?,
            privacy_url: link("privacy_url", file.privacy_url)?,
            terms_url: link("terms_url", file.terms_url)?,
            texts,
        };
        Ok(Self {
            page: Arc::new(page),
            logo,
            accent,
            accent_text,
        })
    }

    /// The stylesheet `/brand.css`: the brand's colours as custom properties.
    pub fn stylesheet(&self) -> String {
        format!(
            ":root {{ --brand: {}; --brand-text: {}; }}\n",
            self.accent, self.accent_text
        )
    }
}

fn colour(key: &str, value: Option<&str>) -> Result<Option<Rgb>, String> {
    value
        .map(|text| {
            Rgb::parse(text.trim())
                .ok_or_else(|| format!("{key} {text:?} is not a colour like \"#0b5d3b\""))
        })
        .transpose()
}

/// A name or tagline: trimmed, 1 to `max` characters, no control characters.
fn checked_text(key: &str, value: Option<String>, max: usize) -> Result<Option<String>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = value.trim().to_owned();
    let count = value.chars().count();
    if count == 0 || count > max || value.chars().any(char::is_control) {
        return Err(format!(
            "{key} must have 1 to {max} characters and no line breaks"
        ));
    }
    Ok(Some(value))
}

/// An absolute http(s) link.
fn link(key: &str, value: Option<String>) -> Result<Option<String>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    match url::Url::parse(value.trim()) {
        Ok(url) if matches!(url.scheme(), "https" | "http") && url.has_host() => {
            Ok(Some(url.to_string()))
        }
        _ => Err(format!("{key} {value:?} is not an http(s) address")),
    }
}

/// Reads an SVG or PNG logo, refusing what is too large, not what its name says, or an SVG
/// that could run script when opened on its own.
fn read_logo(path: &Path) -> Result<Logo, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(format!(
            "{shown} has {} bytes; at most {MAX_LOGO_BYTES} are served",
            bytes.len()
        ));
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let content_type = match extension.as_deref() {
        Some("png") if bytes.starts_with(b"\x89PNG\r\n\x1a\n") => "image/png",
        Some("png") => return Err(format!("{shown} is not a PNG file")),
        Some("svg") => {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| format!("{shown} is not UTF-8 text"))?
                .to_ascii_lowercase();
            if !text.contains("<svg") {
                return Err(format!("{shown} is not an SVG file"));
            }
            if has_script(&text) {
                return Err(format!(
                    "{shown} carries script (a <script> element, a javascript: link or an \
                     on… attribute); export it as plain shapes"
                ));
            }
            "image/svg+xml"
        }
        _ => return Err(format!("{shown}: the logo must be an .svg or .png file")),
    };
    Ok(Logo {
        content_type,
        bytes: bytes.into(),
    })
}

/// Whether lower-cased SVG text holds anything that runs script.
fn has_script(svg: &str) -> bool {
    if svg.contains("<script") || svg.contains("javascript:") || svg.contains("<foreignobject") {
        return true;
    }
    // An event attribute: whitespace, `on`, letters, then `=`.
    svg.match_indices("on").any(|(at, _)| {
        let before = svg[..at].chars().next_back();
        let rest = &svg[at + 2..];
        let name_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        before.is_some_and(char::is_whitespace)
            && name_len > 0
            && rest[name_len..].trim_start().starts_with('=')
    })
}

/// A short fingerprint of the logo, so a new logo gets a new address.
fn version(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, contents).expect("write");
        path
    }

    const SVG: &[u8] = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#0b5d3b"/></svg>"##;

    #[test]
    fn a_full_brand_file_loads() {
        let dir = tempfile::tempdir().expect("dir");
        write(dir.path(), "logo.svg", SVG);
        let file = write(
            dir.path(),
            "brand.toml",
            br##"
name = "Northwind Sports"
tagline = "Every game"
logo = "logo.svg"
accent = "#0b5d3b"
support_url = "https://help.example/tv"
[texts.es]
name = "Northwind Deportes"
"##,
        );
        let brand = SiteBrand::load(&file).expect("loads");
        assert_eq!(brand.page.name(Lang::Es), "Northwind Deportes");
        assert_eq!(brand.page.tagline(Lang::Es), Some("Every game"));
        assert!(brand
            .page
            .logo_url
            .as_deref()
            .is_some_and(|url| url.starts_with("/brand/logo.svg?v=")));
        assert_eq!(
            brand.stylesheet(),
            ":root { --brand: #0b5d3b; --brand-text: #ffffff; }\n"
        );
    }

    #[test]
    fn each_mistake_is_one_line_naming_the_key() {
        let dir = tempfile::tempdir().expect("dir");
        write(dir.path(), "evil.svg", b"<svg onload = \"alert(1)\"></svg>");
        write(dir.path(), "fake.png", SVG);
        for (body, expected) in [
            ("name = \"N\"\naccent = \"#999999\"", "contrast of 2.85:1"),
            (
                "name = \"N\"\naccent = \"blue\"",
                "accent \"blue\" is not a colour",
            ),
            ("name = \"N\"\nlogo = \"evil.svg\"", "carries script"),
            ("name = \"N\"\nlogo = \"fake.png\"", "is not a PNG file"),
            ("name = \"N\"\nlogo = \"none.svg\"", "cannot read"),
            ("name = \"N\"\nterms_url = \"javascript:x\"", "terms_url"),
            (
                "name = \"N\"\n[texts.fr]\nname = \"M\"",
                "texts.fr: the site speaks en, es",
            ),
            ("name = \"\"", "name must have 1 to 60"),
            (
                "name = \"N\"\ncolour = \"#000000\"",
                "line 2: unknown field `colour`",
            ),
            ("tagline = \"T\"", "missing field `name`"),
        ] {
            let file = write(dir.path(), "brand.toml", body.as_bytes());
            let error = SiteBrand::load(&file).expect_err(body);
            assert!(error.contains(expected), "{body}: {error}");
            assert!(error.contains("brand.toml"), "{error}");
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn the_example_brands_load() {
        for example in ["northwind", "sunrise"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("docs/brands")
                .join(example)
                .join("brand.toml");
            let brand = SiteBrand::load(&path).expect(example);
            assert!(brand.logo.is_some(), "{example} has a logo");
        }
    }

    #[test]
    fn contrast_follows_wcag() {
        let white = Rgb(255, 255, 255);
        assert!((Rgb(0, 0, 0).contrast(white) - 21.0).abs() < 1e-9);
        assert!(Rgb(0x1f, 0x4f, 0xd1).contrast(white) >= MIN_CONTRAST);
        assert!(Rgb(0x77, 0x77, 0x77).contrast(white) < MIN_CONTRAST);
    }

    #[test]
    fn script_in_svg_is_found() {
        assert!(has_script("<svg><script>x</script></svg>"));
        assert!(has_script("<svg>\n<rect\tonclick='x'/></svg>"));
        assert!(!has_script(
            "<svg><text>London</text><rect id=\"button\"/></svg>"
        ));
    }
}
