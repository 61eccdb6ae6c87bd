//! The activation engine. A TV starts an activation (an Adobe authentication session with a
//! code); one watcher per pending activation follows it until `notAfter`, success or a newer
//! code. Adobe can only have a profile for a code once a phone opened it (the session waits for
//! the phone's S2, §7.3), so a watcher asks Adobe `profiles/code/{code}` every few seconds only
//! after that, one attempt per round, within the pacing of [`super::polling`]; until then it
//! only reads the store now and then. Everyone waiting on a code (long polls, event streams)
//! shares the watcher's channel, so the work stays bounded however many TVs wait; the phone's
//! completion page checks at once and wakes them.

use std::{
    collections::HashMap,
    net::IpAddr,
    ops::ControlFlow,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use prometheus_client::{metrics::gauge::Gauge, registry::Registry};
use serde::Serialize;
use tokio::sync::{watch, Notify};

use super::{
    devices::os_name, funnel::Step, polling::PollResult, DeviceSession, ProfileSummary, Service,
    ServiceError,
};
use crate::{
    adobe_pass::{
        types::Profiles,
        types::{ActionName, ErrorCode, SessionRequest},
        AdobePassError, DeviceIdentity, Outcome,
    },
    store::{Activation, ActivationStatus},
};

/// Where an activation stands, as TVs and pages see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivationView {
    /// The code.
    pub code: String,
    /// Its status.
    pub status: ActivationStatus,
    /// The provider, once chosen or signed in with.
    pub provider: Option<String>,
    /// The code's `notAfter`, epoch ms.
    pub expires_at: i64,
}

impl From<&Activation> for ActivationView {
    fn from(activation: &Activation) -> Self {
        Self {
            code: activation.code.clone(),
            status: activation.status,
            provider: activation.provider.clone(),
            expires_at: activation.expires_at,
        }
    }
}

/// A new activation for the TV to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartedActivation {
    /// The code to show.
    pub code: String,
    /// The short URL to show: `<public url>/activate`.
    pub activation_url: String,
    /// The URL with the code filled in, for the QR code.
    pub activation_url_complete: String,
    /// The code's `notAfter`, epoch ms.
    pub expires_at: i64,
    /// How often the TV may ask for the status.
    pub poll_interval_seconds: u64,
    /// The provider picked on the TV, if any.
    pub provider: Option<String>,
}

/// What starting an activation led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartOutcome {
    /// The device already has a profile: nothing to activate.
    Authenticated(ProfileSummary),
    /// A code to show.
    Started(StartedActivation),
}

struct Watcher {
    status: watch::Sender<ActivationView>,
    wake: Arc<Notify>,
    running: bool,
    /// When a phone opened the code here (or on another node, as told).
    opened: Option<Instant>,
}

/// The channels of activations someone is watching.
#[derive(Default)]
pub(super) struct ActivationHub {
    watchers: Mutex<HashMap<String, Watcher>>,
    pending: Gauge,
}

impl std::fmt::Debug for ActivationHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.lock().len();
        f.debug_struct("ActivationHub")
            .field("watched", &count)
            .finish()
    }
}

impl ActivationHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Watcher>> {
        self.watchers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps the gauge of pending activations followed here in step with `watchers`.
    fn counted(&self, watchers: &HashMap<String, Watcher>) {
        self.pending
            .set(i64::try_from(watchers.len()).unwrap_or(i64::MAX));
    }

    /// Adds `tve_pending_activations` to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_pending_activations",
            "Pending activations this node follows (a TV waits on them or a phone opened them)",
            self.pending.clone(),
        );
    }

    /// Subscribes to `view`'s code; says whether a watcher must be started. A finished
    /// activation nobody watches leaves nothing behind: its receiver holds the last view.
    fn subscribe(&self, view: &ActivationView) -> (watch::Receiver<ActivationView>, bool) {
        let mut watchers = self.lock();
        if view.status != ActivationStatus::Pending && !watchers.contains_key(&view.code) {
            return (watch::channel(view.clone()).1, false);
        }
        let watcher = watchers
            .entry(view.code.clone())
            .or_insert_with(|| Watcher {
                status: watch::Sender::new(view.clone()),
                wake: Arc::new(Notify::new()),
                running: false,
                opened: None,
            });
        let start = view.status == ActivationStatus::Pending && !watcher.running;
        if start {
            watcher.running = true;
        }
        let receiver = watcher.status.subscribe();
        self.counted(&watchers);
        (receiver, start)
    }

    fn is_watched(&self, code: &str) -> bool {
        self.lock().contains_key(code)
    }

    fn wake_handle(&self, code: &str) -> Option<Arc<Notify>> {
        self.lock().get(code).map(|w| w.wake.clone())
    }

    /// Notes that a phone opened the code (the first time counts), if anyone here follows it.
    fn mark_opened(&self, code: &str, at: Instant) {
        let mut watchers = self.lock();
        if let Some(watcher) = watchers.get_mut(code).filter(|w| w.opened.is_none()) {
            watcher.opened = Some(at);
            watcher.wake.notify_one();
        }
    }

    /// When a phone opened the code, if one did.
    fn opened(&self, code: &str) -> Option<Instant> {
        self.lock().get(code).and_then(|w| w.opened)
    }

    /// Tells everyone waiting on the code; a finished activation's channel is then dropped
    /// (its last value stays with current subscribers).
    fn publish(&self, view: ActivationView) {
        let mut watchers = self.lock();
        if let Some(watcher) = watchers.get(&view.code) {
            watcher.status.send_replace(view.clone());
            watcher.wake.notify_one();
            if view.status != ActivationStatus::Pending {
                watchers.remove(&view.code);
                self.counted(&watchers);
            }
        }
    }

    /// The code's watcher ended: its entry goes when nobody waits on it any more.
    fn watcher_stopped(&self, code: &str) {
        let mut watchers = self.lock();
        if let Some(watcher) = watchers.get_mut(code) {
            if watcher.status.receiver_count() == 0 {
                watchers.remove(code);
                self.counted(&watchers);
            } else {
                watcher.running = false;
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Rounds of the poll interval between store reads of a code no phone opened yet (it cannot
/// change but by expiring, being superseded or another node's news, which the bus brings).
const UNOPENED_ROUNDS: u32 = 4;

/// How a background poll's outcome counts for the pacing. Only Adobe failing counts towards
/// the breaker: a 429 for one device IP, or this node's own throttle holding a call back, says
/// that one address asked too much, and counting it would let a few addresses pause every
/// node's polls (security review, finding 11).
fn poll_result(outcome: &Result<Option<ActivationView>, ServiceError>) -> PollResult {
    match outcome {
        Ok(None) => PollResult::Pending,
        Ok(Some(view)) if view.status == ActivationStatus::Authenticated => PollResult::SignedIn,
        Ok(Some(_)) => PollResult::Ended,
        Err(ServiceError::Upstream(AdobePassError::RateLimited { .. })) => PollResult::Refused,
        Err(ServiceError::Upstream(error)) => match Outcome::of(error) {
            Outcome::Success
            | Outcome::ClientError
            | Outcome::Unauthorized
            | Outcome::Throttled => PollResult::Refused,
            Outcome::ServerError
            | Outcome::Unexpected
            | Outcome::Timeout
            | Outcome::ConnectionError => PollResult::Failed,
        },
        Err(_) => PollResult::Refused,
    }
}

/// How long polling for a code may last: until the session's `notAfter`, and 30 minutes at
/// most whatever Adobe says (§14.3: stop on success, on `notAfter`, or when a new code is
/// issued; codes are documented to live 30 minutes, §7.1). The TV is then told the code
/// expired, and gets a new one.
fn polling_deadline(not_after: Option<i64>, now: i64) -> i64 {
    const LONGEST_MS: i64 = 30 * 60 * 1000;
    let longest = now.saturating_add(LONGEST_MS);
    not_after.map_or(longest, |not_after| not_after.min(longest))
}

/// Whether Adobe says the session behind a code is gone (unknown, expired or finished).
pub(super) fn session_is_gone(error: &AdobePassError) -> bool {
    error.enhanced().is_some_and(|e| {
        matches!(
            e.code,
            ErrorCode::InvalidAuthenticationSession | ErrorCode::InvalidParameterCode
        )
    })
}

impl Service {
    /// Starts an activation for the device (optionally with the MVPD picked on the TV),
    /// superseding its previous one, or says it is already authenticated. After Adobe refused
    /// the device's profile with action `authentication` (§11), that profile no longer counts:
    /// it is logged out at Adobe first, since S1 answers `authorize` while it exists (§7.1).
    pub async fn start_activation(
        &self,
        session: &DeviceSession,
        mvpd: Option<&str>,
    ) -> Result<StartOutcome, ServiceError> {
        let device_id = &session.device.device_id;
        let stale = self
            .inner
            .profiles
            .stale_provider(device_id, self.now_millis());
        let refused = match self.profile(session).await? {
            Some(profile) if stale.as_deref() != Some(profile.provider.as_str()) => {
                return Ok(StartOutcome::Authenticated(profile));
            }
            other => other,
        };
        // Checked before anything changes: a bad request logs nobody out. Only the providers
        // viewers may pick: hidden test and in-development integrations, and TempPass, are not
        // signed in with (security review, finding 18).
        if let Some(mvpd) = mvpd {
            if self.providers(session).await?.find(mvpd).is_none() {
                return Err(ServiceError::invalid(
                    "mvpd",
                    format!("{mvpd:?} is not a provider of this service"),
                ));
            }
        }
        if let Some(profile) = refused {
            self.inner
                .adobe
                .logout(&session.identity, &profile.provider, None)
                .await?;
            self.refusal_cleared(device_id).await;
            self.invalidate_device(device_id).await;
        }
        let settings = &self.inner.settings;
        // S2 supplies missing parameters only (§7.3): what the phone will give (the provider,
        // unless the TV chose it, and the completion page, which names the code) is left out
        // here, so Adobe answers `resume` and waits for it.
        let request = SessionRequest {
            mvpd: mvpd.map(str::to_owned),
            domain_name: Some(settings.domain_name.clone()),
            redirect_url: None,
        };
        self.starting_sign_in(&session.device).await?;
        let created = self
            .inner
            .adobe
            .create_session(&session.identity, &request)
            .await?;
        if created.action_name == ActionName::Authorize {
            // §7.1: the device can watch already (a profile, TempPass, or degraded access,
            // whose profile only P2 gives, §8.1).
            let provider = created.mvpd.as_deref().or(mvpd);
            let session = self.signed_in_with(session, provider).await?;
            return Ok(StartOutcome::Authenticated(
                self.require_profile(&session).await?,
            ));
        }
        let code = created.code.ok_or_else(|| {
            ServiceError::invalid("mvpd", "Adobe Pass started a session without a code")
        })?;
        let now = self.now_millis();
        let expires_at = polling_deadline(created.not_after, now);
        let activation = Activation {
            code: code.clone(),
            device_id: session.device.device_id.clone(),
            provider: created.mvpd.or_else(|| mvpd.map(str::to_owned)),
            status: ActivationStatus::Pending,
            expires_at,
            updated_at: now,
            created_at: now,
        };
        let superseded = self.inner.store.start_activation(&activation).await?;
        self.activation_step(
            Step::CodeIssued,
            &activation,
            activation.provider.as_deref(),
            &session.info.os_name,
        );
        for old in superseded {
            if let Some(stored) = self.inner.store.activation(&old).await? {
                self.announce(ActivationView::from(&stored)).await;
            }
        }
        self.watch(&ActivationView::from(&activation), session.identity.clone());
        let activation_url = settings.public_link("/activate");
        Ok(StartOutcome::Started(StartedActivation {
            activation_url_complete: format!("{activation_url}?code={code}"),
            activation_url,
            code,
            expires_at,
            poll_interval_seconds: settings.poll_interval.as_secs().max(1),
            provider: activation.provider,
        }))
    }

    /// Adobe says the device can watch with `provider` (S1 or S2 `authorize`, whatever its
    /// `reasonType`): it becomes the device's last provider and what was cached goes. Returns the
    /// session as it now stands.
    pub(super) async fn signed_in_with(
        &self,
        session: &DeviceSession,
        provider: Option<&str>,
    ) -> Result<DeviceSession, ServiceError> {
        let mut session = session.clone();
        let device_id = session.device.device_id.clone();
        if let Some(provider) = provider {
            if session.device.last_provider.as_deref() != Some(provider) {
                self.inner
                    .store
                    .remember_provider(&device_id, provider, None)
                    .await?;
                session.device.last_provider = Some(provider.to_owned());
                session.device.temp_pass_identity = None;
            }
        }
        self.refusal_cleared(&device_id).await;
        self.invalidate_device(&device_id).await;
        Ok(session)
    }

    /// The device's activation with this code, as it stands now.
    pub async fn activation_status(
        &self,
        session: &DeviceSession,
        code: &str,
    ) -> Result<ActivationView, ServiceError> {
        let activation = self.own_activation(session, code).await?;
        let view = self.settle_expiry(&activation).await?;
        self.watch(&view, session.identity.clone());
        Ok(view)
    }

    /// Follows the device's activation: a receiver that sees every status change.
    pub async fn follow_activation(
        &self,
        session: &DeviceSession,
        code: &str,
    ) -> Result<watch::Receiver<ActivationView>, ServiceError> {
        let activation = self.own_activation(session, code).await?;
        let view = self.settle_expiry(&activation).await?;
        Ok(self.watch(&view, session.identity.clone()))
    }

    /// Waits up to `wait` for the activation to leave `pending`; returns how it stands then.
    pub async fn wait_for_activation(
        &self,
        session: &DeviceSession,
        code: &str,
        wait: Duration,
    ) -> Result<ActivationView, ServiceError> {
        let mut updates = self.follow_activation(session, code).await?;
        let current = updates.borrow_and_update().clone();
        if current.status != ActivationStatus::Pending || wait.is_zero() {
            return Ok(current);
        }
        // Cloned out at once: the channel's read guard must not live across the next await.
        let changed = tokio::time::timeout(
            wait,
            updates.wait_for(|view| view.status != ActivationStatus::Pending),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .map(|view| view.clone());
        Ok(match changed {
            Some(view) => view,
            // Timed out, or the channel closed: report what the store says.
            None => ActivationView::from(&self.own_activation(session, code).await?),
        })
    }

    /// Checks the code with Adobe right now, on behalf of the viewer at `viewer_ip` (the phone
    /// that just came back from the provider's login), and wakes waiting TVs. Unknown codes
    /// give [`ServiceError::NotFound`].
    pub async fn confirm_activation(
        &self,
        code: &str,
        viewer_ip: IpAddr,
    ) -> Result<ActivationView, ServiceError> {
        let activation = self
            .inner
            .store
            .activation(code)
            .await?
            .ok_or(ServiceError::NotFound("activation"))?;
        let view = self.settle_expiry(&activation).await?;
        if view.status != ActivationStatus::Pending {
            return Ok(view);
        }
        let device = self
            .inner
            .store
            .device(&activation.device_id)
            .await?
            .ok_or(ServiceError::NotFound("device"))?;
        let session = self.session_for(device, std::net::SocketAddr::new(viewer_ip, 0))?;
        let identity = session.identity.clone().acting_from(viewer_ip);
        let view = match self.check_once(&activation, &identity).await? {
            Some(view) => view,
            // Still pending at Adobe, or finished meanwhile by a watcher (here or on another
            // node) whose store update came first: the store says which.
            None => match self.inner.store.activation(code).await? {
                Some(now) => ActivationView::from(&now),
                None => view,
            },
        };
        if let Some(wake) = self.inner.activations.wake_handle(code) {
            wake.notify_one();
        }
        Ok(view)
    }

    /// Marks a pending activation cancelled (the viewer said the code is not theirs).
    pub async fn cancel_activation(&self, code: &str) -> Result<ActivationView, ServiceError> {
        self.finish(code, ActivationStatus::Cancelled, None)
            .await?
            .ok_or(ServiceError::NotFound("pending activation"))
    }

    async fn own_activation(
        &self,
        session: &DeviceSession,
        code: &str,
    ) -> Result<Activation, ServiceError> {
        self.inner
            .store
            .activation(code)
            .await?
            .filter(|a| a.device_id == session.device.device_id)
            .ok_or(ServiceError::NotFound("activation"))
    }

    /// A pending activation past its `notAfter` becomes expired.
    async fn settle_expiry(&self, activation: &Activation) -> Result<ActivationView, ServiceError> {
        if activation.status == ActivationStatus::Pending
            && self.now_millis() >= activation.expires_at
        {
            if let Some(expired) = self
                .finish(&activation.code, ActivationStatus::Expired, None)
                .await?
            {
                return Ok(expired);
            }
            if let Some(current) = self.inner.store.activation(&activation.code).await? {
                return Ok(ActivationView::from(&current));
            }
        }
        Ok(ActivationView::from(activation))
    }

    pub(super) async fn finish(
        &self,
        code: &str,
        status: ActivationStatus,
        provider: Option<&str>,
    ) -> Result<Option<ActivationView>, ServiceError> {
        let Some(finished) = self
            .inner
            .store
            .finish_activation(code, status, provider, self.now_millis())
            .await?
        else {
            return Ok(None);
        };
        let view = ActivationView::from(&finished);
        self.announce(view.clone()).await;
        self.count_end(&finished).await;
        Ok(Some(view))
    }

    /// Counts how a finished activation ended in the funnel, and tells the event stream (only
    /// the node that finished it does: the store lets one finish happen).
    async fn count_end(&self, activation: &Activation) {
        let step = match activation.status {
            ActivationStatus::Authenticated => Step::SignedIn,
            ActivationStatus::Cancelled => Step::Cancelled,
            ActivationStatus::Expired => Step::Expired,
            ActivationStatus::Pending | ActivationStatus::Superseded => return,
        };
        let device = match self.inner.store.device(&activation.device_id).await {
            Ok(device) => device,
            Err(error) => {
                tracing::warn!(%error, "cannot read the device of a finished activation");
                None
            }
        };
        let os_name = device.as_ref().map(os_name).unwrap_or_default();
        self.activation_step(step, activation, activation.provider.as_deref(), os_name);
    }

    /// Tells the TVs waiting here, and the other nodes, that the activation changed.
    async fn announce(&self, view: ActivationView) {
        let code = view.code.clone();
        self.inner.activations.publish(view);
        self.inner
            .settings
            .bus
            .publish(crate::shared::ClusterEvent::ActivationChanged { code })
            .await;
    }

    /// Another node changed the activation: the TVs waiting on it here learn how it stands.
    pub(super) async fn refresh_activation(&self, code: &str) {
        if !self.inner.activations.is_watched(code) {
            return;
        }
        match self.inner.store.activation(code).await {
            Ok(Some(activation)) => self
                .inner
                .activations
                .publish(ActivationView::from(&activation)),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot read a changed activation"),
        }
    }

    /// Asks Adobe whether the code has a profile (retrying what is worth it: a person waits);
    /// records success or a dead session. `None` means still pending.
    async fn check_once(
        &self,
        activation: &Activation,
        identity: &DeviceIdentity,
    ) -> Result<Option<ActivationView>, ServiceError> {
        let answer = self
            .inner
            .adobe
            .code_profile(identity, &activation.code)
            .await;
        self.record_check(activation, answer).await
    }

    /// Records what Adobe said of the code: a profile finishes the activation, a dead session
    /// expires it. `None` means still pending.
    async fn record_check(
        &self,
        activation: &Activation,
        answer: Result<Profiles, AdobePassError>,
    ) -> Result<Option<ActivationView>, ServiceError> {
        match answer {
            Ok(profiles) => {
                let Some(provider) = profiles.profiles.keys().next().cloned() else {
                    return Ok(None);
                };
                self.inner
                    .store
                    .remember_provider(&activation.device_id, &provider, None)
                    .await?;
                self.refusal_cleared(&activation.device_id).await;
                self.invalidate_device(&activation.device_id).await;
                Ok(self
                    .finish(
                        &activation.code,
                        ActivationStatus::Authenticated,
                        Some(&provider),
                    )
                    .await?)
            }
            Err(error) if session_is_gone(&error) => Ok(self
                .finish(&activation.code, ActivationStatus::Expired, None)
                .await?),
            Err(error) => Err(error.into()),
        }
    }

    /// A phone opened the code (looked it up or started the sign-in): from now on its watcher
    /// asks Adobe. This node follows it even when no TV waits here, and the other nodes hear
    /// of it, so whichever node polls, polls quickly.
    pub(super) async fn opened_by_phone(&self, activation: &Activation, session: &DeviceSession) {
        let hub = &self.inner.activations;
        if hub.opened(&activation.code).is_some() {
            return;
        }
        if !hub.is_watched(&activation.code) {
            drop(self.watch(&ActivationView::from(activation), session.identity.clone()));
        }
        hub.mark_opened(&activation.code, Instant::now());
        self.activation_step(
            Step::CodeOpened,
            activation,
            activation.provider.as_deref(),
            &session.info.os_name,
        );
        self.inner
            .settings
            .bus
            .publish(crate::shared::ClusterEvent::ActivationOpened {
                code: activation.code.clone(),
            })
            .await;
    }

    /// Another node's phone opened the code: the watcher here, if any, polls quickly.
    pub(super) fn opened_elsewhere(&self, code: &str) {
        self.inner.activations.mark_opened(code, Instant::now());
    }

    /// Subscribes to the activation, starting its watcher when it is pending and unwatched.
    fn watch(
        &self,
        view: &ActivationView,
        identity: DeviceIdentity,
    ) -> watch::Receiver<ActivationView> {
        let (receiver, start) = self.inner.activations.subscribe(view);
        if start {
            let service = self.clone();
            let code = view.code.clone();
            tokio::spawn(async move {
                service.run_watcher(&code, identity).await;
                service.inner.activations.watcher_stopped(&code);
            });
        }
        receiver
    }

    /// Follows the code until it is no longer pending. While it sleeps, a watcher holds little:
    /// each round's work (store, lease, Adobe) is a boxed future of its own, since thousands of
    /// watchers sleep at once during a spike.
    async fn run_watcher(&self, code: &str, identity: DeviceIdentity) {
        let Some(wake) = self.inner.activations.wake_handle(code) else {
            return;
        };
        let _running = self.inner.polling.watcher();
        let mut round = Round {
            last_poll: None,
            pause: self.inner.settings.poll_interval,
        };
        loop {
            tokio::select! {
                () = tokio::time::sleep(round.pause) => {}
                () = wake.notified() => {}
            }
            if Box::pin(self.watch_round(code, &identity, &mut round))
                .await
                .is_break()
            {
                return;
            }
        }
    }

    /// One round of a watcher: reads the store, settles expiry, and asks Adobe when due.
    async fn watch_round(
        &self,
        code: &str,
        identity: &DeviceIdentity,
        round: &mut Round,
    ) -> ControlFlow<()> {
        let interval = self.inner.settings.poll_interval;
        let polling = &self.inner.polling;
        let opened = self.inner.activations.opened(code);
        round.pause = if opened.is_some() {
            interval
        } else {
            interval * UNOPENED_ROUNDS
        };
        let activation = match self.inner.store.activation(code).await {
            Ok(Some(activation)) => activation,
            Ok(None) => return ControlFlow::Break(()),
            Err(error) => {
                tracing::warn!(%error, "activation watcher cannot read the store");
                return ControlFlow::Continue(());
            }
        };
        if activation.status != ActivationStatus::Pending {
            self.inner
                .activations
                .publish(ActivationView::from(&activation));
            return ControlFlow::Break(());
        }
        match self.settle_expiry(&activation).await {
            Ok(view) if view.status != ActivationStatus::Pending => return ControlFlow::Break(()),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "activation watcher cannot settle expiry"),
        }
        let left = activation.expires_at.saturating_sub(self.now_millis());
        round.pause = round
            .pause
            .min(Duration::from_millis(u64::try_from(left).unwrap_or(0)));
        // Adobe is asked only once a phone opened the code: one interval after that, then
        // every interval.
        let Some(opened) = opened else {
            return ControlFlow::Continue(());
        };
        let now = Instant::now();
        let due = round.last_poll.unwrap_or(opened) + interval;
        if now < due {
            round.pause = due - now;
            return ControlFlow::Continue(());
        }
        if !polling.admits(now) {
            return ControlFlow::Continue(());
        }
        // One node polls Adobe for a code; the others read the store each round (and hear of
        // changes at once through the bus). A dead node's lease runs out and another node's
        // watcher takes over.
        let lease = interval * 3;
        if !self
            .inner
            .settings
            .leases
            .hold(&format!("activation:{code}"), lease)
            .await
        {
            return ControlFlow::Continue(());
        }
        round.last_poll = Some(now);
        self.apply_operator_limits().await;
        let answer = {
            let _slot = polling.slot().await;
            self.inner.adobe.poll_code_profile(identity, code).await
        };
        let outcome = self.record_check(&activation, answer).await;
        polling.record(poll_result(&outcome), Instant::now());
        match outcome {
            Ok(Some(_)) => ControlFlow::Break(()),
            Ok(None) => ControlFlow::Continue(()),
            Err(error) => {
                if let Some(wait) = error.retry_after() {
                    round.pause = round.pause.max(wait);
                }
                // The code is part of the upstream URL, so log only what kind of failure it was.
                tracing::info!(failure = %error.code(), "activation check failed; trying again");
                ControlFlow::Continue(())
            }
        }
    }
}

/// What a watcher carries from one round to the next.
struct Round {
    /// When it last asked Adobe.
    last_poll: Option<Instant>,
    /// How long it sleeps before the next round (unless woken).
    pause: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(code: &str, status: ActivationStatus) -> ActivationView {
        ActivationView {
            code: code.to_owned(),
            status,
            provider: None,
            expires_at: 0,
        }
    }

    /// Security review, finding 11: twenty devices behind one address, throttled, opened the
    /// node's breaker and paused every viewer's polls.
    #[test]
    fn throttled_polls_say_nothing_of_adobes_health() {
        let endpoint = crate::adobe_pass::Endpoint::RetrieveSession;
        let retry_after = std::time::Duration::from_secs(1);
        for error in [
            AdobePassError::Throttled {
                endpoint,
                retry_after,
            },
            AdobePassError::RateLimited {
                endpoint,
                retry_after,
            },
        ] {
            assert_eq!(
                poll_result(&Err(ServiceError::Upstream(error))),
                PollResult::Refused
            );
        }
        let timeout = AdobePassError::Timeout { endpoint };
        assert_eq!(
            poll_result(&Err(ServiceError::Upstream(timeout))),
            PollResult::Failed
        );
    }

    /// Status polls after an activation ended keep nothing in memory; a pending one is kept
    /// until it ends, then dropped.
    #[test]
    fn the_hub_keeps_only_activations_that_can_still_change() {
        let hub = ActivationHub::default();
        for status in [
            ActivationStatus::Authenticated,
            ActivationStatus::Expired,
            ActivationStatus::Cancelled,
        ] {
            let (receiver, start) = hub.subscribe(&view("DONE123", status));
            assert!(!start);
            assert_eq!(receiver.borrow().status, status);
        }
        assert_eq!(hub.len(), 0, "finished activations leave nothing behind");

        let (receiver, start) = hub.subscribe(&view("WAIT123", ActivationStatus::Pending));
        assert!(start);
        assert_eq!(hub.len(), 1);
        hub.publish(view("WAIT123", ActivationStatus::Authenticated));
        assert_eq!(receiver.borrow().status, ActivationStatus::Authenticated);
        assert_eq!(hub.len(), 0, "dropped when it ends");

        let (receiver, _) = hub.subscribe(&view("GONE123", ActivationStatus::Pending));
        drop(receiver);
        hub.watcher_stopped("GONE123");
        assert_eq!(hub.len(), 0, "a stopped watcher nobody waits on is dropped");
    }

    /// §14.3 and §7.1: polling stops at the session's `notAfter`, and after 30 minutes at most.
    #[test]
    fn polling_stops_within_thirty_minutes() {
        let now = 1_000_000;
        assert_eq!(polling_deadline(Some(now + 60_000), now), now + 60_000);
        assert_eq!(
            polling_deadline(Some(now + 4 * 3_600_000), now),
            now + 1_800_000,
            "a later notAfter is not believed"
        );
        assert_eq!(polling_deadline(None, now), now + 1_800_000);
    }
}
