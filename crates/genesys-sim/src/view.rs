//! Read-only snapshots handed to tests: the org and the channels.

use chrono::{DateTime, NaiveDate, Utc};

/// A snapshot of the generated org.
#[derive(Debug, Clone)]
pub struct OrgView {
    /// Business units with their management units.
    pub business_units: Vec<BusinessUnitView>,
    /// Schedules of every business unit (deleted ones left out).
    pub schedules: Vec<ScheduleView>,
    /// The activity codes every business unit has.
    pub activity_codes: Vec<super::org::ActivityCode>,
}

/// A business unit.
#[derive(Debug, Clone)]
pub struct BusinessUnitView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Its management units.
    pub management_units: Vec<ManagementUnitView>,
}

/// A management unit.
#[derive(Debug, Clone)]
pub struct ManagementUnitView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Member agent ids.
    pub agent_ids: Vec<String>,
}

/// A schedule.
#[derive(Debug, Clone)]
pub struct ScheduleView {
    /// Id.
    pub id: String,
    /// Business unit id.
    pub bu_id: String,
    /// First day of the week.
    pub week_date: NaiveDate,
    /// Published (false for the one draft).
    pub published: bool,
    /// `metadata.version`.
    pub version: u32,
}

/// A notification channel.
#[derive(Debug, Clone)]
pub struct ChannelView {
    /// Channel id.
    pub id: String,
    /// Subscriptions as subscribed (combined topics kept whole).
    pub topics: Vec<String>,
    /// Whether a socket is attached.
    pub connected: bool,
    /// When it expires without resubscription.
    pub expires: DateTime<Utc>,
    /// The OAuth client whose token created it (`None` once that token is gone).
    pub client: Option<String>,
}

impl OrgView {
    /// The schedules of one business unit.
    pub fn schedules_of(&self, bu_id: &str) -> Vec<&ScheduleView> {
        self.schedules.iter().filter(|s| s.bu_id == bu_id).collect()
    }
    /// Every agent id.
    pub fn agent_ids(&self) -> Vec<String> {
        self.business_units
            .iter()
            .flat_map(|b| b.management_units.iter().flat_map(|m| m.agent_ids.clone()))
            .collect()
    }
}
