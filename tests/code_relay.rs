//! The code-relay attack (`draft-ietf-oauth-cross-device-security`, the first attack it
//! describes), played through the site: an attacker starts an activation on his own TV,
//! confirms it on his own phone, and sends the provider sign-in link to a victim. The victim
//! sees only genuine provider pages; the completion page must not tell them "all set", and
//! must let them sign the attacker's TV out.

mod common;
mod tv_api_support;

use reqwest::StatusCode;
use tv_api_support::{Api, Browser};

/// The attacker's TV, its code, and the provider sign-in link his own browser was sent to.
async fn relayed_sign_in_link(api: &Api) -> (String, String, String) {
    let token = api.register("tv-attacker").await;
    let code = api.start_activation(&token, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let mut attacker = Browser::new(api);
    let (status, _) = attacker.get(&format!("/activate?code={code}")).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = attacker.csrf();
    let confirmed = attacker
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
    let token = api.register("tv-own").await;
    let code = api.start_activation(&token, "Spectrum").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let mut viewer = Browser::new(&api);
    viewer.get(&format!("/activate?code={code}")).await;
    let csrf = viewer.csrf();
    let confirmed = viewer
        .post(
            "confirm",
            &[("code", code.as_str()), ("csrf", csrf.as_str())],
            Some(&api.public_url),
        )
        .await;
    let link = confirmed.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let back = api.sign_in_at_provider(&link, "premium").await;
    let (status, page) = viewer.get(&path_of(&back)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("all set: return to your TV"), "{page}");
    assert!(!page.contains("Did you start this sign-in?"), "{page}");
}
