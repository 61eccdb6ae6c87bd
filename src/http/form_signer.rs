//! The key behind the activation site's form tokens and code proofs
//! (`app::pages::activate::browser`): HMAC-SHA256 under a subkey of the sealing key, so every
//! node that shares the sealing key checks what any node signed; a random key of this process
//! when there is no sealing key (one node, in memory).

use app::pages::activate::browser::FormSigner;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::SealingKeys;

/// Signs form tokens and code proofs for the site's browsers.
pub struct SiteSigner {
    key: Vec<u8>,
}

impl SiteSigner {
    /// A signer under a subkey of `keys`' current key, or under a random key without one.
    pub fn new(keys: Option<&SealingKeys>) -> Self {
        let key = match keys {
            Some(keys) => keys
                .pseudonym(b"tve-activate site form tokens")
                .into_bytes(),
            None => uuid::Uuid::new_v4().as_bytes().to_vec(),
        };
        Self { key }
    }

    fn sign(&self, parts: &[&str]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl FormSigner for SiteSigner {
    fn form_token(&self, browser: &str) -> String {
        self.sign(&["form", browser])
    }

    fn code_proof(&self, browser: &str, code: &str) -> String {
        self.sign(&["code", browser, code])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_depend_on_the_browser_the_code_and_the_key() {
        let signer = SiteSigner::new(None);
        let token = signer.form_token("a");
        assert_eq!(token, signer.form_token("a"));
        assert_ne!(token, signer.form_token("b"));
        assert_ne!(
            signer.code_proof("a", "AB12CD"),
            signer.code_proof("a", "AB12CE")
        );
        assert_ne!(
            signer.code_proof("a", "AB12CD"),
            signer.code_proof("b", "AB12CD")
        );
        assert_ne!(token, SiteSigner::new(None).form_token("a"), "another key");
    }
}
