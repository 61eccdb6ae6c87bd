//! The activation's server-sent events, read with `fetch` (an `EventSource` cannot send the
//! device token): the body's `ReadableStream`, split into lines, `status` events parsed.

use js_sys::{Reflect, Uint8Array};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::ReadableStreamDefaultReader;

use super::{is_final, send};

/// Follows `GET /tv/v1/activations/{code}/events` until a final status, and returns it;
/// `None` when the stream cannot be opened, fails or ends first.
pub async fn final_status(code: &str) -> Option<Value> {
    let path = format!("/tv/v1/activations/{code}/events");
    let response = send("GET", &path, None, "text/event-stream").await.ok()?;
    if response.status() != 200 {
        return None;
    }
    let reader: ReadableStreamDefaultReader = response.body()?.get_reader().dyn_into().ok()?;
    let mut lines = Lines::default();
    let mut event = Event::default();
    loop {
        let chunk = JsFuture::from(reader.read()).await.ok()?;
        if Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()?
            .is_truthy()
        {
            return None;
        }
        let bytes = Reflect::get(&chunk, &JsValue::from_str("value")).ok()?;
        for line in lines.push(&Uint8Array::new(&bytes).to_vec()) {
            if let Some(status) = event.line(&line).filter(is_final) {
                let _ = reader.cancel();
                return Some(status);
            }
        }
    }
}

/// Bytes received so far, cut into complete lines.
#[derive(Default)]
struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// Adds `bytes` and returns the lines they complete, without their line endings.
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..end]);
            lines.push(text.trim_end_matches('\r').to_owned());
        }
        lines
    }
}

/// The event being read: its name and data lines.
#[derive(Default)]
struct Event {
    name: String,
    data: String,
}

impl Event {
    /// Takes one line; a blank line dispatches the event, giving the status of a `status` event.
    fn line(&mut self, line: &str) -> Option<Value> {
        if line.is_empty() {
            let event = std::mem::take(self);
            return (event.name == "status")
                .then(|| serde_json::from_str(&event.data).ok())
                .flatten();
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.name = value.to_owned(),
            "data" if self.data.is_empty() => self.data = value.to_owned(),
            "data" => {
                self.data.push('\n');
                self.data.push_str(value);
            }
            _ => {}
        }
        None
    }
}
