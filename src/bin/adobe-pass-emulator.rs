//! The Adobe Pass emulator on its own: REST API V2, DCR and a mock MVPD login.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use clap::Parser;
use tve_activate::{
    emulator::{
        self, Dataset, EmulatorSettings, Fault, FaultRule, FaultSet, Readings, TempPassSettings,
        Ttls,
    },
    http::shutdown,
};

/// Adobe Pass REST API V2 + Dynamic Client Registration emulator with a mock MVPD login.
#[derive(Debug, Parser)]
#[command(name = "adobe-pass-emulator", version)]
struct Args {
    /// Address and port to listen on.
    #[arg(long, env = "EMULATOR_LISTEN", default_value = "127.0.0.1:8090")]
    listen: SocketAddr,

    /// Origin browsers and clients reach the emulator at. Defaults to http://<listen>.
    #[arg(long, env = "EMULATOR_PUBLIC_URL")]
    public_url: Option<url::Url>,

    /// JSON data file replacing the built-in dataset (service provider, MVPDs, resources,
    /// accounts).
    #[arg(long, env = "EMULATOR_DATA")]
    data: Option<PathBuf>,

    /// Software statement accepted at registration.
    #[arg(long, env = "EMULATOR_SOFTWARE_STATEMENT", default_value = emulator::DEFAULT_SOFTWARE_STATEMENT)]
    software_statement: String,

    /// PEM RSA public key file of the programmer; the --encrypted-attributes are then
    /// encrypted. Without it they are sent plain.
    #[arg(long, env = "EMULATOR_PROGRAMMER_PUBLIC_KEY")]
    programmer_public_key: Option<PathBuf>,

    /// Profile attributes the programmer key encrypts, comma-separated (for example
    /// zip,maxRating).
    #[arg(
        long,
        env = "EMULATOR_ENCRYPTED_ATTRIBUTES",
        value_delimiter = ',',
        default_value = "zip"
    )]
    encrypted_attributes: Vec<String>,

    /// Access token lifetime in seconds.
    #[arg(long, env = "EMULATOR_ACCESS_TOKEN_TTL", default_value_t = 21_600)]
    access_token_ttl: u64,

    /// Authentication session (code) lifetime in seconds.
    #[arg(long, env = "EMULATOR_SESSION_TTL", default_value_t = 1_800)]
    session_ttl: u64,

    /// Profile lifetime in seconds.
    #[arg(long, env = "EMULATOR_PROFILE_TTL", default_value_t = 2_592_000)]
    profile_ttl: u64,

    /// Throttling per device IP (1 request/s, burst 10, 429 for 1 s): on or off.
    #[arg(long, env = "EMULATOR_THROTTLING", default_value_t = true, action = clap::ArgAction::Set)]
    throttling: bool,

    /// Whether a throttle bucket's burst of 10 comes back after idling (§12 says "one-time
    /// initial burst"; off by default).
    #[arg(long, env = "EMULATOR_BURST_REFILLS", default_value_t = false, action = clap::ArgAction::Set)]
    burst_refills: bool,

    /// Added latency in milliseconds on matching requests (0: none).
    #[arg(long, env = "EMULATOR_FAULT_LATENCY_MS", default_value_t = 0)]
    fault_latency_ms: u64,

    /// Error status (500 or 503) answered on matching requests.
    #[arg(long, env = "EMULATOR_FAULT_STATUS")]
    fault_status: Option<u16>,

    /// Close matching connections without an answer.
    #[arg(long, env = "EMULATOR_FAULT_RESET")]
    fault_reset: bool,

    /// Share of matching requests the faults hit, 0.0–1.0.
    #[arg(long, env = "EMULATOR_FAULT_RATE", default_value_t = 1.0)]
    fault_rate: f64,

    /// Faults hit only paths starting with this (for example /api/v2/REF30/decisions).
    #[arg(long, env = "EMULATOR_FAULT_PATH_PREFIX")]
    fault_path_prefix: Option<String>,

    /// JSON fault set file ({"rules": [...]}, as GET/PUT /__emulator/faults), added to the
    /// fault flags.
    #[arg(long, env = "EMULATOR_FAULTS")]
    faults: Option<PathBuf>,

    /// JSON file keeping registered clients, access tokens, sessions, profiles and TempPass
    /// uses across restarts; written after each change, created if missing. Without it
    /// everything is forgotten on exit.
    #[arg(long, env = "EMULATOR_STATE_FILE")]
    state_file: Option<PathBuf>,

    /// Take any Accept header (as Adobe's samples send application/json). Off: an Accept other
    /// than application/json;charset=utf-8 gets 406, as every API page reads.
    #[arg(long, env = "EMULATOR_ANY_ACCEPT", default_value_t = false, action = clap::ArgAction::Set)]
    any_accept: bool,

    /// S2 and P3 without AP-Device-Identifier, and P3 answered for any device (the API pages'
    /// header tables). Off: both require it and P3 shows a sign-in only to the session's device
    /// (the secondary-application flow).
    #[arg(long, env = "EMULATOR_UNBOUND_CODE_CALLS", default_value_t = false, action = clap::ArgAction::Set)]
    unbound_code_calls: bool,

    /// P2 shows a TempPass never played as it would run from now (a lenient reading of
    /// Adobe's TempPass flows); off: no profile until the first authorization starts it.
    #[arg(long, env = "EMULATOR_TEMP_PASS_PROFILE_BEFORE_FIRST_PLAY", default_value_t = false, action = clap::ArgAction::Set)]
    temp_pass_profile_before_first_play: bool,

    /// TempPass MVPD ids whose configuration is broken, comma-separated: P2 answers 500
    /// invalid_configuration_temporary_access and decisions deny with it.
    #[arg(long, env = "EMULATOR_TEMP_PASS_MISCONFIGURED", value_delimiter = ',')]
    temp_pass_misconfigured: Vec<String>,
}

impl Args {
    fn fault_set(&self) -> Result<FaultSet, String> {
        let mut set = match &self.faults {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
                .and_then(|text| {
                    serde_json::from_str(&text)
                        .map_err(|e| format!("{} is not a fault set: {e}", path.display()))
                })?,
            None => FaultSet::default(),
        };
        let rule = |fault| FaultRule {
            fault,
            path_prefix: self.fault_path_prefix.clone(),
            method: None,
            rate: self.fault_rate,
            times: None,
        };
        if self.fault_latency_ms > 0 {
            set.rules.push(rule(Fault::Latency {
                millis: self.fault_latency_ms,
            }));
        }
        if let Some(status) = self.fault_status {
            set.rules.push(rule(Fault::Error { status }));
        }
        if self.fault_reset {
            set.rules.push(rule(Fault::Reset));
        }
        Ok(set)
    }

    fn settings(&self) -> Result<EmulatorSettings, String> {
        let dataset = match &self.data {
            Some(path) => Dataset::from_file(path).map_err(|e| e.to_string())?,
            None => Dataset::default(),
        };
        let programmer_public_key_pem = self
            .programmer_public_key
            .as_ref()
            .map(|path| {
                std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))
            })
            .transpose()?;
        Ok(EmulatorSettings {
            listen: self.listen,
            public_url: self.public_url.clone(),
            dataset,
            software_statement: self.software_statement.clone(),
            ttls: Ttls {
                access_token: Duration::from_secs(self.access_token_ttl),
                session: Duration::from_secs(self.session_ttl),
                profile: Duration::from_secs(self.profile_ttl),
            },
            throttling: self.throttling,
            burst_refills: self.burst_refills,
            faults: self.fault_set()?,
            programmer_public_key_pem,
            encrypted_attributes: self.encrypted_attributes.clone(),
            state_file: self.state_file.clone(),
            readings: Readings {
                any_accept: self.any_accept,
                unbound_code_calls: self.unbound_code_calls,
            },
            temp_pass: TempPassSettings {
                profile_before_first_play: self.temp_pass_profile_before_first_play,
                misconfigured: self.temp_pass_misconfigured.clone(),
            },
            ..EmulatorSettings::default()
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let settings = match args.settings() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("adobe-pass-emulator: {err}");
            return ExitCode::from(2);
        }
    };
    let running = match emulator::spawn(settings).await {
        Ok(running) => running,
        Err(err) => {
            eprintln!("adobe-pass-emulator: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("adobe-pass-emulator listening on {}", running.base_url());
    shutdown::signal().await;
    match running.stop().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("adobe-pass-emulator: {err}");
            ExitCode::FAILURE
        }
    }
}
