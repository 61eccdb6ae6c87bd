//! The pages' copy in English and Spanish. The language comes from the `lang` cookie (set by
//! the visible switcher) or else from `Accept-Language`; the server puts it in `<html lang>`,
//! where the browser reads it back so hydration renders the same words.

mod en;
mod es;

use leptos::prelude::*;

/// A language the site speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English (the default).
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// Every language, in switcher order.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The language's name in itself, for the switcher.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
        }
    }

    /// The language with this tag (`es`, `es-MX`), if the site speaks it.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|lang| lang.tag() == primary)
    }

    /// The first spoken language of an `Accept-Language` header, by its `q` weights.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut ranked: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let lang = Lang::from_tag(parts.next()?)?;
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, lang)| *lang)
    }

    /// The notice for `provider` while its sign-in is having trouble: the operators' words in
    /// this language (`messages`, by tag), else the site's own.
    pub fn trouble_notice(
        self,
        messages: &std::collections::BTreeMap<String, String>,
        provider: &str,
    ) -> String {
        messages
            .get(self.tag())
            .cloned()
            .unwrap_or_else(|| self.texts().trouble_notice.replace("{provider}", provider))
    }

    /// The copy in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &en::TEXTS,
            Lang::Es => &es::TEXTS,
        }
    }
}

/// The language of the current request: `lang` cookie, then `Accept-Language`, then English.
#[cfg(feature = "ssr")]
pub fn request_lang() -> Lang {
    let Some(parts) = use_context::<http::request::Parts>() else {
        return Lang::En;
    };
    let header = |name: http::header::HeaderName| {
        parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(";")
    };
    let cookies = header(http::header::COOKIE);
    cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix("lang="))
        .and_then(Lang::from_tag)
        .or_else(|| Lang::from_accept_language(&header(http::header::ACCEPT_LANGUAGE)))
        .unwrap_or(Lang::En)
}

/// The language the server rendered the page in (`<html lang>`).
#[cfg(not(feature = "ssr"))]
pub fn request_lang() -> Lang {
    leptos::prelude::document()
        .document_element()
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|tag| Lang::from_tag(&tag))
        .unwrap_or(Lang::En)
}

/// Puts the request's language in context for [`use_texts`].
pub fn provide_lang() -> Lang {
    let lang = request_lang();
    provide_context(lang);
    lang
}

/// The current language: the one provided for the page, or else (in an island, which hydrates
/// without the page's context) the request's.
pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_else(request_lang)
}

/// The copy of the current language.
pub fn use_texts() -> &'static Texts {
    use_lang().texts()
}

/// Every sentence the pages show; one table per language.
#[derive(Debug)]
pub struct Texts {
    pub support: &'static str,
    pub privacy: &'static str,
    pub terms: &'static str,
    pub language: &'static str,
    pub home_title: &'static str,
    pub home_lead: &'static str,
    pub home_nav: &'static str,
    pub home_code: &'static str,
    pub home_code_text: &'static str,
    pub home_tv: &'static str,
    pub home_tv_text: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub not_found_link: &'static str,
    pub activate_title: &'static str,
    pub activate_lead: &'static str,
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub continue_label: &'static str,
    pub cancel_label: &'static str,
    pub not_a_code: &'static str,
    pub code_gone: &'static str,
    pub busy: &'static str,
    /// Before the support code under an error or busy notice.
    pub support_code: &'static str,
    pub too_many_title: &'static str,
    pub too_many_text: &'static str,
    pub confirm_title: &'static str,
    pub confirm_code: &'static str,
    pub confirm_device: &'static str,
    pub confirm_unknown_device: &'static str,
    pub same_network: &'static str,
    pub other_network: &'static str,
    pub anti_phishing: &'static str,
    pub providers_title: &'static str,
    pub providers_lead: &'static str,
    pub featured: &'static str,
    /// A provider whose sign-in is having trouble, `{provider}` its name, unless operators
    /// wrote their own notice (see [`Lang::trouble_notice`]).
    pub trouble_notice: &'static str,
    pub all_providers: &'static str,
    pub search_label: &'static str,
    pub search_button: &'static str,
    pub no_match: &'static str,
    pub continue_with: &'static str,
    pub help_title: &'static str,
    pub help_text: &'static str,
    pub done_title: &'static str,
    pub done_text: &'static str,
    pub done_provider: &'static str,
    pub not_finished_title: &'static str,
    pub not_finished_text: &'static str,
    pub try_again: &'static str,
    pub gone_title: &'static str,
    pub enter_another: &'static str,
    pub cancelled_title: &'static str,
    pub cancelled_text: &'static str,
    pub elsewhere_title: &'static str,
    pub elsewhere_text: &'static str,
    pub elsewhere_yours: &'static str,
    pub disown_label: &'static str,
    pub signed_out_title: &'static str,
    pub signed_out_text: &'static str,
    pub tv_title: &'static str,
    pub tv_starting: &'static str,
    pub tv_visit: &'static str,
    pub tv_enter_code: &'static str,
    pub tv_scan: &'static str,
    pub tv_qr_alt: &'static str,
    pub tv_expires_in: &'static str,
    pub tv_expired: &'static str,
    pub tv_new_code: &'static str,
    pub tv_signed_in: &'static str,
    pub tv_catalogue: &'static str,
    pub tv_play: &'static str,
    pub tv_playing: &'static str,
    pub tv_denied: &'static str,
    pub tv_logout: &'static str,
    pub tv_error: &'static str,
    pub tv_needs_js: &'static str,
}
