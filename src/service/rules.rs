//! Business rules that can deny a play before Adobe is asked: a deny list per provider, and a
//! rating rule against the profile's `maxRating` (closed when that cannot be read).

use std::collections::HashMap;

use super::{MaxRating, ProfileSummary};

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
    /// Resources a provider may not play: provider id → resource ids.
    pub denied: HashMap<String, Vec<String>>,
    /// The rating of each resource that has one.
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

    /// Whether a rule denies `resource` to the viewer of `profile`.
    pub fn check(&self, profile: &ProfileSummary, resource: &str) -> Option<RuleDenial> {
        if self
            .denied
            .get(&profile.provider)
            .is_some_and(|resources| resources.iter().any(|r| r == resource))
        {
            return Some(RuleDenial {
                reason: "denied_by_programmer",
                message: "This channel is not available with your TV provider here.".to_owned(),
            });
        }
        let rating = self.ratings.get(resource)?;
        let permitted = match profile.max_rating.as_ref() {
            None => true,
            Some(MaxRating::Allowed(allowed)) => {
                allowed.is_empty() || allowed.iter().any(|r| r.eq_ignore_ascii_case(rating))
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

    fn reason(
        rules: &BusinessRules,
        profile: &ProfileSummary,
        resource: &str,
    ) -> Option<&'static str> {
        rules.check(profile, resource).map(|d| d.reason)
    }

    #[test]
    fn deny_list_applies_to_its_provider_only() {
        let rules = rules();
        assert_eq!(
            reason(&rules, &profile("Dish", None), "premium-sports"),
            Some("denied_by_programmer")
        );
        assert_eq!(
            rules.check(&profile("Spectrum", None), "premium-sports"),
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
        assert_eq!(rules.check(&kids, "news"), None);
        let teen = profile("Spectrum", highest(Some("TV-14"), Some("TV-14")));
        assert!(rules.check(&teen, "mature-movies").is_some());
        assert_eq!(rules.check(&teen, "news"), None);
        assert_eq!(
            rules.check(&profile("Spectrum", None), "mature-movies"),
            None,
            "no limit sent"
        );
        assert_eq!(rules.check(&kids, "unrated-resource"), None);
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
        assert_eq!(rules.check(&household, "news"), None);
        assert_eq!(rules.check(&household, "film"), None, "PG-13 is within R");
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
        assert_eq!(strict.check(&sample, "festival"), None, "NR against NR");
        let lenient = BusinessRules {
            permit_unranked_limit: true,
            ..rules()
        };
        assert_eq!(lenient.check(&sample, "news"), None);
        assert_eq!(lenient.check(&sample, "mature-movies"), None);
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
        assert_eq!(rules.check(&unreadable, "unrated-resource"), None);
    }
}
