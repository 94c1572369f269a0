//! `GET /v1/events`: the live feed that misses nothing.
//!
//! Each SSE `id:` is the event's `sequence`. A client that reconnects with `Last-Event-ID`
//! (or `?after=SEQ`) first gets every event after that sequence the outbox still keeps,
//! then the live stream; asking for pruned history gets one `event: reset` whose data is
//! the oldest sequence still kept (re-read `/v1/state`), then the rest. The live broadcast
//! is subscribed before the outbox is read, so nothing committed in between is lost, and
//! events already replayed are skipped by sequence. A client that lags behind the
//! broadcast is caught up from the outbox the same way instead of being dropped.

use axum::response::sse::Event;
use futures::Stream;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast;

use crate::store::Store;

/// Events read from the outbox per page while replaying.
const PAGE: usize = 256;

/// Where a client wants the feed to start.
pub(super) fn start_after(last_event_id: Option<&str>, after: Option<&str>) -> Option<u64> {
    last_event_id.or(after).and_then(|s| s.trim().parse::<u64>().ok())
}

/// The `sequence` of a rendered event (`render` writes it in a fixed place; the full
/// parse is the fallback).
fn sequence_of(json: &str) -> Option<u64> {
    const KEY: &str = "\"sequence\":\"";
    let i = json.find(KEY)? + KEY.len();
    let end = json[i..].find('"')? + i;
    json[i..end].parse().ok()
}

fn cloudevent(seq: u64, json: &str) -> Event {
    Event::default()
        .event("cloudevent")
        .id(seq.to_string())
        .data(json)
}

/// One client's position in the feed.
struct Feed {
    store: Store,
    live: broadcast::Receiver<Arc<str>>,
    /// The last sequence sent (0: none yet).
    last: u64,
    /// Still reading the outbox (live events wait in the broadcast meanwhile).
    replaying: bool,
    pending: VecDeque<Event>,
}

impl Feed {
    /// Reads the next page after `last`; sends a reset first when `last` was pruned.
    async fn page(&mut self) {
        match self.store.oldest_sequence().await {
            Ok(Some(oldest)) if oldest > self.last + 1 => self.reset(oldest),
            Ok(None) => {
                let newest = *self.store.committed().borrow();
                if newest > self.last {
                    self.reset(newest + 1);
                    self.last = newest;
                }
            }
            _ => {}
        }
        match self.store.read_outbox(self.last, PAGE).await {
            Ok(rows) => {
                self.replaying = rows.len() == PAGE;
                for r in rows {
                    self.last = r.seq;
                    self.pending.push_back(cloudevent(r.seq, &r.json));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "SSE replay: outbox read failed; continuing live");
                self.replaying = false;
            }
        }
    }

    fn reset(&mut self, oldest: u64) {
        crate::telemetry::ops::sse_client_reset();
        self.pending
            .push_back(Event::default().event("reset").data(oldest.to_string()));
        self.last = oldest.saturating_sub(1);
    }

    /// The next SSE event, `None` when the feed closed.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some(e);
            }
            if self.replaying {
                self.page().await;
                continue;
            }
            match self.live.recv().await {
                Ok(json) => match sequence_of(&json) {
                    Some(seq) if seq <= self.last => continue,
                    Some(seq) => {
                        self.last = seq;
                        return Some(cloudevent(seq, &json));
                    }
                    None => return Some(Event::default().event("cloudevent").data(&*json)),
                },
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // Catch up from the outbox rather than drop the client.
                    crate::telemetry::ops::sse_client_lagged(missed);
                    self.replaying = true;
                }
                // The live-feed slot (and its gauge) is freed when the stream is dropped.
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// The feed for one client: replay after `after` (when given), then live.
pub(super) fn stream(
    store: Store,
    live: broadcast::Receiver<Arc<str>>,
    after: Option<u64>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let feed = Feed {
        store,
        live,
        last: after.unwrap_or(0),
        replaying: after.is_some(),
        pending: VecDeque::new(),
    };
    futures::stream::unfold(feed, |mut f| async move { f.next().await.map(|e| (Ok(e), f)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    use futures::StreamExt;

    fn event(n: u32) -> crate::events::NewEvent {
        crate::events::NewEvent::presence_changed(
            "h",
            &crate::events::PresenceChanged {
                user_id: format!("u{n}"),
                system_presence: "Away".into(),
                presence_definition_id: "d".into(),
                previous: None,
                modified_date: "2026-12-01T00:00:00.000Z".into(),
                source: None,
                cause: crate::events::Cause::Notification,
            },
        )
    }

    #[tokio::test]
    async fn pruned_history_gets_one_reset_naming_the_oldest_kept_then_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        store.sync_cursors(vec!["sink".into()]).await.unwrap();
        let batch = crate::store::Batch {
            changes: vec![],
            events: (1..=5).map(event).collect(),
        };
        store.commit(batch).await.unwrap();
        store.ack("sink", 3, vec![]).await.unwrap();
        store.prune().await.unwrap();
        let oldest = store.oldest_sequence().await.unwrap().expect("4 and 5 kept");
        assert_eq!(oldest, 4);
        let live = store.live();
        let frames: Vec<String> = stream(store.clone(), live, Some(1))
            .take(3)
            .map(|e| format!("{:?}", e.unwrap()))
            .collect()
            .await;
        assert!(
            frames[0].contains("reset") && frames[0].contains("data: 4"),
            "{frames:?}"
        );
        assert!(frames[1].contains("id: 4"), "{frames:?}");
        assert!(frames[2].contains("id: 5"), "{frames:?}");
    }

    #[test]
    fn the_sequence_is_read_from_a_rendered_event() {
        let e = event(1);
        assert_eq!(sequence_of(&e.render(4711)), Some(4711));
        assert_eq!(start_after(Some(" 12 "), Some("3")), Some(12));
        assert_eq!(start_after(None, Some("3")), Some(3));
        assert_eq!(start_after(Some("x"), None), None);
    }
}
