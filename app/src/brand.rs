//! The network's brand as the pages show it: its name (per language where it differs), logo,
//! tagline and links. The server validates the operator's brand file and provides a [`Brand`]
//! through context; only the server renders it (no island shows the brand, so it never enters
//! the wasm). Colours are not here: they come from the stylesheet `/brand.css`, which the server
//! writes from the same file.

use std::collections::BTreeMap;
use std::sync::Arc;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// What a language says differently.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandTexts {
    /// The network's name in this language.
    pub name: Option<String>,
    /// One line under the home page's title.
    pub tagline: Option<String>,
}

/// The network's brand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brand {
    /// The network's name, as viewers know it.
    pub name: String,
    /// One line under the home page's title, when the network has one.
    pub tagline: Option<String>,
    /// The logo's address on this site.
    pub logo_url: Option<String>,
    /// Where viewers get help.
    pub support_url: Option<String>,
    /// The privacy policy.
    pub privacy_url: Option<String>,
    /// The terms of use.
    pub terms_url: Option<String>,
    /// What each language (by tag) says differently.
    pub texts: BTreeMap<String, BrandTexts>,
}

impl Default for Brand {
    /// The neutral demo brand, for trying the service.
    fn default() -> Self {
        Self {
            name: "Demo Network".to_owned(),
            tagline: None,
            logo_url: Some("/favicon.svg".to_owned()),
            support_url: None,
            privacy_url: None,
            terms_url: None,
            texts: BTreeMap::from([(
                "es".to_owned(),
                BrandTexts {
                    name: Some("Red de demostración".to_owned()),
                    tagline: None,
                },
            )]),
        }
    }
}

impl Brand {
    fn in_lang(&self, lang: Lang) -> Option<&BrandTexts> {
        self.texts.get(lang.tag())
    }

    /// The network's name in `lang`.
    pub fn name(&self, lang: Lang) -> &str {
        self.in_lang(lang)
            .and_then(|texts| texts.name.as_deref())
            .unwrap_or(&self.name)
    }

    /// The tagline in `lang`, if any.
    pub fn tagline(&self, lang: Lang) -> Option<&str> {
        self.in_lang(lang)
            .and_then(|texts| texts.tagline.as_deref())
            .or(self.tagline.as_deref())
    }
}

/// The brand the server provided for this request (the demo brand when none was).
pub fn use_brand() -> Arc<Brand> {
    use_context::<Arc<Brand>>().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_language_says_only_what_differs() {
        let brand = Brand::default();
        assert_eq!(brand.name(Lang::En), "Demo Network");
        assert_eq!(brand.name(Lang::Es), "Red de demostración");
        let tagged = Brand {
            tagline: Some("Live sports".to_owned()),
            ..Brand::default()
        };
        assert_eq!(tagged.tagline(Lang::Es), Some("Live sports"));
    }
}
