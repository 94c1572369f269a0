//! Admin endpoints against a daemon running on its own simulator: readiness flips,
//! Prometheus metrics move with traffic, the SSE feed, resync and the state snapshot.

use std::time::Duration;
use wfm_testkit::eventually::poll;
use wfm_testkit::prometheus::value;
use wfm_testkit::{Daemon, DaemonBuilder, SimBuilder};

const READY: Duration = Duration::from_secs(8);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_flips_not_ready_ready_not_ready_ready() {
    // A slow first reconnect keeps the "socket dropped" window observable.
    let d = DaemonBuilder::ops()
        .extra("[notifications]\nbackoff_min = \"1s\"\nbackoff_max = \"2s\"\n")
        .start(SimBuilder::ops().start().await)
        .await;
    // Hold the first reconcile back so the initial 503 is certain.
    d.sim.fail_next("/weeks/recent/schedules", 2, 503, None);
    let (status, body) = d.readyz().await;
    if status == 503 {
        let reasons = body["reasons"].as_array().expect("reasons array");
        assert!(!reasons.is_empty(), "503 must list reasons: {body}");
        assert_eq!(body["ready"], false);
    } else {
        // Everything (token, channels, reconcile) can be done before the first probe on a
        // fast machine; the later flips still prove the transitions.
        assert_eq!(status, 200, "{body}");
    }
    d.wait_ready(READY).await;
    let (_, body) = d.readyz().await;
    assert_eq!(body["ready"], true);
    assert_eq!(body["reasons"].as_array().map(Vec::len), Some(0));

    d.sim.drop_sockets();
    let (_, body) = poll(Duration::from_secs(3), || d.readyz(), |(s, _)| *s == 503)
        .await
        .unwrap_or_else(|last| panic!("/readyz never answered 503 after the sockets dropped: {last:?}"));
    let reasons: Vec<String> = body["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("not connected") || r.contains("not subscribed")),
        "reasons name the channel: {reasons:?}"
    );
    d.wait_ready(READY).await;
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_move_with_presence_traffic() {
    let d = DaemonBuilder::ops().start(SimBuilder::ops().start().await).await;
    d.wait_ready(READY).await;
    let before = d.metrics().await;
    assert!(
        before.iter().all(|s| s.name.starts_with("wfm_reactor_")),
        "foreign metric names"
    );
    for name in [
        "wfm_reactor_rest_requests_total",
        "wfm_reactor_rest_request_seconds_count",
        "wfm_reactor_events_emitted_total",
    ] {
        assert!(
            before.iter().any(|s| s.name == name),
            "{name} missing after start"
        );
    }
    let received = |m: &[wfm_testkit::prometheus::Sample]| {
        value(
            m,
            "wfm_reactor_notifications_received_total",
            &[("kind", "presence")],
        )
    };
    let emitted = |m: &[wfm_testkit::prometheus::Sample]| value(m, "wfm_reactor_events_emitted_total", &[]);
    let (r0, e0) = (received(&before), emitted(&before));
    let agent = d.agents()[0].clone();
    d.sim.set_presence(&agent, "Training", true).expect("presence");
    d.sim.set_presence(&agent, "Meeting", true).expect("presence");
    let moved = poll(
        Duration::from_secs(5),
        || d.metrics(),
        |m| received(m) >= r0 + 2.0 && emitted(m) > e0,
    )
    .await;
    if let Err(last) = moved {
        panic!(
            "presence received {r0} -> {}, emitted {e0} -> {}",
            received(&last),
            emitted(&last)
        );
    }
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_feed_carries_emitted_events_in_order() {
    use futures::StreamExt;
    let d = DaemonBuilder::ops().start(SimBuilder::ops().start().await).await;
    d.wait_ready(READY).await;
    let resp = d
        .http
        .get(format!("{}/v1/events", d.admin))
        .send()
        .await
        .expect("sse connect");
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream();
    let agents = d.agents();
    let presences = ["Training", "Meeting", "Break"];
    for (i, a) in agents.iter().take(3).enumerate() {
        d.sim.set_presence(a, presences[i], true).expect("presence");
    }
    let mut buf = String::new();
    let mut got: Vec<serde_json::Value> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
    while got.iter().filter(|e| e["type"] == "presence.changed").count() < 3 {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("SSE events within the deadline")
            .expect("stream open")
            .expect("chunk");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            for line in frame.lines() {
                if let Some(data) = line.strip_prefix("data:") {
                    got.push(serde_json::from_str(data.trim_start()).expect("SSE data is a CloudEvent"));
                }
            }
        }
    }
    let subjects: Vec<&str> = got
        .iter()
        .filter(|e| e["type"] == "presence.changed")
        .filter_map(|e| e["data"]["userId"].as_str())
        .collect();
    let expected: Vec<&str> = agents.iter().take(3).map(String::as_str).collect();
    assert_eq!(subjects, expected, "presence events in the order they were set");
    let sequences: Vec<u64> = got
        .iter()
        .map(|e| {
            e["sequence"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("sequence")
        })
        .collect();
    assert!(
        sequences.windows(2).all(|w| w[0] < w[1]),
        "sequences increase: {sequences:?}"
    );
    // The same events, in the same order, reach the file sink.
    let ids: Vec<String> = got
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect();
    let in_file = poll(
        Duration::from_secs(5),
        || async {
            let file: Vec<String> = wfm_testkit::file_events(d.dir.path())
                .iter()
                .filter_map(|e| e["id"].as_str().map(str::to_string))
                .collect();
            file.windows(ids.len()).any(|w| w == ids.as_slice())
        },
        |held| *held,
    )
    .await
    .is_ok();
    assert!(in_file, "the SSE sequence appears contiguously in the file sink");
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_triggers_a_reconcile() {
    let d = DaemonBuilder::ops().start(SimBuilder::ops().start().await).await;
    d.wait_ready(READY).await;
    let lists = |d: &Daemon| {
        d.sim
            .request_log()
            .iter()
            .filter(|r| r.method == "GET" && r.path.contains("/weeks/recent/schedules"))
            .count()
    };
    let before = lists(&d);
    let r = d
        .http
        .post(format!("{}/v1/resync", d.admin))
        .send()
        .await
        .expect("resync");
    assert_eq!(r.status(), 202);
    let happened = poll(
        Duration::from_secs(5),
        || async { lists(&d) > before },
        |held| *held,
    )
    .await
    .is_ok();
    assert!(happened, "no schedules list call after POST /v1/resync");
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_shows_presence_and_scheduled_activity() {
    let d = DaemonBuilder::ops().start(SimBuilder::ops().start().await).await;
    d.wait_ready(READY).await;
    let agent = d.agents()[1].clone();
    d.sim.set_presence(&agent, "Meal", true).expect("presence");
    let fetch = || async {
        let (s, body) = d.get("/v1/state").await;
        assert_eq!(s, 200);
        serde_json::from_str::<serde_json::Value>(&body).expect("state JSON")
    };
    let state = poll(Duration::from_secs(5), fetch, |st| {
        st["users"][&agent]["presence"]["systemPresence"] == "Meal"
    })
    .await
    .unwrap_or_else(|last| panic!("presence not in /v1/state: {}", last["users"][&agent]));
    let users = state["users"].as_object().expect("users");
    assert_eq!(users.len(), d.agents().len(), "every watched agent is listed");
    let now = chrono::Utc::now();
    for (user, entry) in users {
        let activity = entry
            .get("scheduledActivityNow")
            .unwrap_or_else(|| panic!("{user}: no scheduledActivityNow"));
        if activity.is_null() {
            continue;
        }
        // Whoever is on shift now has an activity that covers now.
        let a = &activity["activity"];
        let start = chrono::DateTime::parse_from_rfc3339(a["startDate"].as_str().expect("startDate"))
            .expect("rfc3339");
        let len = a["lengthMinutes"].as_i64().expect("lengthMinutes");
        let slack = chrono::Duration::seconds(30);
        assert!(
            start <= now + slack && now - slack < start + chrono::Duration::minutes(len),
            "{user}: {a}"
        );
        assert!(activity["scheduleId"].is_string(), "{user}: {activity}");
    }
    let schedules = state["schedules"].as_array().expect("schedules");
    assert!(!schedules.is_empty(), "known schedule versions are listed");
    assert!(
        schedules.iter().all(|s| s["version"].is_number()),
        "{schedules:?}"
    );
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_with_a_rejected_topic_is_degraded_not_blocked() {
    let sim = SimBuilder::ops().start().await;
    sim.deny_permission("routing:agent:view");
    let d = DaemonBuilder::ops()
        .extra("[watch]\nrouting_status = true\n")
        .start(sim)
        .await;
    let (_, body) = poll(
        Duration::from_secs(8),
        || d.readyz(),
        |(s, b)| *s == 200 && b["degraded"].as_array().is_some_and(|a| !a.is_empty()),
    )
    .await
    .unwrap_or_else(|last| panic!("expected 200 with degraded topics: {last:?}"));
    let notes: Vec<&str> = body["degraded"]
        .as_array()
        .expect("degraded")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("missing routing:agent:view")),
        "{notes:?}"
    );
    d.shutdown().await;
}
