//! Counts of what callers hold open (connections, waits) by key, each key under a cap: a holder
//! takes a place under all of its keys or under none, and gives them back when its [`Held`]
//! drops. Keys with nothing open are forgotten, so memory follows what is open.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

/// Open places by key.
#[derive(Debug, Default)]
pub struct OpenCounts {
    open: Mutex<HashMap<String, usize>>,
}

/// Places held under some keys; dropping it gives them back.
#[derive(Debug)]
pub struct Held {
    counts: Arc<OpenCounts>,
    keys: Vec<String>,
}

impl OpenCounts {
    /// Takes one place under each key of `caps` (key, cap), or none when any key is at its cap.
    pub fn take(self: &Arc<Self>, caps: Vec<(String, usize)>) -> Option<Held> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if caps
            .iter()
            .any(|(key, cap)| open.get(key).copied().unwrap_or(0) >= *cap)
        {
            return None;
        }
        let keys: Vec<String> = caps.into_iter().map(|(key, _)| key).collect();
        for key in &keys {
            *open.entry(key.clone()).or_insert(0) += 1;
        }
        Some(Held {
            counts: self.clone(),
            keys,
        })
    }

    /// Places open under `key`.
    pub fn count(&self, key: &str) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    /// Keys remembered (those with places open).
    #[cfg(test)]
    pub fn keys(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self
            .counts
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for key in &self.keys {
            if let Some(count) = open.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(keys: &[(&str, usize)]) -> Vec<(String, usize)> {
        keys.iter()
            .map(|(key, cap)| ((*key).to_owned(), *cap))
            .collect()
    }

    #[test]
    fn a_place_is_taken_under_every_key_or_none() {
        let counts = Arc::new(OpenCounts::default());
        let first = counts.take(caps(&[("a", 1), ("b", 2)])).expect("free");
        assert!(
            counts.take(caps(&[("a", 1), ("b", 2)])).is_none(),
            "a is full"
        );
        assert_eq!(counts.count("b"), 1, "a refusal takes nothing");
        let other = counts.take(caps(&[("c", 1), ("b", 2)])).expect("free");
        assert!(
            counts.take(caps(&[("d", 1), ("b", 2)])).is_none(),
            "b is full"
        );
        drop((first, other));
        assert_eq!(counts.keys(), 0, "no key left behind");
        assert!(counts.take(caps(&[("a", 1)])).is_some());
    }

    #[test]
    fn no_keys_means_no_cap() {
        let counts = Arc::new(OpenCounts::default());
        let held: Vec<Held> = (0..3).filter_map(|_| counts.take(Vec::new())).collect();
        assert_eq!(held.len(), 3);
        assert_eq!(counts.keys(), 0);
    }
}
