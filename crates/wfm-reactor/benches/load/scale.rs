//! Scenario 3, scale: many watched agents → time until every channel is connected with
//! every topic, channels used, and resident memory at steady state.
//!
//! The simulator runs in its own process (`remote.rs`), so this process's RSS is the
//! daemon's (plus the tokio runtime and the bench's small HTTP client, measured before the
//! daemon starts as *baseline*). Event sizes are read afterwards from the file sink's file,
//! not from a live-feed receiver, so no measuring subscriber holds events in the daemon.

use crate::harness::{self, Report, Waits};
use crate::remote::RemoteSim;
use std::time::Duration;

/// Topics one daemon can hold: 1,000 per channel × 19 channels (one of the platform's 20
/// is kept spare for token rollover).
const CAPACITY: usize = 19_000;

unsafe extern "C" {
    /// glibc: return free heap memory to the OS (Linux/glibc only, like this bench).
    fn malloc_trim(pad: usize) -> i32;
    /// mimalloc (the global allocator): free retained pages now rather than lazily.
    fn mi_collect(force: bool);
    /// glibc: heap statistics summed over every arena.
    fn mallinfo2() -> MallInfo2;
}

/// glibc's `struct mallinfo2` (all fields `size_t`).
#[repr(C)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

/// Bytes allocated from glibc malloc and still live (SQLite's own allocations; everything
/// when the bench is built with the system allocator for a heap census).
fn glibc_live_mib() -> f64 {
    // SAFETY: mallinfo2 only reads the allocator's counters.
    let m = unsafe { mallinfo2() };
    let _ = (
        m.arena, m.ordblks, m.smblks, m.hblks, m.usmblks, m.fsmblks, m.fordblks, m.keepcost,
    );
    (m.uordblks + m.hblkhd) as f64 / 1_048_576.0
}

/// Simulator options: no rate limit in the way, and inline query results (one response
/// per management unit, as before, so figures stay comparable across rounds).
const SIM_ARGS: [&str; 4] = [
    "--rate-limit-per-minute",
    "100000",
    "--download-threshold-agents",
    "10000",
];

/// The daemon's `[fetch]` table: a budget the snapshot never waits on, and
/// `concurrency` requests at once (8, or `LOAD_SCALE_CONCURRENCY` to compare).
fn extra() -> String {
    let concurrency = std::env::var("LOAD_SCALE_CONCURRENCY").unwrap_or_else(|_| "8".into());
    format!("[fetch]\nrequests_per_minute = 60000\nconcurrency = {concurrency}\n")
}

/// The OAuth clients of a `clients`-client run: the simulator's own pair, then the
/// `--extra-clients` it accepts.
fn client_pairs(sim: &RemoteSim, clients: usize) -> Vec<(String, String)> {
    let mut pairs = vec![(sim.client_id.clone(), sim.client_secret.clone())];
    pairs.extend((2..clients + 1).map(|k| (format!("sim-client-{k}"), format!("sim-secret-{k}"))));
    pairs
}

/// Runs the scenario at `agents` watched agents over `clients` OAuth clients, reported
/// as `name`.
pub async fn run(agents: usize, clients: usize, name: &'static str) -> anyhow::Result<Report> {
    let mut r = Report::new(name);
    let extra_clients = (clients - 1).to_string();
    let mut args: Vec<&str> = SIM_ARGS.to_vec();
    args.extend(["--extra-clients", &extra_clients]);
    let sim = RemoteSim::spawn_with(agents, 1, &args).await?;
    // Warm the bench's own HTTP client before the baseline.
    let _ = sim.channel_count().await?;
    let rss_baseline = harness::rss_mib();
    r.info("watched agents", agents as f64, "count");
    r.info("OAuth clients", clients as f64, "count");
    if agents + 1 > CAPACITY * clients {
        // The daemon must refuse clearly at start rather than silently drop topics.
        let refused = match harness::start_app(&sim.base, &sim.client_id, &sim.client_secret, &extra()).await
        {
            Ok(d) => {
                d.app.shutdown().await;
                false
            }
            Err(e) => {
                eprintln!("expected refusal: {e:#}");
                format!("{e:#}").contains("topics need more")
            }
        };
        r.at_least(
            "refused at start with a clear error (1 = yes)",
            f64::from(u8::from(refused)),
            "bool",
            1.0,
        );
        return Ok(r);
    }
    let d = harness::start_app_clients(&sim.base, &client_pairs(&sim, clients), &extra()).await?;
    let started_in = d.started.elapsed();
    sim.subscribed(agents + 1, Duration::from_secs(60)).await?;
    let subscribed = d.started.elapsed();
    let channels = sim.channel_count().await?;
    r.info("app::start returned after", started_in.as_secs_f64(), "s");
    r.at_most("time to fully subscribed", subscribed.as_secs_f64(), "s", 5.0);
    r.info("channels used", channels as f64, "count");
    let rss_subscribed = harness::rss_mib();
    if std::env::var_os("LOAD_EXIT_AT_SUBSCRIBED").is_some() {
        // Heap census aid, like `LOAD_EXIT_AT_STEADY`: under `heaptrack`, what is still
        // allocated at exit is the heap before any schedule was fetched.
        eprintln!(
            "load: subscribed, RSS {rss_subscribed:.1} MiB, peak {:.1} MiB",
            harness::hwm_mib()
        );
        std::process::exit(0);
    }
    let peak_before = harness::hwm_mib();
    // Steady state: the first reconcile (a snapshot of every schedule and presence) done.
    match d.first_reconcile(Duration::from_secs(240)).await {
        Ok(at) => r.info("first reconcile done after", (at - d.started).as_secs_f64(), "s"),
        Err(e) => eprintln!("scale: {e:#}"),
    }
    let _ = d
        .settle(Duration::from_millis(500), Duration::from_secs(60))
        .await;
    let rss = harness::rss_mib();
    r.info(
        "RSS baseline: runtime + bench client (before daemon)",
        rss_baseline,
        "MiB",
    );
    r.info("RSS when subscribed", rss_subscribed, "MiB");
    r.info("RSS peak before first reconcile", peak_before, "MiB");
    r.info(
        "RSS peak (VmHWM) during first reconcile",
        harness::hwm_mib(),
        "MiB",
    );
    r.at_most(
        "RSS at steady state (daemon process, untrimmed)",
        rss,
        "MiB",
        64.0,
    );
    let (anon, file) = harness::rss_split_mib();
    r.info("  of which anonymous (heap, stacks)", anon, "MiB");
    r.info("  of which file-backed (binary)", file, "MiB");
    r.info("threads at steady state", harness::threads(), "count");
    r.info("glibc malloc live (SQLite)", glibc_live_mib(), "MiB");
    idle_cpu(&d.app.store, &mut r).await;
    if std::env::var_os("LOAD_EXIT_AT_STEADY").is_some() {
        // Heap census aid: under `heaptrack`, what is still allocated at exit is exactly
        // the steady-state heap (see docs/performance.md, "How to profile").
        std::process::exit(0);
    }
    // Hand freed pages back to see the live heap (SQLite allocates from glibc, the rest
    // from mimalloc, so both are trimmed).
    // SAFETY: malloc_trim only releases free pages of glibc's heap; no pointer is touched.
    unsafe { malloc_trim(0) };
    // SAFETY: mi_collect only releases mimalloc's free pages; no live pointer is touched.
    unsafe { mi_collect(true) };
    let trimmed = harness::rss_mib();
    r.at_most(
        "RSS at steady state after malloc_trim + mi_collect",
        trimmed,
        "MiB",
        64.0,
    );
    r.info("  of which anonymous, trimmed", harness::rss_split_mib().0, "MiB");
    let events = d.events_path();
    let harness::App { app, dir, .. } = d;
    app.shutdown().await;
    let (n, total, max) = line_sizes(&events);
    drop(dir);
    r.info("events committed (file sink lines)", n as f64, "count");
    r.info("their total size", total as f64 / 1_048_576.0, "MiB");
    r.info("largest event", max as f64 / 1024.0, "KiB");
    Ok(r)
}

/// Lines, total bytes and the longest line of an NDJSON file (read in pieces).
/// Idle cost: the daemon watching every agent with only heartbeats arriving (the
/// simulator's 30 s `channel.metadata` on each socket), over `LOAD_IDLE_SECS` (default 60),
/// starting 10 s after steady state.
async fn idle_cpu(store: &wfm_reactor::store::Store, r: &mut Report) {
    let secs: u64 = std::env::var("LOAD_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    // The snapshot's aftermath is not idle cost: the outbox prune deleting its 631 MiB of
    // delivered events (perf: `sqlite3BtreeDelete` on overflow pages, ~0.5 CPU-s, due
    // within `prune_interval`) and the allocator handing freed pages back (perf:
    // `unmap_page_range`). Prune now, then wait the page release out.
    let pruned = store.prune().await.unwrap_or(0);
    r.info("idle: outbox rows pruned before", pruned as f64, "count");
    tokio::time::sleep(Duration::from_secs(10)).await;
    // A progress line, so a profiler can be attached to the idle phase.
    eprintln!("load: scale phase idle starts (pid {})", std::process::id());
    let cpu0 = harness::precise_cpu_seconds();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let cpu = harness::precise_cpu_seconds() - cpu0;
    r.info("idle: measured over", secs as f64, "s");
    r.at_most(
        "idle: daemon CPU, heartbeats only",
        cpu / secs as f64 * 100.0,
        "% of one core",
        0.2,
    );
}

fn line_sizes(path: &std::path::Path) -> (usize, usize, usize) {
    use std::io::BufRead;
    let Ok(file) = std::fs::File::open(path) else {
        return (0, 0, 0);
    };
    let mut reader = std::io::BufReader::new(file);
    let (mut n, mut total, mut max) = (0, 0, 0);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).is_ok_and(|len| len > 0) {
        n += 1;
        total += line.len();
        max = max.max(line.len());
        line.clear();
    }
    (n, total, max)
}
