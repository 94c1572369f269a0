//! The short soak: one simulated day (a fixed seed, `SOAK_SEED` replays another) of the
//! real daemon process under the seeded fault schedule and a SIGKILL + restart; every
//! change reaches both sinks, nothing is fabricated, resources stay flat. The full week
//! is `cargo bench --bench soak` (docs/reliability.md).

use std::time::Duration;
use wfm_testkit::soak::{Plan, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_simulated_day_loses_nothing_and_leaks_nothing() {
    let plan = Plan::seeded(20261201, 1, Duration::from_millis(1200));
    let report = run(env!("CARGO_BIN_EXE_wfm-reactor"), plan).await;
    println!("{}", report.summary());
    let failures = report.failures();
    assert!(
        failures.is_empty(),
        "soak failed; replay with SOAK_SEED={}:\n{}\n{}\nrun directory kept: {:?}",
        report.plan.seed,
        failures.join("\n"),
        report.summary(),
        report.kept
    );
    assert!(report.verdict.made > 100, "the day made changes");
    assert!(
        report.faults.len() >= 5,
        "most fault kinds fired: {:?}",
        report.faults
    );
}
