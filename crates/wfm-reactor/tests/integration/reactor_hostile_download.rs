//! A gzip bomb behind one management unit's `downloadUrl` (contract, second tranche:
//! "Bodies are bounded"): with and without `Content-Encoding`, that unit's fetch fails
//! naming the limit and the unit, and the other units' schedules are still emitted.

use genesys_sim::{DownloadBomb, SimHandle};
use wfm_testkit::outbox::*;
use wfm_testkit::{DaemonBuilder, SimBuilder, Upstream};

/// A sim of two BUs whose first MU's agent schedules are an 8 MiB bomb; (sim, bomb MU id).
async fn bombed_sim(without_content_encoding: bool) -> (SimHandle, String) {
    let probe = SimBuilder::reactor(2, 40).start().await;
    let mus: Vec<_> = probe
        .org()
        .business_units
        .iter()
        .flat_map(|b| b.management_units.clone())
        .collect();
    probe.shutdown();
    assert!(mus.len() >= 2, "the test needs two units");
    let mut config = SimBuilder::reactor(2, 40).config();
    config.download_bomb = Some(DownloadBomb {
        management_unit: mus[0].id.clone(),
        decoded_bytes: 8 << 20,
        without_content_encoding,
    });
    (SimBuilder::from(config).start().await, mus[0].id.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_fails_its_unit_only_and_other_units_are_emitted() {
    for raw in [false, true] {
        let (sim, bomb_mu) = bombed_sim(raw).await;
        let upstream = Upstream::of(&sim);
        let d = DaemonBuilder::reactor()
            .tweak(|c| c.fetch.max_download_bytes = 1 << 20)
            .try_start(sim, &upstream)
            .await
            .expect("daemon starts");
        let evs = wait_events(&d.app, 0, "other units' schedules", |evs| {
            of_type(evs, "wfm.schedule.changed").iter().any(|e| {
                e["data"]["managementUnitId"]
                    .as_str()
                    .is_some_and(|m| m != bomb_mu)
            })
        })
        .await;
        let bombed = of_type(&evs, "wfm.schedule.changed")
            .into_iter()
            .filter(|e| e["data"]["managementUnitId"] == bomb_mu.as_str())
            .count();
        assert_eq!(bombed, 0, "nothing emitted for the bombed unit (raw = {raw})");
        let bomb_downloads = || {
            d.sim
                .request_log()
                .iter()
                .filter(|r| r.path.starts_with("/downloads/") && r.path.contains("bomb"))
                .count()
        };
        wfm_testkit::eventually!(bomb_downloads() >= 2, "the bombed unit's fetch is retried");
        d.shutdown().await;
    }
}
