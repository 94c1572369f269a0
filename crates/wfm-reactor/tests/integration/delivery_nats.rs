//! The NATS JetStream sink against a real server: structured CloudEvents with
//! `Nats-Msg-Id`, de-duplication, dead letters for a missing stream or an unbound
//! subject, and a server outage that loses nothing and keeps the order.

use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wfm_reactor::config::{NatsSinkConfig, SinkConfig};
use wfm_reactor::sinks::{DeliveryHandle, spawn_delivery};
use wfm_reactor::store::Store;
use wfm_testkit::delivery::*;
use wfm_testkit::services::{eventually, nats, unique};

fn sink_config(url: &str, stream: &str, prefix: &str) -> NatsSinkConfig {
    NatsSinkConfig {
        name: None,
        url: url.into(),
        stream: stream.into(),
        subject: format!("{prefix}.{{type}}"),
        credentials_file: None,
        tls: None,
    }
}

async fn start(store: &Store, config: NatsSinkConfig) -> (DeliveryHandle, CancellationToken, TaskTracker) {
    let (cancel, tracker) = (CancellationToken::new(), TaskTracker::new());
    let sinks = vec![("nats".to_string(), SinkConfig::Nats(config))];
    // No pruning: the tests read the outbox back as the expected output.
    let options = wfm_reactor::sinks::DeliveryOptions {
        prune_interval: Duration::from_secs(3600),
        ..fast_options()
    };
    let handle = spawn_delivery(store.clone(), sinks, options, cancel.clone(), &tracker)
        .await
        .unwrap();
    (handle, cancel, tracker)
}

async fn cursor_reaches(store: &Store, upto: u64, within: Duration) {
    let reached = eventually(
        within,
        || store.cursor("nats"),
        |c| matches!(c, Ok(Some(n)) if *n >= upto),
    )
    .await;
    if let Err(last) = reached {
        panic!("nats cursor never reached {upto}: {last:?}");
    }
}

#[tokio::test]
async fn events_land_once_each_as_structured_cloudevents_with_their_id() {
    let Some(js) = nats::jetstream_or_skip("nats publish").await else {
        return;
    };
    let (stream, prefix) = (unique("WFMT"), unique("t"));
    nats::create_stream(&js, &stream, vec![format!("{prefix}.>")]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let (_handle, cancel, _tracker) = start(&store, sink_config(&nats::url(), &stream, &prefix)).await;
    commit_presence(&store, 0, 20).await;
    cursor_reaches(&store, 20, Duration::from_secs(20)).await;

    let outbox = store.read_outbox(0, 100).await.unwrap();
    let got = nats::messages(&js, &stream).await;
    assert_eq!(got.len(), 20);
    for (m, ev) in got.iter().zip(&outbox) {
        assert_eq!(m.subject.as_str(), format!("{prefix}.presence.changed"));
        assert_eq!(m.headers.get("Nats-Msg-Id").unwrap().as_str(), ev.id);
        assert_eq!(
            m.headers.get("Content-Type").unwrap().as_str(),
            "application/cloudevents+json"
        );
        assert_eq!(
            &m.payload[..],
            ev.json.as_bytes(),
            "structured mode: the event is the body"
        );
    }

    // A repeat (as after a crash or a takeover) is a duplicate PubAck: delivered, not stored.
    let sink = wfm_reactor::sinks::NatsSink::connect(
        &sink_config(&nats::url(), &stream, &prefix),
        "again",
        DeliveryHandle::default(),
    )
    .await
    .unwrap();
    let outcome = sink.publish(&outbox[3]).await;
    assert!(
        matches!(outcome, wfm_reactor::sinks::Published::Acked { duplicate: true }),
        "{outcome:?}"
    );
    assert_eq!(nats::messages(&js, &stream).await.len(), 20);
    cancel.cancel();
    js.delete_stream(&stream).await.unwrap();
}

#[tokio::test]
async fn a_missing_stream_or_an_unbound_subject_dead_letters_and_delivery_goes_on() {
    let Some(js) = nats::jetstream_or_skip("nats dead letters").await else {
        return;
    };
    let (stream, prefix) = (unique("WFMT"), unique("t"));
    // The stream exists but binds another subject: nothing of ours can land there.
    nats::create_stream(&js, &stream, vec![format!("{prefix}.other")]).await;
    for (case, config) in [
        ("unbound subject", sink_config(&nats::url(), &stream, &prefix)),
        (
            "no such stream",
            sink_config(&nats::url(), &unique("NOPE"), &unique("u")),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let (_h, cancel, _t) = start(&store, config).await;
        commit_presence(&store, 0, 3).await;
        cursor_reaches(&store, 3, Duration::from_secs(30)).await;
        let dead = store.dead_letters().await.unwrap();
        assert_eq!(dead.len(), 3, "{case}: every event dead-lettered");
        let want = if case == "unbound subject" {
            "is not bound to stream"
        } else {
            "no such stream"
        };
        assert!(dead[0].error.contains(want), "{case}: {}", dead[0].error);
        cancel.cancel();
    }
    js.delete_stream(&stream).await.unwrap();
}

/// How long the outage lasts (the 30 s by default; shorter for a quick local run).
fn outage() -> Duration {
    std::env::var("WFM_REACTOR_TEST_NATS_OUTAGE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(30), Duration::from_secs)
}

#[tokio::test]
async fn a_nats_outage_loses_nothing_keeps_the_order_and_shows_degraded() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut server) = nats::PrivateServer::start("nats outage", &dir.path().join("js")).await else {
        return;
    };
    let js = async_nats::jetstream::new(async_nats::connect(server.url()).await.unwrap());
    nats::create_stream(&js, "OUTAGE", vec!["o.>".into()]).await;
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let (handle, cancel, _t) = start(&store, sink_config(&server.url(), "OUTAGE", "o")).await;
    commit_presence(&store, 0, 10).await;
    cursor_reaches(&store, 10, Duration::from_secs(20)).await;

    server.kill();
    let degraded = eventually(
        Duration::from_secs(10),
        || async { handle.statuses().get("nats").and_then(|s| s.last_error.clone()) },
        Option::is_some,
    )
    .await;
    assert!(
        degraded.is_ok(),
        "the sink reports the outage while the server is away"
    );
    // Events keep coming while the server is away; they wait in the outbox.
    let during = tokio::spawn({
        let store = store.clone();
        async move {
            for i in 0..10 {
                commit_presence(&store, 10 + i * 3, 3).await;
                tokio::time::sleep(outage() / 10).await;
            }
        }
    });
    during.await.unwrap();
    assert!(
        store.cursor("nats").await.unwrap().unwrap() < 40,
        "nothing acknowledged while away"
    );
    server.restart().await;
    cursor_reaches(&store, 40, Duration::from_secs(90)).await;
    eventually(
        Duration::from_secs(10),
        || async { handle.statuses()["nats"].last_error.clone() },
        Option::is_none,
    )
    .await
    .expect("degraded clears once delivering again");

    let js = async_nats::jetstream::new(async_nats::connect(server.url()).await.unwrap());
    let got = nats::messages(&js, "OUTAGE").await;
    let seqs: Vec<u64> = got
        .iter()
        .map(|m| {
            let v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
            v["sequence"].as_str().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(
        seqs,
        (1..=40).collect::<Vec<_>>(),
        "each event once, in sequence order"
    );
    cancel.cancel();
}
