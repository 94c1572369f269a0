//! The intraday board in a real browser (headless Debian chromium over WebDriver): load
//! `/`, see an agent (by name) with its presence and adherence, change the presence in the simulator, see
//! the row change without a reload, take a screenshot (`WFM_BOARD_SCREENSHOT=PATH` keeps it).

use std::time::Duration;
use wfm_testkit::browser::{self, Browser};
use wfm_testkit::eventually::eventually_value;
use wfm_testkit::{DaemonBuilder, SimBuilder};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_shows_an_agent_and_follows_its_change_live() {
    if let Err(reason) = browser::available() {
        eprintln!("SKIPPED the_board_shows_an_agent_and_follows_its_change_live: {reason}");
        return;
    }
    let d = DaemonBuilder::ops()
        .adherence(true)
        .start(SimBuilder::ops().start().await)
        .await;
    d.wait_ready(WAIT).await;
    let user = d.agents()[0].clone();
    d.sim.set_presence(&user, "Offline", true).expect("presence");
    let b = Browser::start().await.expect("chromium starts");
    b.goto(&format!("{}/", d.admin)).await.expect("page loads");

    let cell = |what: &str| {
        format!(
            "const r = document.querySelector('tr[data-user=\"{user}\"] td.{what}'); return r ? r.textContent : null;"
        )
    };
    let presence = cell("presence");
    let shown = eventually_value(
        WAIT,
        "the agent's row showing Offline",
        || b.eval(&presence),
        |v| v.as_ref().is_ok_and(|v| v == "Offline"),
    )
    .await;
    assert_eq!(shown.unwrap(), "Offline");
    // the agent by the name the management unit users route gives
    let mu = d.sim.org().business_units[0].management_units[0].id.clone();
    let api = wfm_testkit::api::Api::login(&d.sim).await;
    let (_, listing) = api
        .get(&format!("/api/v2/workforcemanagement/managementunits/{mu}/users"))
        .await;
    let entities = listing["entities"].as_array().unwrap();
    let named = entities.iter().find(|u| u["id"] == user.as_str()).unwrap();
    assert_eq!(b.eval(&cell("agent")).await.unwrap(), named["name"]);
    let state = b.eval(&cell("state")).await.unwrap();
    assert!(
        state.as_str().is_some_and(|s| !s.is_empty()),
        "an adherence state is shown: {state}"
    );
    // Mark this page: a reload would lose the mark.
    b.eval("window.__sameDocument = true; return true;")
        .await
        .unwrap();

    d.sim.set_presence(&user, "On Queue", true).expect("presence");
    let actual = cell("actual");
    eventually_value(
        WAIT,
        "the row following the presence change live",
        || b.eval(&actual),
        |v| v.as_ref().is_ok_and(|v| v == "OnQueueWork"),
    )
    .await
    .unwrap();
    assert_eq!(b.eval(&presence).await.unwrap(), "On Queue");
    let same = b.eval("return window.__sameDocument === true;").await.unwrap();
    assert_eq!(same, true, "updated without a reload");
    let counts = b
        .eval("return [...document.querySelectorAll('.count')].map(c => c.textContent).join(' | ');")
        .await
        .unwrap();
    assert!(
        counts.as_str().unwrap().contains("InAdherence:"),
        "counts on top: {counts}"
    );

    let png = b.screenshot().await.expect("screenshot");
    b.close().await.expect("the session ends with its chromium");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    if let Ok(path) = std::env::var("WFM_BOARD_SCREENSHOT") {
        std::fs::write(&path, &png).expect("write the screenshot");
    }
}
