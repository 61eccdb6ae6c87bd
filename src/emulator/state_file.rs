//! The emulator's state file: registered clients, access tokens, sessions, profiles and
//! TempPass uses, loaded at start and rewritten after each change, so an emulator restarted
//! on the same file knows every client and viewer it knew before.
//!
//! Each write goes to a temporary file in the same folder, is flushed to disk and then
//! renamed over the state file, so a crash leaves either the previous or the new state,
//! never a mix. Client secrets and access tokens are kept only as SHA-256 digests.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::emulator::state::{EmulatorState, Store};

/// The format this version writes and reads.
const VERSION: u32 = 1;

/// How long a failed write waits before it is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// The file exists but cannot be read, or its folder cannot be created.
    #[error("emulator state file {path}: cannot read it: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not a state file this version understands.
    #[error(
        "emulator state file {path} is corrupt ({reason}); fix it, or move it away to start \
         with an empty emulator state"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong, without quoting the content.
        reason: String,
    },
    /// The state could not be written.
    #[error("emulator state file {path}: cannot write it: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// What is written: the format version and the store.
#[derive(Serialize)]
struct DocumentRef<'a> {
    version: u32,
    state: &'a Store,
}

/// Read first, so a file from another version is named as such.
#[derive(Deserialize)]
struct Version {
    version: u32,
}

/// Read once the version is known to be [`VERSION`].
#[derive(Deserialize)]
struct Document {
    state: Store,
}

/// Reads the state at `path`; a missing file is an empty state (its folder is created so
/// that the first write succeeds).
pub fn load(path: &Path) -> Result<Store, StateFileError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(folder(path)).map_err(|source| StateFileError::Read {
                path: path.to_owned(),
                source,
            })?;
            return Ok(Store::default());
        }
        Err(source) => {
            return Err(StateFileError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    let corrupt = |reason: String| StateFileError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let version: Version = serde_json::from_slice(&bytes).map_err(|e| corrupt(describe(&e)))?;
    if version.version != VERSION {
        return Err(corrupt(format!(
            "format version {} where {VERSION} is expected",
            version.version
        )));
    }
    let document: Document = serde_json::from_slice(&bytes).map_err(|e| corrupt(describe(&e)))?;
    Ok(document.state)
}

/// A JSON error's kind and place; serde's own message can quote values from the file.
fn describe(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "not the expected structure",
        serde_json::error::Category::Eof => "cut short",
    };
    format!("{kind} at line {} column {}", error.line(), error.column())
}

fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn encode(state: &EmulatorState, path: &Path) -> Result<Vec<u8>, StateFileError> {
    state
        .inspect(|store| {
            serde_json::to_vec_pretty(&DocumentRef {
                version: VERSION,
                state: store,
            })
        })
        .map_err(|e| StateFileError::Write {
            path: path.to_owned(),
            source: io::Error::other(describe(&e)),
        })
}

/// Replaces the file at `path` with `bytes` in one step: temporary file, flush, rename.
fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let folder = folder(path);
    let mut temp = tempfile::Builder::new()
        .prefix(".emulator-state-")
        .tempfile_in(folder)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    // The rename itself is durable once the folder is flushed.
    #[cfg(unix)]
    std::fs::File::open(folder)?.sync_all()?;
    Ok(())
}

async fn write(path: &Path, bytes: Vec<u8>) -> Result<(), StateFileError> {
    let target = path.to_owned();
    tokio::task::spawn_blocking(move || replace(&target, &bytes))
        .await
        .map_err(io::Error::other)
        .and_then(|written| written)
        .map_err(|source| StateFileError::Write {
            path: path.to_owned(),
            source,
        })
}

/// Writes the state to `path` after each change until `stop` fires (or its sender is
/// dropped), then writes a last time. A failed write is logged and retried; only the last
/// write's failure is returned.
pub async fn keep_written(
    state: EmulatorState,
    path: PathBuf,
    mut stop: oneshot::Receiver<()>,
) -> Result<(), StateFileError> {
    let mut written: Option<Vec<u8>> = None;
    let mut retry = false;
    loop {
        let stopping = tokio::select! {
            () = state.changed() => false,
            () = tokio::time::sleep(RETRY_AFTER), if retry => false,
            _ = &mut stop => true,
        };
        let saved = match encode(&state, &path) {
            Ok(bytes) if written.as_deref() == Some(bytes.as_slice()) => Ok(()),
            Ok(bytes) => write(&path, bytes.clone())
                .await
                .map(|()| written = Some(bytes)),
            Err(error) => Err(error),
        };
        retry = match saved {
            Ok(()) => false,
            Err(error) if stopping => return Err(error),
            Err(error) => {
                tracing::error!(%error, "emulator state not saved; retrying");
                true
            }
        };
        if stopping {
            return Ok(());
        }
    }
}
