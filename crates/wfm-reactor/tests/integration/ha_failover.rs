//! Two real `wfm-reactor run` processes on one PostgreSQL schema and the simulator, with a
//! file sink and a NATS sink, while presence and schedule changes flow:
//! 1. the leader's lock session is cut (`pg_terminate_backend`): it stops at once; the
//!    standby takes over with the next epoch, and the old leader commits nothing after;
//! 2. the new leader is SIGKILLed: the first replica, standing by again, takes over
//!    within `ha.takeover`;
//! 3. every final state reaches both sinks, no id carries two contents, and the NATS
//!    stream holds each id exactly once.

use genesys_sim::{AgentPick, Emit, ScheduleChange, SimHandle};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use wfm_testkit::SimBuilder;
use wfm_testkit::process::{await_log, log_lines};
use wfm_testkit::services::postgres::Schema;
use wfm_testkit::services::{eventually, nats, unique};

const TAKEOVER: Duration = Duration::from_secs(3);

fn spawn(config: &Path, dir: &Path, n: usize) -> std::process::Child {
    wfm_testkit::process::spawn(env!("CARGO_BIN_EXE_wfm-reactor"), config, dir, n)
}

/// Kills the replica processes however the test ends (a std `Child` does not on drop).
struct Replicas(Vec<std::process::Child>);

impl Drop for Replicas {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn replica_config(sim: &SimHandle, url: &str, shared: &Path, stream: &str, prefix: &str) -> String {
    format!(
        r#"[genesys]
region = "mypurecloud.com"
client_id = "{id}"
client_secret = "{secret}"
api_url = "{base}"
login_url = "{base}"

[debounce]
quiet = "200ms"
max_wait = "2s"

[fetch]
requests_per_minute = 6000

[state]
url = "{url}"
prune_interval = "1h"

[ha]
enabled = true
takeover = "{takeover}s"

[admin]
listen = "127.0.0.1:0"

[shutdown]
grace = "2s"

[[sinks]]
type = "file"
path = "{events}"

[[sinks]]
type = "nats"
url = "{nats}"
stream = "{stream}"
subject = "{prefix}.{{type}}"
"#,
        id = sim.client_id(),
        secret = sim.client_secret(),
        base = sim.base_url(),
        takeover = TAKEOVER.as_secs(),
        events = shared.join("events.ndjson").display(),
        nats = nats::url(),
    )
}

/// Presence and schedule changes until `stop`; the last presence set per user.
async fn traffic(sim: SimHandle, stop: Arc<AtomicBool>) -> HashMap<String, String> {
    let org = sim.org();
    let users: Vec<String> = org.business_units[0].management_units[0].agent_ids.clone();
    let bu = org.business_units[0].id.clone();
    let schedule = org
        .schedules
        .iter()
        .find(|s| s.published)
        .expect("a schedule")
        .id
        .clone();
    let states = ["Available", "Away", "Busy", "On Queue", "Break"];
    let mut last = HashMap::new();
    let mut tick = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let user = &users[tick % users.len()];
        let state = states[(tick / users.len()) % states.len()];
        sim.set_presence(user, state, true).expect("presence");
        last.insert(user.clone(), state.to_string());
        if tick.is_multiple_of(25) {
            sim.change_schedule(ScheduleChange {
                business_unit_id: bu.clone(),
                schedule_id: schedule.clone(),
                management_unit_id: None,
                agents: AgentPick::Count(1),
                emit: Emit::Complete,
            })
            .expect("schedule change");
        }
        tick += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    last
}

/// The backend pid holding this schema's lease lock.
async fn lock_holder(schema: &Schema) -> i32 {
    let row = schema
        .admin()
        .query_one(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND objid::bigint = (hashtext('wfm-reactor-lease:' || $1::text)::bigint & 4294967295)",
            &[&schema.name],
        )
        .await
        .expect("one lease holder");
    row.get(0)
}

async fn scalar(schema: &Schema, sql: &str) -> i64 {
    let sql = sql.replace("{s}", &schema.name);
    schema.admin().query_one(&sql, &[]).await.unwrap().get(0)
}

async fn takeovers(dir: &Path, n: usize, count: usize, within: Duration) -> Duration {
    let start = Instant::now();
    let seen = eventually(
        within,
        || async { log_lines(dir, n, "takeover").len() },
        |c| *c >= count,
    )
    .await;
    assert!(
        seen.is_ok(),
        "replica {n} did not take over (#{count}) within {within:?}"
    );
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_keeps_every_change_and_fences_the_old_leader() {
    let Some(schema) = Schema::create_or_skip("ha failover").await else {
        return;
    };
    let Some(js) = nats::jetstream_or_skip("ha failover").await else {
        return;
    };
    let (stream, prefix) = (unique("WFMHA"), unique("ha"));
    nats::create_stream(&js, &stream, vec![format!("{prefix}.>")]).await;
    let sim = SimBuilder::ops().start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("replica.toml");
    std::fs::write(
        &config,
        replica_config(&sim, &schema.url, dir.path(), &stream, &prefix),
    )
    .unwrap();

    let mut replicas = Replicas(vec![spawn(&config, dir.path(), 1)]);
    takeovers(dir.path(), 1, 1, Duration::from_secs(20)).await;
    replicas.0.push(spawn(&config, dir.path(), 2));
    await_log(dir.path(), 2, "lease held elsewhere", Duration::from_secs(20)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let flow = tokio::spawn(traffic(sim.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;

    // 1. Cut the leader's lock session.
    let pid = lock_holder(&schema).await;
    schema
        .admin()
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    await_log(dir.path(), 1, "lease lost", TAKEOVER).await;
    let took = takeovers(dir.path(), 2, 1, TAKEOVER * 2).await;
    eprintln!("takeover after a cut lock session: {took:?}");
    // A write whose fence check passed just before the cut may still commit; the
    // takeover's epoch increment waits for it (FOR SHARE), so from here on nothing of
    // epoch 1 can commit, and all of epoch 1 precedes all of epoch 2.
    let last_of_epoch_1 = scalar(
        &schema,
        "SELECT coalesce(max(seq), 0) FROM {s}.outbox WHERE epoch = 1",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = scalar(
        &schema,
        "SELECT coalesce(max(seq), 0) FROM {s}.outbox WHERE epoch = 1",
    )
    .await;
    assert_eq!(
        after, last_of_epoch_1,
        "the fenced leader committed nothing after losing the lease"
    );
    assert!(scalar(&schema, "SELECT count(*) FROM {s}.outbox WHERE epoch = 2").await > 0);
    let first_of_epoch_2 = scalar(
        &schema,
        "SELECT coalesce(min(seq), 0) FROM {s}.outbox WHERE epoch = 2",
    )
    .await;
    assert!(
        last_of_epoch_1 < first_of_epoch_2,
        "epoch 1 ends (#{last_of_epoch_1}) before epoch 2 begins (#{first_of_epoch_2})"
    );

    // 2. SIGKILL the new leader once the first replica stands by again (after its
    //    back-off, which gives a standby the first chance): it takes over in time.
    await_log(dir.path(), 1, "lease held elsewhere", TAKEOVER * 3).await;
    replicas.0[1].kill().unwrap();
    let killed = Instant::now();
    takeovers(dir.path(), 1, 2, TAKEOVER * 2).await;
    let took = killed.elapsed();
    eprintln!("takeover after SIGKILL: {took:?}");
    assert!(took <= TAKEOVER, "takeover took {took:?}, more than ha.takeover");
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let last_presence = flow.await.unwrap();

    // 3. Every final state reaches the file sink (changes made while no replica led come
    //    through the takeover's reconcile), and the cursors reach the end of the outbox.
    let finals = eventually(
        Duration::from_secs(30),
        || async { missing_finals(&sim, dir.path(), &last_presence) },
        Vec::is_empty,
    )
    .await;
    assert!(
        finals.is_ok(),
        "final states missing from the file sink: {finals:?}"
    );
    let delivered = eventually(
        Duration::from_secs(30),
        || async {
            let max = scalar(&schema, "SELECT coalesce(max(seq), 0) FROM {s}.outbox").await;
            let min = scalar(&schema, "SELECT coalesce(min(seq), 0) FROM {s}.cursors").await;
            (min, max)
        },
        |(min, max)| min >= max,
    )
    .await;
    assert!(delivered.is_ok(), "sinks never caught up: {delivered:?}");
    check_sinks(dir.path(), &js, &stream).await;
    drop(replicas);
    let _ = js.delete_stream(&stream).await;
}

fn file_events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("events.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("whole NDJSON lines"))
        .collect()
}

/// What of the final state the file sink does not show yet: per user the last presence
/// set (as the newest event of that user), per watched schedule its last version.
fn missing_finals(sim: &SimHandle, dir: &Path, last_presence: &HashMap<String, String>) -> Vec<String> {
    let file = file_events(dir);
    let mut newest: HashMap<String, (u64, String)> = HashMap::new();
    for e in file.iter().filter(|e| e["type"] == "presence.changed") {
        let seq: u64 = e["sequence"].as_str().unwrap().parse().unwrap();
        let user = e["data"]["userId"].as_str().unwrap().to_string();
        let state = e["data"]["systemPresence"].as_str().unwrap().to_string();
        if newest.get(&user).is_none_or(|(s, _)| *s < seq) {
            newest.insert(user, (seq, state));
        }
    }
    let mut missing = Vec::new();
    for (user, state) in last_presence {
        if newest.get(user).map(|(_, s)| s) != Some(state) {
            missing.push(format!("presence {user} = {state}"));
        }
    }
    for s in sim.org().schedules.iter().filter(|s| s.published) {
        let watched = file.iter().any(|e| e["data"]["scheduleId"] == s.id.as_str());
        let reached = file.iter().any(|e| {
            e["type"] == "wfm.schedule.changed"
                && e["data"]["scheduleId"] == s.id.as_str()
                && e["data"]["version"] == s.version
        });
        if watched && !reached {
            missing.push(format!("schedule {} version {}", s.id, s.version));
        }
    }
    missing
}

/// One content per id in the file sink; each id exactly once in the stream.
async fn check_sinks(dir: &Path, js: &async_nats::jetstream::Context, stream: &str) {
    let file = file_events(dir);
    let mut by_id: BTreeMap<String, Value> = BTreeMap::new();
    for e in &file {
        let mut content = e.clone();
        content.as_object_mut().unwrap().remove("sequence");
        let id = e["id"].as_str().unwrap().to_string();
        if let Some(seen) = by_id.insert(id.clone(), content.clone()) {
            assert_eq!(seen, content, "id {id} carries two different contents");
        }
    }
    let in_stream: Vec<String> = nats::messages(js, stream)
        .await
        .iter()
        .map(|m| m.headers.get("Nats-Msg-Id").unwrap().as_str().to_string())
        .collect();
    let mut unique_ids = in_stream.clone();
    unique_ids.sort();
    unique_ids.dedup();
    assert_eq!(unique_ids.len(), in_stream.len(), "the stream holds each id once");
    let file_ids: Vec<String> = by_id.keys().cloned().collect();
    assert_eq!(unique_ids, file_ids, "the stream and the file hold the same ids");
}
