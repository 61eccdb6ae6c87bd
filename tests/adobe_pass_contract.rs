//! Every request the client sends matches Adobe's OpenAPI for its path: method, path
//! parameters, required query parameters, required headers, body content type and body fields.
//! The rules are read from `spec/adobe-pass/openapi/` (Adobe's files, kept unchanged); the one place where
//! the client follows the DOC over the OAS is [`DOCUMENTED_EXCEPTIONS`].

mod adobe_pass_support;

use std::collections::{BTreeMap, BTreeSet};

use adobe_pass_support::{client, device, Answer, Captured, Stub, SHARED};
use serde_json::Value;
use tve_activate::adobe_pass::{
    types::{PartnerProfileRequest, PartnerSessionRequest, SessionRequest},
    DeviceIdentity, DeviceInfo, Secret, SsoHeaders, TempPassIdentity,
};

/// Where the client deliberately follows REST-API-V2.md instead of the OAS: (method, OAS path,
/// why). For these, form body fields stand for the OAS query parameters.
const DOCUMENTED_EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "POST",
    "/o/client/token",
    "REST-API-V2.md §4.2: client_id, client_secret and grant_type go in a form body \
     (application/x-www-form-urlencoded); the OAS models them as query parameters",
)];

/// Body fields the OAS requires and the DOC makes optional; the client follows the DOC.
const OPTIONAL_IN_THE_DOC: &[(&str, &str, &str)] = &[(
    "/o/client/register",
    "redirect_uri",
    "REST-API-V2.md §4.1: optional; Adobe validates one that is sent against the registered \
     application's domains, so the client sends it only when configured",
)];

/// One OpenAPI document and the path prefix of its servers.
struct Spec {
    prefix: &'static str,
    doc: Value,
}

fn specs() -> Vec<Spec> {
    let read = |name: &str| -> Value {
        let path = format!("{SHARED}/openapi/{name}");
        serde_json::from_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
        )
        .expect("OpenAPI JSON")
    };
    vec![
        Spec {
            prefix: "/api/v2",
            doc: read("restApiV2.json"),
        },
        Spec {
            prefix: "/o",
            doc: read("dcrApi.json"),
        },
    ]
}

/// An operation found for a request: its spec, full path template and operation object.
struct Found<'a> {
    spec: &'a Spec,
    template: String,
    operation: &'a Value,
}

/// Finds the operation whose path template and method match; literal segments beat parameters.
fn find<'a>(specs: &'a [Spec], method: &str, path: &str) -> Option<Found<'a>> {
    let mut best: Option<(usize, Found<'a>)> = None;
    for spec in specs {
        let Some(rest) = path.strip_prefix(spec.prefix) else {
            continue;
        };
        let actual: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        for (template, item) in spec.doc["paths"].as_object().expect("paths") {
            let expected: Vec<&str> = template.trim_start_matches('/').split('/').collect();
            if expected.len() != actual.len() {
                continue;
            }
            let mut literals = 0;
            let matches = expected.iter().zip(&actual).all(|(e, a)| {
                if e.starts_with('{') {
                    !a.is_empty()
                } else {
                    literals += 1;
                    e == a
                }
            });
            let Some(operation) = item.get(method.to_lowercase()) else {
                continue;
            };
            if matches && best.as_ref().is_none_or(|(score, _)| literals > *score) {
                best = Some((
                    literals,
                    Found {
                        spec,
                        template: format!("{}{template}", spec.prefix),
                        operation,
                    },
                ));
            }
        }
    }
    best.map(|(_, found)| found)
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            doc.pointer(pointer)
                .unwrap_or_else(|| panic!("unresolved {reference}"))
        }
        None => schema,
    }
}

fn form_fields(body: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Checks one captured request against its operation; returns the problems found.
fn check(specs: &[Spec], request: &Captured) -> (String, Vec<String>) {
    let method = request.method.as_str();
    let Some(found) = find(specs, method, &request.path) else {
        return (
            format!("{method} {}", request.path),
            vec!["no OpenAPI operation has this method and path".into()],
        );
    };
    let label = format!("{method} {}", found.template);
    let exception = DOCUMENTED_EXCEPTIONS
        .iter()
        .any(|(m, p, _)| *m == method && *p == found.template);
    let mut problems = Vec::new();
    let query: BTreeMap<String, String> = request
        .query
        .as_deref()
        .map(|q| form_fields(q.as_bytes()))
        .unwrap_or_default();
    let body_fields = form_fields(&request.body);
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();

    for parameter in found.operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let parameter = resolve(&found.spec.doc, parameter);
        let name = parameter["name"].as_str().expect("parameter name");
        let required = parameter["required"].as_bool().unwrap_or(false);
        match parameter["in"].as_str() {
            Some("query") if required => {
                let present =
                    query.contains_key(name) || (exception && body_fields.contains_key(name));
                if !present {
                    problems.push(format!("required query parameter {name} is missing"));
                }
            }
            Some("header") if required => {
                if name.eq_ignore_ascii_case("content-type") {
                    if media_type.is_empty() {
                        problems.push("Content-Type is required and missing".into());
                    }
                } else if request.headers.get(name).is_none_or(|v| v.is_empty()) {
                    problems.push(format!("required header {name} is missing"));
                }
            }
            // Path parameters are non-empty by the template match.
            _ => {}
        }
    }

    match found.operation.get("requestBody") {
        Some(body) => {
            let content = body["content"].as_object().expect("content");
            match content.get(&media_type) {
                None => problems.push(format!(
                    "content type {content_type:?} is not one of {:?}",
                    content.keys().collect::<Vec<_>>()
                )),
                Some(media) => {
                    let schema = resolve(&found.spec.doc, &media["schema"]);
                    let declared: BTreeSet<&str> = schema["properties"]
                        .as_object()
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let sent: Vec<String> = if media_type == "application/json" {
                        match serde_json::from_slice::<Value>(&request.body) {
                            Ok(Value::Object(object)) => {
                                for (field, value) in &object {
                                    let kind = schema["properties"][field]["type"].as_str();
                                    let ok = match kind {
                                        Some("array") => value.as_array().is_some_and(|items| {
                                            items.iter().all(Value::is_string)
                                        }),
                                        Some("string") => value.is_string(),
                                        _ => true,
                                    };
                                    if !ok {
                                        problems
                                            .push(format!("body field {field} is not a {kind:?}"));
                                    }
                                }
                                object.keys().cloned().collect()
                            }
                            _ => {
                                problems.push("the body is not a JSON object".into());
                                Vec::new()
                            }
                        }
                    } else {
                        body_fields.keys().cloned().collect()
                    };
                    for field in schema["required"].as_array().into_iter().flatten() {
                        let field = field.as_str().expect("field name");
                        let optional = OPTIONAL_IN_THE_DOC
                            .iter()
                            .any(|(path, name, _)| *path == found.template && *name == field);
                        if !optional && !sent.iter().any(|s| s == field) {
                            problems.push(format!("required body field {field} is missing"));
                        }
                    }
                    for field in &sent {
                        if !declared.contains(field.as_str()) {
                            problems.push(format!("body field {field} is not in the schema"));
                        }
                    }
                }
            }
            if body["required"].as_bool() == Some(true) && request.body.is_empty() {
                problems.push("the body is required and empty".into());
            }
        }
        None if exception => {
            if media_type != "application/x-www-form-urlencoded" {
                problems.push(format!(
                    "the documented exception needs a form body, got {content_type:?}"
                ));
            }
        }
        None => {
            if !request.body.is_empty() {
                problems.push("the OAS defines no body, yet one was sent".into());
            }
        }
    }
    (label, problems)
}

/// A device carrying every optional identity header.
fn full_device() -> DeviceIdentity {
    let info = DeviceInfo {
        model: "AppleTV".into(),
        version: "4K".into(),
        os_name: "tvOS".into(),
        os_version: "17.1".into(),
        connection_type: "WiFi".into(),
        user_agent: Some("AppleTV11,1/17.1".into()),
        ..DeviceInfo::default()
    };
    DeviceIdentity::new(
        "ba23d141-d715-561c-94f4-e9e4c966b1eb",
        &info,
        "203.0.113.7:53124".parse().expect("socket address"),
    )
    .with_visitor_id("THE_ECID_VALUE")
    .expect("ecid")
    .with_sso(SsoHeaders {
        adobe_subject_token: Some(Secret::new("eyJ.subject.token")),
        roku_connect_token: None,
        service_token: Some(Secret::new("eyJ.service.token")),
        partner_framework_status: Some("eyJmcmFtZXdvcmtQZXJtaXNzaW9uSW5mbyI6e319".into()),
    })
    .expect("sso")
    .with_temp_pass_identity(TempPassIdentity::hashed([("email", "foo@bar.com")]))
}

/// Calls every endpoint once against the recording stub and returns what it received.
async fn every_request() -> Vec<Captured> {
    let stub = Stub::start().await;
    let (adobe, _) = client(&stub.base_url, "eyJ.software.statement");
    let device = full_device();
    let full = SessionRequest {
        mvpd: Some("Cablevision".into()),
        domain_name: Some("adobe.com".into()),
        redirect_url: Some("https://adobe.com/done?x=1&y=2".into()),
    };
    adobe.configuration(&device, None).await.expect("C1");
    adobe
        .configuration(&device, Some("default"))
        .await
        .expect("C1 with profile");
    adobe.create_session(&device, &full).await.expect("S1");
    adobe
        .create_session(&device, &SessionRequest::default())
        .await
        .expect("S1 empty");
    adobe
        .resume_session(&device, "8ER640M", &full)
        .await
        .expect("S2");
    adobe
        .retrieve_session(&device, "8ER640M")
        .await
        .expect("S3");
    adobe.profiles(&device).await.expect("P1");
    adobe
        .mvpd_profile(&device, "Cablevision")
        .await
        .expect("P2");
    adobe.code_profile(&device, "8ER640M").await.expect("P3");
    let resources = vec!["REF30".to_owned(), "<rss/>".to_owned()];
    adobe
        .preauthorize(&device, "Cablevision", &resources)
        .await
        .expect("D1");
    adobe
        .authorize(&device, "Cablevision", &resources[..1])
        .await
        .expect("D2");
    adobe
        .logout(&device, "Cablevision", Some("https://adobe.com/bye"))
        .await
        .expect("L1");
    adobe
        .logout(&device, "Cablevision", None)
        .await
        .expect("L1 without redirect");
    adobe
        .partner_session(
            &device,
            "Apple",
            &PartnerSessionRequest {
                domain_name: "adobe.com".into(),
                redirect_url: "https://adobe.com".into(),
            },
        )
        .await
        .expect("X1");
    adobe
        .partner_profile(
            &device,
            "Apple",
            &PartnerProfileRequest {
                saml_response: "PHNhbWw+Lz4=".into(),
            },
        )
        .await
        .expect("X2");
    stub.captured()
}

#[tokio::test]
async fn every_request_matches_the_openapi_operation_of_its_path() {
    let specs = specs();
    let captured = every_request().await;
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for request in &captured {
        let (label, problems) = check(&specs, request);
        seen.insert(label.clone());
        failures.extend(problems.into_iter().map(|p| format!("{label}: {p}")));
    }
    assert!(
        failures.is_empty(),
        "requests not matching the OpenAPI:\n{}",
        failures.join("\n")
    );

    // Every operation but the browser's S4 was exercised.
    let mut expected = BTreeSet::new();
    for spec in &specs {
        for (template, item) in spec.doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("item").keys() {
                if template.starts_with("/authenticate/") {
                    continue;
                }
                expected.insert(format!(
                    "{} {}{template}",
                    method.to_uppercase(),
                    spec.prefix
                ));
            }
        }
    }
    let missing: Vec<_> = expected.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "operations the client never called: {missing:?}"
    );
}

#[tokio::test]
async fn the_checker_rejects_requests_that_break_the_contract() {
    let specs = specs();
    let bad = |method: &str, path: &str, headers: &[(&str, &str)], body: &str| {
        let mut map = axum::http::HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        Captured {
            method: method.parse().expect("method"),
            path: path.into(),
            query: None,
            headers: map,
            body: axum::body::Bytes::from(body.to_owned()),
        }
    };
    // S2 sent with PUT: no such operation.
    let (_, problems) = check(&specs, &bad("PUT", "/api/v2/REF30/sessions/ABC", &[], ""));
    assert!(!problems.is_empty());
    // P1 without its required device headers.
    let (_, problems) = check(
        &specs,
        &bad(
            "GET",
            "/api/v2/REF30/profiles",
            &[("authorization", "Bearer x")],
            "",
        ),
    );
    assert!(
        problems.iter().any(|p| p.contains("AP-Device-Identifier")),
        "{problems:?}"
    );
    // S1 with a misspelt field and a JSON body.
    let headers = [
        ("authorization", "Bearer x"),
        ("ap-device-identifier", "fingerprint eA=="),
        ("x-device-info", "e30="),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let (_, problems) = check(
        &specs,
        &bad(
            "POST",
            "/api/v2/REF30/sessions",
            &headers,
            "domain=adobe.com",
        ),
    );
    assert!(
        problems.iter().any(|p| p.contains("domain")),
        "{problems:?}"
    );
    let json = [
        ("content-type", "application/json"),
        ("authorization", "Bearer x"),
    ];
    let (_, problems) = check(
        &specs,
        &bad("POST", "/api/v2/REF30/sessions/sso/Apple", &json, "{}"),
    );
    assert!(
        problems.iter().any(|p| p.contains("content type")),
        "{problems:?}"
    );
    // DCR token without its credentials.
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let (_, problems) = check(
        &specs,
        &bad(
            "POST",
            "/o/client/token",
            &form,
            "grant_type=client_credentials",
        ),
    );
    assert!(
        problems.iter().any(|p| p.contains("client_id")),
        "{problems:?}"
    );
}

#[tokio::test]
async fn identity_headers_come_from_the_device() {
    let captured = every_request().await;
    let profiles = captured
        .iter()
        .find(|c| c.path == "/api/v2/REF30/profiles")
        .expect("P1 was sent");
    let header = |name: &str| {
        profiles
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    assert_eq!(
        header("ap-device-identifier"),
        "fingerprint YmEyM2QxNDEtZDcxNS01NjFjLTk0ZjQtZTllNGM5NjZiMWVi"
    );
    assert_eq!(header("x-forwarded-for"), "203.0.113.7");
    assert_eq!(header("ap-visitor-identifier"), "THE_ECID_VALUE");
    // Every API page: `Accept`, if sent, "must be application/json;charset=utf-8"; §3: the
    // device's own user agent.
    assert_eq!(header("accept"), "application/json;charset=utf-8");
    assert_eq!(header("user-agent"), "AppleTV11,1/17.1");
    assert_eq!(header("ad-service-token"), "eyJ.service.token");
    assert!(header("authorization").starts_with("Bearer "));
    use base64::Engine as _;
    let info = base64::engine::general_purpose::STANDARD
        .decode(header("x-device-info"))
        .expect("base64");
    let info: Value = serde_json::from_slice(&info).expect("JSON");
    assert_eq!(info["connectionIp"], "203.0.113.7");
    assert_eq!(info["connectionPort"], 53124);
    // TempPass identity only where it belongs, and hashed.
    let code = captured
        .iter()
        .find(|c| c.path.contains("/profiles/code/"))
        .expect("P3");
    let identity = code
        .headers
        .get("ap-temppass-identity")
        .expect("TempPass identity on P3");
    assert!(!identity.to_str().expect("ascii").contains("foo"));
    assert!(
        profiles.headers.get("ap-temppass-identity").is_none(),
        "P1 takes no TempPass identity"
    );
    // Checklist §7: the device headers on every REST API V2 call, S2, S3 and P3 included.
    let device_id = header("ap-device-identifier");
    for (method, ends_with) in [
        ("POST", "/sessions/8ER640M"),
        ("GET", "/sessions/8ER640M"),
        ("GET", "/profiles/code/8ER640M"),
    ] {
        let call = captured
            .iter()
            .find(|c| c.method == method && c.path.ends_with(ends_with))
            .unwrap_or_else(|| panic!("{method} …{ends_with} was sent"));
        let sent = |name: &str| call.headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(
            sent("ap-device-identifier"),
            Some(device_id),
            "{method} {ends_with}"
        );
        assert!(sent("x-device-info").is_some(), "{method} {ends_with}");
    }
    // The DCR pages list X-Device-Info but not AP-Device-Identifier; the token call sends no
    // bearer.
    for path in ["/o/client/register", "/o/client/token"] {
        let dcr = captured
            .iter()
            .find(|c| c.path == path)
            .unwrap_or_else(|| panic!("{path} was sent"));
        assert!(dcr.headers.get("x-device-info").is_some(), "{path}");
        assert!(dcr.headers.get("ap-device-identifier").is_none(), "{path}");
        assert!(dcr.headers.get("authorization").is_none(), "{path}");
    }
}

#[tokio::test]
async fn the_authenticate_url_is_the_browser_operation() {
    let stub = Stub::start().await;
    let (adobe, _) = client(&stub.base_url, "s");
    let url = adobe.authenticate_url("8ER640M").expect("url");
    let specs = specs();
    let found = find(&specs, "GET", url.path()).expect("an operation");
    assert_eq!(
        found.template,
        "/api/v2/authenticate/{serviceProvider}/{code}"
    );
    assert_eq!(
        url.as_str(),
        format!("{}/api/v2/authenticate/REF30/8ER640M", stub.base_url)
    );
    assert_eq!(
        adobe
            .resolve("/api/v2/authenticate/REF30/8ER640M")
            .expect("url"),
        url
    );
}

/// Security review, finding 14: a 307 from Adobe's host (or a proxy before it) would have had
/// the client send the DCR client secret and the device's identity headers to another host.
#[tokio::test]
async fn redirects_are_not_followed() {
    let adobe = Stub::start().await;
    let elsewhere = Stub::start().await;
    for path in ["/o/client/token", "/api/v2/REF30/profiles"] {
        adobe.script(
            path,
            Answer::redirect(format!("{}{path}", elsewhere.base_url)),
        );
    }
    let (client, _) = client(&adobe.base_url, "eyJ.statement");
    let tv = device("tv-redirected");
    assert!(client.profiles(&tv).await.is_err(), "a 3xx is no answer");
    adobe.script(
        "/api/v2/REF30/profiles",
        Answer::redirect(format!("{}/api/v2/REF30/profiles", elsewhere.base_url)),
    );
    assert!(client.profiles(&tv).await.is_err(), "a 3xx is no answer");
    assert!(
        elsewhere.captured().is_empty(),
        "nothing reached the redirect's target: {:?}",
        elsewhere.captured()
    );
}
