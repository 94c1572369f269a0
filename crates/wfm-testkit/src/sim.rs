//! One simulator builder. The presets are the org shapes the test areas need (small and
//! fast, no background activity where a test counts events); every simulator binds
//! `127.0.0.1:0` so parallel tests never race for a port.

use genesys_sim::{SimConfig, SimHandle};
use std::time::Duration;

/// Builds a [`SimConfig`] from a preset plus adjustments, then starts it.
#[derive(Debug, Clone, Default)]
pub struct SimBuilder {
    config: SimConfig,
}

impl From<SimConfig> for SimBuilder {
    fn from(config: SimConfig) -> Self {
        Self { config }
    }
}

impl SimBuilder {
    /// The simulator's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Protocol tests: 1 BU, 20 agents, 100 ms heartbeat, 200 ms `socket_closing` grace.
    pub fn small() -> Self {
        Self::from(SimConfig {
            business_units: 1,
            agents: 20,
            heartbeat_interval: Duration::from_millis(100),
            socket_closing_grace: Duration::from_millis(200),
            ..SimConfig::default()
        })
    }

    /// Daemon operations tests: 1 BU, 12 agents, 200 ms heartbeat and grace, no activity.
    pub fn ops() -> Self {
        Self::from(SimConfig {
            business_units: 1,
            agents: 12,
            heartbeat_interval: Duration::from_millis(200),
            socket_closing_grace: Duration::from_millis(200),
            activity: false,
            ..SimConfig::default()
        })
    }

    /// Reactor end-to-end tests: `business_units` BUs of `agents` agents in total, seed 11,
    /// 500 ms heartbeat, no background activity (tests count every event).
    pub fn reactor(business_units: usize, agents: usize) -> Self {
        Self::from(SimConfig {
            business_units,
            agents,
            seed: 11,
            heartbeat_interval: Duration::from_millis(500),
            activity: false,
            ..SimConfig::default()
        })
    }

    /// Channel manager tests: 1 BU, 6 agents, 200 ms heartbeat.
    pub fn upstream() -> Self {
        Self::from(SimConfig {
            business_units: 1,
            agents: 6,
            heartbeat_interval: Duration::from_millis(200),
            ..SimConfig::default()
        })
    }

    /// Channel manager tests that switch sockets: [`upstream`](Self::upstream) with 12
    /// agents and a 3 s `socket_closing` grace.
    pub fn closing_grace() -> Self {
        Self::upstream().tweak(|c| {
            c.agents = 12;
            c.socket_closing_grace = Duration::from_secs(3);
        })
    }

    /// WFM client tests: 1 BU, 20 agents, seed 11, results above `threshold` agents
    /// answered by download URL.
    pub fn wfm(download_threshold_agents: usize) -> Self {
        Self::from(SimConfig {
            business_units: 1,
            agents: 20,
            seed: 11,
            download_threshold_agents,
            ..SimConfig::default()
        })
    }

    /// Sets the total number of agents.
    pub fn agents(self, agents: usize) -> Self {
        self.tweak(|c| c.agents = agents)
    }

    /// Adjusts anything else of the config.
    pub fn tweak(mut self, f: impl FnOnce(&mut SimConfig)) -> Self {
        f(&mut self.config);
        self
    }

    /// The config built so far (for struct-update syntax in a test).
    pub fn config(self) -> SimConfig {
        self.config
    }

    /// Starts the simulator on `127.0.0.1:0` on the current runtime.
    pub async fn start(self) -> SimHandle {
        crate::init_logs();
        self.try_start().await.expect("start simulator")
    }

    /// [`start`](Self::start) returning the error (benches report it instead of panicking).
    pub async fn try_start(self) -> anyhow::Result<SimHandle> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        genesys_sim::start(self.config, listener).await
    }
}
