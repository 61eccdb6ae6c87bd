//! The JSON lines sink: one event a line, appended to a file or written to standard output.

use std::{io::Write, path::PathBuf, sync::Arc};

use prometheus_client::metrics::counter::Counter;
use tokio::sync::mpsc;

use super::Encoded;

/// The sink's label in `tve_events_dropped_total`.
pub(super) const SINK: &str = "file";

/// Most events written at once.
const BATCH: usize = 256;

/// Where the JSON lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventFile {
    /// Standard output (`--events-file -`).
    Stdout,
    /// A file, appended to (created when missing).
    Path(PathBuf),
}

/// An open file or standard output.
type Writer = Box<dyn Write + Send>;

impl EventFile {
    fn open(&self) -> std::io::Result<Writer> {
        Ok(match self {
            Self::Stdout => Box::new(std::io::stdout()),
            Self::Path(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
        })
    }

    /// Writes `text` through `writer`, opening the target first when there is none; gives the
    /// writer back for the next batch.
    fn write(&self, writer: Option<Writer>, text: &str) -> std::io::Result<Writer> {
        let mut writer = match writer {
            Some(writer) => writer,
            None => self.open()?,
        };
        writer.write_all(text.as_bytes())?;
        writer.flush()?;
        Ok(writer)
    }
}

/// Writes what `queue` brings, a batch at a time (on the blocking pool, as file writes block),
/// until every sender is gone; a batch that cannot be written is counted in `dropped`, and the
/// file is opened afresh for the next.
pub(super) async fn run(
    target: EventFile,
    mut queue: mpsc::Receiver<Arc<Encoded>>,
    dropped: Counter,
) {
    let mut out = None;
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let lines = batch.len() as u64;
        let mut text = String::new();
        for event in batch.drain(..) {
            text.push_str(&event.line);
            text.push('\n');
        }
        let (target, writer) = (target.clone(), out.take());
        match tokio::task::spawn_blocking(move || target.write(writer, &text)).await {
            Ok(Ok(writer)) => out = Some(writer),
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot write the events file");
                dropped.inc_by(lines);
            }
            Err(error) => {
                tracing::warn!(%error, "the events file writer stopped");
                dropped.inc_by(lines);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_appended_and_an_unwritable_file_counts_drops() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, "{\"earlier\":true}\n").expect("earlier line");
        let (sender, receiver) = mpsc::channel(4);
        let dropped = Counter::default();
        let task = tokio::spawn(run(
            EventFile::Path(path.clone()),
            receiver,
            dropped.clone(),
        ));
        for id in ["a", "b"] {
            let line = format!("{{\"id\":\"{id}\"}}");
            let event = Encoded {
                id: id.to_owned(),
                kind: "logout",
                line,
            };
            sender.send(Arc::new(event)).await.expect("queued");
        }
        drop(sender);
        task.await.expect("sink ends with its senders");
        let text = std::fs::read_to_string(&path).expect("file");
        assert_eq!(text, "{\"earlier\":true}\n{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
        assert_eq!(dropped.get(), 0);

        let (sender, receiver) = mpsc::channel(4);
        let nowhere = EventFile::Path(dir.path().join("missing").join("events.jsonl"));
        let task = tokio::spawn(run(nowhere, receiver, dropped.clone()));
        let event = Encoded {
            id: "c".to_owned(),
            kind: "logout",
            line: "{}".to_owned(),
        };
        sender.send(Arc::new(event)).await.expect("queued");
        drop(sender);
        task.await.expect("sink ends");
        assert_eq!(dropped.get(), 1);
    }
}
