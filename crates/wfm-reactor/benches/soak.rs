//! The full soak: seven simulated days (1 h = 2 s, so about six minutes) of the real
//! daemon process under the seeded fault schedule; prints the figures and the resource
//! table, and exits non-zero with the seed on any failure. `SOAK_SEED`, `SOAK_DAYS` and
//! `SOAK_HOUR_MS` override the defaults (docs/reliability.md).

use std::time::Duration;
use wfm_testkit::soak::{Plan, run};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let days = env_or("SOAK_DAYS", 7);
    let hour = Duration::from_millis(env_or("SOAK_HOUR_MS", 2000));
    let plan = Plan::seeded(env_or("SOAK_SEED", 7), days, hour);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let started = tokio::time::Instant::now();
    let report = rt.block_on(run(env!("CARGO_BIN_EXE_wfm-reactor"), plan));
    println!("{}", report.summary());
    println!("wall time {:?}", started.elapsed());
    let failures = report.failures();
    if !failures.is_empty() {
        eprintln!(
            "SOAK FAILED; replay with SOAK_SEED={}:\n{}",
            report.plan.seed,
            failures.join("\n")
        );
        if let Some(dir) = &report.kept {
            eprintln!(
                "the run's directory (logs run-<n>.log, store, sinks): {}",
                dir.display()
            );
        }
        std::process::exit(1);
    }
}
