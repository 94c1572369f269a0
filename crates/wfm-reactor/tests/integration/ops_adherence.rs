//! Local adherence end to end against the simulator: `GET /v1/adherence` lists every agent
//! with a state and its name, a presence change emits one `wfm.adherence.changed` naming the previous
//! categories, and the gauge counts agents per unit and state.

use std::time::Duration;
use wfm_testkit::eventually::eventually_value;
use wfm_testkit::{DaemonBuilder, SimBuilder, file_events};

const READY: Duration = Duration::from_secs(8);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adherence_is_listed_changes_with_presence_and_is_counted() {
    let d = DaemonBuilder::ops()
        .adherence(true)
        .extra("\n[adherence]\nmode = \"local\"\n")
        .start(SimBuilder::ops().start().await)
        .await;
    d.wait_ready(READY).await;
    let agents = d.agents();
    let user = agents[0].clone();
    d.sim.set_presence(&user, "Offline", true).expect("presence");
    let rows: serde_json::Value = eventually_value(
        READY,
        "the agent listed as Unavailable",
        || async {
            let (_, body) = d.get("/v1/adherence").await;
            serde_json::from_str::<serde_json::Value>(&body).unwrap_or_default()
        },
        |rows| {
            rows.as_array().is_some_and(|a| {
                a.iter()
                    .any(|r| r["userId"] == user.as_str() && r["actualActivityCategory"] == "Unavailable")
            })
        },
    )
    .await;
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["userId"] == user.as_str())
        .unwrap()
        .clone();
    let mu = row["managementUnitId"].as_str().unwrap().to_string();
    assert!(
        row["since"].is_string() && row["adherenceState"].is_string(),
        "{row}"
    );
    assert_eq!(row["computedBy"], "local");
    // the name the management unit users route gives
    let api = wfm_testkit::api::Api::login(&d.sim).await;
    let (_, listing) = api
        .get(&format!("/api/v2/workforcemanagement/managementunits/{mu}/users"))
        .await;
    let named = listing["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user.as_str())
        .unwrap();
    assert!(named["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert_eq!(row["name"], named["name"], "{row}");

    let (_, only) = d.get(&format!("/v1/adherence?managementUnitId={mu}")).await;
    let only: Vec<serde_json::Value> = serde_json::from_str(&only).unwrap();
    assert!(!only.is_empty() && only.iter().all(|r| r["managementUnitId"] == mu.as_str()));

    // Whatever is scheduled now, Offline → On Queue changes the actual category: one event.
    d.sim.set_presence(&user, "On Queue", true).expect("presence");
    let dir = d.dir.path().to_path_buf();
    let changes = eventually_value(
        READY,
        "an adherence event for the On Queue change",
        || {
            let evs = file_events(&dir);
            async move { evs }
        },
        |evs| {
            evs.iter().any(|e| {
                e["type"] == "wfm.adherence.changed"
                    && e["subject"] == user.as_str()
                    && e["data"]["actualActivityCategory"] == "OnQueueWork"
            })
        },
    )
    .await;
    let mine: Vec<&serde_json::Value> = changes
        .iter()
        .filter(|e| e["type"] == "wfm.adherence.changed" && e["subject"] == user.as_str())
        .collect();
    let last = mine.last().unwrap();
    assert_eq!(last["data"]["previous"]["actualActivityCategory"], "Unavailable");
    assert_eq!(last["data"]["systemPresence"], "On Queue");
    assert_eq!(last["data"]["cause"], "notification");
    assert_eq!(
        last["source"]
            .as_str()
            .unwrap()
            .rsplit_once("/workforcemanagement/")
            .unwrap()
            .1,
        format!("managementunits/{mu}/adherence")
    );
    assert_eq!(
        mine.iter()
            .filter(|e| e["data"]["actualActivityCategory"] == "OnQueueWork")
            .count(),
        1,
        "one event per real change"
    );

    let metrics = d.metrics().await;
    let counted: f64 = metrics
        .iter()
        .filter(|s| s.name == "wfm_reactor_adherence_agents")
        .filter(|s| s.labels.get("management_unit").map(String::as_str) == Some(mu.as_str()))
        .map(|s| s.value)
        .sum();
    assert_eq!(
        counted as usize,
        only.len(),
        "the gauge counts every listed agent once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_and_its_assets_are_served_by_the_binary() {
    let d = DaemonBuilder::ops()
        .adherence(true)
        .start(SimBuilder::ops().start().await)
        .await;
    let (status, page) = d.get("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("Intraday adherence"), "{page}");
    // Every asset the page names is local and served.
    for asset in ["/board.css", "/board.js"] {
        assert!(page.contains(&format!("\"{asset}\"")), "{asset} linked");
        let (status, body) = d.get(asset).await;
        assert_eq!(status, 200, "{asset}");
        assert!(!body.is_empty());
    }
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no external asset"
    );
    let (_, js) = d.get("/board.js").await;
    assert!(js.contains("new EventSource(\"/v1/events\")") && js.contains("/v1/adherence"));
}
