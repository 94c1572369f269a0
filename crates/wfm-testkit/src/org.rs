//! Named views of the simulated org that tests keep asking for. Named fields instead of a
//! tuple: two copies of "the first schedule" used to return the same four strings in
//! different orders.

use genesys_sim::SimHandle;

/// The first published schedule of the first business unit, with its first management unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstSchedule {
    /// Business unit id.
    pub business_unit: String,
    /// Id of the business unit's first management unit.
    pub management_unit: String,
    /// Schedule id.
    pub schedule: String,
    /// Week start date, `YYYY-MM-DD`.
    pub week: String,
    /// Agent ids of that management unit.
    pub agents: Vec<String>,
}

impl FirstSchedule {
    /// Reads it from the simulator's org.
    pub fn of(sim: &SimHandle) -> Self {
        let org = sim.org();
        let bu = &org.business_units[0];
        let s = org
            .schedules_of(&bu.id)
            .into_iter()
            .find(|s| s.published)
            .expect("a published schedule in the first business unit")
            .clone();
        let mu = &bu.management_units[0];
        Self {
            business_unit: bu.id.clone(),
            management_unit: mu.id.clone(),
            schedule: s.id,
            week: s.week_date.to_string(),
            agents: mu.agent_ids.clone(),
        }
    }
}

/// Agent ids of every management unit of the first business unit.
pub fn bu_agents(sim: &SimHandle) -> Vec<String> {
    sim.org().business_units[0]
        .management_units
        .iter()
        .flat_map(|m| m.agent_ids.clone())
        .collect()
}

/// Agent ids of the first management unit of the first business unit.
pub fn mu_agents(sim: &SimHandle) -> Vec<String> {
    sim.org().business_units[0].management_units[0].agent_ids.clone()
}
