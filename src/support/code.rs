//! The code itself: 8 random characters without look-alikes, written `XXXX-XXXX`.

use std::fmt;

use rand::Rng;

/// The characters of a code: digits and capitals without `0`, `1`, `I`, `L` and `O`.
pub const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// A code as the viewer sees it, as a regular expression (the TV API's documented shape).
pub const PATTERN: &str = "^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$";
/// Characters in a code (besides the dash between its two groups).
const LENGTH: usize = 8;

/// A support code. Random (about 2^39 of them), so it reveals nothing about the request and
/// cannot be guessed into someone else's; never taken from the request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SupportCode(String);

impl SupportCode {
    /// A new random code.
    pub fn random() -> Self {
        let mut rng = rand::rng();
        let mut text = String::with_capacity(LENGTH + 1);
        for index in 0..LENGTH {
            if index == LENGTH / 2 {
                text.push('-');
            }
            let pick = rng.random_range(0..ALPHABET.len());
            text.push(char::from(ALPHABET[pick]));
        }
        Self(text)
    }

    /// The code, `XXXX-XXXX`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SupportCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_two_groups_of_unmistakable_characters() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1_000 {
            let code = SupportCode::random();
            let text = code.as_str();
            assert_eq!(text.len(), 9, "{text}");
            assert_eq!(&text[4..5], "-", "{text}");
            assert!(
                text.bytes()
                    .enumerate()
                    .all(|(i, b)| i == 4 || ALPHABET.contains(&b)),
                "{text}"
            );
            seen.insert(code);
        }
        assert_eq!(seen.len(), 1_000, "random codes do not repeat");
    }

    #[test]
    fn the_alphabet_has_no_look_alikes() {
        assert_eq!(ALPHABET.len(), 31);
        for confusable in b"01ILO" {
            assert!(!ALPHABET.contains(confusable));
        }
    }
}
