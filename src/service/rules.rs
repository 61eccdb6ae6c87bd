//! Business rules that can deny a play before Adobe is asked: a deny list per provider, and a
//! rating rule against the profile's `maxRating` (closed when that cannot be read, or allows
//! nothing). Both read the resource as Adobe decides on it ([`Resource`]).

use std::collections::HashMap;

use super::{resource::Resource, MaxRating, ProfileSummary};

/// US TV and film ratings from mildest to strongest; ratings not listed are never compared.
const RATING_ORDER: [&[&str]; 6] = [
    &["TV-Y", "G"],
    &["TV-Y7", "TV-Y7-FV"],
    &["TV-G"],
    &["TV-PG", "PG"],
    &["TV-14", "PG-13"],
    &["TV-MA", "R", "NC-17"],
];

fn rank(rating: &str) -> Option<usize> {
    RATING_ORDER
        .iter()
        .position(|group| group.iter().any(|r| r.eq_ignore_ascii_case(rating)))
}

/// The programmer's own rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusinessRules {
    /// Resources a provider may not play: provider id → resource ids (any case).
    pub denied: HashMap<String, Vec<String>>,
    /// The rating of each resource that has one, by resource id (any case).
    pub ratings: HashMap<String, String>,
    /// MVPDs that may update user metadata (such as `maxRating`) at authorization: after each
    /// permit their profile is read again (P2) and these rules are checked once more.
    pub metadata_at_authorization: Vec<String>,
    /// Whether a `maxRating` limit outside the rating order (such as `NR` or `X`) lets every
    /// rating through; otherwise it lets through only an identical rating (strict).
    pub permit_unranked_limit: bool,
}

/// Why a rule denied a play.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleDenial {
    /// Stable reason code.
    pub reason: &'static str,
    /// A sentence for the viewer.
    pub message: String,
}

impl BusinessRules {
    /// Whether `mvpd` may update user metadata at authorization.
    pub fn updates_metadata_at_authorization(&self, mvpd: &str) -> bool {
        self.metadata_at_authorization.iter().any(|id| id == mvpd)
    }

    /// Whether a rule denies `resource` to the viewer of `profile`. The resource is compared
    /// as read ([`Resource`]), so an MRSS document or a variant of an id in case or spacing
    /// meets the rules of the id Adobe decides on; every rating that applies is checked (the
    /// catalog's and those in an MRSS document), so the strictest decides.
    pub fn check(&self, profile: &ProfileSummary, resource: &Resource) -> Option<RuleDenial> {
        if self
            .denied
            .get(&profile.provider)
            .is_some_and(|resources| resources.iter().any(|r| resource.is(r)))
        {
            return Some(RuleDenial {
                reason: "denied_by_programmer",
                message: "This channel is not available with your TV provider here.".to_owned(),
            });
        }
        self.ratings
            .iter()
            .filter(|(id, _)| resource.is(id))
            .map(|(_, rating)| rating)
            .chain(&resource.ratings)
            .find_map(|rating| self.check_rating(profile, &resource.id, rating))
    }

    /// Whether the profile's `maxRating` denies a resource rated `rating`. A list of allowed
    /// ratings allows only those it names (an empty one, none).
    fn check_rating(
        &self,
        profile: &ProfileSummary,
        resource: &str,
        rating: &str,
    ) -> Option<RuleDenial> {
        let permitted = match profile.max_rating.as_ref() {
            None => true,
            Some(MaxRating::Allowed(allowed)) => {
                allowed.iter().any(|r| r.eq_ignore_ascii_case(rating))
            }
            Some(MaxRating::Highest { vchip, mpaa }) => {
                // TV ratings against the V-chip limit, film ratings against the MPAA one; a
                // limit on the other scale stands in (through the shared order) when one is
                // missing.
                let (own, other) = if is_tv_rating(rating) {
                    (vchip, mpaa)
                } else {
                    (mpaa, vchip)
                };
                own.as_ref()
                    .or(other.as_ref())
                    .is_some_and(|highest| self.within(rating, highest))
            }
            Some(MaxRating::Unreadable) => {
                tracing::warn!(
                    mvpd = %profile.provider,
                    %resource,
                    "rated resource denied: the profile's maxRating cannot be read"
                );
                return Some(RuleDenial {
                    reason: "denied_by_rating",
                    message: format!(
                        "This is rated {rating}, and the parental controls on this account could \
                         not be read."
                    ),
                });
            }
        };
        (!permitted).then(|| RuleDenial {
            reason: "denied_by_rating",
            message: format!(
                "This is rated {rating}, above what parental controls allow on this account."
            ),
        })
    }
}

/// Whether `rating` is a US TV (V-chip) rating rather than a film (MPAA) one.
fn is_tv_rating(rating: &str) -> bool {
    rating
        .get(..3)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("TV-"))
}

impl BusinessRules {
    /// Whether `rating` is no stronger than `highest`. A rating outside the order (such as
    /// `NR`) passes only an identical limit; a limit outside it, only an identical rating
    /// unless [`BusinessRules::permit_unranked_limit`].
    fn within(&self, rating: &str, highest: &str) -> bool {
        match (rank(rating), rank(highest)) {
            (Some(wanted), Some(limit)) => wanted <= limit,
            (_, None) if self.permit_unranked_limit => true,
            _ => rating.eq_ignore_ascii_case(highest),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(provider: &str, max_rating: Option<MaxRating>) -> ProfileSummary {
        ProfileSummary {
            provider: provider.to_owned(),
            kind: "regular".to_owned(),
            expires_at: i64::MAX,
            max_rating,
            home_based: None,
        }
    }

    fn allowed(ratings: &[&str]) -> Option<MaxRating> {
        Some(MaxRating::Allowed(
            ratings.iter().map(|r| (*r).to_owned()).collect(),
        ))
    }

    fn highest(vchip: Option<&str>, mpaa: Option<&str>) -> Option<MaxRating> {
        Some(MaxRating::Highest {
            vchip: vchip.map(str::to_owned),
            mpaa: mpaa.map(str::to_owned),
        })
    }

    fn rules() -> BusinessRules {
        BusinessRules {
            denied: HashMap::from([("Dish".to_owned(), vec!["premium-sports".to_owned()])]),
            ratings: HashMap::from([
                ("mature-movies".to_owned(), "TV-MA".to_owned()),
                ("news".to_owned(), "TV-G".to_owned()),
                ("drama".to_owned(), "TV-14".to_owned()),
                ("film".to_owned(), "PG-13".to_owned()),
                ("festival".to_owned(), "NR".to_owned()),
            ]),
            metadata_at_authorization: Vec::new(),
            permit_unranked_limit: false,
        }
    }

    /// The rules' verdict on `raw` as a TV sends it.
    fn check(rules: &BusinessRules, profile: &ProfileSummary, raw: &str) -> Option<RuleDenial> {
        rules.check(profile, &Resource::read(raw).expect("a resource"))
    }

    fn reason(
        rules: &BusinessRules,
        profile: &ProfileSummary,
        resource: &str,
    ) -> Option<&'static str> {
        check(rules, profile, resource).map(|d| d.reason)
    }

    #[test]
    fn deny_list_applies_to_its_provider_only() {
        let rules = rules();
        assert_eq!(
            reason(&rules, &profile("Dish", None), "premium-sports"),
            Some("denied_by_programmer")
        );
        assert_eq!(
            check(&rules, &profile("Spectrum", None), "premium-sports"),
            None
        );
    }

    #[test]
    fn rating_rule_reads_a_legacy_list_or_highest_rating() {
        let rules = rules();
        let kids = profile("Spectrum", allowed(&["TV-Y", "TV-G", "TV-PG"]));
        assert_eq!(
            reason(&rules, &kids, "mature-movies"),
            Some("denied_by_rating")
        );
        assert_eq!(check(&rules, &kids, "news"), None);
        let teen = profile("Spectrum", highest(Some("TV-14"), Some("TV-14")));
        assert!(check(&rules, &teen, "mature-movies").is_some());
        assert_eq!(check(&rules, &teen, "news"), None);
        assert_eq!(
            check(&rules, &profile("Spectrum", None), "mature-movies"),
            None,
            "no limit sent"
        );
        assert_eq!(check(&rules, &kids, "unrated-resource"), None);
    }

    /// Adobe's object: TV ratings against `VCHIP`, film ratings against `MPAA`.
    #[test]
    fn tv_ratings_meet_vchip_and_film_ratings_meet_mpaa() {
        let rules = rules();
        let household = profile("Spectrum", highest(Some("TV-PG"), Some("R")));
        assert_eq!(
            reason(&rules, &household, "drama"),
            Some("denied_by_rating")
        );
        assert_eq!(check(&rules, &household, "news"), None);
        assert_eq!(check(&rules, &household, "film"), None, "PG-13 is within R");
        let films_only = profile("Spectrum", highest(None, Some("PG")));
        assert_eq!(
            reason(&rules, &films_only, "drama"),
            Some("denied_by_rating"),
            "no VCHIP: the MPAA limit stands in"
        );
        assert_eq!(
            reason(&rules, &household, "festival"),
            Some("denied_by_rating"),
            "a rating outside the order passes only an identical limit"
        );
    }

    /// Adobe's sample `{MPAA: "NR", VCHIP: "X"}` names no rating in the order: strictly it
    /// lets through only an identical rating; `--permit-unranked-max-rating` lets all through.
    #[test]
    fn a_limit_outside_the_order_is_strict_unless_configured() {
        let sample = profile("Spectrum", highest(Some("X"), Some("NR")));
        let strict = rules();
        assert_eq!(reason(&strict, &sample, "news"), Some("denied_by_rating"));
        assert_eq!(check(&strict, &sample, "festival"), None, "NR against NR");
        let lenient = BusinessRules {
            permit_unranked_limit: true,
            ..rules()
        };
        assert_eq!(check(&lenient, &sample, "news"), None);
        assert_eq!(check(&lenient, &sample, "mature-movies"), None);
        let ranked = profile("Spectrum", highest(Some("TV-PG"), None));
        assert_eq!(
            reason(&lenient, &ranked, "drama"),
            Some("denied_by_rating"),
            "a limit in the order is still enforced"
        );
    }

    #[test]
    fn an_unreadable_max_rating_denies_rated_resources_only() {
        let rules = rules();
        let unreadable = profile("Spectrum", Some(MaxRating::Unreadable));
        assert_eq!(
            reason(&rules, &unreadable, "news"),
            Some("denied_by_rating")
        );
        assert_eq!(check(&rules, &unreadable, "unrated-resource"), None);
    }

    fn mrss(channel: &str, rating: Option<&str>) -> String {
        let rating = rating.map_or_else(String::new, |r| {
            format!(r#"<media:rating scheme="urn:v-chip">{r}</media:rating>"#)
        });
        format!(
            r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>{channel}</title><item><title>x</title>{rating}</item></channel></rss>"#
        )
    }

    /// Review finding 5: an MRSS document naming a denied channel, or the id with other case
    /// or whitespace, is denied as the id is.
    #[test]
    fn the_deny_list_meets_mrss_and_variants_of_the_id() {
        let rules = rules();
        let dish = profile("Dish", None);
        for variant in [
            mrss("premium-sports", Some("tv-y")),
            mrss(" Premium-Sports ", None),
            " premium-sports".to_owned(),
            "PREMIUM-SPORTS\t".to_owned(),
        ] {
            assert_eq!(
                reason(&rules, &dish, &variant),
                Some("denied_by_programmer"),
                "{variant}"
            );
        }
        assert_eq!(check(&rules, &dish, &mrss("news", None)), None);
    }

    /// Review finding 5: an MRSS document naming a rated channel meets its rating, however mild
    /// the rating the document claims; a rating in the document applies too.
    #[test]
    fn the_stricter_of_the_catalog_and_mrss_ratings_applies() {
        let rules = rules();
        let kids = profile("Spectrum", highest(Some("TV-PG"), Some("PG")));
        for variant in [
            mrss("mature-movies", Some("tv-y")),
            mrss("Mature-Movies", None),
            " MATURE-movies ".to_owned(),
        ] {
            assert_eq!(
                reason(&rules, &kids, &variant),
                Some("denied_by_rating"),
                "{variant}"
            );
        }
        assert_eq!(check(&rules, &kids, &mrss("news", Some("tv-y"))), None);
        assert_eq!(
            reason(&rules, &kids, &mrss("news", Some("tv-ma"))),
            Some("denied_by_rating"),
            "a rating the document gives is stricter than the catalog's"
        );
        assert_eq!(
            reason(&rules, &kids, &mrss("unrated-resource", Some("TV-14"))),
            Some("denied_by_rating")
        );
        assert_eq!(
            check(
                &rules,
                &profile("Spectrum", None),
                &mrss("mature-movies", None)
            ),
            None,
            "no limit sent"
        );
    }

    /// Review finding 5: a legacy list that allows nothing allows no rated resource.
    #[test]
    fn an_empty_allowed_list_allows_no_rated_resource() {
        let rules = rules();
        let nothing = profile("Spectrum", allowed(&[]));
        assert_eq!(reason(&rules, &nothing, "news"), Some("denied_by_rating"));
        assert_eq!(check(&rules, &nothing, "unrated-resource"), None);
    }
}
