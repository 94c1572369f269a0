//! The embedded simulator of the default run (`genesys.region = "simulator"`), present
//! when the daemon is built with the default `embedded-sim` feature.

use crate::config::Config;

/// The running embedded simulator.
#[cfg(feature = "embedded-sim")]
pub type EmbeddedSim = genesys_sim::SimHandle;

/// Without the `embedded-sim` feature no simulator can run: this type has no values.
#[cfg(not(feature = "embedded-sim"))]
pub enum EmbeddedSim {}

#[cfg(not(feature = "embedded-sim"))]
impl EmbeddedSim {
    /// Nothing to stop.
    pub fn shutdown(&self) {
        match *self {}
    }
}

/// Without the simulator compiled in, `region = "simulator"` is a clear start error.
#[cfg(not(feature = "embedded-sim"))]
pub async fn start_simulator(_config: &mut Config) -> anyhow::Result<EmbeddedSim> {
    anyhow::bail!(
        "genesys.region = \"simulator\" needs the embedded simulator, and this binary was \
         built without the `embedded-sim` feature"
    )
}

/// Without the simulator there is no banner.
#[cfg(not(feature = "embedded-sim"))]
pub(crate) fn banner(sim: &EmbeddedSim, _config: &Config) {
    match *sim {}
}

/// Starts the simulator in-process on a free loopback port and points `config` at it.
#[cfg(feature = "embedded-sim")]
pub async fn start_simulator(config: &mut Config) -> anyhow::Result<EmbeddedSim> {
    use crate::config::Secret;
    use genesys_sim::SimConfig;
    let s = &config.simulator;
    let sim_config = SimConfig {
        business_units: s.business_units,
        agents: s.agents,
        seed: s.seed,
        activity: s.activity,
        ..SimConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim = genesys_sim::start(sim_config, listener).await?;
    config.genesys.api_url = Some(sim.base_url());
    config.genesys.login_url = Some(sim.base_url());
    config.genesys.client_id = sim.client_id();
    config.genesys.client_secret = Secret::new(sim.client_secret());
    Ok(sim)
}

/// The banner of a simulator run: what is happening and how to point it at a real org.
#[cfg(feature = "embedded-sim")]
pub(crate) fn banner(sim: &EmbeddedSim, config: &Config) {
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
