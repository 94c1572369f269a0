//! The embedded simulator of the default run (`genesys.region = "simulator"`).

use crate::config::{Config, Secret};
use crate::sim::{SimConfig, SimHandle};

/// Starts the simulator in-process on a free loopback port and points `config` at it.
pub async fn start_simulator(config: &mut Config) -> anyhow::Result<SimHandle> {
    let s = &config.simulator;
    let sim_config = SimConfig {
        business_units: s.business_units,
        agents: s.agents,
        seed: s.seed,
        activity: s.activity,
        ..SimConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim = crate::sim::start(sim_config, listener).await?;
    config.genesys.api_url = Some(sim.base_url());
    config.genesys.login_url = Some(sim.base_url());
    config.genesys.client_id = sim.client_id();
    config.genesys.client_secret = Secret::new(sim.client_secret());
    Ok(sim)
}

/// The banner of a simulator run: what is happening and how to point it at a real org.
pub fn banner(sim: &SimHandle, config: &Config) {
    let org = sim.org();
    tracing::info!(
        base_url = %sim.base_url(),
        business_units = org.business_units.len(),
        agents = config.simulator.agents,
        activity = config.simulator.activity,
        "RUNNING AGAINST THE EMBEDDED GENESYS CLOUD SIMULATOR (genesys.region = \"simulator\"). \
         To use a real org: set genesys.region (e.g. \"mypurecloud.ie\") in config.toml and export \
         GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET of an OAuth client-credentials client; \
         `wfm-reactor doctor` checks its permissions"
    );
}
