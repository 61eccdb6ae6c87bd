//! Adobe Pass REST API V2 and Dynamic Client Registration emulator, with a mock MVPD login,
//! for the embedded default and the tests. Run it alone with `adobe-pass-emulator`, or in
//! process with [`spawn`].

pub mod configuration;
pub mod dataset;
pub mod dcr;
pub mod decisions;
mod degradation;
pub mod degradation_api;
pub mod degradation_rules;
pub mod device;
pub mod errors;
pub mod faults;
pub mod headers;
pub mod login;
pub mod logos;
pub mod logout;
pub mod media_token;
pub mod openapi_exceptions;
pub mod partner_sso;
pub mod profiles;
pub mod readings;
pub mod responses;
pub mod sessions;
pub mod state;
pub mod state_file;
pub mod temppass;
pub mod temppass_reset;
pub mod throttle;
pub mod user_metadata;

use std::{net::SocketAddr, path::PathBuf};

use axum::{
    http::StatusCode,
    middleware,
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
    Router,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::clock::{SharedClock, SystemClock};

pub use self::{
    dataset::{Dataset, Platform, PlatformApplication},
    faults::{Fault, FaultRule, FaultSet},
    readings::Readings,
    state::{EmulatorState, Ttls},
    temppass::TempPassSettings,
};

/// The software statement the emulator accepts unless told otherwise: an unsigned JWT whose
/// claims name the emulator and service provider `REF30`.
pub const DEFAULT_SOFTWARE_STATEMENT: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJ0dmUtYWN0aXZhdGUtZW11bGF0b3IiLCJzdWIiOiJ0dmUtYWN0aXZhdGUiLCJzZXJ2aWNlX3Byb3ZpZGVyIjoiUkVGMzAiLCJzY29wZXMiOlsiYXBpOmNsaWVudDp2MiJdfQ.";

/// How an emulator runs.
#[derive(Clone, Debug)]
pub struct EmulatorSettings {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Origin clients and browsers reach the emulator at (logo, login and logout URLs);
    /// absent: `http://<bound address>`.
    pub public_url: Option<url::Url>,
    /// The emulated world.
    pub dataset: Dataset,
    /// The software statement registration accepts from every platform.
    pub software_statement: String,
    /// Applications registered for some platforms only, each with its own statement (TVE
    /// Dashboard, "Registered applications").
    pub platform_applications: Vec<PlatformApplication>,
    /// Lifetimes of tokens, codes and profiles.
    pub ttls: Ttls,
    /// Throttling as §12 describes.
    pub throttling: bool,
    /// Whether a throttle bucket's burst of 10 comes back after idling (§12 calls it a
    /// one-time burst; off by default).
    pub burst_refills: bool,
    /// Faults active from the start.
    pub faults: FaultSet,
    /// PEM RSA public key (`PUBLIC KEY` or `RSA PUBLIC KEY`) that encrypts the
    /// `encrypted_attributes`; absent sends them plain.
    pub programmer_public_key_pem: Option<String>,
    /// The profile attributes encrypted with the programmer's key (§14.4: `zip` by default).
    pub encrypted_attributes: Vec<String>,
    /// Time source.
    pub clock: SharedClock,
    /// File that keeps clients, tokens, sessions, profiles and TempPass uses across restarts
    /// (see [`state_file`]); absent: memory only.
    pub state_file: Option<PathBuf>,
    /// Lenient readings of ambiguous documents; strict by default.
    pub readings: Readings,
    /// TempPass readings (P2 before the first play) and misconfigured TempPasses.
    pub temp_pass: TempPassSettings,
}

impl Default for EmulatorSettings {
    /// Loopback on a free port, the default dataset, [`DEFAULT_SOFTWARE_STATEMENT`], default
    /// lifetimes, throttling off, no faults, no programmer key, the system clock, no state file,
    /// no TempPass profile before the first play.
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            dataset: Dataset::default(),
            software_statement: DEFAULT_SOFTWARE_STATEMENT.to_owned(),
            platform_applications: Vec::new(),
            ttls: Ttls::default(),
            throttling: false,
            burst_refills: false,
            faults: FaultSet::default(),
            programmer_public_key_pem: None,
            encrypted_attributes: vec!["zip".to_owned()],
            clock: SystemClock::shared(),
            state_file: None,
            readings: Readings::default(),
            temp_pass: TempPassSettings::default(),
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The programmer key is unusable.
    #[error(transparent)]
    Key(#[from] user_metadata::KeyError),
    /// The dataset is inconsistent.
    #[error(transparent)]
    Dataset(#[from] dataset::DatasetError),
    /// The fault settings are invalid.
    #[error(transparent)]
    Faults(#[from] faults::FaultError),
    /// A lifetime is out of range.
    #[error(transparent)]
    Ttl(#[from] state::TtlError),
    /// The public URL cannot be a base URL.
    #[error("invalid public URL {0}")]
    PublicUrl(String),
    /// The state file cannot be read or written.
    #[error(transparent)]
    StateFile(#[from] state_file::StateFileError),
    /// The media token signing key is unusable.
    #[error(transparent)]
    MediaTokenKey(#[from] media_token::MediaTokenKeyError),
}

/// Builds the state from settings, for an emulator reached at `public_url`, with what the
/// state file holds (it is only written by [`spawn`] and [`serve_on`]).
pub fn state(
    settings: &EmulatorSettings,
    public_url: &str,
) -> Result<EmulatorState, EmulatorError> {
    settings.dataset.check()?;
    settings.faults.check()?;
    settings.ttls.check()?;
    media_token::check_key()?;
    let encryption = settings
        .programmer_public_key_pem
        .as_deref()
        .map(user_metadata::parse_public_key)
        .transpose()?
        .map(|key| user_metadata::Encryption {
            key,
            attributes: settings.encrypted_attributes.clone(),
        });
    let store = match &settings.state_file {
        Some(path) => state_file::load(path)?,
        None => state::Store::default(),
    };
    Ok(EmulatorState::new(state::StateParts {
        dataset: settings.dataset.clone(),
        clock: settings.clock.clone(),
        public_url: public_url.to_owned(),
        software_statement: settings.software_statement.clone(),
        platform_applications: settings.platform_applications.clone(),
        ttls: settings.ttls,
        encryption,
        faults: faults::Faults::new(settings.faults.clone()),
        throttle: settings
            .throttling
            .then(|| throttle::Throttle::new(settings.burst_refills)),
        store,
        readings: settings.readings,
        temp_pass: settings.temp_pass.clone(),
    }))
}

async fn method_not_allowed() -> Response {
    errors::ApiError::new(errors::ErrorCode::MethodNotAllowed).into_response()
}

/// Every route: DCR and REST API V2 (behind throttling and faults), the browser pages, the
/// logos and the `/__emulator` routes (faults, OpenAPI exceptions, the media token public key).
pub fn router(state: EmulatorState) -> Router {
    let adobe = Router::new()
        .route("/o/client/register", post(dcr::register))
        .route("/o/client/token", post(dcr::token))
        .route(
            "/api/v2/{sp}/configuration",
            get(configuration::configuration),
        )
        .route("/api/v2/{sp}/sessions", post(sessions::create))
        .route(
            "/api/v2/{sp}/sessions/{code}",
            post(sessions::resume).get(sessions::retrieve),
        )
        .route(
            "/api/v2/authenticate/{sp}/{code}",
            get(sessions::authenticate),
        )
        .route("/api/v2/{sp}/profiles", get(profiles::all))
        .route("/api/v2/{sp}/profiles/{mvpd}", get(profiles::for_mvpd))
        .route("/api/v2/{sp}/profiles/code/{code}", get(profiles::for_code))
        .route(
            "/api/v2/{sp}/decisions/preauthorize/{mvpd}",
            post(decisions::preauthorize),
        )
        .route(
            "/api/v2/{sp}/decisions/authorize/{mvpd}",
            post(decisions::authorize),
        )
        .route("/api/v2/{sp}/logout/{mvpd}", get(logout::logout))
        .route(
            "/api/v2/{sp}/sessions/sso/{partner}",
            post(partner_sso::session),
        )
        .route(
            "/api/v2/{sp}/profiles/sso/{partner}",
            post(partner_sso::profile),
        )
        .route(
            temppass_reset::BASE_PATH,
            delete(temppass_reset::reset_device),
        )
        .route(
            &format!("{}/generic", temppass_reset::BASE_PATH),
            delete(temppass_reset::reset_generic),
        )
        .route(
            &format!("{}/{{sp}}/rules", degradation_api::BASE_PATH),
            get(degradation_api::list),
        )
        .route(
            &format!("{}/{{sp}}/rules/{{mvpd}}", degradation_api::BASE_PATH),
            put(degradation_api::apply).delete(degradation_api::remove),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            readings::check_accept,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            degradation_api::apply_rules,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            throttle::limit,
        ));
    Router::new()
        .merge(adobe)
        .route(
            &format!("{}/{{code}}", login::LOGIN_PATH),
            get(login::show).post(login::submit),
        )
        .route(logout::MVPD_LOGOUT_PATH, get(logout::mvpd_logout_page))
        .route(&format!("{}/{{file}}", logos::LOGO_PATH), get(logos::serve))
        .route(faults::ADMIN_PATH, get(faults::show).put(faults::replace))
        .route(
            "/__emulator/openapi-exceptions",
            get(openapi_exceptions::list),
        )
        .route(media_token::PUBLIC_KEY_PATH, get(media_token::public_key))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(state)
}

/// The task that keeps the state file written, and how to tell it to finish.
#[derive(Debug)]
struct StateWriter {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), state_file::StateFileError>>,
}

/// A running emulator; stops when [`RunningEmulator::stop`] is called or when dropped (then
/// the state file gets its last write in the background, if the runtime still runs).
#[derive(Debug)]
pub struct RunningEmulator {
    base_url: String,
    state: EmulatorState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    writer: Option<StateWriter>,
}

impl RunningEmulator {
    /// Where it is reached, without a trailing slash (for example `http://127.0.0.1:41234`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The software statement it accepts.
    pub fn software_statement(&self) -> &str {
        self.state.software_statement()
    }

    /// Its state (fault rules, dataset, clock).
    pub fn state(&self) -> &EmulatorState {
        &self.state
    }

    /// Stops serving, letting in-flight requests finish, then writes the state file a last
    /// time.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let served = match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        };
        if let Some(writer) = self.writer.take() {
            let _ = writer.stop.send(());
            writer
                .task
                .await
                .map_err(std::io::Error::other)?
                .map_err(std::io::Error::other)?;
        }
        served
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `settings.listen` and serves the emulator in a background task.
pub async fn spawn(settings: EmulatorSettings) -> Result<RunningEmulator, EmulatorError> {
    let listener =
        TcpListener::bind(settings.listen)
            .await
            .map_err(|source| EmulatorError::Listen {
                addr: settings.listen,
                source,
            })?;
    serve_on(listener, settings).await
}

/// Serves the emulator on an already bound listener in a background task.
pub async fn serve_on(
    listener: TcpListener,
    settings: EmulatorSettings,
) -> Result<RunningEmulator, EmulatorError> {
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Listen {
            addr: settings.listen,
            source,
        })?;
    let base_url = match &settings.public_url {
        Some(url) if url.cannot_be_a_base() => {
            return Err(EmulatorError::PublicUrl(url.to_string()))
        }
        Some(url) => url.as_str().trim_end_matches('/').to_owned(),
        None => format!("http://{addr}"),
    };
    let state = state(&settings, &base_url)?;
    let writer = settings.state_file.clone().map(|path| {
        let (stop, stopping) = oneshot::channel::<()>();
        let task = tokio::spawn(state_file::keep_written(state.clone(), path, stopping));
        StateWriter { stop, task }
    });
    let (shutdown, stopped) = oneshot::channel::<()>();
    let app = router(state.clone());
    let task = tokio::spawn(crate::serve(listener, app, async {
        let _ = stopped.await;
    }));
    Ok(RunningEmulator {
        base_url,
        state,
        shutdown: Some(shutdown),
        task: Some(task),
        writer,
    })
}
