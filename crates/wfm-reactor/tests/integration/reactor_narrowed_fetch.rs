//! `agentschedules.changed` narrows a notification's schedule fetch to the agents it
//! names: every watched unit's topic is subscribed; the same one-agent change costs fewer
//! bytes fetched than with the topic refused (measured from the simulator's request log),
//! and in both cases the event names exactly the changed agent, and the agents not asked
//! for stay stored (none is taken as removed).

use genesys_sim::{AgentPick, Emit, LoggedRequest, ScheduleChange, SimHandle};
use std::time::Duration;
use wfm_testkit::outbox::*;
use wfm_testkit::requests::agent_ids;
use wfm_testkit::{DaemonBuilder, SimBuilder, Upstream, start_app};

const PERMISSION: &str = "wfm:agentSchedule:view";

/// Bytes of every agent-schedule answer (query and download) in `log`.
fn schedule_bytes(log: &[LoggedRequest]) -> u64 {
    log.iter()
        .filter(|r| r.path.ends_with("/agentschedules/query") || r.path.starts_with("/downloads/"))
        .map(|r| r.bytes.expect("sized answer"))
        .sum()
}

/// Starts a daemon, changes one agent's published schedule (announced), and returns the
/// bytes its fetch read, after checking the event and the store.
async fn one_agent_change(deny: bool) -> u64 {
    let sim: SimHandle = SimBuilder::reactor(1, 201).start().await;
    if deny {
        sim.deny_permission(PERMISSION);
    }
    let dir = tempfile::tempdir().unwrap();
    let config = DaemonBuilder::reactor().config(&Upstream::of(&sim), dir.path());
    let app = start_app(config, &sim).await;
    let org = sim.org();
    let bu = &org.business_units[0];
    let mu = &bu.management_units[0];
    let topics: Vec<String> = sim.channels().into_iter().flat_map(|c| c.topics).collect();
    for m in bu.management_units.iter().filter(|_| !deny) {
        let topic = format!(
            "v2.workforcemanagement.managementunits.{}.agentschedules.changed",
            m.id
        );
        assert!(topics.contains(&topic), "{topic} asked for");
    }
    let schedule = org
        .schedules_of(&bu.id)
        .into_iter()
        .find(|s| s.published)
        .unwrap()
        .id
        .clone();
    let agent = mu.agent_ids[7].clone();
    let stored_before = app.store.agent_hashes(&schedule, &mu.id).await.unwrap().len();
    let (seq, mark) = (last_seq(&app).await, sim.request_log().len());
    sim.change_schedule(ScheduleChange {
        business_unit_id: bu.id.clone(),
        schedule_id: schedule.clone(),
        management_unit_id: Some(mu.id.clone()),
        agents: AgentPick::Ids(vec![agent.clone()]),
        emit: Emit::Complete,
    })
    .unwrap();
    let evs = wait_events(&app, seq, "the schedule change", |e| {
        !of_type(e, "wfm.schedule.changed").is_empty()
    })
    .await;
    quiesce(&app, Duration::from_millis(800), Duration::from_secs(20))
        .await
        .unwrap();
    let changed = of_type(&evs, "wfm.schedule.changed");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(agent_ids(changed[0]), vec![agent.clone()]);
    assert_eq!(changed[0]["data"]["agents"][0]["change"], "updated");
    let stored_after = app.store.agent_hashes(&schedule, &mu.id).await.unwrap().len();
    assert_eq!(stored_after, stored_before, "no agent taken as removed");
    let bytes = schedule_bytes(&sim.request_log()[mark..]);
    app.shutdown().await;
    sim.shutdown();
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_agent_change_is_fetched_for_that_agent_only() {
    let narrowed = one_agent_change(false).await;
    let whole = one_agent_change(true).await;
    eprintln!(
        "MEASURE one-agent change, bytes of agent-schedule answers: narrowed {narrowed}, whole unit {whole}"
    );
    assert!(
        narrowed > 0 && narrowed < whole,
        "narrowed {narrowed} < whole {whole}"
    );
}
