//! Issue 23, "Support codes", on the activation site: its error pages show "Support code:
//! XXXX-XXXX" in the viewer's language, a new code for each page.

mod common;
mod tv_api_support;

use reqwest::StatusCode;
use tv_api_support::{is_support_code, Api};

/// The page at `path` in `language`: its status and HTML.
async fn page(api: &Api, path: &str, language: &str) -> (StatusCode, String) {
    let response = api
        .http
        .get(api.url(path))
        .header("accept-language", language)
        .send()
        .await
        .expect("response");
    let status = response.status();
    (status, response.text().await.expect("html"))
}

/// The support code after `label` in `html`.
fn code_after(html: &str, label: &str) -> String {
    let start = html
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} in {html}"));
    let rest = &html[start + label.len()..];
    let code: String = rest
        .split("<strong translate=\"no\">")
        .nth(1)
        .and_then(|tail| tail.split("</strong>").next())
        .unwrap_or_default()
        .to_owned();
    assert!(is_support_code(&code), "{code:?} after {label:?} in {html}");
    code
}

#[tokio::test]
async fn error_pages_show_a_support_code_in_english_and_spanish() {
    let api = Api::start(&[]).await;
    let (status, english) = page(&api, "/no-such-page", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let first = code_after(&english, "Support code:");
    let (status, spanish) = page(&api, "/no-such-page", "es").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let second = code_after(&spanish, "Código de soporte:");
    assert_ne!(first, second, "a new code per page");

    // A code that is not (or no longer) pending.
    for (language, label) in [("en", "Support code:"), ("es", "Código de soporte:")] {
        let (_, html) = page(&api, "/activate?code=ZZZZZZZ", language).await;
        code_after(&html, label);
    }
    // The code entry page with nothing wrong shows none.
    let (status, html) = page(&api, "/activate", "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Support code"), "{html}");
}

/// The plain 404s outside the Leptos pages carry a code too.
#[tokio::test]
async fn plain_not_found_answers_carry_a_support_code() {
    let api = Api::start(&[]).await;
    let (status, text) = page(&api, "/language/xx", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let code = text
        .split("Support code: ")
        .nth(1)
        .map(str::trim)
        .unwrap_or_default();
    assert!(is_support_code(code), "{text}");
}

/// "Too many tries" (past the wrong codes an address may try) shows a code in both languages.
#[tokio::test]
async fn too_many_tries_shows_a_support_code() {
    let api = Api::start(&[]).await;
    let mut refused = None;
    for n in 0..15 {
        let (status, html) = page(&api, &format!("/activate?code=WRONG{n:02}"), "en").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(html);
            break;
        }
    }
    let english = refused.expect("refused past ten wrong codes");
    assert!(english.contains("Too many tries"), "{english}");
    code_after(&english, "Support code:");
    let (status, spanish) = page(&api, "/activate?code=WRONG99", "es").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    code_after(&spanish, "Código de soporte:");
}
