//! Every flow of the emulator over real HTTP; each Adobe answer is checked against Adobe's
//! OpenAPI by the harness.

mod emulator_support;

use emulator_support::{dcr_headers, outcomes, Device, Harness, SP};
use reqwest::{Method, StatusCode};
use tve_activate::emulator::{EmulatorSettings, Readings, DEFAULT_SOFTWARE_STATEMENT};

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn registration_errors_are_the_documented_ones() {
    let h = Harness::default().await;
    let wrong = h.register("not-the-statement").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json()["error"], "invalid_software_statement");
    let not_json = h
        .call(
            Method::POST,
            "/o/client/register",
            &dcr_headers("application/json"),
            Some("{".into()),
            None,
        )
        .await;
    assert_eq!(not_json.json()["error"], "invalid_request");
    let bad_uri = serde_json::json!({"software_statement": DEFAULT_SOFTWARE_STATEMENT, "redirect_uri": "not a uri"});
    let bad_uri = h
        .call(
            Method::POST,
            "/o/client/register",
            &dcr_headers("application/json"),
            Some(bad_uri.to_string()),
            None,
        )
        .await;
    assert_eq!(bad_uri.json()["error"], "invalid_redirect_uri");
    // §4.1: Content-Type and X-Device-Info are required on DCR calls.
    let good = serde_json::json!({"software_statement": DEFAULT_SOFTWARE_STATEMENT});
    for headers in [
        vec![("Content-Type", "application/json".to_owned())],
        dcr_headers("text/plain"),
    ] {
        let refused = h
            .call(
                Method::POST,
                "/o/client/register",
                &headers,
                Some(good.to_string()),
                None,
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.json()["error"], "invalid_request", "{headers:?}");
    }

    let missing = h.token_answer("grant_type=client_credentials").await;
    assert_eq!(missing.json()["error"], "invalid_request");
    let grant = h
        .token_answer(&format!(
            "client_id={}&client_secret={}&grant_type=password",
            h.client_id, h.client_secret
        ))
        .await;
    assert_eq!(grant.json()["error"], "unsupported_grant_type");
    let unknown = h
        .token_answer("client_id=nobody&client_secret=x&grant_type=client_credentials")
        .await;
    assert_eq!(unknown.json()["error"], "invalid_client");
    let secret = h
        .token_answer(&format!(
            "client_id={}&client_secret=wrong&grant_type=client_credentials",
            h.client_id
        ))
        .await;
    assert_eq!(secret.json()["error"], "unauthorized_client");
}

#[tokio::test]
async fn configuration_lists_the_default_mvpds_with_logos_on_the_emulator() {
    let h = Harness::default().await;
    let answer = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/configuration"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    let mvpds = body["requestor"]["mvpds"].as_array().expect("mvpds");
    assert_eq!(mvpds.len(), 15);
    assert!(mvpds
        .iter()
        .any(|m| m["id"] == "TempPass_TEST40" && m["isTempPass"] == true));
    assert!(mvpds.iter().any(|m| m["displayInPlatformPicker"] == false));
    let logo = mvpds[0]["logoUrl"].as_str().expect("logo");
    assert!(logo.starts_with(h.emulator.base_url()), "{logo}");
    let svg = h.http.get(logo).send().await.expect("logo");
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");

    let unknown = h
        .api(Method::GET, "/api/v2/NOPE/configuration", None, &[], None)
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.error_code(), "invalid_parameter_service_provider");
}

#[tokio::test]
async fn unknown_token_is_refused_with_401() {
    let h = Harness::default().await;
    let answer = h
        .call(
            Method::GET,
            &format!("/api/v2/{SP}/configuration"),
            &[],
            None,
            Some("forged"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.error_code(),
        "invalid_access_token_client_application"
    );
    assert_eq!(answer.json()["action"], "application-registration");
}

#[tokio::test]
async fn session_with_missing_parameters_resumes_then_authenticates() {
    let h = Harness::default().await;
    let tv = Device::new("tv-1");
    let created = h.create_session(&tv, "").await;
    let body = created.json();
    assert_eq!(body["actionName"], "resume");
    assert_eq!(body["actionType"], "direct");
    assert_eq!(
        body["missingParameters"],
        serde_json::json!(["mvpd", "domainName", "redirectUrl"])
    );
    let code = body["code"].as_str().expect("code").to_owned();
    assert!(
        code.len() == 7
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    );
    let not_after: i64 = body["notAfter"]
        .as_str()
        .expect("string")
        .parse()
        .expect("ms");
    let not_before: i64 = body["notBefore"]
        .as_str()
        .expect("string")
        .parse()
        .expect("ms");
    assert_eq!(not_after - not_before, 30 * 60 * 1000);

    let retrieved = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/sessions/{code}"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(retrieved.json()["device"]["type"], "TV");
    assert_eq!(
        retrieved.json()["existingParameters"]["serviceProvider"],
        SP
    );

    let path = format!("/api/v2/{SP}/sessions/{code}");
    let retry = h
        .api(
            Method::POST,
            &path,
            Some(&tv),
            &[],
            Some((FORM, "mvpd=Spectrum".into())),
        )
        .await;
    assert_eq!(retry.json()["actionName"], "retry");
    assert_eq!(
        retry.json()["missingParameters"],
        serde_json::json!(["domainName", "redirectUrl"])
    );
    // §7.3: S2 supplies what is missing; an mvpd already set stays.
    let done = h
        .api(
            Method::POST,
            &path,
            Some(&tv),
            &[],
            Some((
                FORM,
                "mvpd=Cox&domainName=localhost&redirectUrl=https%3A%2F%2Flocalhost%2Fdone".into(),
            )),
        )
        .await;
    assert_eq!(done.json()["actionName"], "authenticate");
    assert_eq!(done.json()["mvpd"], "Spectrum", "{}", done.text);
    assert_eq!(
        done.json()["url"],
        format!("/api/v2/authenticate/{SP}/{code}")
    );

    let retrieved = h.api(Method::GET, &path, None, &[], None).await;
    assert!(retrieved.json().get("missingParameters").is_none());
    assert_eq!(retrieved.json()["existingParameters"]["mvpd"], "Spectrum");
}

#[tokio::test]
async fn bad_headers_and_parameters_get_their_error_codes() {
    let h = Harness::default().await;
    let path = format!("/api/v2/{SP}/sessions");
    let no_device = h
        .api(Method::POST, &path, None, &[], Some((FORM, String::new())))
        .await;
    assert_eq!(no_device.error_code(), "invalid_header_device_identifier");
    let bad_info = h
        .api(
            Method::POST,
            &path,
            None,
            &[
                ("AP-Device-Identifier", "fingerprint ZGV2aWNl".into()),
                ("X-Device-Info", "%%%".into()),
            ],
            Some((FORM, String::new())),
        )
        .await;
    assert_eq!(bad_info.error_code(), "invalid_header_device_info");
    let tv = Device::new("tv-2");
    let mvpd = h.create_session(&tv, "mvpd=Nobody").await;
    assert_eq!(mvpd.error_code(), "invalid_parameter_mvpd");
    let redirect = h.create_session(&tv, "redirectUrl=ftp%3A%2F%2Fx").await;
    assert_eq!(redirect.error_code(), "invalid_parameter_redirect_url");
    let code = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/sessions/abc"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(code.error_code(), "invalid_parameter_code");
    let unknown = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/sessions/AAAAAAA"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(unknown.error_code(), "invalid_authentication_session");
    let method = h
        .api(
            Method::DELETE,
            &format!("/api/v2/{SP}/sessions"),
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(method.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn login_with_right_and_wrong_password_then_profiles_by_code() {
    let h = Harness::default().await;
    let tv = Device::new("tv-3");
    let code = h.session_code(&tv, "Cablevision").await;
    let by_code = format!("/api/v2/{SP}/profiles/code/{code}");
    let pending = h.api(Method::GET, &by_code, Some(&tv), &[], None).await;
    assert_eq!(pending.json()["profiles"], serde_json::json!({}));

    let wrong = h.login(&code, "premium", "nope", "login").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let page = wrong.text().await.expect("page");
    assert!(
        page.contains("role=\"alert\"") && page.contains("incorrect"),
        "{page}"
    );
    assert!(page.contains("<html lang=\"en\"") && page.contains("<label for=\"password\">"));

    let ok = h.login(&code, "premium", "premium", "login").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "https://localhost/done");

    let profiles = h
        .api(Method::GET, &by_code, Some(&tv), &[], None)
        .await
        .json();
    let profile = &profiles["profiles"]["Cablevision"];
    assert_eq!(profile["type"], "regular");
    assert_eq!(profile["issuer"], "Cablevision");
    assert_eq!(profile["attributes"]["zip"]["state"], "plain");
    assert!(profile["attributes"]["userID"]["value"].is_string());

    // the code is completed: no second login, no resume
    let again = h
        .call(
            Method::GET,
            &format!("/api/v2/authenticate/{SP}/{code}"),
            &[],
            None,
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    let all = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert!(all.json()["profiles"]["Cablevision"].is_object());
    let other_device = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles"),
            Some(&Device::new("tv-x")),
            &[],
            None,
        )
        .await;
    assert_eq!(other_device.json()["profiles"], serde_json::json!({}));

    // a new session for an authenticated MVPD says authorize
    let shortcut = h
        .create_session(
            &tv,
            "mvpd=Cablevision&domainName=localhost&redirectUrl=https%3A%2F%2Flocalhost",
        )
        .await;
    assert_eq!(shortcut.json()["actionName"], "authorize");
    assert_eq!(shortcut.json()["reasonType"], "authenticated");
}

#[tokio::test]
async fn cancel_returns_without_a_profile_and_new_session_kills_the_old_code() {
    let h = Harness::default().await;
    let tv = Device::new("tv-4");
    let code = h.session_code(&tv, "Spectrum").await;
    let cancelled = h.login(&code, "", "", "cancel").await;
    assert_eq!(cancelled.status(), StatusCode::SEE_OTHER);
    assert_eq!(cancelled.headers()["location"], "https://localhost/done");
    let by_code = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles/code/{code}"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(by_code.json()["profiles"], serde_json::json!({}));
    let p2 = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles/Spectrum"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(p2.json()["profiles"], serde_json::json!({}));

    let first = h.session_code(&tv, "Spectrum").await;
    let second = h.session_code(&tv, "Spectrum").await;
    assert_ne!(first, second);
    let dead = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles/code/{first}"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(dead.error_code(), "invalid_authentication_session");
}

#[tokio::test]
async fn decisions_follow_entitlements_and_parental_controls() {
    let h = Harness::default().await;
    let (premium, basic, kids) = (
        Device::new("premium-tv"),
        Device::new("basic-tv"),
        Device::new("kids-tv"),
    );
    h.sign_in(&premium, "Cablevision", "premium").await;
    h.sign_in(&basic, "Cablevision", "basic").await;
    h.sign_in(&kids, "Cablevision", "kids").await;

    let mixed = h
        .decide(
            "preauthorize",
            &basic,
            "Cablevision",
            &["REF30", "news", "premium-sports"],
            &[],
        )
        .await;
    assert_eq!(
        outcomes(&mixed),
        vec![
            ("REF30".into(), true, None),
            ("news".into(), true, None),
            (
                "premium-sports".into(),
                false,
                Some("preauthorization_denied_by_mvpd".into())
            ),
        ]
    );
    assert!(mixed.json()["decisions"][0].get("token").is_none());

    let permit = h
        .decide(
            "authorize",
            &premium,
            "Cablevision",
            &["premium-sports"],
            &[],
        )
        .await;
    let decision = &permit.json()["decisions"][0];
    assert_eq!(decision["authorized"], true);
    assert!(decision["token"]["serializedToken"].is_string());
    assert_eq!(decision["source"], "mvpd");

    let deny = h
        .decide("authorize", &basic, "Cablevision", &["premium-sports"], &[])
        .await;
    assert_eq!(
        outcomes(&deny)[0].2.as_deref(),
        Some("authorization_denied_by_mvpd")
    );
    let parental = h
        .decide("authorize", &kids, "Cablevision", &["mature-movies"], &[])
        .await;
    assert_eq!(
        outcomes(&parental)[0].2.as_deref(),
        Some("authorization_denied_by_parental_controls")
    );
    let kids_profile = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles/Cablevision"),
            Some(&kids),
            &[],
            None,
        )
        .await;
    // `user-metadata.md`: maxRating is an object { MPAA, VCHIP, URL }.
    let max_rating = &kids_profile.json()["profiles"]["Cablevision"]["attributes"]["maxRating"];
    assert_eq!(max_rating["state"], "plain", "{max_rating}");
    assert_eq!(max_rating["value"]["VCHIP"], "TV-PG", "{max_rating}");
    assert_eq!(max_rating["value"]["MPAA"], "PG", "{max_rating}");
    assert!(max_rating["value"]["URL"].is_string(), "{max_rating}");

    let too_many = h
        .decide(
            "authorize",
            &premium,
            "Cablevision",
            &["REF30", "news"],
            &[],
        )
        .await;
    // §9: exceeding the limit is too_many_resources, HTTP 403, action configuration.
    assert_eq!(too_many.status, StatusCode::FORBIDDEN);
    assert_eq!(too_many.error_code(), "too_many_resources");
    assert_eq!(too_many.json()["action"], "configuration");
    assert_eq!(too_many.json()["status"], 403);
    let six = h
        .decide(
            "preauthorize",
            &premium,
            "Cablevision",
            &["a", "b", "c", "d", "e", "f"],
            &[],
        )
        .await;
    assert_eq!(six.error_code(), "too_many_resources");

    let missing = h
        .decide(
            "authorize",
            &Device::new("nobody"),
            "Cablevision",
            &["REF30"],
            &[],
        )
        .await;
    assert_eq!(
        outcomes(&missing)[0].2.as_deref(),
        Some("authenticated_profile_missing")
    );
    let bad_body = h
        .api(
            Method::POST,
            &format!("/api/v2/{SP}/decisions/authorize/Cablevision"),
            Some(&premium),
            &[],
            Some(("application/json", "{\"resources\": []}".into())),
        )
        .await;
    assert_eq!(bad_body.error_code(), "invalid_parameter_resources");
}

#[tokio::test]
async fn logout_removes_the_profile_and_points_to_the_mvpd_logout() {
    let h = Harness::default().await;
    let tv = Device::new("tv-5");
    h.sign_in(&tv, "Cablevision", "premium").await;
    h.sign_in(&tv, "Dish", "premium").await;
    let with = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/logout/Cablevision?redirectUrl=https%3A%2F%2Flocalhost%2Fbye"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    let logout = &with.json()["logouts"]["Cablevision"];
    assert_eq!(logout["actionName"], "logout");
    assert_eq!(logout["actionType"], "interactive");
    let page = h
        .http
        .get(logout["url"].as_str().expect("url"))
        .send()
        .await
        .expect("logout page");
    assert_eq!(page.status(), StatusCode::FOUND);
    assert_eq!(page.headers()["location"], "https://localhost/bye");

    let without = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/logout/Dish"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(without.json()["logouts"]["Dish"]["actionName"], "complete");
    let again = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/logout/Dish"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(again.json()["logouts"]["Dish"]["actionName"], "invalid");
    let all = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(all.json()["profiles"], serde_json::json!({}));
    let decision = h
        .decide("authorize", &tv, "Cablevision", &["REF30"], &[])
        .await;
    assert_eq!(
        outcomes(&decision)[0].2.as_deref(),
        Some("authenticated_profile_missing")
    );
}

#[tokio::test]
async fn zip_is_encrypted_with_the_programmer_key() {
    use base64::Engine;
    use rsa::{pkcs8::EncodePublicKey, Pkcs1v15Encrypt, RsaPrivateKey};
    let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("key");
    let pem = private
        .to_public_key()
        .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
        .expect("pem");
    let h = Harness::start(EmulatorSettings {
        programmer_public_key_pem: Some(pem),
        ..EmulatorSettings::default()
    })
    .await;
    let tv = Device::new("tv-6");
    h.sign_in(&tv, "Spectrum", "premium").await;
    let body = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/profiles/Spectrum"),
            Some(&tv),
            &[],
            None,
        )
        .await
        .json();
    let zip = &body["profiles"]["Spectrum"]["attributes"]["zip"];
    assert_eq!(zip["state"], "enc");
    let cipher = base64::engine::general_purpose::STANDARD
        .decode(zip["value"].as_str().expect("b64"))
        .expect("base64");
    let plain = private.decrypt(Pkcs1v15Encrypt, &cipher).expect("decrypts");
    assert_eq!(plain, b"10001");
}

#[tokio::test]
async fn partner_sso_answers_with_its_fallbacks_and_creates_apple_profiles() {
    use base64::Engine;
    let h = Harness::default().await;
    let tv = Device::new("apple-tv");
    let pfs = |id: &str| {
        let status = serde_json::json!({"frameworkPermissionInfo": {"accessStatus": "granted"}, "frameworkProviderInfo": {"id": id, "expirationDate": "4102444800000"}});
        (
            "AP-Partner-Framework-Status",
            base64::engine::general_purpose::STANDARD.encode(status.to_string()),
        )
    };
    let form = Some((
        FORM,
        "domainName=localhost&redirectUrl=https%3A%2F%2Flocalhost".to_owned(),
    ));
    let path = format!("/api/v2/{SP}/sessions/sso/Apple");
    let no_pfs = h
        .api(Method::POST, &path, Some(&tv), &[], form.clone())
        .await;
    assert_eq!(no_pfs.json()["reasonType"], "pfs_fallback");
    assert_eq!(
        no_pfs.json()["missingParameters"],
        serde_json::json!(["mvpd"])
    );
    let denied = serde_json::json!({"frameworkPermissionInfo": {"accessStatus": "denied"}, "frameworkProviderInfo": {"id": "Cablevision", "expirationDate": "4102444800000"}});
    let denied = (
        "AP-Partner-Framework-Status",
        base64::engine::general_purpose::STANDARD.encode(denied.to_string()),
    );
    let fallback = h
        .api(Method::POST, &path, Some(&tv), &[denied], form.clone())
        .await;
    assert_eq!(fallback.json()["reasonType"], "pfs_fallback");
    assert_eq!(fallback.json()["actionName"], "authenticate");
    assert_eq!(fallback.json()["mvpd"], "Cablevision");
    let disabled = h
        .api(
            Method::POST,
            &path,
            Some(&tv),
            &[pfs("Spectrum")],
            form.clone(),
        )
        .await;
    assert_eq!(disabled.json()["reasonType"], "configuration_fallback");
    let missing = h
        .api(
            Method::POST,
            &path,
            Some(&tv),
            &[pfs("Cablevision")],
            Some((FORM, String::new())),
        )
        .await;
    assert_eq!(missing.json()["reasonType"], "missing_parameters_fallback");
    assert_eq!(missing.json()["actionName"], "resume");
    let partner = h
        .api(
            Method::POST,
            &path,
            Some(&tv),
            &[pfs("Cablevision")],
            form.clone(),
        )
        .await;
    assert_eq!(partner.json()["actionName"], "partner_profile");
    assert_eq!(partner.json()["authenticationRequest"]["type"], "saml");

    let profile_path = format!("/api/v2/{SP}/profiles/sso/Apple");
    let mismatch = h
        .api(
            Method::POST,
            &profile_path,
            Some(&tv),
            &[pfs("Nobody")],
            Some((FORM, "SAMLResponse=PHNhbWw%2B".into())),
        )
        .await;
    assert_eq!(
        mismatch.error_code(),
        "invalid_header_pfs_provider_id_mismatch"
    );
    let no_saml = h
        .api(
            Method::POST,
            &profile_path,
            Some(&tv),
            &[pfs("Cablevision")],
            Some((FORM, String::new())),
        )
        .await;
    assert_eq!(no_saml.error_code(), "invalid_parameter_saml_response");
    let created = h
        .api(
            Method::POST,
            &profile_path,
            Some(&tv),
            &[pfs("Cablevision")],
            Some((FORM, "SAMLResponse=PHNhbWw%2B".into())),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(
        created.json()["profiles"]["Cablevision"]["type"],
        "appleSSO"
    );
    let logout = h
        .api(
            Method::GET,
            &format!("/api/v2/{SP}/logout/Cablevision"),
            Some(&tv),
            &[],
            None,
        )
        .await;
    assert_eq!(
        logout.json()["logouts"]["Cablevision"]["actionName"],
        "partner_logout"
    );
}

/// §3.1: `X-Device-Info` needs model, version, osName, osVersion and connectionType, and takes
/// only the listed values for the restricted keys; §2: sessions take a form body and decisions
/// a JSON body.
#[tokio::test]
async fn headers_and_body_types_are_checked_as_adobe_documents() {
    let h = Harness::default().await;
    let tv = Device::new("checked-tv");
    let profiles = format!("/api/v2/{SP}/profiles");
    let info = |json: serde_json::Value| {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(json.to_string());
        ("X-Device-Info", encoded)
    };
    let valid = serde_json::json!({"model": "Bravia", "version": "2", "osName": "Android",
        "osVersion": "12", "connectionType": "WiFi"});
    let mut missing = valid.clone();
    missing.as_object_mut().expect("object").remove("osVersion");
    let mut restricted = valid.clone();
    restricted["osName"] = "Tizen".into();
    let mut secure = valid.clone();
    secure["connectionSecure"] = "yes".into();
    let identifier = tv
        .headers()
        .into_iter()
        .find(|(name, _)| *name == "AP-Device-Identifier")
        .expect("device identifier");
    for (why, body) in [
        ("a required key is missing", missing),
        ("osName is not a listed value", restricted),
        ("connectionSecure is not a boolean", secure),
    ] {
        let answer = h
            .api(
                Method::GET,
                &profiles,
                None,
                &[identifier.clone(), info(body)],
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{why}");
        assert_eq!(answer.error_code(), "invalid_header_device_info", "{why}");
    }
    let ok = h
        .api(
            Method::GET,
            &profiles,
            None,
            &[identifier, info(valid)],
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);

    let sessions = format!("/api/v2/{SP}/sessions");
    let json_session = h
        .api(
            Method::POST,
            &sessions,
            Some(&tv),
            &[],
            Some(("application/json", r#"{"mvpd":"Spectrum"}"#.into())),
        )
        .await;
    assert_eq!(json_session.status, StatusCode::BAD_REQUEST);
    assert_eq!(json_session.error_code(), "unsupported_media_type");
    let form_decision = h
        .api(
            Method::POST,
            &format!("/api/v2/{SP}/decisions/authorize/Spectrum"),
            Some(&tv),
            &[],
            Some((FORM, "resources=REF30".into())),
        )
        .await;
    assert_eq!(form_decision.status, StatusCode::BAD_REQUEST);
    assert_eq!(form_decision.error_code(), "unsupported_media_type");
}

/// The secondary-application flow lists `AP-Device-Identifier` as required on S2 and P3, and P3
/// answers with "the profile associated with the received parameters and headers": strictly
/// read, only the device that created the session sees its sign-in. The API pages' tables list
/// no device headers there; `unbound_code_calls` is that reading.
#[tokio::test]
async fn code_calls_take_the_device_and_only_its_device_sees_the_sign_in() {
    let h = Harness::default().await;
    let tv = Device::new("tv-bound");
    let code = h.session_code(&tv, "Cablevision").await;
    let by_code = format!("/api/v2/{SP}/profiles/code/{code}");
    let resume = format!("/api/v2/{SP}/sessions/{code}");
    let form = || Some((FORM, "mvpd=Cablevision".to_owned()));
    let anonymous = h.api(Method::GET, &by_code, None, &[], None).await;
    assert_eq!(anonymous.error_code(), "invalid_header_device_identifier");
    let anonymous = h.api(Method::POST, &resume, None, &[], form()).await;
    assert_eq!(anonymous.error_code(), "invalid_header_device_identifier");

    let ok = h.login(&code, "premium", "premium", "login").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let mine = h.api(Method::GET, &by_code, Some(&tv), &[], None).await;
    assert!(
        mine.json()["profiles"]["Cablevision"].is_object(),
        "{}",
        mine.text
    );
    let other = Device::new("tv-elsewhere");
    let theirs = h.api(Method::GET, &by_code, Some(&other), &[], None).await;
    assert_eq!(theirs.json()["profiles"], serde_json::json!({}));

    let lenient = Harness::start(EmulatorSettings {
        readings: Readings {
            unbound_code_calls: true,
            ..Readings::default()
        },
        ..EmulatorSettings::default()
    })
    .await;
    let code = lenient.session_code(&tv, "Cablevision").await;
    let ok = lenient.login(&code, "premium", "premium", "login").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let by_code = format!("/api/v2/{SP}/profiles/code/{code}");
    let anyone = lenient.api(Method::GET, &by_code, None, &[], None).await;
    assert!(
        anyone.json()["profiles"]["Cablevision"].is_object(),
        "{}",
        anyone.text
    );
}

/// Every API page: `Accept`, "if specified, must be application/json;charset=utf-8". Strictly
/// read, any other value is refused (406); `any_accept` takes the samples' `application/json`.
#[tokio::test]
async fn accept_must_be_json_in_utf8_unless_read_leniently() {
    let h = Harness::default().await;
    let tv = Device::new("tv-accept");
    let path = format!("/api/v2/{SP}/profiles");
    for (accept, status) in [
        ("application/json;charset=utf-8", StatusCode::OK),
        ("application/json", StatusCode::NOT_ACCEPTABLE),
        ("*/*", StatusCode::NOT_ACCEPTABLE),
    ] {
        let answer = h
            .api(
                Method::GET,
                &path,
                Some(&tv),
                &[("Accept", accept.to_owned())],
                None,
            )
            .await;
        assert_eq!(answer.status, status, "{accept}: {}", answer.text);
    }
    let lenient = Harness::start(EmulatorSettings {
        readings: Readings {
            any_accept: true,
            ..Readings::default()
        },
        ..EmulatorSettings::default()
    })
    .await;
    let answer = lenient
        .api(
            Method::GET,
            &path,
            Some(&tv),
            &[("Accept", "application/json".to_owned())],
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

/// TVE Dashboard, registered applications: redirect URLs and domains are validated against the
/// application's domains, at DCR (`redirect_uri`), S1/S2 (`domainName`, `redirectUrl`) and L1.
#[tokio::test]
async fn redirects_and_domains_must_be_registered() {
    let h = Harness::default().await;
    let foreign = serde_json::json!({
        "software_statement": DEFAULT_SOFTWARE_STATEMENT,
        "redirect_uri": "https://watch.example.net/callback",
    });
    let refused = h
        .call(
            Method::POST,
            "/o/client/register",
            &dcr_headers("application/json"),
            Some(foreign.to_string()),
            None,
        )
        .await;
    assert_eq!(
        refused.json()["error"],
        "invalid_redirect_uri",
        "{}",
        refused.text
    );
    let none = serde_json::json!({
        "software_statement": DEFAULT_SOFTWARE_STATEMENT,
    });
    let registered = h
        .call(
            Method::POST,
            "/o/client/register",
            &dcr_headers("application/json"),
            Some(none.to_string()),
            None,
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text
    );

    let tv = Device::new("tv-domains");
    let foreign_redirect = h
        .create_session(
            &tv,
            "mvpd=Cox&domainName=localhost&redirectUrl=https%3A%2F%2Fevil.example",
        )
        .await;
    assert_eq!(
        foreign_redirect.error_code(),
        "invalid_parameter_redirect_url"
    );
    let foreign_domain = h
        .create_session(
            &tv,
            "mvpd=Cox&domainName=evil.example&redirectUrl=https%3A%2F%2Flocalhost",
        )
        .await;
    assert_eq!(foreign_domain.error_code(), "invalid_parameter_domain_name");
    let subdomain = h
        .create_session(
            &tv,
            "mvpd=Cox&domainName=watch.localhost&redirectUrl=https%3A%2F%2Fwatch.localhost%2Fdone",
        )
        .await;
    assert_eq!(subdomain.status, StatusCode::OK, "{}", subdomain.text);
}
