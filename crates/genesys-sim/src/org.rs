//! The generated org: business units, management units, agents, activity codes and the
//! initial schedule list. Derived from the seed alone so two runs agree; shifts are not
//! stored here (see `schedules.rs`), which keeps 20,000 agents cheap.

use super::ids::{hash_str, uuid};
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;

/// Time zones handed to business units, with a fixed UTC offset in minutes (the simulator
/// ignores daylight saving time: shifts are placed with the standard offset).
const ZONES: &[(&str, i32)] = &[
    ("America/Chicago", -360),
    ("Europe/London", 0),
    ("America/New_York", -300),
    ("Europe/Berlin", 60),
    ("Australia/Sydney", 600),
    ("Asia/Tokyo", 540),
];

/// Most agents one management unit holds.
const MU_MAX_AGENTS: usize = 200;

/// A business unit.
#[derive(Debug, Clone)]
pub struct BusinessUnit {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// IANA time zone name.
    pub time_zone: String,
    /// Fixed offset used to place shifts, in minutes east of UTC.
    pub(crate) offset_minutes: i32,
    /// Indexes into `Org::mus`.
    pub(crate) mus: Vec<usize>,
}

/// A management unit.
#[derive(Debug, Clone)]
pub struct ManagementUnit {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Index into `Org::bus`.
    pub(crate) bu: usize,
    /// Indexes into `Org::agents`.
    pub(crate) agents: Vec<usize>,
}

/// An agent (a Genesys user scheduled by WFM).
#[derive(Debug, Clone)]
pub struct Agent {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Index into `Org::mus`.
    pub(crate) mu: usize,
}

/// An activity code of the business units (all units share the default set).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ActivityCode {
    /// Id ("0".."7" like the Genesys defaults).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Category enum value.
    pub category: String,
    /// Whether the time is paid.
    pub paid: bool,
}

/// A schedule as generated (mutable copies live in the simulator state).
#[derive(Debug, Clone)]
pub(crate) struct ScheduleSeed {
    pub id: String,
    pub bu: usize,
    pub week_date: NaiveDate,
    pub published: bool,
    pub description: String,
}

/// The whole generated org.
#[derive(Debug)]
pub(crate) struct Org {
    pub org_id: String,
    pub bus: Vec<BusinessUnit>,
    pub mus: Vec<ManagementUnit>,
    pub agents: Vec<Agent>,
    pub agent_index: HashMap<String, usize>,
    pub activity_codes: Vec<ActivityCode>,
    pub schedules: Vec<ScheduleSeed>,
}

/// The default activity codes: (id, name, category, paid).
const CODES: &[(&str, &str, &str, bool)] = &[
    ("0", "On Queue Work", "OnQueueWork", true),
    ("1", "Break", "Break", true),
    ("2", "Meal", "Meal", false),
    ("3", "Meeting", "Meeting", true),
    ("4", "Off Queue Work", "OffQueueWork", true),
    ("5", "Time Off", "TimeOff", true),
    ("6", "Training", "Training", true),
    ("7", "Unavailable", "Unavailable", false),
];

impl Org {
    /// Generates the org for `seed`; `this_monday` anchors the schedule weeks.
    pub(crate) fn generate(seed: u64, bu_count: usize, agents: usize, this_monday: NaiveDate) -> Self {
        let bu_count = bu_count.max(1);
        let mut org = Org {
            org_id: uuid(&[seed, 1]),
            bus: Vec::new(),
            mus: Vec::new(),
            agents: Vec::with_capacity(agents),
            agent_index: HashMap::with_capacity(agents),
            activity_codes: CODES
                .iter()
                .map(|(id, name, cat, paid)| ActivityCode {
                    id: (*id).into(),
                    name: (*name).into(),
                    category: (*cat).into(),
                    paid: *paid,
                })
                .collect(),
            schedules: Vec::new(),
        };
        for b in 0..bu_count {
            let (tz, off) = ZONES[b % ZONES.len()];
            let bu_agents = agents / bu_count + usize::from(b < agents % bu_count);
            let mu_count = bu_agents.div_ceil(MU_MAX_AGENTS).max(1);
            let mut mus = Vec::new();
            for m in 0..mu_count {
                let mu_agents = bu_agents / mu_count + usize::from(m < bu_agents % mu_count);
                let mu_idx = org.mus.len();
                let mut members = Vec::with_capacity(mu_agents);
                for _ in 0..mu_agents {
                    let a = org.agents.len();
                    let id = uuid(&[seed, 4, a as u64]);
                    org.agent_index.insert(id.clone(), a);
                    org.agents.push(Agent {
                        id,
                        name: format!("Agent {:05}", a + 1),
                        mu: mu_idx,
                    });
                    members.push(a);
                }
                org.mus.push(ManagementUnit {
                    id: uuid(&[seed, 3, mu_idx as u64]),
                    name: format!("MU {}-{}", b + 1, m + 1),
                    bu: b,
                    agents: members,
                });
                mus.push(mu_idx);
            }
            org.bus.push(BusinessUnit {
                id: uuid(&[seed, 2, b as u64]),
                name: format!("Business Unit {} ({tz})", b + 1),
                time_zone: tz.into(),
                offset_minutes: off,
                mus,
            });
            for w in 0..5i64 {
                let week = this_monday + chrono::Duration::days(7 * w);
                org.schedules.push(ScheduleSeed {
                    id: uuid(&[seed, 5, b as u64, w as u64]),
                    bu: b,
                    week_date: week,
                    published: true,
                    description: format!("Published week of {week}"),
                });
            }
        }
        // One unpublished draft next to next week's published schedule of the first BU.
        let week = this_monday + chrono::Duration::days(7);
        org.schedules.push(ScheduleSeed {
            id: uuid(&[seed, 6, hash_str("draft")]),
            bu: 0,
            week_date: week,
            published: false,
            description: format!("Draft week of {week}"),
        });
        org
    }

    /// The business unit index for an id (`mine` means the first one).
    pub(crate) fn bu_index(&self, id: &str) -> Option<usize> {
        if id == "mine" {
            return Some(0);
        }
        self.bus.iter().position(|b| b.id == id)
    }

    /// The management unit index for an id.
    pub(crate) fn mu_index(&self, id: &str) -> Option<usize> {
        self.mus.iter().position(|m| m.id == id)
    }
}

/// The Monday of the week containing `day` (business units start weeks on Monday).
pub(crate) fn monday_of(day: NaiveDate) -> NaiveDate {
    day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))
}
