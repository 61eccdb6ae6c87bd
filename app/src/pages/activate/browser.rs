//! What a page view hands a browser without keeping anything on the server (security review,
//! finding 9): a random value in a cookie names the browser, and the server's key turns it into
//! the form token (CSRF) and into the proof of the code the browser passed the check for, which
//! travels in a second cookie. Both are checked by recomputing them; no session is written.

use std::sync::{Arc, OnceLock};

use http::{header, request::Parts, HeaderValue};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

/// Makes form tokens and code proofs under a key only the server holds; provided through
/// context by the server.
pub trait FormSigner: Send + Sync {
    /// The form token of the browser whose cookie holds `browser`.
    fn form_token(&self, browser: &str) -> String;
    /// The proof that the browser whose cookie holds `browser` passed the code check for
    /// `code`.
    fn code_proof(&self, browser: &str, code: &str) -> String;
}

/// The cookie naming the browser (random, 32 hex digits).
const BROWSER: &str = "tve_browser";
/// The cookie holding `CODE.proof`: the code this browser passed the check for.
const PROVEN_CODE: &str = "tve_code";
/// How long a proven code is kept: as long as an idle session.
const PROVEN_CODE_SECS: u64 = 2 * 3600;

/// The browser of one request: its cookies, and where new ones go.
pub(super) struct Browser {
    signer: Option<Arc<dyn FormSigner>>,
    https: bool,
    sent: Option<String>,
    proven: Option<(String, String)>,
    id: OnceLock<String>,
}

impl Browser {
    /// The browser that sent the current request; `https` gives its cookies the `__Host-`
    /// prefix and `Secure`.
    pub(super) fn of_request(https: bool) -> Self {
        let cookies: Vec<(String, String)> = use_context::<Parts>()
            .map(|parts| cookies(&parts))
            .unwrap_or_default();
        let named = |name: &str| {
            let name = cookie_name(name, https);
            cookies
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        };
        let sent =
            named(BROWSER).filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()));
        let proven = named(PROVEN_CODE).and_then(|v| {
            let (code, proof) = v.split_once('.')?;
            Some((code.to_owned(), proof.to_owned()))
        });
        Self {
            signer: use_context::<Arc<dyn FormSigner>>(),
            https,
            sent,
            proven,
            id: OnceLock::new(),
        }
    }

    /// The browser's random value; a new one (sent back in a cookie) when it had none.
    fn id(&self) -> &str {
        self.id.get_or_init(|| match &self.sent {
            Some(sent) => sent.clone(),
            None => {
                let id = uuid::Uuid::new_v4().simple().to_string();
                self.set_cookie(BROWSER, &id, None);
                id
            }
        })
    }

    /// The form token for this browser's pages; empty when the server gave no key.
    pub(super) fn form_token(&self) -> String {
        match &self.signer {
            Some(signer) => signer.form_token(self.id()),
            None => String::new(),
        }
    }

    /// Whether `token` is this browser's form token.
    pub(super) fn is_form_token(&self, token: &str) -> bool {
        match (&self.signer, &self.sent) {
            (Some(signer), Some(browser)) => {
                !token.is_empty() && constant_time_eq(&signer.form_token(browser), token)
            }
            _ => false,
        }
    }

    /// Whether this browser proved `code` (passed the code check for it).
    pub(super) fn proved(&self, code: &str) -> bool {
        match (&self.signer, &self.sent, &self.proven) {
            (Some(signer), Some(browser), Some((proven, proof))) => {
                proven == code && constant_time_eq(&signer.code_proof(browser, code), proof)
            }
            _ => false,
        }
    }

    /// Remembers in the browser that it proved `code` (replacing any code proved before).
    pub(super) fn remember_proof(&self, code: &str) {
        if let Some(signer) = &self.signer {
            let proof = signer.code_proof(self.id(), code);
            self.set_cookie(
                PROVEN_CODE,
                &format!("{code}.{proof}"),
                Some(PROVEN_CODE_SECS),
            );
        }
    }

    fn set_cookie(&self, name: &str, value: &str, max_age: Option<u64>) {
        let mut cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax",
            cookie_name(name, self.https)
        );
        if self.https {
            cookie.push_str("; Secure");
        }
        if let Some(secs) = max_age {
            cookie.push_str(&format!("; Max-Age={secs}"));
        }
        if let (Some(response), Ok(value)) = (
            use_context::<ResponseOptions>(),
            HeaderValue::from_str(&cookie),
        ) {
            response.append_header(header::SET_COOKIE, value);
        }
    }
}

/// On https a cookie is host-only (`__Host-`: Secure, Path=/, no Domain), so a sibling
/// subdomain cannot plant one (security review, finding 16).
fn cookie_name(name: &str, https: bool) -> String {
    if https {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// The request's cookies, from every `Cookie` header.
fn cookies(parts: &Parts) -> Vec<(String, String)> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Compares without telling by its timing where the first difference is.
pub(super) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
