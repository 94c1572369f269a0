//! The live feed misses nothing: SSE ids are sequences, and a client that reconnects with
//! `Last-Event-ID` (or `?after=`) gets exactly the events it missed, in order, then live.

use futures::StreamExt;
use std::time::Duration;
use wfm_testkit::{Daemon, DaemonBuilder, SimBuilder, eventually, file_events};

const READY: Duration = Duration::from_secs(8);
const WAIT: Duration = Duration::from_secs(8);

/// One parsed SSE frame.
#[derive(Debug, Clone)]
struct Frame {
    event: String,
    id: Option<u64>,
    data: String,
}

/// Reads SSE frames until `want` holds for what was read (or the deadline passes).
async fn read_frames(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    what: &str,
    want: impl Fn(&[Frame]) -> bool,
) -> Vec<Frame> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let (mut buf, mut frames) = (String::new(), Vec::new());
    while !want(&frames) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("{what}: SSE frames within {WAIT:?}; so far {frames:#?}"))
            .expect("stream open")
            .expect("chunk");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let raw: String = buf.drain(..end + 2).collect();
            let mut f = Frame {
                event: "message".into(),
                id: None,
                data: String::new(),
            };
            for line in raw.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    f.event = v.trim().into();
                } else if let Some(v) = line.strip_prefix("id:") {
                    f.id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("data:") {
                    f.data.push_str(v.trim_start());
                }
            }
            if !f.data.is_empty() || f.event != "message" {
                frames.push(f);
            }
        }
    }
    frames
}

async fn connect(
    d: &Daemon,
    last_event_id: Option<u64>,
) -> impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> {
    let mut req = d.http.get(format!("{}/v1/events", d.admin));
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    let resp = req.send().await.expect("sse connect");
    assert_eq!(resp.status(), 200);
    resp.bytes_stream()
}

fn cloudevents(frames: &[Frame]) -> Vec<&Frame> {
    frames.iter().filter(|f| f.event == "cloudevent").collect()
}

fn seq_of(e: &serde_json::Value) -> u64 {
    e["sequence"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reconnects_with_last_event_id_gets_exactly_what_it_missed_then_live() {
    let d = DaemonBuilder::ops().start(SimBuilder::ops().start().await).await;
    d.wait_ready(READY).await;
    let agents = d.agents();
    let mut first = connect(&d, None).await;
    d.sim
        .set_presence(&agents[0], "Training", true)
        .expect("presence");
    let seen = read_frames(&mut first, "first", |f| !cloudevents(f).is_empty()).await;
    let last = cloudevents(&seen)[0];
    let last_id = last.id.expect("every event has an id");
    let last_json: serde_json::Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(seq_of(&last_json), last_id, "the SSE id is the event's sequence");
    drop(first); // the laptop sleeps

    for (a, p) in agents[1..4].iter().zip(["Meeting", "Break", "Meal"]) {
        d.sim.set_presence(a, p, true).expect("presence");
    }
    let dir = d.dir.path().to_path_buf();
    eventually("the three missed events in the file sink", || {
        let n = file_events(&dir).iter().filter(|e| seq_of(e) > last_id).count();
        async move { n >= 3 }
    })
    .await;
    let missed: Vec<serde_json::Value> = file_events(&dir)
        .into_iter()
        .filter(|e| seq_of(e) > last_id)
        .collect();

    let mut again = connect(&d, Some(last_id)).await;
    let replayed = read_frames(&mut again, "replay", |f| cloudevents(f).len() >= missed.len()).await;
    let got: Vec<serde_json::Value> = cloudevents(&replayed)
        .iter()
        .map(|f| serde_json::from_str(&f.data).unwrap())
        .collect();
    assert_eq!(got, missed, "exactly the missed events, in order");
    let users: Vec<&str> = got
        .iter()
        .filter(|e| e["type"] == "presence.changed")
        .map(|e| e["data"]["userId"].as_str().unwrap())
        .collect();
    assert_eq!(users, agents[1..4].iter().map(String::as_str).collect::<Vec<_>>());

    // ... then live, without a repeat.
    d.sim
        .set_presence(&agents[4], "Training", true)
        .expect("presence");
    let more = read_frames(&mut again, "live", |f| !cloudevents(f).is_empty()).await;
    let next: serde_json::Value = serde_json::from_str(&cloudevents(&more)[0].data).unwrap();
    assert_eq!(seq_of(&next), seq_of(missed.last().unwrap()) + 1);
    assert_eq!(next["data"]["userId"], agents[4].as_str());

    // `?after=` is the same for clients that cannot set headers.
    let resp = d
        .http
        .get(format!("{}/v1/events?after={last_id}", d.admin))
        .send()
        .await
        .unwrap();
    let mut by_query = resp.bytes_stream();
    let q = read_frames(&mut by_query, "after", |f| !cloudevents(f).is_empty()).await;
    assert_eq!(cloudevents(&q)[0].id, Some(last_id + 1));
}
