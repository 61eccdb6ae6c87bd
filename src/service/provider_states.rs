//! Provider states an operator sets at runtime, for game night: a provider whose sign-in is
//! broken is hidden from the pickers, or shown with a notice, each until set again or until its
//! end time. Kept in the store, so a restarted node has them; a change is announced over the
//! node bus, so every node reads them again at once (see [`Reread`]).

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use super::{
    operators::{check_mvpd, check_who_and_why, MOST_CHARS},
    reread::Reread,
    Provider, ProviderList, Service, ServiceError,
};
use crate::{
    events::{Actor, EventKind},
    shared::ClusterEvent,
    store::{ProviderMode, ProviderState},
};

/// Languages a notice may be written in: the site's.
pub const NOTICE_LANGUAGES: [&str; 2] = ["en", "es"];

/// What an operator asks to set for a provider.
#[derive(Clone, Debug)]
pub struct ProviderStateChange {
    /// Normal, notice or hidden.
    pub mode: ProviderMode,
    /// The notice by language; empty for the site's own words.
    pub message: BTreeMap<String, String>,
    /// When the state lapses by itself (epoch ms).
    pub until: Option<i64>,
    /// Who asks.
    pub changed_by: String,
    /// Why.
    pub reason: String,
}

/// Provider states by MVPD id, as this node last read them.
pub(super) type ProviderStates = Reread<HashMap<String, ProviderState>>;

/// The state that applies at `now`: `None` once its end time passed, or when normal.
fn in_force(state: &ProviderState, now: i64) -> Option<&ProviderState> {
    (state.mode != ProviderMode::Normal && state.until.is_none_or(|until| now < until))
        .then_some(state)
}

/// `list` as the states in force make it: hidden providers gone, the others with their notice.
pub(super) fn apply(
    list: ProviderList,
    states: &HashMap<String, ProviderState>,
    now: i64,
) -> ProviderList {
    let shown = |provider: Provider| -> Option<Provider> {
        match states.get(&provider.id).and_then(|s| in_force(s, now)) {
            None => Some(provider),
            Some(state) if state.mode == ProviderMode::Hidden => None,
            Some(state) => Some(Provider {
                notice: Some(state.message.clone()),
                ..provider
            }),
        }
    };
    ProviderList {
        featured: list.featured.into_iter().filter_map(shown).collect(),
        all: list.all.into_iter().filter_map(shown).collect(),
    }
}

impl Service {
    /// The provider states operators set, read from the store lately (see [`Reread`]).
    pub(super) async fn provider_states(
        &self,
    ) -> Result<Arc<HashMap<String, ProviderState>>, ServiceError> {
        let now = self.now_millis();
        let cache = &self.inner.provider_states;
        if let Some(states) = cache.current(now) {
            return Ok(states);
        }
        let states = self.inner.store.provider_states().await?;
        Ok(cache.keep(
            now,
            states
                .into_iter()
                .map(|state| (state.mvpd.clone(), state))
                .collect(),
        ))
    }

    /// Every provider state an operator set, lapsed ones included, as the store has them.
    pub async fn stored_provider_states(&self) -> Result<Vec<ProviderState>, ServiceError> {
        Ok(self.inner.store.provider_states().await?)
    }

    /// Sets `mvpd`'s state, for every node: kept in the store, logged and told to the event
    /// stream with who and why, and announced to the other nodes. Checked first: a bad change changes nothing.
    pub async fn set_provider_state(
        &self,
        mvpd: &str,
        change: ProviderStateChange,
    ) -> Result<ProviderState, ServiceError> {
        let now = self.now_millis();
        check_change(mvpd, &change, now)?;
        let state = ProviderState {
            mvpd: mvpd.to_owned(),
            mode: change.mode,
            message: change.message,
            until: change.until,
            changed_by: change.changed_by,
            reason: change.reason,
            changed_at: now,
        };
        self.inner.store.set_provider_state(&state).await?;
        tracing::warn!(
            mvpd,
            state = state.mode.as_str(),
            until = state.until,
            operator = %state.changed_by,
            reason = %state.reason,
            "an operator set a provider's state"
        );
        self.emit(EventKind::AdminProviderState {
            actor: Actor {
                actor: state.changed_by.clone(),
                reason: Some(state.reason.clone()),
            },
            mvpd: mvpd.to_owned(),
            state: state.mode.as_str().to_owned(),
            until: state.until,
        });
        self.inner.provider_states.forget();
        self.inner
            .settings
            .bus
            .publish(ClusterEvent::ProviderStatesChanged)
            .await;
        Ok(state)
    }
}

fn check_change(mvpd: &str, change: &ProviderStateChange, now: i64) -> Result<(), ServiceError> {
    check_mvpd(mvpd)?;
    check_who_and_why(&change.changed_by, &change.reason)?;
    for (language, text) in &change.message {
        if !NOTICE_LANGUAGES.contains(&language.as_str()) {
            return Err(ServiceError::invalid(
                "message",
                format!("{language:?} is not one of {NOTICE_LANGUAGES:?}"),
            ));
        }
        if text.trim().is_empty() || text.chars().count() > MOST_CHARS {
            return Err(ServiceError::invalid(
                "message",
                format!("each notice: 1 to {MOST_CHARS} characters"),
            ));
        }
    }
    if change.until.is_some_and(|until| until <= now) {
        return Err(ServiceError::invalid("until", "must be later than now"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(id: &str) -> Provider {
        Provider {
            id: id.to_owned(),
            display_name: id.to_owned(),
            logo_url: None,
            notice: None,
        }
    }

    fn state(mvpd: &str, mode: ProviderMode, until: Option<i64>) -> ProviderState {
        ProviderState {
            mvpd: mvpd.to_owned(),
            mode,
            message: [("en".to_owned(), "Trouble".to_owned())].into(),
            until,
            changed_by: "ana".to_owned(),
            reason: "game night".to_owned(),
            changed_at: 0,
        }
    }

    #[test]
    fn hidden_providers_go_and_noticed_ones_carry_their_notice_until_it_lapses() {
        let list = ProviderList {
            featured: vec![provider("Xfinity")],
            all: vec![provider("Spectrum"), provider("Xfinity"), provider("Cox")],
        };
        let states: HashMap<String, ProviderState> = [
            state("Xfinity", ProviderMode::Hidden, None),
            state("Spectrum", ProviderMode::Notice, Some(100)),
            state("Cox", ProviderMode::Normal, None),
        ]
        .into_iter()
        .map(|s| (s.mvpd.clone(), s))
        .collect();

        let during = apply(list.clone(), &states, 99);
        assert!(during.featured.is_empty());
        let ids: Vec<&str> = during.all.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["Spectrum", "Cox"]);
        assert_eq!(
            during.all[0].notice.as_ref().and_then(|n| n.get("en")),
            Some(&"Trouble".to_owned())
        );
        assert_eq!(during.all[1].notice, None);

        let after = apply(list, &states, 100);
        assert_eq!(after.all[0].notice, None, "the notice lapsed by itself");
        assert_eq!(after.all.len(), 2, "Xfinity stays hidden: no end time");
    }

    #[test]
    fn bad_changes_are_refused() {
        let good = ProviderStateChange {
            mode: ProviderMode::Notice,
            message: BTreeMap::new(),
            until: Some(2_000),
            changed_by: "ana".to_owned(),
            reason: "login slow".to_owned(),
        };
        assert!(check_change("Xfinity", &good, 1_000).is_ok());
        let refused = |mvpd: &str, change: ProviderStateChange| {
            check_change(mvpd, &change, 1_000).expect_err("refused")
        };
        refused("", good.clone());
        refused("Xfin ity", good.clone());
        refused(
            "Xfinity",
            ProviderStateChange {
                reason: " ".to_owned(),
                ..good.clone()
            },
        );
        refused(
            "Xfinity",
            ProviderStateChange {
                changed_by: String::new(),
                ..good.clone()
            },
        );
        refused(
            "Xfinity",
            ProviderStateChange {
                message: [("fr".to_owned(), "Problème".to_owned())].into(),
                ..good.clone()
            },
        );
        refused(
            "Xfinity",
            ProviderStateChange {
                until: Some(1_000),
                ..good
            },
        );
    }
}
