//! Activity categories, adherence states and the presence → category mapping.
//!
//! Categories use Genesys's own activity-code names (`OnQueueWork`, `OffQueueWork`, ...)
//! so a locally computed event reads exactly like one Genesys computed; the mapping also
//! accepts the short names of the help pages (`OnQueue`, `OffQueue`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An activity category, scheduled (from the activity code) or actual (from presence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Category {
    /// Taking interactions.
    OnQueueWork,
    /// Working but not on queue (Available, Busy).
    OffQueueWork,
    /// A break.
    Break,
    /// A meal.
    Meal,
    /// A meeting.
    Meeting,
    /// Training.
    Training,
    /// Time off (Out of Office).
    TimeOff,
    /// Not working (Away, Idle, Offline).
    Unavailable,
    /// Nothing scheduled at that instant.
    Unscheduled,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Category; 9] = [
        Category::OnQueueWork,
        Category::OffQueueWork,
        Category::Break,
        Category::Meal,
        Category::Meeting,
        Category::Training,
        Category::TimeOff,
        Category::Unavailable,
        Category::Unscheduled,
    ];

    /// The wire name (Genesys's activity-code category).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::OnQueueWork => "OnQueueWork",
            Category::OffQueueWork => "OffQueueWork",
            Category::Break => "Break",
            Category::Meal => "Meal",
            Category::Meeting => "Meeting",
            Category::Training => "Training",
            Category::TimeOff => "TimeOff",
            Category::Unavailable => "Unavailable",
            Category::Unscheduled => "Unscheduled",
        }
    }

    /// Parses a wire name or a help-page short name (`OnQueue`, `OffQueue`), any case.
    pub fn parse(s: &str) -> Option<Category> {
        let lower = s.to_ascii_lowercase();
        let short = match lower.as_str() {
            "onqueue" => return Some(Category::OnQueueWork),
            "offqueue" => return Some(Category::OffQueueWork),
            other => other,
        };
        Category::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(short))
    }
}

/// `adherenceState`, as Genesys names it. The local engine produces the first four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AdherenceState {
    /// Doing what the schedule says.
    InAdherence,
    /// Not doing what the schedule says.
    OutOfAdherence,
    /// Working although nothing is scheduled.
    Unscheduled,
    /// Presence not known.
    Unknown,
    /// Genesys only: ignored by an exception rule.
    Ignored,
    /// Genesys only: an approved explanation covers it.
    Explained,
}

impl AdherenceState {
    /// Every state, in declaration order (metric label values).
    pub const ALL: [AdherenceState; 6] = [
        AdherenceState::InAdherence,
        AdherenceState::OutOfAdherence,
        AdherenceState::Unscheduled,
        AdherenceState::Unknown,
        AdherenceState::Ignored,
        AdherenceState::Explained,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AdherenceState::InAdherence => "InAdherence",
            AdherenceState::OutOfAdherence => "OutOfAdherence",
            AdherenceState::Unscheduled => "Unscheduled",
            AdherenceState::Unknown => "Unknown",
            AdherenceState::Ignored => "Ignored",
            AdherenceState::Explained => "Explained",
        }
    }

    /// Parses a wire name (exact).
    pub fn parse(s: &str) -> Option<AdherenceState> {
        AdherenceState::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A `[adherence.mapping]` entry that names no category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("presence {presence:?}: unknown activity category {category:?}")]
pub struct MappingError {
    /// The presence key.
    pub presence: String,
    /// The value given.
    pub category: String,
}

/// Presence (display form, case-insensitive) → actual activity category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// Lower-case presence → category.
    by_presence: BTreeMap<String, Category>,
}

impl Default for Mapping {
    /// Genesys's default mapping (help.mypurecloud.com, real-time adherence overview).
    fn default() -> Self {
        use Category::*;
        let pairs = [
            ("Available", OffQueueWork),
            ("Busy", OffQueueWork),
            ("Away", Unavailable),
            ("Idle", Unavailable),
            ("Offline", Unavailable),
            ("Break", Break),
            ("Meal", Meal),
            ("Meeting", Meeting),
            ("Training", Training),
            ("On Queue", OnQueueWork),
            ("Out of Office", TimeOff),
        ];
        let by_presence = pairs
            .into_iter()
            .map(|(p, c)| (p.to_ascii_lowercase(), c))
            .collect();
        Self { by_presence }
    }
}

impl Mapping {
    /// The default mapping with `overrides` (presence → category name) on top.
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<Self, MappingError> {
        let mut m = Self::default();
        for (presence, category) in overrides {
            let c = Category::parse(category).ok_or_else(|| MappingError {
                presence: presence.clone(),
                category: category.clone(),
            })?;
            m.by_presence.insert(normalise(presence), c);
        }
        Ok(m)
    }

    /// The actual category of a presence; `None` for one the mapping does not know.
    pub fn category(&self, system_presence: &str) -> Option<Category> {
        self.by_presence.get(&normalise(system_presence)).copied()
    }
}

/// Case and `_`/space insensitive (`ON_QUEUE`, `On Queue`, `on queue` are one presence).
fn normalise(p: &str) -> String {
    p.trim().replace('_', " ").to_ascii_lowercase()
}
