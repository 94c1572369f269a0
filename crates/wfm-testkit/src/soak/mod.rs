//! "A week in an hour": the soak harness. The real daemon process runs against the
//! simulator for N simulated days, every slow setting of both scaled so one simulated
//! hour lasts [`Plan::hour`] of wall time, while a seeded schedule fires a fault per
//! hour, presence and schedule changes flow, the webhook receiver has outages and the
//! process is SIGKILLed and restarted on the same store at the end of every day. The
//! oracle ([`oracle`]) then compares the simulator-side record of every change with both
//! sinks, and [`resources`] checks the hourly samples stay flat.

pub mod daemon;
pub mod faults;
pub mod oracle;
pub mod resources;
mod run;

use daemon::Process;
use faults::{Fault, Outage};
use genesys_sim::SimHandle;
use oracle::{Edit, Lifecycle, Made, Verdict};
use rand::SeedableRng;
use rand::rngs::StdRng;
use resources::Sample;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Seeds the fault schedule and the changes (`SOAK_SEED` overrides).
    pub seed: u64,
    /// Simulated days.
    pub days: u32,
    /// Wall time of one simulated hour.
    pub hour: Duration,
    /// Agents of the simulated org (one business unit).
    pub agents: usize,
    /// Presence changes per simulated hour.
    pub changes_per_hour: usize,
}

impl Plan {
    /// `seed` unless `SOAK_SEED` is set (to replay a failing run).
    pub fn seeded(seed: u64, days: u32, hour: Duration) -> Self {
        let seed = std::env::var("SOAK_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(seed);
        Self {
            seed,
            days,
            hour,
            agents: 60,
            changes_per_hour: 6,
        }
    }
}

/// What a run did and found.
#[derive(Debug)]
pub struct Report {
    pub plan: Plan,
    pub faults: BTreeMap<Fault, u32>,
    pub schedule_changes: usize,
    /// Agents changed by those edits, and how many of them an event covered.
    pub edit_agents: usize,
    pub edits_covered: usize,
    /// Schedules published and deleted.
    pub lifecycle: Vec<Lifecycle>,
    pub verdict: Verdict,
    pub samples: Vec<Sample>,
    /// Resource bound violations.
    pub bounds: Vec<String>,
    /// Hours whose changes waited in vain for the daemon to reconnect.
    pub unsettled: Vec<String>,
    /// The run's directory (config, store, sinks, `run-<n>.log`), kept when it failed.
    pub kept: Option<std::path::PathBuf>,
}

impl Report {
    /// Every failure: oracle, resources, reconnection.
    pub fn failures(&self) -> Vec<String> {
        let v = &self.verdict.violations;
        v.iter()
            .chain(&self.bounds)
            .chain(&self.unsettled)
            .cloned()
            .collect()
    }

    /// The figures, printable.
    pub fn summary(&self) -> String {
        let v = &self.verdict;
        format!(
            "soak seed {seed} ({days} simulated days, 1 h = {hour:?})\n\
             presence changes made {made}, delivered {delivered}, file-sink repeats {fd}, webhook repeats {wd}\n\
             schedule edits made {sc} ({ea} agent changes, {ec} seen in an event), published and deleted {lc:?}\n\
             events by type {types:?}\n\
             faults fired {faults:?}\n\n{table}",
            seed = self.plan.seed,
            days = self.plan.days,
            hour = self.plan.hour,
            made = v.made,
            delivered = v.delivered,
            fd = v.file_duplicates,
            wd = v.webhook_duplicates,
            sc = self.schedule_changes,
            lc = self.lifecycle,
            ea = self.edit_agents,
            ec = self.edits_covered,
            types = v.by_type,
            faults = self.faults,
            table = resources::table(&self.samples, 6),
        )
    }
}

/// The simulator of a soak: one BU, every lifetime scaled to the simulated hour.
async fn simulator(plan: &Plan) -> SimHandle {
    let h = plan.hour;
    crate::SimBuilder::new()
        .tweak(|c| {
            c.business_units = 1;
            c.agents = plan.agents;
            c.seed = plan.seed;
            c.activity = false;
            c.heartbeat_interval = Duration::from_millis(500);
            c.socket_closing_grace = h / 2;
            c.token_lifetime = h * 12;
            c.channel_lifetime = h * 24;
            c.rate_limit_per_minute = 100_000;
            // Every schedule result by `downloadUrl`, so download faults bite.
            c.download_threshold_agents = 1;
        })
        .start()
        .await
}

/// Runs `plan` with the daemon binary `bin`.
pub async fn run(bin: &str, plan: Plan) -> Report {
    let dir = tempfile::tempdir().expect("soak dir");
    let sim = simulator(&plan).await;
    let mut outage = Outage::default();
    let down = outage.flag();
    let hook = crate::webhook::Recorder::new(move |_, _| {
        if down.load(std::sync::atomic::Ordering::SeqCst) {
            503
        } else {
            200
        }
    });
    let url = hook.start().await;
    let config = daemon::config(&sim, dir.path(), &url, plan.hour);
    let mut run = Run::new(bin, &plan, sim, dir.path(), &config).await;
    for hour in 0..plan.days * 24 {
        run.hour(hour, &mut outage).await;
        outage.tick();
        if hour % 24 == 23 {
            run.kill_and_restart().await;
        }
    }
    outage.begin(0);
    outage.tick();
    let mut report = run.finish(hook).await;
    if !report.failures().is_empty() {
        report.kept = Some(dir.keep());
    }
    report
}

/// The state of a run in progress.
struct Run<'a> {
    bin: &'a str,
    plan: &'a Plan,
    sim: SimHandle,
    dir: &'a Path,
    config: &'a Path,
    process: Option<Process>,
    runs: usize,
    rng: StdRng,
    agents: Vec<String>,
    current: HashMap<String, String>,
    baseline: HashMap<String, String>,
    made: Vec<Made>,
    faults: BTreeMap<Fault, u32>,
    /// Schedule edits made, in order.
    edits: Vec<Edit>,
    /// Schedules published and deleted, in order.
    lifecycle: Vec<Lifecycle>,
    samples: Vec<Sample>,
    unsettled: Vec<String>,
}

const PRESENCES: [&str; 6] = ["Available", "Away", "Busy", "On Queue", "Break", "Meal"];

impl<'a> Run<'a> {
    async fn new(bin: &'a str, plan: &'a Plan, sim: SimHandle, dir: &'a Path, config: &'a Path) -> Self {
        let agents = crate::org::bu_agents(&sim);
        let process = Some(Process::start(bin, config, dir, 0).await);
        let mut run = Self {
            bin,
            plan,
            sim,
            dir,
            config,
            process,
            runs: 1,
            rng: StdRng::seed_from_u64(plan.seed),
            agents,
            current: HashMap::new(),
            baseline: HashMap::new(),
            made: Vec::new(),
            faults: BTreeMap::new(),
            edits: Vec::new(),
            lifecycle: Vec::new(),
            samples: Vec::new(),
            unsettled: Vec::new(),
        };
        run.baseline = run.snapshot().await;
        run.current = run.baseline.clone();
        run
    }

    /// Waits for the first start's snapshot of every agent's presence.
    async fn snapshot(&self) -> HashMap<String, String> {
        let within = Duration::from_secs(30);
        let fetch = || async {
            let mut now = HashMap::new();
            for e in crate::file_events(self.dir)
                .iter()
                .filter(|e| e["type"] == "presence.changed")
            {
                let d = &e["data"];
                now.insert(
                    d["userId"].as_str().unwrap_or_default().to_string(),
                    d["systemPresence"].as_str().unwrap_or_default().to_string(),
                );
            }
            now
        };
        let n = self.agents.len();
        crate::eventually::poll(within, fetch, |m: &HashMap<String, String>| m.len() >= n)
            .await
            .unwrap_or_else(|m| panic!("snapshot: {} of {n} agents' presence within {within:?}", m.len()))
    }
}
