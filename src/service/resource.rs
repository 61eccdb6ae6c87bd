//! A resource as Adobe decides on it (REST API V2 §9: "a string ID (channel/brand) or an MRSS
//! document"), read before any business rule sees it: a plain id without the whitespace around
//! it; an MRSS document as its channel title (the id Adobe decides on) and the V-chip and MPAA
//! ratings it carries. MRSS with no single channel title is refused, so nothing a rule cannot
//! read reaches Adobe.

/// The Media RSS namespace of `media:rating`.
const MRSS_NAMESPACE: &str = "http://search.yahoo.com/mrss/";
/// The `media:rating` schemes the rating rule reads; others (such as `urn:simple`) are ignored.
const RATING_SCHEMES: [&str; 2] = ["urn:v-chip", "urn:mpaa"];
/// Most characters (bytes of UTF-8) a resource may have.
const MOST_CHARACTERS: usize = 4096;

/// What the business rules read of a resource sent by a TV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The resource id Adobe decides on: a plain id trimmed, or an MRSS channel title.
    pub id: String,
    /// The V-chip and MPAA ratings an MRSS document gives (upper case, as `TV-Y`).
    pub ratings: Vec<String>,
}

/// Why a resource is refused before Adobe is asked.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidResource {
    /// Empty, blank or too long.
    #[error("each resource must have 1 to {MOST_CHARACTERS} characters")]
    Length,
    /// Looks like XML, but is no MRSS document the service can read.
    #[error("an MRSS resource must be well-formed <rss> with one <channel> and its <title>")]
    Mrss,
}

impl Resource {
    /// Reads `raw` as sent by a TV: MRSS when it has markup (`<`), else a plain id.
    pub fn read(raw: &str) -> Result<Self, InvalidResource> {
        let text = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        if text.is_empty() || raw.len() > MOST_CHARACTERS {
            return Err(InvalidResource::Length);
        }
        if text.contains('<') {
            // Markup anywhere: MRSS the rules can read, or nothing (never an id Adobe might
            // parse as MRSS all the same).
            return mrss(text).ok_or(InvalidResource::Mrss);
        }
        Ok(Self {
            id: text.to_owned(),
            ratings: Vec::new(),
        })
    }

    /// Whether this resource is `id` (a configured one): compared without regard to case,
    /// since whether Adobe and the MVPDs do is not documented, and the rules can then only
    /// deny more.
    pub fn is(&self, id: &str) -> bool {
        self.id
            .chars()
            .flat_map(char::to_lowercase)
            .eq(id.trim().chars().flat_map(char::to_lowercase))
    }
}

/// The channel title and ratings of an MRSS document, if it has exactly one channel with one
/// non-blank title. A DTD is refused by the parser.
fn mrss(text: &str) -> Option<Resource> {
    let document = roxmltree::Document::parse(text).ok()?;
    let rss = document.root_element();
    if !rss.has_tag_name("rss") {
        return None;
    }
    let channel = single(rss.children().filter(|n| n.has_tag_name("channel")))?;
    let title = single(channel.children().filter(|n| n.has_tag_name("title")))?;
    let id = text_of(title);
    let id = id.trim();
    if id.is_empty() {
        return None;
    }
    let ratings = channel
        .descendants()
        .filter(|n| n.has_tag_name((MRSS_NAMESPACE, "rating")))
        .filter(|n| {
            n.attribute("scheme").is_some_and(|s| {
                RATING_SCHEMES
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(s.trim()))
            })
        })
        .map(|n| text_of(n).trim().to_ascii_uppercase())
        .filter(|rating| !rating.is_empty())
        .collect();
    Some(Resource {
        id: id.to_owned(),
        ratings,
    })
}

/// All the text inside `node` (CDATA included, comments left out), as XPath's `string()`.
fn text_of(node: roxmltree::Node) -> String {
    node.descendants()
        .filter(roxmltree::Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}

/// The only item of `items`, if there is exactly one.
fn single<T>(mut items: impl Iterator<Item = T>) -> Option<T> {
    let first = items.next()?;
    items.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADOBE_SAMPLE: &str = r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>premium-sports</title><item><title>x</title><media:rating scheme="urn:v-chip">tv-y</media:rating></item></channel></rss>"#;

    #[test]
    fn a_plain_id_is_trimmed() {
        assert_eq!(
            Resource::read(" premium-sports\n"),
            Ok(Resource {
                id: "premium-sports".to_owned(),
                ratings: Vec::new()
            })
        );
        assert_eq!(
            Resource::read("\u{feff}news").map(|r| r.id),
            Ok("news".to_owned())
        );
        assert_eq!(Resource::read(" \t"), Err(InvalidResource::Length));
        assert_eq!(Resource::read(""), Err(InvalidResource::Length));
        assert_eq!(
            Resource::read(&"a".repeat(MOST_CHARACTERS + 1)),
            Err(InvalidResource::Length)
        );
    }

    /// The finding's attack: the channel title is the id Adobe decides on.
    #[test]
    fn mrss_is_read_as_its_channel_title_and_ratings() {
        assert_eq!(
            Resource::read(ADOBE_SAMPLE),
            Ok(Resource {
                id: "premium-sports".to_owned(),
                ratings: vec!["TV-Y".to_owned()]
            })
        );
        let spread = r#"<?xml version="1.0"?>
            <rss version="2.0" xmlns:m="http://search.yahoo.com/mrss/">
              <channel><title> <![CDATA[mature]]>-<!-- c -->movies </title>
                <m:rating scheme="urn:mpaa">r</m:rating>
                <item><m:content><m:rating scheme="URN:V-CHIP">TV-MA</m:rating></m:content>
                  <m:rating scheme="urn:simple">adult</m:rating><m:rating>pg</m:rating></item>
              </channel></rss>"#;
        assert_eq!(
            Resource::read(spread),
            Ok(Resource {
                id: "mature-movies".to_owned(),
                ratings: vec!["R".to_owned(), "TV-MA".to_owned()]
            }),
            "the whole title text, ratings of the two schemes anywhere in the channel"
        );
    }

    #[test]
    fn mrss_without_one_channel_title_is_refused() {
        for refused in [
            "<rss><channel><title>news</title></channel>",
            "<rss><channel><item><title>news</title></item></channel></rss>",
            "<rss><channel><title> </title></channel></rss>",
            "<rss><channel><title>a</title><title>b</title></channel></rss>",
            "<rss><channel><title>a</title></channel><channel><title>b</title></channel></rss>",
            "<feed><channel><title>news</title></channel></feed>",
            "<rss><channel><title>news</title><media:rating>x</media:rating></channel></rss>",
            r#"<!DOCTYPE rss [<!ENTITY t "news">]><rss><channel><title>&t;</title></channel></rss>"#,
            "<news",
            "news<rss><channel><title>premium-sports</title></channel></rss>",
            "<rss><channel><title>news</title></channel></rss>trailing",
        ] {
            assert_eq!(
                Resource::read(refused),
                Err(InvalidResource::Mrss),
                "{refused}"
            );
        }
    }

    #[test]
    fn ids_compare_without_regard_to_case() {
        let read = |raw: &str| Resource::read(raw).expect("resource");
        assert!(read("Premium-Sports").is("premium-sports"));
        assert!(read(" PREMIUM-SPORTS ").is("premium-sports"));
        assert!(
            read(&ADOBE_SAMPLE.replace("premium-sports", "Premium-SPORTS")).is("premium-sports")
        );
        assert!(!read("premium-sports-2").is("premium-sports"));
    }
}
