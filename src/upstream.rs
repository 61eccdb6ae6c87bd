//! Which Adobe Pass the service talks to: the embedded emulator (started here, on its own
//! loopback port, its state kept beside the SQLite store) or a configured environment; and
//! the client for it.

use std::{path::PathBuf, sync::Arc};

use url::Url;

use crate::{
    adobe_pass::{
        AdobePass, AdobePassError, ClientSettings, Environment, Secret, Sharing, ThrottleSettings,
    },
    clock::SharedClock,
    config::{Config, StoreUrl, Upstream},
    emulator::{
        self, responses::Domain, Dataset, EmulatorError, EmulatorSettings, RunningEmulator, Ttls,
    },
    store::{CredentialsInStore, SharedStore},
};

/// Why the upstream could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The embedded emulator did not start.
    #[error("embedded Adobe Pass emulator: {0}")]
    Emulator(#[from] EmulatorError),
    /// The client could not be built.
    #[error("Adobe Pass client: {0}")]
    Client(#[from] AdobePassError),
    /// The emulator's address is not a URL.
    #[error("embedded Adobe Pass emulator address {0:?} is not a URL")]
    Address(String),
}

/// The client, and the emulator behind it when embedded (it stops when this is dropped).
#[derive(Debug)]
pub struct Connected {
    /// The Adobe Pass client.
    pub adobe: AdobePass,
    /// The embedded emulator, if that is the upstream.
    pub emulator: Option<RunningEmulator>,
}

/// Where the embedded emulator keeps its state for a store: beside a SQLite file, with the
/// extension `emulator.json` (`data/tve-activate.db` → `data/tve-activate.emulator.json`), so
/// the DCR clients whose credentials the store keeps, and the viewers' profiles, survive a
/// restart; nowhere for a memory store.
pub fn emulator_state_file(store: &StoreUrl) -> Option<PathBuf> {
    match store {
        StoreUrl::Sqlite(path) => Some(path.with_extension("emulator.json")),
        // A shared store never runs the embedded emulator (see the configuration's checks).
        StoreUrl::Memory | StoreUrl::Postgres { .. } => None,
    }
}

/// Starts the embedded emulator when no Adobe Pass URL is configured, and builds the client,
/// persisting each device's client credentials in `store`; against a remote Adobe Pass the
/// client shares with the other nodes what `sharing` says.
pub async fn connect(
    config: &Config,
    store: SharedStore,
    clock: SharedClock,
    sharing: Sharing,
) -> Result<Connected, UpstreamError> {
    let credentials = Arc::new(CredentialsInStore(store));
    match &config.upstream {
        Upstream::Remote {
            base_url,
            software_statement,
            platform_statements,
        } => {
            let mut settings = ClientSettings {
                redirect_uri: config.dcr_redirect_uri.clone(),
                platform_statements: platform_statements.clone(),
                budgets: config.budgets,
                ..ClientSettings::new(
                    Environment::Custom(base_url.clone()),
                    config.service_provider.clone(),
                    software_statement.clone(),
                )
            };
            let mut sharing = sharing;
            if !config.adobe_throttle {
                settings.throttle = ThrottleSettings::unlimited();
                sharing.throttle = None;
            }
            Ok(Connected {
                adobe: AdobePass::with_sharing(settings, credentials, clock, sharing)?,
                emulator: None,
            })
        }
        Upstream::Embedded => {
            let emulator = emulator::spawn(EmulatorSettings {
                dataset: embedded_dataset(config),
                // The embedded world encrypts for the configured key, as Adobe would.
                programmer_public_key_pem: config
                    .metadata_keys
                    .as_ref()
                    .and_then(|keys| keys.primary_public_key_pem()),
                clock: clock.clone(),
                state_file: emulator_state_file(&config.store),
                ttls: Ttls {
                    session: config.emulator_session_ttl,
                    ..Ttls::default()
                },
                ..EmulatorSettings::default()
            })
            .await?;
            let base_url = Url::parse(emulator.base_url())
                .map_err(|_| UpstreamError::Address(emulator.base_url().to_owned()))?;
            let mut settings = ClientSettings::new(
                Environment::Custom(base_url),
                config.service_provider.clone(),
                Secret::new(emulator.software_statement()),
            );
            settings.budgets = config.budgets;
            // Every caller of a local demo shares the loopback address, so per-IP throttling
            // would make them queue behind each other; the emulator throttles nothing either.
            settings.throttle = ThrottleSettings::unlimited();
            Ok(Connected {
                adobe: AdobePass::new(settings, credentials, clock)?,
                emulator: Some(emulator),
            })
        }
    }
}

/// The embedded emulator's world, whose registered application lists this deployment's
/// domain name and public host (as the programmer's own application in the TVE Dashboard
/// would), so a demo on any address signs viewers in.
fn embedded_dataset(config: &Config) -> Dataset {
    let mut dataset = Dataset::default();
    let domains = &mut dataset.service_provider.domains;
    let hosts = [
        Some(config.domain_name.as_str()),
        config.public_url.host_str(),
    ];
    for host in hosts.into_iter().flatten() {
        if !domains.iter().any(|domain| domain.name == host) {
            domains.push(Domain {
                name: host.to_owned(),
                mvpd_initiated: false,
            });
        }
    }
    dataset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emulator_state_lives_beside_a_sqlite_store_only() {
        assert_eq!(
            emulator_state_file(&StoreUrl::Sqlite("data/tve-activate.db".into())),
            Some(PathBuf::from("data/tve-activate.emulator.json"))
        );
        assert_eq!(
            emulator_state_file(&StoreUrl::Sqlite("/var/lib/tve/store".into())),
            Some(PathBuf::from("/var/lib/tve/store.emulator.json"))
        );
        assert_eq!(emulator_state_file(&StoreUrl::Memory), None);
    }
}
