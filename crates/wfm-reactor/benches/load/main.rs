//! End-to-end load benchmark (`cargo bench --bench load [-- SCENARIO...]`): the real daemon
//! pipeline (`app::start`) against the simulator over loopback sockets.
//!
//! Each scenario runs in a fresh child process (this binary re-executed with
//! `--scenario NAME`), so CPU time and resident memory are not polluted by the previous
//! scenario. The parent prints one table and writes `target/bench/load.json`.

mod bursts;
mod ha;
mod harness;
mod ingest;
mod peer;
mod reconcile;
mod remote;
mod scale;
mod stats;

use harness::{Figure, Report, Waits};
use std::time::Duration;

/// The same allocator as the `wfm-reactor` binary, so the measured daemon allocates as it
/// does in production.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SCENARIOS: [&str; 11] = [
    "ingest",
    "ingest-lowmem",
    "bursts",
    "schedules",
    "scale",
    "scale-lowmem",
    "scale-over-capacity",
    "scale-clients",
    "ingest-postgres",
    "nats-publish",
    "takeover",
];

/// mimalloc settings of the `-lowmem` scenarios (environment of the child process, read by
/// mimalloc at process start): commit arena memory on demand and return freed pages to the
/// OS at once. The deployment trade of memory for CPU, measured side by side with the
/// defaults (docs/performance.md).
const LOWMEM_ENV: [(&str, &str); 3] = [
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
    ("MIMALLOC_PAGE_COMMIT_ON_DEMAND", "1"),
    ("MIMALLOC_PURGE_DELAY", "0"),
];
const RESULT_PREFIX: &str = "LOAD-RESULT ";

/// Debounce quiet window of the bursts scenario.
const QUIET: Duration = Duration::from_millis(200);
/// `fetch.requests_per_minute` of the bursts and schedules scenarios.
const RPM: u32 = 600;

/// Scenario 4, reconcile: 10 business units × 500 agents, 5 published weeks each (the
/// simulator in this process, so the gap can be made silently).
async fn schedules() -> anyhow::Result<Report> {
    let sim_config = genesys_sim::SimConfig {
        business_units: 10,
        agents: 5_000,
        rate_limit_per_minute: 100_000,
        ..Default::default()
    };
    let extra = format!(
        "[debounce]\nquiet = \"{}ms\"\nmax_wait = \"2s\"\n[fetch]\nrequests_per_minute = {RPM}\n",
        QUIET.as_millis()
    );
    let d = harness::start(sim_config, &extra).await?;
    let mut r = Report::new("schedules");
    let done = d.first_reconcile(Duration::from_secs(180)).await?;
    reconcile::first(&d, done, &mut r);
    harness::subscribed(&d.sim, 5_010, Duration::from_secs(30)).await?;
    d.settle(Duration::from_millis(500), Duration::from_secs(120))
        .await?;
    reconcile::after_gap(&d, RPM, &mut r).await?;
    d.app.shutdown().await;
    Ok(r)
}

async fn child(name: &str) -> anyhow::Result<Report> {
    // Install the recorder before the daemon starts so the latency histogram is recorded.
    let _ = wfm_reactor::telemetry::prometheus::handle();
    match name {
        "ingest" => ingest::run("ingest", None).await,
        "ingest-lowmem" => ingest::run("ingest-lowmem", None).await,
        "ingest-postgres" => ha::ingest_postgres().await,
        "nats-publish" => ha::nats_publish().await,
        "takeover" => ha::takeover().await,
        "bursts" => bursts::run(QUIET, RPM).await,
        "schedules" => schedules().await,
        "scale" => scale::run(18_999, 1, "scale").await,
        "scale-lowmem" => scale::run(18_999, 1, "scale-lowmem").await,
        "scale-over-capacity" => scale::run(20_000, 1, "scale-over-capacity").await,
        "scale-clients" => scale::run(50_000, 3, "scale-clients").await,
        other => anyhow::bail!("unknown scenario {other}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--scenario") {
        let name = args.get(i + 1).cloned().unwrap_or_default();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "error".into()))
            .with_writer(std::io::stderr)
            .try_init();
        let report = runtime().block_on(child(&name))?;
        for f in &report.figures {
            println!("{RESULT_PREFIX}{}", serde_json::to_string(f)?);
        }
        return Ok(());
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing heavy to run.
    if args.iter().any(|a| a == "--list") || !args.iter().any(|a| a == "--bench") {
        println!(
            "load: run with `cargo bench --bench load [-- SCENARIO...]` ({})",
            SCENARIOS.join(", ")
        );
        return Ok(());
    }
    let wanted: Vec<&str> = SCENARIOS
        .iter()
        .copied()
        .filter(|s| !args.iter().any(|a| !a.starts_with("--")) || args.iter().any(|a| a == s))
        .collect();
    let exe = std::env::current_exe()?;
    let mut figures: Vec<Figure> = Vec::new();
    let mut failed = Vec::new();
    for name in wanted {
        eprintln!("load: running {name}...");
        let mut cmd = std::process::Command::new(&exe);
        if name.ends_with("-lowmem") {
            cmd.envs(LOWMEM_ENV);
        }
        let out = cmd
            .args(["--scenario", name])
            .stderr(std::process::Stdio::inherit())
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines().filter_map(|l| l.strip_prefix(RESULT_PREFIX)) {
            figures.push(serde_json::from_str(line)?);
        }
        if !out.status.success() {
            failed.push(name);
        }
    }
    print_table(&figures);
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench"));
    std::fs::create_dir_all(dir)?;
    let json = serde_json::json!({
        "machine": {"cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)},
        "failed_scenarios": failed,
        "figures": figures,
    });
    std::fs::write(dir.join("load.json"), serde_json::to_string_pretty(&json)?)?;
    eprintln!("load: wrote {}", dir.join("load.json").display());
    anyhow::ensure!(failed.is_empty(), "scenarios failed: {failed:?}");
    Ok(())
}

fn print_table(figures: &[Figure]) {
    println!("| scenario | figure | value | unit | target | ok |");
    println!("|---|---|---:|---|---|---|");
    for f in figures {
        let value = if f.value.abs() >= 100.0 {
            format!("{:.0}", f.value)
        } else {
            format!("{:.2}", f.value)
        };
        let ok = match f.pass {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            f.scenario,
            f.name,
            value,
            f.unit,
            f.target.as_deref().unwrap_or(""),
            ok
        );
    }
}
