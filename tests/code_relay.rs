//! The code-relay attack (`draft-ietf-oauth-cross-device-security`, the first attack it
//! describes), played through the site: an attacker starts an activation on his own TV,
//! confirms it on his own phone, and sends the provider sign-in link to a victim. The victim
//! sees only genuine provider pages; the completion page must not tell them "all set", and
//! must let them sign the attacker's TV out.

mod common;
mod tv_api_support;

use reqwest::StatusCode;
use tv_api_support::{Api, Browser};

/// A TV (`device`), its code, the browser that confirmed the code, and the provider sign-in
/// link that browser was sent to.
async fn confirmed_sign_in_link<'a>(
    api: &'a Api,
    device: &str,
) -> (String, String, Browser<'a>, String) {
    let token = api.register(device).await;
    let code = api.start_activation(&token, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let mut browser = Browser::new(api);
    let (status, _) = browser.get(&format!("/activate?code={code}")).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = browser.csrf();
    let confirmed = browser
        .post(
            "confirm",
            &[("code", code.as_str()), ("csrf", csrf.as_str())],
            Some(&api.public_url),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    let link = confirmed.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(link.contains("/authenticate/"), "to Adobe: {link}");
    (token, code, browser, link)
}

/// The attacker's TV, its code, and the provider sign-in link his own browser was sent to.
async fn relayed_sign_in_link(api: &Api) -> (String, String, String) {
    let (token, code, _attacker, link) = confirmed_sign_in_link(api, "tv-attacker").await;
    (token, code, link)
}

fn path_of(url: &str) -> String {
    let url = reqwest::Url::parse(url).expect("url");
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

#[tokio::test]
async fn a_victim_who_finishes_a_relayed_sign_in_is_warned_and_signs_the_tv_out() {
    let api = Api::start(&[]).await;
    let (token, code, link) = relayed_sign_in_link(&api).await;

    // The victim signs in at their provider and lands on the completion page in their own
    // browser, which never saw the code.
    let back = api.sign_in_at_provider(&link, "premium").await;
    let mut victim = Browser::new(&api);
    let (status, page) = victim.get(&path_of(&back)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page.contains("all set: return"), "no 'all set': {page}");
    assert!(page.contains("Did you start this sign-in?"), "{page}");
    assert!(page.contains("AppleTV (tvOS)"), "names the TV: {page}");
    let profile = api.get("/tv/v1/profile", &token).await;
    assert_eq!(profile.json()["authenticated"], true, "{}", profile.text);

    // A third browser, holding a form token of its own code's page, cannot sign the TV out
    // by naming the code.
    let own = api.register("tv-stranger").await;
    let own_code = api.start_activation(&own, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let mut stranger = Browser::new(&api);
    stranger.get(&format!("/activate?code={own_code}")).await;
    let csrf = stranger.csrf();
    let refused = stranger
        .post(
            "disown",
            &[("code", code.as_str()), ("csrf", csrf.as_str())],
            Some(&api.public_url),
        )
        .await;
    assert_ne!(refused.headers()["location"], "/activate/signed-out");
    let profile = api.get("/tv/v1/profile", &token).await;
    assert_eq!(profile.json()["authenticated"], true, "{}", profile.text);

    // "This wasn't me": the attacker's TV is signed out at Adobe.
    let csrf = victim.csrf();
    let disowned = victim
        .post(
            "disown",
            &[("code", code.as_str()), ("csrf", csrf.as_str())],
            Some(&api.public_url),
        )
        .await;
    assert_eq!(disowned.status(), StatusCode::FOUND);
    assert_eq!(disowned.headers()["location"], "/activate/signed-out");
    let profile = api.get("/tv/v1/profile", &token).await;
    assert_eq!(profile.json()["authenticated"], false, "{}", profile.text);
    let (status, page) = victim.get("/activate/signed-out").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("That TV is signed out"), "{page}");
}

#[tokio::test]
async fn the_browser_that_started_the_sign_in_is_told_all_set() {
    let api = Api::start(&[]).await;
    let (_token, _code, mut viewer, link) = confirmed_sign_in_link(&api, "tv-own").await;
    let back = api.sign_in_at_provider(&link, "premium").await;
    let (status, page) = viewer.get(&path_of(&back)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("all set: return to your TV"), "{page}");
    assert!(!page.contains("Did you start this sign-in?"), "{page}");
}

/// The confirm page compares the TV's network with the phone's: a hint for the viewer, never a
/// block (a phone on mobile data is elsewhere too).
#[tokio::test]
async fn the_confirm_page_says_whether_the_tv_is_on_the_phones_network() {
    let api = Api::start(&["--trusted-proxies", "127.0.0.1"]).await;
    let tv_from = |address: &'static str| {
        let api = &api;
        move |path: &str, token: Option<&str>, body: serde_json::Value| {
            let mut request = api
                .http
                .post(api.url(path))
                .header("x-forwarded-for", address)
                .json(&body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            async move {
                let answer = request.send().await.expect("tv call");
                assert!(answer.status().is_success(), "{}", answer.status());
                answer.json::<serde_json::Value>().await.expect("json")
            }
        }
    };
    for (address, expected) in [
        ("198.51.100.7", "on a different network from this phone"),
        ("127.0.0.9", "on the same network as this phone"),
    ] {
        let call = tv_from(address);
        let device = format!("tv-at-{address}");
        let registered = call(
            "/tv/v1/devices",
            None,
            tv_api_support::register_body(&device),
        )
        .await;
        let token = registered["deviceToken"]
            .as_str()
            .expect("token")
            .to_owned();
        let started = call(
            "/tv/v1/activations",
            Some(&token),
            serde_json::json!({"mvpd": "Spectrum"}),
        )
        .await;
        let code = started["code"].as_str().expect("code");
        let mut phone = Browser::new(&api);
        let (status, page) = phone.get(&format!("/activate?code={code}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(expected), "{address}: {page}");
    }
}
