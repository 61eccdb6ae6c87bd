//! Business rules that can deny a play before Adobe is asked: a deny list per provider, and a
//! rating rule against the profile's `maxRating`.

use std::collections::HashMap;

use super::ProfileSummary;

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
        let allowed = profile.max_rating.as_ref()?;
        let permitted = match allowed.as_slice() {
            [] => true,
            [highest] => match (rank(rating), rank(highest)) {
                (Some(wanted), Some(limit)) => wanted <= limit,
                _ => rating.eq_ignore_ascii_case(highest),
            },
            list => list.iter().any(|r| r.eq_ignore_ascii_case(rating)),
        };
        (!permitted).then(|| RuleDenial {
            reason: "denied_by_rating",
            message: format!(
                "This is rated {rating}, above what parental controls allow on this account."
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(provider: &str, max_rating: Option<Vec<&str>>) -> ProfileSummary {
        ProfileSummary {
            provider: provider.to_owned(),
            kind: "regular".to_owned(),
            expires_at: i64::MAX,
            max_rating: max_rating.map(|r| r.into_iter().map(str::to_owned).collect()),
        }
    }

    fn rules() -> BusinessRules {
        BusinessRules {
            denied: HashMap::from([("Dish".to_owned(), vec!["premium-sports".to_owned()])]),
            ratings: HashMap::from([
                ("mature-movies".to_owned(), "TV-MA".to_owned()),
                ("news".to_owned(), "TV-G".to_owned()),
            ]),
        }
    }

    #[test]
    fn deny_list_applies_to_its_provider_only() {
        let rules = rules();
        assert_eq!(
            rules
                .check(&profile("Dish", None), "premium-sports")
                .map(|d| d.reason),
            Some("denied_by_programmer")
        );
        assert_eq!(
            rules.check(&profile("Spectrum", None), "premium-sports"),
            None
        );
    }

    #[test]
    fn rating_rule_reads_a_list_or_a_highest_rating() {
        let rules = rules();
        let kids = profile("Spectrum", Some(vec!["TV-Y", "TV-G", "TV-PG"]));
        assert_eq!(
            rules.check(&kids, "mature-movies").map(|d| d.reason),
            Some("denied_by_rating")
        );
        assert_eq!(rules.check(&kids, "news"), None);
        let teen = profile("Spectrum", Some(vec!["TV-14"]));
        assert!(rules.check(&teen, "mature-movies").is_some());
        assert_eq!(rules.check(&teen, "news"), None);
        assert_eq!(
            rules.check(&profile("Spectrum", None), "mature-movies"),
            None,
            "no limit sent"
        );
        assert_eq!(rules.check(&kids, "unrated-resource"), None);
    }
}
