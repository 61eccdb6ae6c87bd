//! The soak: many activations through a fresh service, each superseding its TV's last, codes
//! living seconds; afterwards nothing may stay behind (no pending activation, no watcher) and
//! memory must come back near where it started.

use std::time::Duration;

use futures_util::{stream, StreamExt as _};

use crate::{
    flows::{client_from, household, Tv},
    procs::{self, megabytes},
    Row, Size,
};

/// TVs taking turns (each starts an activation, asks for its status once, starts the next).
const TVS: usize = 200;
/// How long the soak's codes live at the emulator.
const CODE_LIFETIME: Duration = Duration::from_secs(5);

/// A gauge of the service's `/metrics` (`None` when absent); `name` with its labels as
/// exposed, such as `tve_waiting_tvs{wait="event_stream"}`.
pub async fn gauge(http: &reqwest::Client, internal: &str, name: &str) -> Option<f64> {
    let text = http
        .get(format!("{internal}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines().find_map(|line| {
        line.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|value| value.parse().ok())
    })
}

pub async fn run(size: Size) -> Row {
    let data = tempfile::tempdir().expect("temporary folder");
    let emulator = procs::emulator(CODE_LIFETIME).await;
    let service = procs::service(
        &emulator,
        &procs::sqlite_in(data.path()),
        &crate::site_root(),
    )
    .await;
    let base = service.base_url.clone();
    let internal = service.internal_url.clone().unwrap_or_default();
    let tvs: Vec<Tv> = stream::iter(0..TVS)
        .map(|n| {
            let base = base.clone();
            async move {
                Tv::register(
                    client_from(household(20_000 + n / 8)),
                    &base,
                    &format!("soak-{n}"),
                )
                .await
            }
        })
        .buffer_unordered(32)
        .filter_map(|tv| async move { tv.ok() })
        .collect()
        .await;
    let mut errors = (TVS - tvs.len()) as u64;
    let started_rss = service.rss_bytes();
    let rounds = size.soak_activations.div_ceil(tvs.len().max(1));
    let results: Vec<u64> = stream::iter(tvs)
        .map(|tv| {
            let base = base.clone();
            async move {
                let mut failed = 0;
                for _ in 0..rounds {
                    let Ok(code) = tv.start_activation(&base).await else {
                        failed += 1;
                        continue;
                    };
                    let status = tv
                        .http
                        .get(format!("{base}/tv/v1/activations/{code}"))
                        .bearer_auth(&tv.token)
                        .send()
                        .await;
                    if !status.is_ok_and(|answer| answer.status().is_success()) {
                        failed += 1;
                    }
                }
                failed
            }
        })
        .buffer_unordered(TVS)
        .collect()
        .await;
    errors += results.iter().sum::<u64>();
    let peak_rss = service.rss_bytes();
    // The last codes expire; their watchers notice within a few seconds and end.
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + CODE_LIFETIME + Duration::from_secs(30);
    let mut pending = gauge(&http, &internal, "tve_pending_activations").await;
    let mut watchers = gauge(&http, &internal, "tve_activation_watchers").await;
    while tokio::time::Instant::now() < deadline && (pending != Some(0.0) || watchers != Some(0.0))
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
        pending = gauge(&http, &internal, "tve_pending_activations").await;
        watchers = gauge(&http, &internal, "tve_activation_watchers").await;
    }
    let ended_rss = service.rss_bytes();
    let settled = pending == Some(0.0) && watchers == Some(0.0);
    let grown = megabytes(ended_rss) - megabytes(started_rss);
    Row {
        scenario: "soak: activations through a fresh service, each superseding its TV's last",
        figure: format!(
            "{} activations; RSS {:.0} MB → peak {:.0} MB → {:.0} MB after; pending {}, watchers {}; {errors} errors",
            rounds * TVS,
            megabytes(started_rss),
            megabytes(peak_rss),
            megabytes(ended_rss),
            pending.map_or("?".to_owned(), |v| v.to_string()),
            watchers.map_or("?".to_owned(), |v| v.to_string()),
        ),
        ceiling: "–".to_owned(),
        goal: "nothing left; RSS back within 20 MB of its start",
        met: settled && errors == 0 && grown <= 20.0,
        errors: errors + u64::from(!settled),
    }
}
